"""A request for an archived version of the policy, fulfilled by the assistant: list the versions, pick the
one asked for (by its date, its version number, or "the previous one"), and mail it to the address given.
No ticket opens, unless the person asks for a version older than the archive holds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

from actions.context import ActionServices, Choice, Turn, TurnReplies, mask_address
from bot.domain.policy_versions import ArchiveMailResult, PolicyVersion
from nlu.intents import EntityName, Intent
from policy.versions import find_period

_VERSION_ID = re.compile(r"(?<![0-9a-f])([0-9a-f]{6,64})(?![0-9a-f])", re.I)
# "the current one" in English, Russian and Azerbaijani: otherwise an archive request means an earlier one.
_CURRENT = re.compile(
    r"\b(current|latest|newest|present|today'?s?|in force)\b|текущ|нынешн|действующ|актуальн|"
    r"\b(cari|hazırkı|indiki|qüvvədə olan)\b",
    re.I,
)


def wanted_version(text: str, versions: list[PolicyVersion]) -> PolicyVersion | None:
    """The version ``text`` asks for: one named by its version number; else the one in effect at the date,
    month or year it names (None when none was in effect so early); else the current one when it says so;
    else the newest earlier one (the current one when there is no other)."""
    for match in _VERSION_ID.finditer(text):
        named = [v for v in versions if v.sha256.startswith(match.group(1).lower())]
        if len(named) == 1:
            return named[0]
    current = next((v for v in versions if v.current), versions[-1])
    period = find_period(text)
    if period is not None:
        end = datetime.combine(period.end, time.max, tzinfo=UTC)
        in_effect = [v for v in versions if v.effective_from <= end]
        return in_effect[-1] if in_effect else None
    if _CURRENT.search(text):
        return current
    earlier = [v for v in versions if v is not current and v.effective_from <= current.effective_from]
    return earlier[-1] if earlier else current


def archive_address(turn: Turn) -> str | None:
    """Where to mail the version: an address in the message, else one the conversation proved, else the one
    the channel says the person wrote from."""
    return (
        turn.parse.entity(EntityName.EMAIL)
        or turn.verified_address
        or turn.state.verified_address
        or turn.claimed_address
    )


async def mail_archived(
    turn: Turn,
    replies: TurnReplies,
    services: ActionServices,
    versions: list[PolicyVersion],
    wanted: PolicyVersion,
    address: str,
) -> ArchiveMailResult:
    """Mail ``wanted`` to ``address`` and say so (or why not), listing the versions."""
    desk = services.desk
    if desk is None:
        raise RuntimeError("mailing an archived version needs the desk")
    result = await desk.mail_policy_version(turn.requester, wanted.id, address=address, lang=turn.lang.value)
    replies.say(
        "chat/policy_archive_sent.txt.j2",
        versions=versions,
        wanted=wanted,
        result=result.value,
        address=mask_address(address),
        officer_email=services.terms.officer_email,
        quick_replies=(Intent.HUMAN_HANDOFF.value,),
    )
    return result


def ask_archive_address(replies: TurnReplies, versions: list[PolicyVersion], wanted: PolicyVersion) -> None:
    """List the versions and ask where to mail the one chosen."""
    replies.say(
        "chat/policy_archive_ask_address.txt.j2",
        versions=versions,
        wanted=wanted,
        quick_replies=(Choice.CANCEL,),
    )
