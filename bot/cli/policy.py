"""`privacybot policy versions|diff|announce`: the archive of policy versions, what changed between two,
and the announcement of a new one to every known account."""

from __future__ import annotations

import json
from datetime import datetime

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.email.outgoing import OutgoingMail
from bot.cli.store import _settings, _with_database
from bot.deliveries import Deliveries
from bot.domain.channels import ChannelName
from bot.domain.clock import SystemClock
from bot.domain.policy_versions import PolicyVersion
from bot.officer.outbox import DeliveryOutbox, OutboxReport
from bot.policy_versions.announce import AnnouncementRefused, AnnouncementReport, announce_policy
from bot.settings import Settings
from bot.store.policy_versions import ArchivedText, PolicyVersionRepository
from policy.document import load_policy
from policy.organisation import organisation_name
from policy.versions import PolicyText, SectionChangeKind, policy_text, section_changes
from responses import Responses


def _current(settings: Settings) -> PolicyText:
    """The policy text the settings point at (``PRIVACYBOT_POLICY``), as a version."""
    try:
        return policy_text(settings.policy.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read the policy {settings.policy}: {exc}") from exc


async def _archived(maker: async_sessionmaker[AsyncSession], current: PolicyText) -> list[PolicyVersion]:
    """Archive ``current`` (a no-op when it is) and list every version."""
    async with maker() as session, session.begin():
        repository = PolicyVersionRepository(session)
        await repository.record(policy=current, now=SystemClock().now())
        return await repository.versions(current_id=current.id)


@click.group()
def policy() -> None:
    """The archived versions of the privacy policy."""


@policy.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON array of versions.")
def versions(as_json: bool) -> None:
    """Every archived version, the oldest in effect first (the current policy file is archived first)."""
    settings = _settings()
    current = _current(settings)
    found = _with_database(settings, lambda maker: _archived(maker, current))
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": v.id,
                        "sha256": v.sha256,
                        "first_seen": v.first_seen.isoformat(),
                        "effective_from": v.effective_from.isoformat(),
                        "current": v.current,
                    }
                    for v in found
                ]
            )
        )
        return
    click.echo(f"{'ID':<13} {'EFFECTIVE FROM':<17} {'FIRST SEEN':<17} {'CURRENT':<8} SHA256")
    for v in found:
        click.echo(
            f"{v.id:<13} {v.effective_from:%Y-%m-%d %H:%M} {v.first_seen:%Y-%m-%d %H:%M} "
            f"{'yes' if v.current else '':<8} {v.sha256}"
        )


async def _texts(
    maker: async_sessionmaker[AsyncSession], current: PolicyText, wanted: tuple[str, ...]
) -> list[ArchivedText | None]:
    await _archived(maker, current)
    async with maker() as session:
        repository = PolicyVersionRepository(session)
        return [
            await repository.text_of(version_id=current.id if w == "current" else w, current_id=current.id)
            for w in wanted
        ]


@policy.command()
@click.argument("old")
@click.argument("new")
def diff(old: str, new: str) -> None:
    """The passages that changed from version OLD to version NEW, section by section (a version is named
    by its id, at least 6 of its first hex digits, or ``current``)."""
    settings = _settings()
    current = _current(settings)
    texts = _with_database(settings, lambda maker: _texts(maker, current, (old, new)))
    for name, text in zip((old, new), texts, strict=True):
        if text is None:
            raise click.ClickException(f"no archived version {name} (see `privacybot policy versions`)")
    before, after = (t for t in texts if t is not None)
    changes = section_changes(before.text, after.text)
    if not changes:
        click.echo(f"versions {before.version.id} and {after.version.id} have the same passages")
        return
    for change in changes:
        click.echo(f"§ {change.section} ({change.kind.value})")
        for passage in change.removed:
            click.echo("  - " + passage.replace("\n", "\n    "))
        for passage in change.added:
            click.echo("  + " + passage.replace("\n", "\n    "))
        click.echo()


@policy.command()
@click.option(
    "--effective",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The date (YYYY-MM-DD) the current policy takes effect; at least 30 days ahead unless --minor.",
)
@click.option("--minor", is_flag=True, help="A minor update (clarity, legal compliance): no 30-day notice.")
def announce(effective: datetime, minor: bool) -> None:
    """Mail every account in the directory what changed in the current policy and when it takes effect
    (through the delivery outbox). Repeating it sends nothing twice."""
    from bot.app import build_mail_sender  # the mail sender only here: listing versions needs none

    settings = _settings()
    current = _current(settings)
    organisation = settings.organisation or organisation_name(load_policy(settings.policy))
    responses = Responses(organisation=organisation)
    clock = SystemClock()

    async def work(maker: async_sessionmaker[AsyncSession]) -> tuple[AnnouncementReport, OutboxReport]:
        report = await announce_policy(
            maker, policy=current, effective=effective.date(), minor=minor, clock=clock, responses=responses
        )
        # Sent at once by this command; what the mail server refuses stays queued for the server's outbox.
        mail = OutgoingMail(build_mail_sender(settings), mail_from=settings.mail_from, responses=responses)
        outbox = DeliveryOutbox(
            maker,
            deliveries=Deliveries({ChannelName.EMAIL: mail}),
            clock=clock,
            channels=frozenset({ChannelName.EMAIL}),
        )
        return report, await outbox.deliver_now(report.delivery_ids)

    try:
        report, sent = _with_database(settings, work)
    except AnnouncementRefused as exc:
        raise click.ClickException(str(exc)) from exc
    against = f" (changes since {report.previous_version_id})" if report.previous_version_id else ""
    click.echo(f"version {report.version_id} takes effect on {report.effective_on:%Y-%m-%d}{against}")
    for change in report.changes:
        mark = {SectionChangeKind.ADDED: "+", SectionChangeKind.REMOVED: "-"}.get(change.kind, "~")
        click.echo(f"  {mark} {change.section}")
    if report.repeat:
        click.echo("announced before: only accounts not mailed then are mailed now")
    click.echo(f"queued for {report.queued} account(s); {sent.delivered} mailed now, {sent.failed} to retry")
