"""Dialogue state: where a conversation stands between two messages, in a form the store can persist."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from bot.domain.channels import ChannelName
from bot.domain.language import Language
from bot.domain.tickets import RequestKind


class Step(StrEnum):
    """What the assistant is waiting for."""

    IDLE = "idle"
    AWAIT_EMAIL = "await_email"
    AWAIT_CODE = "await_code"
    HANDOFF = "handoff"


@dataclass(frozen=True)
class DialogueState:
    """Everything the assistant remembers about a conversation between two messages.

    ``code_address`` is where the last one-time code went; ``verified_address`` is an address this
    conversation proved it controls; ``pending_reference`` is a ticket opened before verification
    (a suspected account compromise) that verification should attach to; ``queued_kinds`` are further
    requests found in the same message, opened together once the person is verified. ``lang`` is the
    language the conversation is held in (None until a message showed it); ``offered`` are the payloads of
    the quick replies the last reply offered, so a label typed back maps to its payload.
    ``follow_up_reference`` is the ticket an officer last answered here: the person's next messages go to
    it; ``handoff_acked_at`` (ISO time) is when the last burst of relayed messages was acknowledged;
    ``claim_reference`` is a ticket of another conversation the person is proving is theirs;
    ``archive_version`` the archived policy version to mail once the person gives an address.
    """

    step: Step = Step.IDLE
    pending_kind: RequestKind | None = None
    queued_kinds: tuple[RequestKind, ...] = ()
    code_address: str | None = None
    verified_address: str | None = None
    pending_reference: str | None = None
    handoff_reference: str | None = None
    misunderstood: int = 0
    offered_handoff: bool = False
    lang: Language | None = None
    offered: tuple[str, ...] = ()
    follow_up_reference: str | None = None
    handoff_acked_at: str | None = None
    claim_reference: str | None = None
    archive_version: str | None = None

    def evolve(self, **changes: Any) -> DialogueState:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict, for the store (every field is a scalar or a tuple of them: no deep copy)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["queued_kinds"] = [k.value for k in self.queued_kinds]
        data["offered"] = list(self.offered)
        return {k: (v.value if isinstance(v, StrEnum) else v) for k, v in data.items()}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DialogueState:
        """Rebuild a state saved by :meth:`to_json`; unknown keys from older versions are ignored."""
        if not data:
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if known.get("step") is not None:
            known["step"] = Step(known["step"])
        if known.get("pending_kind") is not None:
            known["pending_kind"] = RequestKind(known["pending_kind"])
        known["queued_kinds"] = tuple(RequestKind(k) for k in known.get("queued_kinds") or ())
        if known.get("lang") is not None:
            known["lang"] = Language(known["lang"])
        known["offered"] = tuple(str(p) for p in known.get("offered") or ())
        return cls(**known)


@dataclass(frozen=True)
class ConversationRecord:
    """A stored conversation: its id and the state it was left in."""

    id: str
    channel: ChannelName
    sender_id: str
    state: DialogueState
