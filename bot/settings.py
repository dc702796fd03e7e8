"""Every setting, read once from the environment (prefix ``PRIVACYBOT_``) and passed down.

README lists each one; a setting added here is added there too.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POLICY = PROJECT_ROOT / "policy" / "zynorlink-privacy-policy.txt"
# The service-level defaults, here only (bot.sla.deadlines.SlaTerms uses them too).
DEFAULT_FIRST_RESPONSE_HOURS = 48
DEFAULT_RESOLUTION_DAYS = 30

_PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "password", "xxx", "todo"})


class NluEngineName(StrEnum):
    """Which NLU engine classifies messages."""

    EMBEDDED = "embedded"
    RASA = "rasa"


class TelegramMode(StrEnum):
    """How Telegram updates arrive."""

    POLLING = "polling"
    WEBHOOK = "webhook"


class MailSecurity(StrEnum):
    """Transport security of a mail connection."""

    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


class Settings(BaseSettings):
    """The application's configuration."""

    model_config = SettingsConfigDict(env_prefix="PRIVACYBOT_", extra="ignore", frozen=True)

    # Core
    policy: Path = DEFAULT_POLICY
    organisation: str | None = None  # unset: the name the policy uses for itself
    officer_email: str = "privacy@zynorlink.example"
    data_dir: Path = PROJECT_ROOT / "var"
    model_cache_dir: Path | None = None
    nlu_engine: NluEngineName = NluEngineName.EMBEDDED
    # Sentence embeddings (semantic retrieval and topic classification) beside the lexical search.
    semantic: bool = True
    rasa_url: str | None = None
    log_level: str = "INFO"
    log_wire: bool = False
    testing: bool = False

    # Store and SLA
    database_url: str | None = None
    first_response_hours: int = Field(DEFAULT_FIRST_RESPONSE_HOURS, ge=1)
    urgent_first_response_hours: int = Field(4, ge=1)
    resolution_days: int = Field(DEFAULT_RESOLUTION_DAYS, ge=1)
    reminder_hours: Annotated[tuple[int, ...], NoDecode] = (24, 4)
    sweep_interval_seconds: float = Field(60.0, gt=0)

    # Several workers: shared rate limits and push fan-out (unset: one process, kept in memory), and the
    # lease after which another worker takes over IMAP / Telegram polling from one that died
    redis_url: str | None = None
    lease_seconds: float = Field(30.0, ge=1)
    # How long a worker holds a delivery it is sending before another may send it (after a crash mid-send);
    # longer than the slowest send (Telegram's flood control may wait 3 x 60 s, SMTP times out after 30 s)
    delivery_lease_seconds: float = Field(300.0, ge=1)
    # Load balancers / reverse proxies (addresses or networks) whose X-Forwarded-For names the client (the
    # per-address rate limit, the officer sign-in throttle)
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()

    # Outgoing mail (codes, replies, officer notifications)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: MailSecurity = MailSecurity.NONE
    mail_from: str = "privacy-assistant@zynorlink.example"

    # Web chat
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    public_url: str | None = None
    max_message_chars: int = Field(4000, ge=1)
    rate_limit_per_minute: int = Field(30, ge=1)
    offline_delivery_minutes: float = Field(2.0, ge=0)
    # Fallback mails of one ticket whose messages were queued less than this apart go out as one mail
    fallback_batch_seconds: float = Field(30.0, ge=0)
    secret_key: SecretStr | None = None
    # Origins (scheme://host[:port], comma-separated) whose pages may open the chat websocket; unset: only
    # the server's own origin.
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = ()

    # Telegram
    telegram_token: SecretStr | None = None
    telegram_api_base: str | None = None
    telegram_mode: TelegramMode = TelegramMode.POLLING
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    officer_telegram_chat_id: int | None = None

    # Email channel
    imap_host: str | None = None
    imap_port: int = 993
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_folder: str = "INBOX"
    imap_security: MailSecurity = MailSecurity.TLS
    imap_quarantine_folder: str = "Quarantine"
    imap_poll_seconds: float = Field(60.0, gt=0)
    # After a failure (the mailbox or the database unreachable) the reader waits 1 s, then twice as long each
    # time, up to this; a mail that failed because the database was down stays in the inbox, not counted
    imap_retry_max_seconds: float = Field(60.0, gt=0)
    attachment_max_bytes: int = Field(5_000_000, ge=0)
    # A mail over either cap is not read: it goes to quarantine and its sender gets one polite reply.
    mail_max_bytes: int = Field(10_000_000, ge=1000)
    mail_max_parts: int = Field(50, ge=1)
    email_replies_per_hour: int = Field(10, ge=1)
    # Authentication-Results headers are trusted only with this authserv-id (our receiving server's); None
    # trusts none, so every From address is only claimed and verified by a mailed code.
    imap_authserv_id: str | None = None
    # How many Authentication-Results headers, from the top, our own server prepends (RFC 8601 §5); only
    # these are read, everything below them was written by the sender.
    imap_trusted_auth_headers: int = Field(1, ge=1)

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://")):
            raise ValueError("PRIVACYBOT_REDIS_URL must start with redis:// or rediss://")
        return value or None

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_addresses(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("reminder_hours", mode="before")
    @classmethod
    def _split_hours(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(int(part) for part in value.replace(" ", "").split(",") if part)
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for part in value:
            ipaddress.ip_network(part, strict=False)  # a ValueError names the bad entry
        return value

    @model_validator(mode="after")
    def _cluster_shares_the_key(self) -> Settings:
        if self.redis_url and self.secret_key is None:
            raise ValueError(
                "PRIVACYBOT_REDIS_URL (several workers) needs PRIVACYBOT_SECRET_KEY, shared by every worker, "
                "so that a session id issued by one is valid at all"
            )
        return self

    @model_validator(mode="after")
    def _reject_placeholder_secrets(self) -> Settings:
        if self.testing:
            return self
        for name in (
            "smtp_password",
            "secret_key",
            "telegram_token",
            "telegram_webhook_secret",
            "imap_password",
        ):
            secret = getattr(self, name)
            if secret is not None and secret.get_secret_value().strip().lower() in _PLACEHOLDER_SECRETS:
                raise ValueError(f"PRIVACYBOT_{name.upper()} is a placeholder; set a real secret")
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite under the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'privacybot.sqlite3'}"

    @property
    def model_dir(self) -> Path:
        """Where trained NLU models are cached."""
        return self.model_cache_dir or self.data_dir / "models"

    @property
    def telegram_enabled(self) -> bool:
        """Telegram runs only when a token is set."""
        return self.telegram_token is not None

    @property
    def email_enabled(self) -> bool:
        """The mailbox is read only when IMAP settings are present."""
        return bool(self.imap_host and self.imap_user and self.imap_password)
