"""Rights requests: recognise the kind, verify the person by a one-time code, open the ticket."""

from __future__ import annotations

import re
from typing import Any

from actions.context import (
    CODE_CHOICES,
    ActionKind,
    ActionServices,
    Choice,
    Outcome,
    Turn,
    TurnReplies,
    identity_method,
    mask_address,
)
from actions.policy_archive import archive_address, ask_archive_address, mail_archived, wanted_version
from bot.domain.dialogue import DialogueState, Step
from bot.domain.errors import CodeCoolingOff, ResendTooSoon
from bot.domain.tickets import (
    CodeResult,
    CodeSent,
    IdentityMethod,
    IdentityStatus,
    Priority,
    RequestDesk,
    RequestKind,
    TicketStatus,
    TicketSummary,
)
from nlu.intents import EntityName, Intent
from nlu.language import DEFAULT_LANGUAGE
from policy.answers import PolicyAnswer

_RESEND = re.compile(
    r"\b(re-?send|new code|another code|send (it |the code )?again|did ?n[o']?t (get|receive)|no code)\b",
    re.I,
)
_SPACED_CODE = re.compile(r"^\D{0,20}?(\d[\d\s-]{4,10}\d)\D{0,20}$")
# Six digits, also typed with single spaces or dashes between them (``482 913``, ``48-29-13``).
_ANY_CODE = re.compile(r"(?<!\d)\d(?:[ \t-]?\d){5}(?!\d)")
CODE_MASK = "••••••"
# Plain English for what each request asks: a request's clause is searched with these words beside it (a
# clause in another language shares no word with the policy), so the lexical search finds the right's own
# line of the policy (the meaning alone often picks a neighbouring one). Everyday words, no policy fact.
_KIND_WORDS: dict[RequestKind, str] = {
    RequestKind.ACCESS: "see the personal information you have about me",
    RequestKind.RECTIFICATION: "correct wrong information in my profile",
    RequestKind.ERASURE: "delete my account and data",
    RequestKind.PORTABILITY: "a portable copy of my data",
    RequestKind.RESTRICTION: "restrict the processing of my data",
    RequestKind.OBJECTION: "object to the processing of my data",
    RequestKind.MARKETING_OPT_OUT: "opt out of marketing emails",
    RequestKind.SECURITY_INCIDENT: "unauthorized access to my account",
    RequestKind.POLICY_ARCHIVE: "earlier versions of the privacy policy",
}

# Where the policy speaks of each request: most are rights; a break-in is security, an old version is
# the policy's changes.
_TOPIC_OF_KIND: dict[RequestKind, Intent] = {
    RequestKind.SECURITY_INCIDENT: Intent.ASK_SECURITY,
    RequestKind.POLICY_ARCHIVE: Intent.ASK_POLICY_CHANGES,
}


def typed_code(turn: Turn) -> str | None:
    """The 6-digit code in the message, also when typed with spaces or dashes (``482 913``)."""
    code = turn.parse.entity(EntityName.OTP_CODE)
    if code:
        return code
    m = _SPACED_CODE.match(turn.parse.text.strip())
    digits = re.sub(r"\D", "", m.group(1)) if m else ""
    return digits if len(digits) == 6 else None


def mask_typed_code(text: str) -> str:
    """``text`` with every code-like run of six digits replaced by ``••••••``: what the transcript keeps of a
    message typed while a code was awaited."""
    return _ANY_CODE.sub(CODE_MASK, text)


def _rights_quote(turn: Turn, services: ActionServices, kind: RequestKind) -> PolicyAnswer | None:
    """What the policy says about the right asked for, read from the clause that asked for it."""
    clause = turn.requests.clause_of(kind) or turn.parse.text
    if kind in _KIND_WORDS:
        # A clause in another language shares no word with the policy: its plain English alone is searched.
        words = _KIND_WORDS[kind]
        clause = f"{clause} ({words})" if turn.lang is DEFAULT_LANGUAGE else words
    # The line that names the right: the policy's own words for it, within the topic's sections.
    answer = services.answerer.lexical_answer(clause, topic=_TOPIC_OF_KIND.get(kind, Intent.ASK_RIGHTS).value)
    return answer if isinstance(answer, PolicyAnswer) else None


def _say_opened(ticket: TicketSummary, replies: TurnReplies, services: ActionServices) -> None:
    if ticket.kind is RequestKind.MARKETING_OPT_OUT and ticket.status is TicketStatus.RESOLVED:
        # The desk carried the opt-out out at once: confirm it rather than promise it.
        replies.say("chat/marketing_opt_out_done.txt.j2", ticket=ticket, ticket_reference=ticket.reference)
        return
    template = "chat/ticket_already_open.txt.j2" if ticket.already_open else "chat/ticket_opened.txt.j2"
    replies.say(template, ticket=ticket, terms=services.terms, ticket_reference=ticket.reference)


def _say_all_opened(tickets: list[TicketSummary], replies: TurnReplies, services: ActionServices) -> None:
    """One reply for the tickets one verification opened: the ticket itself, or the list of them."""
    if len(tickets) == 1:
        _say_opened(tickets[0], replies, services)
    elif tickets:
        replies.say(
            "chat/tickets_opened.txt.j2",
            tickets=tickets,
            terms=services.terms,
            ticket_reference=tickets[0].reference,
            other_references=tuple(t.reference for t in tickets[1:]),
        )


def _kinds_of(state: DialogueState) -> tuple[RequestKind, ...]:
    """The requests ``state`` is pursuing, the pending one first."""
    return tuple(dict.fromkeys(((state.pending_kind,) if state.pending_kind else ()) + state.queued_kinds))


def _request_outcome(state: DialogueState, **values: Any) -> Outcome:
    """An outcome about the request(s) ``state`` is pursuing."""
    kinds = _kinds_of(state)
    return Outcome(ActionKind.REQUEST, state, kind=kinds[0] if kinds else None, kinds=kinds, **values)


async def decline_requests(turn: Turn, replies: TurnReplies, services: ActionServices) -> Outcome:
    """The message names requests only to say they are not wanted ("do NOT delete my account")."""
    replies.say("chat/request_not_wanted.txt.j2", declined=[k.value for k in turn.requests.declined])
    return Outcome(ActionKind.SMALLTALK, turn.state.evolve(misunderstood=0))


async def start_request(
    turn: Turn, replies: TurnReplies, services: ActionServices, kinds: tuple[RequestKind, ...]
) -> Outcome:
    """Begin the rights requests ``kinds`` (in the order asked): one verification covers them all."""
    kind, queued = kinds[0], tuple(k for k in dict.fromkeys(kinds[1:]) if k is not kinds[0])
    quote = _rights_quote(turn, services, kind)
    declined = [k.value for k in turn.requests.declined if k not in kinds]
    replies.say(
        "chat/request_received.txt.j2",
        kind=kind.value,
        quote=quote,
        queued=[k.value for k in queued],
        declined=declined,
    )
    state = turn.state.evolve(pending_kind=kind, queued_kinds=queued, misunderstood=0, pending_reference=None)
    desk = services.desk
    address = turn.verified_address or state.verified_address
    if kind is RequestKind.POLICY_ARCHIVE and not queued:
        return await _fulfil_archive(turn, replies, services, state)
    if kind is RequestKind.SECURITY_INCIDENT and desk is not None:
        # A suspected compromise cannot wait for verification: open now, urgent, verify after.
        ticket = await desk.open_request(
            turn.requester,
            RequestKind.SECURITY_INCIDENT,
            address=address,
            identity=IdentityStatus.VERIFIED if address else IdentityStatus.UNVERIFIED,
            method=identity_method(turn, address),
            priority=Priority.URGENT,
        )
        _say_opened(ticket, replies, services)
        state = state.evolve(pending_reference=ticket.reference)
        if address:
            method = identity_method(turn, address)
            return await _open_queued(turn, replies, services, state, address, method, ticket.reference)
        if turn.claimed_address:
            return await send_code(turn, replies, services, state, turn.claimed_address)
        replies.say("chat/ask_email.txt.j2", reason="incident", terms=services.terms, requests=1)
        return _request_outcome(state.evolve(step=Step.AWAIT_EMAIL), ticket_reference=ticket.reference)
    if address and desk is not None:
        return await open_pending(
            turn,
            replies,
            services,
            state.evolve(verified_address=address),
            address,
            identity_method(turn, address),
        )
    email = turn.parse.entity(EntityName.EMAIL) or turn.claimed_address
    if email and desk is not None:
        return await send_code(turn, replies, services, state, email)
    replies.say(
        "chat/ask_email.txt.j2", reason="request", terms=services.terms, requests=len(_kinds_of(state))
    )
    return _request_outcome(state.evolve(step=Step.AWAIT_EMAIL))


async def _fulfil_archive(
    turn: Turn, replies: TurnReplies, services: ActionServices, state: DialogueState
) -> Outcome:
    """List the archived versions and mail the one asked for to the address given (asking for one when
    none is known); only a version older than the archive holds opens a ticket, for a person."""
    desk = services.desk
    kind = RequestKind.POLICY_ARCHIVE
    done = state.evolve(pending_kind=None, archive_version=None)
    if desk is None:
        replies.say("chat/policy_archive_preview.txt.j2")
        return Outcome(ActionKind.REQUEST, done, kind=kind)
    versions = await desk.policy_versions()
    wanted = wanted_version(turn.parse.text, versions)
    if wanted is None:
        replies.say("chat/policy_archive_older.txt.j2", versions=versions)
        ticket = await desk.open_request(
            turn.requester,
            kind,
            address=turn.verified_address or state.verified_address,
            identity=IdentityStatus.NOT_REQUIRED,
            method=IdentityMethod.NONE,
        )
        _say_opened(ticket, replies, services)
        return Outcome(ActionKind.REQUEST, done, kind=kind, ticket_reference=ticket.reference)
    address = archive_address(turn)
    if address is None:
        ask_archive_address(replies, versions, wanted)
        waiting = state.evolve(step=Step.AWAIT_EMAIL, archive_version=wanted.id)
        return _request_outcome(waiting)
    await mail_archived(turn, replies, services, versions, wanted, address)
    return Outcome(ActionKind.REQUEST, done, kind=kind)


async def _mail_waiting_archive(
    turn: Turn, replies: TurnReplies, services: ActionServices, address: str
) -> Outcome:
    """The address for the archived version the conversation was waiting to mail."""
    desk = _desk(services)
    state = turn.state
    versions = await desk.policy_versions()
    wanted = next((v for v in versions if v.id == state.archive_version), None)
    wanted = wanted or wanted_version(turn.parse.text, versions) or versions[-1]
    await mail_archived(turn, replies, services, versions, wanted, address)
    done = state.evolve(step=Step.IDLE, pending_kind=None, archive_version=None)
    return Outcome(ActionKind.REQUEST, done, kind=RequestKind.POLICY_ARCHIVE)


async def revise_requests(turn: Turn, replies: TurnReplies, services: ActionServices) -> Outcome:
    """While the person is being verified they add requests ("also stop the newsletter") or withdraw one
    ("actually, don't delete it"): the same verification then covers the revised list."""
    state = turn.state
    found = turn.requests
    kept = [
        k
        for k in _kinds_of(state)
        if k not in found.declined or (k is RequestKind.SECURITY_INCIDENT and state.pending_reference)
    ]
    kinds = tuple(dict.fromkeys(kept + list(found.sure().kinds)))
    if not kinds:
        return await cancel_request(turn, replies, services)
    withdrawn = [k.value for k in _kinds_of(state) if k not in kinds]
    replies.say(
        "chat/request_received.txt.j2",
        kind=kinds[0].value,
        quote=None,
        queued=[k.value for k in kinds[1:]],
        declined=withdrawn,
    )
    state = state.evolve(pending_kind=kinds[0], queued_kinds=kinds[1:], misunderstood=0)
    replies.say("chat/still_waiting.txt.j2", step=state.step.value)
    return _request_outcome(state)


async def send_code(
    turn: Turn, replies: TurnReplies, services: ActionServices, state: DialogueState, address: str
) -> Outcome:
    """Mail a one-time code to ``address`` and wait for it."""
    desk = _desk(services)
    try:
        sent = await desk.send_code(turn.requester, address, lang=turn.lang)
    except ResendTooSoon as exc:
        # The code step goes on, so its choices stay on offer.
        replies.say(
            "chat/code_resend_too_soon.txt.j2",
            seconds=exc.retry_after_seconds,
            quick_replies=CODE_CHOICES,
        )
        return _request_outcome(state)
    except CodeCoolingOff as exc:
        return _cooling_off(replies, services, state, exc.retry_after_seconds)
    _say_code_sent(replies, services, sent)
    return _request_outcome(state.evolve(step=Step.AWAIT_CODE, code_address=sent.address))


def _cooling_off(
    replies: TurnReplies, services: ActionServices, state: DialogueState, seconds: int
) -> Outcome:
    """Too many wrong codes: say how long no code will be sent or checked, and whom to write meanwhile."""
    replies.say(
        "chat/code_cooling_off.txt.j2",
        hours=max(1, -(-seconds // 3600)),
        officer_email=services.terms.officer_email,
    )
    return _request_outcome(state)


async def continue_with_email(turn: Turn, replies: TurnReplies, services: ActionServices) -> Outcome:
    """While waiting for an address: take it and send the code, or ask again."""
    email = turn.parse.entity(EntityName.EMAIL)
    archive = turn.state.pending_kind is RequestKind.POLICY_ARCHIVE and not turn.state.queued_kinds
    if email and services.desk is not None and archive:
        return await _mail_waiting_archive(turn, replies, services, email)
    if email and services.desk is not None:
        return await send_code(turn, replies, services, turn.state, email)
    replies.say("chat/ask_email_again.txt.j2", quick_replies=(Choice.CANCEL,))
    return _request_outcome(turn.state)


async def continue_with_code(turn: Turn, replies: TurnReplies, services: ActionServices) -> Outcome:
    """While waiting for the code: check it, resend it, or take a corrected address."""
    state = turn.state
    desk = _desk(services)
    email = turn.parse.entity(EntityName.EMAIL)
    if email and email.lower() != (state.code_address or "").lower():
        return await send_code(turn, replies, services, state, email)
    resend = turn.choice == Choice.RESEND_CODE or _RESEND.search(turn.parse.text)
    if resend and state.code_address:
        return await send_code(turn, replies, services, state, state.code_address)
    code = typed_code(turn)
    if code is None:
        replies.say(
            "chat/ask_code_again.txt.j2",
            address=mask_address(state.code_address or ""),
            quick_replies=CODE_CHOICES,
        )
        return _request_outcome(state)
    check = await desk.check_code(turn.requester, code)
    if check.result is CodeResult.ACCEPTED and check.address:
        verified = state.evolve(verified_address=check.address)
        if state.claim_reference:
            return await show_claimed(turn, replies, services, verified)
        return await open_pending(turn, replies, services, verified, check.address, IdentityMethod.EMAIL_CODE)
    if check.result is CodeResult.WRONG:
        replies.say(
            "chat/code_wrong.txt.j2",
            attempts_left=check.attempts_left,
            quick_replies=CODE_CHOICES,
        )
    elif check.result is CodeResult.EXPIRED:
        replies.say("chat/code_expired.txt.j2", quick_replies=CODE_CHOICES)
    elif check.result is CodeResult.LOCKED:
        replies.say("chat/code_locked.txt.j2", quick_replies=CODE_CHOICES)
    elif check.result is CodeResult.COOLING_OFF:
        return _cooling_off(replies, services, state, check.retry_after_seconds)
    else:
        replies.say(
            "chat/ask_email.txt.j2", reason="request", terms=services.terms, requests=len(_kinds_of(state))
        )
        return _request_outcome(state.evolve(step=Step.AWAIT_EMAIL))
    return _request_outcome(state)


async def open_pending(
    turn: Turn,
    replies: TurnReplies,
    services: ActionServices,
    state: DialogueState,
    address: str,
    method: IdentityMethod,
) -> Outcome:
    """The person is verified: open every pending request (or confirm an incident ticket)."""
    desk = _desk(services)
    reference = None
    if state.pending_reference:
        ticket = await desk.attach_verification(
            turn.requester, state.pending_reference, address=address, method=method
        )
        if ticket is not None:
            replies.say("chat/identity_confirmed.txt.j2", ticket=ticket, ticket_reference=ticket.reference)
            reference = ticket.reference
        state = state.evolve(pending_reference=None)
        if state.pending_kind is RequestKind.SECURITY_INCIDENT:
            state = state.evolve(pending_kind=None)
    return await _open_queued(turn, replies, services, state, address, method, reference)


async def _open_queued(
    turn: Turn,
    replies: TurnReplies,
    services: ActionServices,
    state: DialogueState,
    address: str,
    method: IdentityMethod = IdentityMethod.EMAIL_CODE,
    reference: str | None = None,
) -> Outcome:
    desk = _desk(services)
    kinds = _kinds_of(state)
    tickets: list[TicketSummary] = []
    for kind in kinds:
        if kind is RequestKind.SECURITY_INCIDENT and state.pending_reference:
            continue
        tickets.append(
            await desk.open_request(
                turn.requester,
                kind,
                address=address,
                identity=IdentityStatus.VERIFIED,
                method=method,
                priority=Priority.URGENT if kind is RequestKind.SECURITY_INCIDENT else Priority.NORMAL,
            )
        )
    _say_all_opened(tickets, replies, services)
    reference = reference or (tickets[0].reference if tickets else None)
    done = state.evolve(
        step=Step.IDLE, pending_kind=None, queued_kinds=(), code_address=None, pending_reference=None
    )
    return Outcome(
        ActionKind.REQUEST,
        done,
        kind=kinds[0] if kinds else None,
        kinds=kinds,
        ticket_reference=reference,
    )


async def cancel_request(turn: Turn, replies: TurnReplies, services: ActionServices) -> Outcome:
    """Leave the verification step; nothing is opened."""
    replies.say("chat/request_cancelled.txt.j2")
    state = turn.state.evolve(
        step=Step.IDLE,
        pending_kind=None,
        queued_kinds=(),
        code_address=None,
        claim_reference=None,
        archive_version=None,
    )
    kinds = _kinds_of(turn.state)
    return Outcome(ActionKind.REQUEST, state, kind=kinds[0] if kinds else None, kinds=kinds)


async def report_status(turn: Turn, replies: TurnReplies, services: ActionServices) -> Outcome:
    """Tell the owner where their ticket stands; never confirm that someone else's ticket exists."""
    desk = services.desk
    state = turn.state.evolve(misunderstood=0)
    reference = turn.parse.entity(EntityName.TICKET_REF)
    if desk is None:
        replies.say("chat/status_unavailable.txt.j2", reference=reference)
        return Outcome(ActionKind.REQUEST, state)
    if reference:
        ticket = await desk.ticket_status(turn.requester, reference)
        if ticket is None:
            # Perhaps opened in another conversation or channel: offer to prove it by a code.
            replies.say(
                "chat/ticket_claim_offer.txt.j2",
                reference=reference,
                quick_replies=(Choice.SEND_TICKET_CODE, Choice.CANCEL),
            )
            return Outcome(ActionKind.REQUEST, state.evolve(claim_reference=reference.upper()))
        replies.say("chat/ticket_status.txt.j2", ticket=ticket, ticket_reference=ticket.reference)
        return Outcome(ActionKind.REQUEST, state, ticket_reference=ticket.reference)
    tickets = await desk.tickets_of(turn.requester)
    replies.say("chat/ticket_list.txt.j2", tickets=tickets)
    return Outcome(ActionKind.REQUEST, state)


async def claim_ticket(turn: Turn, replies: TurnReplies, services: ActionServices) -> Outcome:
    """The person accepted the offer: mail a code to the address on the ticket they named."""
    desk = _desk(services)
    state = turn.state
    reference = state.claim_reference or ""
    try:
        sent = await desk.send_ticket_code(turn.requester, reference, lang=turn.lang)
    except ResendTooSoon as exc:
        replies.say("chat/code_resend_too_soon.txt.j2", seconds=exc.retry_after_seconds)
        return Outcome(ActionKind.REQUEST, state)
    if sent is None:
        replies.say("chat/ticket_not_found.txt.j2", reference=reference)
        return Outcome(ActionKind.REQUEST, state.evolve(claim_reference=None))
    _say_code_sent(replies, services, sent)
    return Outcome(
        ActionKind.REQUEST, state.evolve(step=Step.AWAIT_CODE, code_address=sent.address, pending_kind=None)
    )


async def show_claimed(
    turn: Turn, replies: TurnReplies, services: ActionServices, state: DialogueState
) -> Outcome:
    """The code to the ticket's address was right: this conversation is that requester now; show the
    ticket, and let further messages here join it."""
    desk = _desk(services)
    reference = state.claim_reference or ""
    done = state.evolve(step=Step.IDLE, code_address=None, claim_reference=None)
    ticket = await desk.ticket_status(turn.requester, reference)
    if ticket is None:
        replies.say("chat/ticket_not_found.txt.j2", reference=reference)
        return Outcome(ActionKind.REQUEST, done)
    replies.say("chat/ticket_claimed.txt.j2", ticket=ticket, ticket_reference=ticket.reference)
    followed = done if ticket.status.is_closed else done.evolve(follow_up_reference=ticket.reference)
    return Outcome(ActionKind.REQUEST, followed, ticket_reference=ticket.reference)


def _say_code_sent(replies: TurnReplies, services: ActionServices, sent: CodeSent) -> None:
    replies.say(
        "chat/code_sent.txt.j2",
        address=mask_address(sent.address),
        minutes=services.terms.code_valid_minutes,
        quick_replies=CODE_CHOICES,
    )


def _desk(services: ActionServices) -> RequestDesk:
    if services.desk is None:
        raise RuntimeError("this action needs the ticket desk")
    return services.desk
