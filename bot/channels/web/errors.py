"""The web channel's errors, and the one middleware that turns them into JSON answers with a clear message (in
the language the request asks for: the widget sends its own as Accept-Language)."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.channels.web.api import ErrorBody, ErrorCode, ErrorResponse
from bot.channels.web.language import request_language
from bot.domain.errors import StoreUnavailable
from bot.store.db import store_unavailable
from responses import DEFAULT_LANGUAGE, Responses

log = logging.getLogger(__name__)

RESPONSES_KEY = web.AppKey("web_responses", Responses)
BODY_LIMIT_KEY = web.AppKey("web_body_limit", int)


class WebChatError(Exception):
    """A request the API refuses; ``values`` fill the message template ``web/api_error.txt.j2``."""

    status = 400
    code = ErrorCode.INVALID_REQUEST

    def __init__(self, **values: Any) -> None:
        super().__init__(self.code.value)
        self.values = values

    def headers(self) -> dict[str, str]:
        """Extra response headers (Retry-After, ...)."""
        return {}


class InvalidJson(WebChatError):
    """The body is not a JSON object."""

    code = ErrorCode.INVALID_JSON


class InvalidRequest(WebChatError):
    """The JSON does not have the fields the endpoint needs (``problems`` names them)."""

    code = ErrorCode.INVALID_REQUEST


class MalformedSession(WebChatError):
    """The session id does not have the shape of an id this server issues."""

    code = ErrorCode.MALFORMED_SESSION


class UnknownSession(WebChatError):
    """The session id is well-formed but was not issued by this server."""

    status = 404
    code = ErrorCode.UNKNOWN_SESSION


class MessageTooLong(WebChatError):
    """The text is over ``Settings.max_message_chars``."""

    status = 413
    code = ErrorCode.MESSAGE_TOO_LONG


class ForbiddenOrigin(WebChatError):
    """A websocket opened by a page whose Origin is not among ``PRIVACYBOT_ALLOWED_ORIGINS``."""

    status = 403
    code = ErrorCode.FORBIDDEN_ORIGIN


class RateLimited(WebChatError):
    """Too many requests from one session or one address in the last minute."""

    status = 429
    code = ErrorCode.RATE_LIMITED

    def headers(self) -> dict[str, str]:
        """Tell the client when to retry."""
        return {"Retry-After": str(self.values["retry_after"])}


# What a client is told to wait before sending again while the database is unreachable.
UNAVAILABLE_RETRY_SECONDS = 3

_HTTP_CODES = {
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.BODY_TOO_LARGE,
}


def error_response(
    responses: Responses,
    code: ErrorCode,
    status: int,
    headers: dict[str, str] | None = None,
    *,
    lang: str = DEFAULT_LANGUAGE,
    **values: Any,
) -> web.Response:
    """The JSON error answer: ``{"error": {"code": ..., "message": ...}}``, the message in ``lang``."""
    message = responses.render_in(lang, "web/api_error.txt.j2", code=code.value, **values)
    body = ErrorResponse(error=ErrorBody(code=code, message=message))
    return web.json_response(body.model_dump(mode="json"), status=status, headers=headers)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn WebChatError, and aiohttp's 404/405/413 under /api, into JSON errors; a database outage under
    /api into 503 with Retry-After (never 500: the client sends the same message_id again and is answered
    once). Nothing else is caught."""
    responses = request.app[RESPONSES_KEY]
    try:
        return await handler(request)
    except StoreUnavailable as exc:
        return _unavailable(request, responses, exc.cause)
    except WebChatError as exc:
        log.info("web request refused: %s", exc.code.value)
        lang = request_language(request)
        return error_response(responses, exc.code, exc.status, exc.headers(), lang=lang, **exc.values)
    except web.HTTPException as exc:
        code = _HTTP_CODES.get(exc.status)
        if code is None or not request.path.startswith("/api/"):
            raise
        values: dict[str, Any] = {}
        if code is ErrorCode.BODY_TOO_LARGE:
            values["limit"] = request.app[BODY_LIMIT_KEY]
        return error_response(responses, code, exc.status, lang=request_language(request), **values)
    except Exception as exc:
        if not (request.path.startswith("/api/") and store_unavailable(exc)):
            raise
        return _unavailable(request, responses, type(exc).__name__)


def _unavailable(request: web.Request, responses: Responses, cause: str) -> web.Response:
    log.warning("web request answered 503: the database is unreachable (%s)", cause)
    seconds = UNAVAILABLE_RETRY_SECONDS
    return error_response(
        responses,
        ErrorCode.SERVICE_UNAVAILABLE,
        503,
        {"Retry-After": str(seconds)},
        lang=request_language(request),
        retry_after=seconds,
    )
