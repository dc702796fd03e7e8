"""The intents the assistant understands and the request kinds (`bot.domain`) they start.

The string values are the intent names in the Rasa training data (`nlu/data/*.yml`).
"""

from __future__ import annotations

from enum import StrEnum

from bot.domain.tickets import RequestKind


class Intent(StrEnum):
    """Every intent in the training data."""

    GREET = "greet"
    THANK = "thank"
    GOODBYE = "goodbye"
    BOT_CHALLENGE = "bot_challenge"
    AFFIRM = "affirm"
    DENY = "deny"
    HUMAN_HANDOFF = "human_handoff"
    TICKET_STATUS = "ticket_status"
    INFORM = "inform"
    OUT_OF_SCOPE = "out_of_scope"

    ASK_DATA_COLLECTED = "ask_data_collected"
    ASK_AUTOMATIC_DATA = "ask_automatic_data"
    ASK_DATA_USE = "ask_data_use"
    ASK_DATA_SHARING = "ask_data_sharing"
    ASK_LEGAL_DISCLOSURE = "ask_legal_disclosure"
    ASK_RIGHTS = "ask_rights"
    ASK_SECURITY = "ask_security"
    ASK_RETENTION = "ask_retention"
    ASK_TRANSFERS = "ask_transfers"
    ASK_POLICY_CHANGES = "ask_policy_changes"
    ASK_CONTACT = "ask_contact"

    REQUEST_ACCESS = "request_access"
    REQUEST_RECTIFICATION = "request_rectification"
    REQUEST_ERASURE = "request_erasure"
    REQUEST_PORTABILITY = "request_portability"
    REQUEST_RESTRICTION = "request_restriction"
    REQUEST_OBJECTION = "request_objection"
    REQUEST_MARKETING_OPT_OUT = "request_marketing_opt_out"
    REQUEST_SECURITY_INCIDENT = "request_security_incident"
    REQUEST_POLICY_ARCHIVE = "request_policy_archive"

    @property
    def is_policy_question(self) -> bool:
        """True for the intents answered by quoting the policy."""
        return self.value.startswith("ask_")

    @property
    def request_kind(self) -> RequestKind | None:
        """The request kind this intent starts, or None."""
        if not self.value.startswith("request_"):
            return None
        return RequestKind(self.value.removeprefix("request_"))


class EntityName(StrEnum):
    """Entities extracted from messages."""

    EMAIL = "email"
    OTP_CODE = "otp_code"
    TICKET_REF = "ticket_ref"
