"""The officer API's payloads, as pydantic models: requests are validated with them and the OpenAPI paths
are built from them (bot/officer/web/openapi.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.channels import ChannelName
from bot.domain.tickets import IdentityMethod, IdentityStatus, Priority, RequestKind, TicketStatus
from bot.store.accounts import AccountEntry
from bot.store.models import MessageDirection, TicketEventKind
from bot.store.officer_models import DeliveryRoute
from bot.store.ticket_views import Author
from bot.tickets.queue import QueueItem, SlaMark, TicketPage


class OfficerTicket(BaseModel):
    """A ticket as the officer sees it, with where it stands against its next deadline."""

    reference: str
    kind: RequestKind
    status: TicketStatus
    priority: Priority
    channel: ChannelName
    requester_label: str = Field(description="A short opaque label for the person (never a session id).")
    requester_address: str | None
    identity_status: IdentityStatus
    identity_method: IdentityMethod
    account_known: bool
    created_at: datetime
    first_response_due: datetime
    first_response_at: datetime | None
    due_at: datetime
    extended_until: datetime | None
    extension_reason: str | None
    assignee: str | None
    closed_at: datetime | None
    next_deadline: datetime
    seconds_left: int = Field(description="Negative once the deadline passed.")
    sla: SlaMark

    @classmethod
    def of(cls, item: QueueItem) -> OfficerTicket:
        """The payload of a queue line."""
        t = item.ticket
        return cls(
            reference=t.reference,
            kind=t.kind,
            status=t.status,
            priority=t.priority,
            channel=t.channel,
            requester_label=t.requester_label,
            requester_address=t.requester_address,
            identity_status=t.identity_status,
            identity_method=t.identity_method,
            account_known=t.account_known,
            created_at=t.created_at,
            first_response_due=t.first_response_due,
            first_response_at=t.first_response_at,
            due_at=t.due_at,
            extended_until=t.extended_until,
            extension_reason=t.extension_reason,
            assignee=t.assignee,
            closed_at=t.closed_at,
            next_deadline=item.deadline,
            seconds_left=int(item.time_left.total_seconds()),
            sla=item.mark,
        )


class TicketList(BaseModel):
    """The queue, least time left first."""

    tickets: list[OfficerTicket]


class AuditEntryOut(BaseModel):
    """One entry of the audit trail."""

    at: datetime
    actor: str
    event: TicketEventKind
    detail: dict[str, Any]


class TranscriptLineOut(BaseModel):
    """One message of the conversation (``in``: the person, ``out``: the assistant or the officer)."""

    at: datetime
    direction: MessageDirection
    channel: ChannelName
    text: str
    attachments: str | None = Field(None, description="Attachments the channel received but did not store.")
    author: Author = Field(Author.ASSISTANT, description="person, assistant or officer.")
    policy_version: str | None = Field(
        None, description="The id of the policy version an assistant's answer quoted (`policy versions`)."
    )


class DeliveryOut(BaseModel):
    """A message for the requester and where it went."""

    queued_at: datetime
    channel: ChannelName
    excerpt: str
    route: DeliveryRoute | None = Field(description="Null while the channel has not accepted it.")
    delivered_at: datetime | None
    fallback_at: datetime | None = Field(description="When it is (or was due to be) mailed instead.")
    mailed_at: datetime | None


class TicketDetailOut(BaseModel):
    """A ticket with its audit trail and transcript."""

    ticket: OfficerTicket
    handoff_active: bool
    undelivered: int = Field(description="Messages still waiting for the requester's channel.")
    audit: list[AuditEntryOut]
    transcript: list[TranscriptLineOut]
    deliveries: list[DeliveryOut] = Field(default_factory=list)

    @classmethod
    def of(cls, page: TicketPage) -> TicketDetailOut:
        """The payload of a ticket page."""
        return cls(
            ticket=OfficerTicket.of(page.item),
            handoff_active=page.handoff_active,
            undelivered=page.undelivered,
            audit=[
                AuditEntryOut(at=a.at, actor=a.actor, event=a.event, detail=a.detail)
                for a in page.detail.audit
            ],
            transcript=[
                TranscriptLineOut(
                    at=t.at,
                    direction=t.direction,
                    channel=t.channel,
                    text=t.text,
                    attachments=t.attachments,
                    author=t.author,
                    policy_version=t.policy_version,
                )
                for t in page.detail.transcript
            ],
            deliveries=[
                DeliveryOut(
                    queued_at=d.queued_at,
                    channel=d.channel,
                    excerpt=d.excerpt,
                    route=d.route,
                    delivered_at=d.delivered_at,
                    fallback_at=d.fallback_at,
                    mailed_at=d.mailed_at,
                )
                for d in page.deliveries
            ],
        )


class ReplyRequest(BaseModel):
    """A reply for the requester."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=10_000)


class ReplyResult(BaseModel):
    """The reply was recorded; ``delivered`` false means it waits in the outbox for the channel."""

    ticket: OfficerTicket
    first_response: bool
    delivered: bool
    kept: bool = Field(False, description="Kept in the chat for the person's next visit (page closed).")


class StatusRequest(BaseModel):
    """A status change; ``reason`` is required to reject (the requester is told)."""

    model_config = ConfigDict(extra="forbid")

    status: TicketStatus
    reason: str | None = Field(default=None, max_length=2000)


class ExtensionRequest(BaseModel):
    """Extend the resolution deadline by 1 or 2 months (2 in total), with the reason the requester reads."""

    model_config = ConfigDict(extra="forbid")

    months: int = Field(ge=1, le=2)
    reason: str = Field(min_length=1, max_length=2000)


class AssignmentRequest(BaseModel):
    """Assign the ticket (null: nobody)."""

    model_config = ConfigDict(extra="forbid")

    assignee: str | None = Field(default=None, max_length=200)


class TicketResult(BaseModel):
    """The ticket after the change."""

    ticket: OfficerTicket


class AccountOut(BaseModel):
    """A directory account and its marketing opt-out."""

    email: str
    name: str | None
    account_id: str | None
    marketing_opt_out: bool
    marketing_opt_out_at: datetime | None

    @classmethod
    def of(cls, entry: AccountEntry) -> AccountOut:
        """The payload of a directory entry."""
        return cls(
            email=entry.email,
            name=entry.name,
            account_id=entry.account_id,
            marketing_opt_out=entry.marketing_opt_out,
            marketing_opt_out_at=entry.marketing_opt_out_at,
        )


class AccountList(BaseModel):
    """Directory accounts, by address."""

    accounts: list[AccountOut]


class OfficerErrorBody(BaseModel):
    """Why a request was refused."""

    code: str
    message: str


class OfficerErrorResponse(BaseModel):
    """Every 4xx answer of the officer API."""

    error: OfficerErrorBody
