"""The privacy mailbox over IMAP (aioimaplib): connect (TLS, STARTTLS or plain), find new mail, fetch it,
mark it done or move it to quarantine, and wait for more with IDLE where the server has it, polling otherwise.

A mail is "done" when it carries ``\\Seen`` and the ``$PrivacybotDone`` keyword; new mail is whatever lacks
the keyword (a person reading the mailbox and marking a mail seen does not hide it from the assistant).
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from dataclasses import dataclass

import aioimaplib

from bot.settings import MailSecurity

log = logging.getLogger(__name__)

DONE_KEYWORD = "$PrivacybotDone"
_IDLE_MAX_SECONDS = 29 * 60
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)", re.I)


class ImapError(Exception):
    """The IMAP server refused a command or the connection broke; the channel reconnects."""

    def __init__(self, command: str, detail: str) -> None:
        super().__init__(f"IMAP {command} failed: {detail}")
        self.command = command
        self.detail = detail


# What a broken or refused connection raises inside aioimaplib and asyncio.
CONNECTION_ERRORS = (ImapError, aioimaplib.AioImapException, OSError, asyncio.TimeoutError, ssl.SSLError)


@dataclass(frozen=True)
class ImapAccount:
    """Where the mailbox is and how to log in."""

    host: str
    port: int
    user: str
    password: str
    folder: str
    quarantine_folder: str
    security: MailSecurity
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = None


def quote(name: str) -> str:
    """A mailbox name as an IMAP quoted string."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Mailbox:
    """One logged-in connection with the account's folder selected."""

    def __init__(self, account: ImapAccount) -> None:
        """Remember the account; :meth:`open` connects."""
        self._account = account
        self._client: aioimaplib.IMAP4 | None = None

    @property
    def client(self) -> aioimaplib.IMAP4:
        """The connected client (after :meth:`open`)."""
        if self._client is None:
            raise ImapError("CONNECT", "not connected")
        return self._client

    async def open(self) -> None:
        """Connect, secure, log in, make sure the quarantine folder exists and select the folder."""
        account = self._account
        context = account.ssl_context or ssl.create_default_context()
        if account.security is MailSecurity.TLS:
            client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(
                host=account.host, port=account.port, timeout=account.timeout, ssl_context=context
            )
        else:
            client = aioimaplib.IMAP4(host=account.host, port=account.port, timeout=account.timeout)
        self._client = client
        await client.wait_hello_from_server()
        if account.security is MailSecurity.STARTTLS:
            await self._starttls(context)
        _check("LOGIN", await client.login(account.user, account.password))
        await self.ensure_folder(account.quarantine_folder)
        _check("SELECT", await client.select(quote(account.folder)))

    async def _starttls(self, context: ssl.SSLContext) -> None:
        """Upgrade the plain connection (aioimaplib has no STARTTLS of its own)."""
        protocol = self.client.protocol
        if "STARTTLS" not in protocol.capabilities:
            raise ImapError("STARTTLS", "not offered by the server")
        command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
        _check("STARTTLS", await asyncio.wait_for(protocol.execute(command), self._account.timeout))
        loop = asyncio.get_running_loop()
        transport = await loop.start_tls(
            protocol.transport, protocol, context, server_hostname=self._account.host
        )
        if transport is None:
            raise ImapError("STARTTLS", "TLS handshake gave no transport")
        protocol.transport = transport
        await asyncio.wait_for(protocol.capability(), self._account.timeout)

    async def ensure_folder(self, name: str) -> None:
        """Create folder ``name`` unless it exists."""
        response = await self.client.create(quote(name))
        if response.result != "OK" and not any(b"ALREADYEXISTS" in bytes(line) for line in response.lines):
            raise ImapError("CREATE", _detail(response))

    async def pending_uids(self) -> list[int]:
        """UIDs of mail not yet done, oldest first."""
        response = await self.client.uid_search("UNDELETED", "UNKEYWORD", DONE_KEYWORD, charset=None)
        _check("SEARCH", response)
        uids: list[int] = []
        for line in response.lines[:-1]:
            uids.extend(int(token) for token in bytes(line).split() if token.isdigit())
        return sorted(uids)

    async def fetch(self, uid: int) -> bytes | None:
        """The raw mail with ``uid`` (without setting ``\\Seen``), or None when it is gone."""
        response = await self.client.uid("fetch", str(uid), "(UID BODY.PEEK[])")
        _check("FETCH", response)
        for line in response.lines:
            if isinstance(line, bytearray):  # aioimaplib hands the literal (the message) over as a bytearray
                return bytes(line)
        return None

    async def size(self, uid: int) -> int | None:
        """The size in bytes the server reports for ``uid`` (``RFC822.SIZE``), without fetching the mail."""
        response = await self.client.uid("fetch", str(uid), "(UID RFC822.SIZE)")
        _check("FETCH", response)
        for line in response.lines:
            found = _SIZE.search(bytes(line))
            if found:
                return int(found.group(1))
        return None

    async def fetch_header(self, uid: int) -> bytes | None:
        """Only the header of the mail ``uid`` (without setting ``\\Seen``), or None when it is gone."""
        response = await self.client.uid("fetch", str(uid), "(UID BODY.PEEK[HEADER])")
        _check("FETCH", response)
        for line in response.lines:
            if isinstance(line, bytearray):
                return bytes(line)
        return None

    async def mark_done(self, uid: int) -> None:
        """Flag the mail ``\\Seen`` and done: it will not be fetched again."""
        response = await self.client.uid("store", str(uid), "+FLAGS.SILENT", f"(\\Seen {DONE_KEYWORD})")
        _check("STORE", response)

    async def quarantine(self, uid: int) -> None:
        """Move the mail to the quarantine folder (COPY + delete where the server has no MOVE)."""
        folder = quote(self._account.quarantine_folder)
        if self.client.has_capability("MOVE"):
            _check("MOVE", await self.client.uid("move", str(uid), folder))
            return
        _check("COPY", await self.client.uid("copy", str(uid), folder))
        _check("STORE", await self.client.uid("store", str(uid), "+FLAGS.SILENT", "(\\Deleted \\Seen)"))
        if self.client.has_capability("UIDPLUS"):
            _check("EXPUNGE", await self.client.uid("expunge", str(uid)))

    async def wait_for_mail(self, seconds: float) -> None:
        """Return when new mail may have arrived: IDLE where offered, else after ``seconds``."""
        if not self.client.has_capability("IDLE"):
            _check("NOOP", await self.client.noop())
            await asyncio.sleep(seconds)
            return
        seconds = min(seconds, _IDLE_MAX_SECONDS)
        idle = await self.client.idle_start(timeout=seconds)
        try:
            await self.client.wait_server_push(timeout=seconds + self._account.timeout)
        finally:
            if self.client.has_pending_idle():
                self.client.idle_done()
            await asyncio.wait_for(idle, self._account.timeout)

    async def close(self) -> None:
        """Log out (best effort) and drop the connection."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.has_pending_idle():
                client.idle_done()
            await asyncio.wait_for(client.logout(), 5)
        except CONNECTION_ERRORS as exc:
            log.debug("IMAP logout failed: %s", type(exc).__name__)
        transport = client.protocol.transport
        if transport is not None:
            transport.close()


def _check(command: str, response: aioimaplib.Response) -> None:
    if response.result != "OK":
        raise ImapError(command, _detail(response))


def _detail(response: aioimaplib.Response) -> str:
    text = b" ".join(bytes(line) for line in response.lines[-1:]).decode(errors="replace")
    return f"{response.result} {text}"[:200]
