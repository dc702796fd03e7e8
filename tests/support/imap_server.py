"""A real IMAP server for tests: a private Debian dovecot instance on a free port.

Fixtures:

* ``dovecot`` / ``dovecot_starttls`` -> :class:`DovecotServer` (session scope): one dovecot process each.
* ``imap_server`` / ``imap_server_starttls`` -> :class:`ImapMailbox` (function scope): a fresh, empty account
  on the session's dovecot, with ``deliver``, ``list_folder``, ``create_folder`` helpers.
"""

from __future__ import annotations

import asyncio
import email.policy
import imaplib
import itertools
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from tests.support.mail_servers import ensure_packages, free_port

IMAP_PASSWORD = "imap-test-password"
DOVECOT_BIN = Path("/usr/sbin/dovecot")


@dataclass(frozen=True)
class StoredMessage:
    """A message as dovecot holds it: UID, flags and the raw RFC 822 bytes."""

    uid: int
    flags: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        """Return the parsed message."""
        return BytesParser(policy=email.policy.default).parsebytes(self.raw)


_DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = {name}
log_path = {root}/dovecot.log
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_uid = mail
mail_gid = mail
mail_location = maildir:{root}/mail/%u
mailbox_idle_check_interval = 1 secs
auth_mechanisms = plain login
auth_failure_delay = 0
{ssl}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
    ssl = yes
  }}
}}
"""
_NO_SSL = "ssl = no\ndisable_plaintext_auth = no"
_STARTTLS = "ssl = yes\nssl_cert = <{root}/cert.pem\nssl_key = <{root}/key.pem\ndisable_plaintext_auth = yes"


class DovecotServer:
    """A private dovecot process (own config, base_dir, maildirs and passwd file in a temp dir)."""

    def __init__(self, *, starttls: bool = False) -> None:
        """Prepare the directory and config; call :meth:`start` to run it."""
        self.host = "127.0.0.1"
        self.port = free_port()
        self.starttls = starttls
        self.ssl_port = free_port() if starttls else 0
        self.root = Path(tempfile.mkdtemp(prefix="dovecot-test-"))
        self.root.chmod(0o755)  # dovecot's unprivileged auth and mail processes must traverse it
        self.cert_file = self.root / "cert.pem"
        self._counter = itertools.count(1)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> str:
        """Return dovecot's log so far."""
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> None:
        """Write the config, start ``dovecot -F`` and wait for its IMAP greeting."""
        if not DOVECOT_BIN.exists():
            ensure_packages()
        mail = self.root / "mail"
        mail.mkdir()
        shutil.chown(mail, "mail", "mail")
        ssl_conf = _NO_SSL
        if self.starttls:
            self._make_certificate()
            ssl_conf = _STARTTLS.format(root=self.root)
        name = f"test-{os.getpid()}-{self.port}"
        conf = _DOVECOT_CONF.format(
            root=self.root, name=name, port=self.port, ssl_port=self.ssl_port, ssl=ssl_conf
        )
        (self.root / "dovecot.conf").write_text(conf)
        (self.root / "users").mkdir(mode=0o755)
        self._process = subprocess.Popen(
            [str(DOVECOT_BIN), "-F", "-c", str(self.root / "dovecot.conf")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait_ready()

    def _make_certificate(self) -> None:
        """Generate a self-signed certificate for localhost / 127.0.0.1."""
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout",
                str(self.root / "key.pem"),
                "-out",
                str(self.cert_file),
            ],
            check=True,
            capture_output=True,
        )

    def _wait_ready(self, timeout: float = 10) -> None:
        """Poll until the IMAP greeting arrives; raise with the log if dovecot dies or stays silent."""
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                stderr = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise RuntimeError(f"dovecot exited with {self._process.returncode}: {stderr}\n{self.log}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"dovecot did not greet within {timeout}s:\n{self.log}")

    def stop(self) -> None:
        """Terminate dovecot and remove its directory."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process is not None and self._process.stderr:
            self._process.stderr.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def _write_passwd(self, user: str, password: str) -> None:
        """Write ``user``'s own passwd-file (per-user files are read at once; no reload lag)."""
        if "/" in user or user.startswith("."):
            raise ValueError(f"unusable IMAP user name {user!r}")
        path = self.root / "users" / user
        path.write_text(f"{user}:{{PLAIN}}{password}::::::\n")
        path.chmod(0o644)

    def add_user(self, user: str | None = None, password: str = IMAP_PASSWORD) -> ImapMailbox:
        """Create an account (default: a fresh ``userN@example.test``) and return its mailbox helper."""
        user = user or f"user{next(self._counter)}@example.test"
        self._write_passwd(user, password)
        return ImapMailbox(self, user, password)


class ImapMailbox:
    """One account on a :class:`DovecotServer`, with synchronous (imaplib) and async helpers for tests."""

    def __init__(self, server: DovecotServer, user: str, password: str) -> None:
        """Bind the helper to ``user`` on ``server``."""
        self.server = server
        self.host = server.host
        self.port = server.port
        self.ssl_port = server.ssl_port
        self.user = user
        self.password = password
        self.starttls = server.starttls
        self.address = user

    def ssl_context(self) -> ssl.SSLContext:
        """Return a client context trusting the server's self-signed certificate (STARTTLS servers only)."""
        return ssl.create_default_context(cafile=str(self.server.cert_file))

    def connect(self) -> imaplib.IMAP4:
        """Return a logged-in stdlib ``IMAP4`` client (after STARTTLS when the server requires it)."""
        client = imaplib.IMAP4(self.host, self.port, timeout=5)
        if self.starttls:
            client.starttls(self.ssl_context())
        client.login(self.user, self.password)
        return client

    def deliver(self, raw: bytes, folder: str = "INBOX", flags: str = "") -> None:
        """APPEND ``raw`` (RFC 822 bytes) to ``folder``, optionally with flags such as ``"\\\\Seen"``."""
        client = self.connect()
        try:
            typ, data = client.append(_quote(folder), f"({flags})" if flags else None, None, raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND failed: {data!r}")
        finally:
            client.logout()

    def list_folder(self, folder: str = "INBOX") -> list[StoredMessage]:
        """Return every message in ``folder`` (by UID order) without marking anything as seen."""
        client = self.connect()
        try:
            typ, data = client.select(_quote(folder), readonly=True)
            if typ != "OK":
                raise RuntimeError(f"SELECT {folder} failed: {data!r}")
            typ, data = client.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
            return [_stored(item) for item in data if isinstance(item, tuple)]
        finally:
            client.logout()

    def create_folder(self, name: str) -> None:
        """Create folder ``name`` (no error if it already exists)."""
        client = self.connect()
        try:
            typ, data = client.create(_quote(name))
            if typ != "OK" and b"ALREADYEXISTS" not in b"".join(d for d in data if isinstance(d, bytes)):
                raise RuntimeError(f"CREATE {name} failed: {data!r}")
        finally:
            client.logout()

    def folders(self) -> list[str]:
        """Return the names of the account's folders."""
        client = self.connect()
        try:
            _, data = client.list()
            return [_folder_name(line) for line in data if isinstance(line, bytes)]
        finally:
            client.logout()

    async def adeliver(self, raw: bytes, folder: str = "INBOX", flags: str = "") -> None:
        """Async :meth:`deliver` (runs in a thread so the event loop keeps serving the code under test)."""
        await asyncio.to_thread(self.deliver, raw, folder, flags)

    async def alist_folder(self, folder: str = "INBOX") -> list[StoredMessage]:
        """Async :meth:`list_folder`."""
        return await asyncio.to_thread(self.list_folder, folder)


def _quote(folder: str) -> str:
    """Quote a mailbox name for imaplib."""
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _folder_name(line: bytes) -> str:
    """Extract the mailbox name from one LIST response line."""
    name = line.decode().rsplit(' "." ', 1)[-1]
    return name[1:-1] if name.startswith('"') else name


def _stored(item: Any) -> StoredMessage:
    """Build a :class:`StoredMessage` from one imaplib FETCH item."""
    head, raw = item
    uid = re.search(rb"UID (\d+)", head)
    flags = re.search(rb"FLAGS \(([^)]*)\)", head)
    return StoredMessage(
        uid=int(uid.group(1)) if uid else 0,
        flags=tuple(flags.group(1).decode().split()) if flags else (),
        raw=raw,
    )


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """Yield one plain-IMAP dovecot (no TLS, plaintext LOGIN allowed) for the whole session."""
    server = DovecotServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dovecot_starttls() -> Iterator[DovecotServer]:
    """Yield a dovecot requiring TLS before LOGIN: STARTTLS on ``port``, implicit TLS on ``ssl_port``.

    The certificate is self-signed for localhost/127.0.0.1; trust it via ``cert_file`` or ``ssl_context()``.
    """
    server = DovecotServer(starttls=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imap_server(dovecot: DovecotServer) -> ImapMailbox:
    """Return a fresh, empty account on the plain-IMAP dovecot."""
    return dovecot.add_user()


@pytest.fixture
def imap_server_starttls(dovecot_starttls: DovecotServer) -> ImapMailbox:
    """Return a fresh, empty account on the STARTTLS dovecot (use ``ssl_context()`` to trust its cert)."""
    return dovecot_starttls.add_user()
