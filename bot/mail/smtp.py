"""The MailSender over SMTP (aiosmtplib): one connection per message, TLS as configured."""

from __future__ import annotations

import logging
from email.message import EmailMessage

import aiosmtplib

from bot.mail import MailDeliveryError, complete_headers
from bot.settings import MailSecurity, Settings

log = logging.getLogger(__name__)


class SmtpNotConfigured(MailDeliveryError):
    """No SMTP host is set, so nothing can be mailed."""


class SmtpMailSender:
    """Sends through the SMTP server named in the settings."""

    def __init__(
        self,
        *,
        host: str | None,
        port: int = 25,
        user: str | None = None,
        password: str | None = None,
        security: MailSecurity = MailSecurity.NONE,
        timeout: float = 30.0,
    ) -> None:
        """Remember where and how to connect; nothing connects until :meth:`send`."""
        self._host = host
        self._port = port
        self._user = user
        self._password = password
        self._security = security
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpMailSender:
        """The sender for ``settings.smtp_*``."""
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            user=settings.smtp_user,
            password=password,
            security=settings.smtp_security,
        )

    async def send(self, message: EmailMessage) -> None:
        """Send ``message``; every SMTP or network failure becomes MailDeliveryError."""
        if not self._host:
            raise SmtpNotConfigured("PRIVACYBOT_SMTP_HOST is not set")
        complete_headers(message)
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._user,
                password=self._password,
                use_tls=self._security is MailSecurity.TLS,
                start_tls=self._security is MailSecurity.STARTTLS,
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("SMTP delivery to %s:%s failed: %s", self._host, self._port, type(exc).__name__)
            raise MailDeliveryError(f"SMTP delivery failed: {type(exc).__name__}") from exc
