"""A local stand-in for the Telegram Bot API: a real aiohttp server that aiogram 3 bots talk to over HTTP.

Fixture ``telegram_api`` -> :class:`FakeTelegramAPI` (function scope). Point a bot at it with
``AiohttpSession(api=TelegramAPIServer.from_base(telegram_api.base_url))``
or simply ``telegram_api.create_bot()``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest_asyncio
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

BOT_TOKEN = "123456789:AAF-test-token_0123456789abcdefghijkl"
BOT_USERNAME = "zynor_test_bot"
# Form fields that are plain strings even when they look like JSON numbers or literals.
_TEXT_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "action",
        "url",
        "secret_token",
        "inline_message_id",
        "emoji",
        "title",
        "description",
        "language_code",
        "ip_address",
        "business_connection_id",
        "file_id",
        "message_effect_id",
        "query",
        "short_description",
        "name",
    }
)
Handler = Callable[[dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made: method name (as sent), decoded parameters and the HTTP status we answered."""

    method: str
    params: dict[str, Any]
    status: int


class TelegramError(Exception):
    """An error answer ``{"ok": false, ...}`` with the given HTTP status."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        """Keep the status, description and optional ``parameters`` object."""
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class FakeTelegramAPI:
    """In-memory Bot API state (updates, chats, messages, recorded calls) behind an aiohttp app."""

    def __init__(self, token: str = BOT_TOKEN, username: str = BOT_USERNAME) -> None:
        """Create the state for the bot identified by ``token``; call :meth:`start` to serve it."""
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": "Zynor Test Bot",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.calls: list[ApiCall] = []
        self.updates: list[dict[str, Any]] = []
        self.webhook_url = ""
        self.commands: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._sent: list[dict[str, Any]] = []
        self._chats: dict[int, dict[str, Any]] = {}
        self._floods: dict[str, list[int]] = {}
        self._failures: dict[str, int] = {}
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self._methods: dict[str, Handler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_reply_markup,
            "answercallbackquery": _true,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_commands,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendchataction": _true,
            "deletemessage": self._delete_message,
            "getfile": self._get_file,
            "close": _true,
            "logout": _true,
        }

    # ------------------------------------------------------------------------------------------- serving

    async def start(self) -> None:
        """Serve on a free 127.0.0.1 port; ``base_url`` is set afterwards."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def stop(self) -> None:
        """Release pending long polls and shut the server down."""
        self._closing = True
        self._bump()
        if self._runner is not None:
            await self._runner.cleanup()

    def create_bot(self, token: str | None = None) -> Bot:
        """Return an aiogram ``Bot`` talking to this server (close it with ``bot.session.close()``)."""
        session = AiohttpSession(api=TelegramAPIServer.from_base(self.base_url))
        return Bot(token=token or self.token, session=session)

    async def _handle(self, request: web.Request) -> web.Response:
        """Decode, record and dispatch one Bot API call."""
        method = request.match_info["method"]
        params = await _read_params(request)
        status, body = await self._answer(request.match_info["token"], method, params)
        self.calls.append(ApiCall(method, params, status))
        self._bump()
        return web.json_response(body, status=status)

    async def _answer(self, token: str, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Return (HTTP status, JSON body) for one call."""
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        key = method.lower()
        flood = self._floods.get(key)
        if flood:
            retry_after = flood.pop(0)
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            }
        if self._failures.get(key):
            self._failures[key] -= 1
            return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        handler = self._methods.get(key)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        try:
            return 200, {"ok": True, "result": await handler(params)}
        except TelegramError as error:
            body: dict[str, Any] = {"ok": False, "error_code": error.status, "description": error.description}
            if error.parameters:
                body["parameters"] = error.parameters
            return error.status, body

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """Serve bytes registered for a file path (``getFile`` returns ``file_path`` = file_id)."""
        if request.match_info["token"] != self.token or request.match_info["path"] not in self.files:
            raise web.HTTPNotFound()
        return web.Response(body=self.files[request.match_info["path"]])

    # ------------------------------------------------------------------------------------------- methods

    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        """getMe."""
        return self.bot_user

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """getUpdates: confirm updates below ``offset``, long-poll up to ``timeout`` seconds for new ones."""
        if self.webhook_url:
            raise TelegramError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while True:
            if offset:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            if self.updates or self._closing or time.monotonic() >= deadline:
                return self.updates[:limit]
            await self._wait_change(deadline)

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        """sendMessage."""
        if not str(params.get("text") or "").strip():
            raise TelegramError(400, "Bad Request: message text is empty")
        message = self._new_message(int(params["chat_id"]), self.bot_user, text=str(params["text"]))
        for key in ("entities", "reply_markup"):
            if params.get(key):
                message[key] = params[key]
        if isinstance(message.get("reply_markup"), dict) and "inline_keyboard" not in message["reply_markup"]:
            del message["reply_markup"]  # only inline keyboards are echoed in the returned Message
        self._messages[(message["chat"]["id"], message["message_id"])] = message
        self._sent.append(json.loads(json.dumps(message)))
        return message

    def _existing(self, params: dict[str, Any]) -> dict[str, Any]:
        """Return the stored bot message addressed by chat_id/message_id or raise Telegram's 400."""
        message = self._messages.get((int(params.get("chat_id") or 0), int(params.get("message_id") or 0)))
        if message is None:
            raise TelegramError(400, "Bad Request: message to edit not found")
        return message

    async def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        """editMessageText (400 'message is not modified' when nothing changes, like Telegram)."""
        message = self._existing(params)
        markup = params.get("reply_markup")
        if message.get("text") == params.get("text") and message.get("reply_markup") == markup:
            raise TelegramError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        message["text"] = str(params.get("text"))
        message["edit_date"] = int(time.time())
        _set_markup(message, markup)
        return message

    async def _edit_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        """editMessageReplyMarkup."""
        message = self._existing(params)
        if message.get("reply_markup") == params.get("reply_markup"):
            raise TelegramError(400, "Bad Request: message is not modified")
        message["edit_date"] = int(time.time())
        _set_markup(message, params.get("reply_markup"))
        return message

    async def _delete_message(self, params: dict[str, Any]) -> bool:
        """deleteMessage."""
        key = (int(params.get("chat_id") or 0), int(params.get("message_id") or 0))
        if self._messages.pop(key, None) is None:
            raise TelegramError(400, "Bad Request: message to delete not found")
        return True

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        """setMyCommands."""
        self.commands = list(params.get("commands") or [])
        return True

    async def _get_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """getMyCommands."""
        return self.commands

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        """setWebhook."""
        self.webhook_url = str(params.get("url") or "")
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        """deleteWebhook (``drop_pending_updates`` honoured)."""
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self.updates.clear()
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        """getWebhookInfo."""
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }

    async def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        """getFile for files registered by :meth:`photo_update`."""
        file_id = str(params.get("file_id"))
        if file_id not in self.files:
            raise TelegramError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(self.files[file_id]),
            "file_path": file_id,
        }

    # ------------------------------------------------------------------------------------------- test helpers

    def flood(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` answer HTTP 429 with ``retry_after`` (flood)."""
        self._floods.setdefault(method.lower(), []).extend([retry_after] * times)

    def fail(self, method: str, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` answer HTTP 500 (Telegram having a bad moment)."""
        self._failures[method.lower()] = self._failures.get(method.lower(), 0) + times

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue ``update`` for getUpdates (assigning ``update_id`` if missing) and return it."""
        update.setdefault("update_id", next(self._update_ids))
        self.updates.append(update)
        self._bump()
        return update

    def _bump(self) -> None:
        """Wake everything waiting for a change (long polls, ``wait_for_calls``)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, deadline: float) -> None:
        """Wait for the next change or until ``deadline`` (monotonic seconds)."""
        try:
            await asyncio.wait_for(self._changed.wait(), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            pass

    def user(self, user_id: int) -> dict[str, Any]:
        """Return the User object used for ``user_id`` in built updates."""
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": "en"}

    def chat(self, chat_id: int, chat_type: str = "private") -> dict[str, Any]:
        """Return (and remember) the Chat object for ``chat_id``."""
        if chat_id not in self._chats:
            chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
            if chat_type == "private":
                chat["first_name"] = f"User{chat_id}"
            else:
                chat["title"] = f"Chat {chat_id}"
            self._chats[chat_id] = chat
        return self._chats[chat_id]

    def _new_message(self, chat_id: int, sender: dict[str, Any], **content: Any) -> dict[str, Any]:
        """Build a Message with the chat's next message_id (ids are shared by user and bot, per chat)."""
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        chat = self._chats.get(chat_id) or self.chat(chat_id, "private" if chat_id > 0 else "group")
        return {
            "message_id": next(counter),
            "date": int(time.time()),
            "chat": dict(chat),
            "from": sender,
            **content,
        }

    def message_update(
        self,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        chat_type: str = "private",
        update_id: int | None = None,
    ) -> dict[str, Any]:
        """Build (not queue) a ``message`` update; commands like ``/start`` get a bot_command entity."""
        self.chat(chat_id, chat_type)
        message = self._new_message(chat_id, self.user(user_id or chat_id), text=text)
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self._update(update_id, message=message)

    def callback_update(
        self,
        chat_id: int,
        data: str,
        message_id: int,
        user_id: int | None = None,
        update_id: int | None = None,
    ) -> dict[str, Any]:
        """Build a ``callback_query`` update pressed on the bot's message ``message_id`` in ``chat_id``."""
        message = self._messages.get((chat_id, message_id)) or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": dict(self.chat(chat_id)),
            "from": self.bot_user,
            "text": "",
        }
        query = {
            "id": str(next(self._ids)),
            "from": self.user(user_id or chat_id),
            "chat_instance": str(chat_id),
            "message": json.loads(json.dumps(message)),
            "data": data,
        }
        return self._update(update_id, callback_query=query)

    def photo_update(
        self,
        chat_id: int,
        caption: str | None = None,
        user_id: int | None = None,
        content: bytes = b"\x89PNG\r\n",
        width: int = 640,
        height: int = 480,
        update_id: int | None = None,
    ) -> dict[str, Any]:
        """Build a ``message`` update with a photo whose bytes ``getFile`` + file download serve back."""
        file_id = f"photo{next(self._ids)}"
        self.files[file_id] = content
        sizes = [
            {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "width": width,
                "height": height,
                "file_size": len(content),
            }
        ]
        message = self._new_message(chat_id, self.user(user_id or chat_id), photo=sizes)
        if caption is not None:
            message["caption"] = caption
        return self._update(update_id, message=message)

    def _update(self, update_id: int | None, **payload: Any) -> dict[str, Any]:
        """Wrap ``payload`` into an Update with the next update_id."""
        return {"update_id": update_id if update_id is not None else next(self._update_ids), **payload}

    def sent_messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Return the Messages sent with sendMessage, in order, as they were when sent."""
        return [m for m in self._sent if chat_id is None or m["chat"]["id"] == chat_id]

    def current_message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """Return a bot message as it is now (after edits), or None if it was deleted or never sent."""
        return self._messages.get((chat_id, message_id))

    def calls_of(self, method: str) -> list[ApiCall]:
        """Return the recorded calls of ``method`` (case-insensitive), in order."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    async def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5,  # noqa: ASYNC109 - a deadline argument is the helper's documented API
    ) -> list[ApiCall]:
        """Wait until ``method`` was called ``count`` times; return those calls (else ``TimeoutError``)."""
        deadline = time.monotonic() + timeout
        while len(self.calls_of(method)) < count:
            if time.monotonic() >= deadline:
                seen = [call.method for call in self.calls]
                raise TimeoutError(f"{method} x{count} not called within {timeout}s; calls: {seen}")
            await self._wait_change(deadline)
        return self.calls_of(method)


async def _true(params: dict[str, Any]) -> bool:
    """Methods that simply return True."""
    return True


def _set_markup(message: dict[str, Any], markup: Any) -> None:
    """Replace (or drop) the inline keyboard of a stored message."""
    if markup:
        message["reply_markup"] = markup
    else:
        message.pop("reply_markup", None)


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Decode query, JSON, urlencoded or multipart parameters (form values JSON-decoded like Telegram)."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
        return params
    if request.body_exists:
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                params[key] = {"filename": value.filename, "content": value.file.read()}
            else:
                params[key] = value
    for key, value in list(params.items()):
        if isinstance(value, str) and key not in _TEXT_FIELDS:
            try:
                params[key] = json.loads(value)
            except ValueError:
                pass
    return params


@pytest_asyncio.fixture
async def telegram_api() -> AsyncIterator[FakeTelegramAPI]:
    """Yield a running fake Bot API server for ``BOT_TOKEN``; see :class:`FakeTelegramAPI` for helpers."""
    api = FakeTelegramAPI()
    await api.start()
    try:
        yield api
    finally:
        await api.stop()
