"""`privacybot db upgrade|runtime-grants`, `privacybot accounts import FILE.csv|export`, `tickets …`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.clock import SystemClock
from bot.domain.tickets import IdentityStatus, RequestKind, TicketStatus
from bot.identity.directory import AccountDirectory, MissingColumn, directory_csv, import_directory
from bot.settings import Settings
from bot.sla.deadlines import SlaTerms
from bot.store.db import create_sessionmaker, engine_from_settings
from bot.store.migrate import current_revision, upgrade_database
from bot.store.ticket_views import TicketDetail, TicketView
from bot.tickets.service import TicketService
from responses import Responses

T = TypeVar("T")


def _settings() -> Settings:
    """Settings from the environment (``PRIVACYBOT_*``)."""
    return Settings()


def _with_database(settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Migrate the configured database to head, run ``work`` with a sessionmaker, dispose of the engine."""

    async def run() -> T:
        engine = engine_from_settings(settings)
        try:
            await upgrade_database(engine)
            return await work(create_sessionmaker(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


@click.group()
def db() -> None:
    """The database schema."""


@db.command()
def upgrade() -> None:
    """Apply every pending migration (also done at start)."""
    settings = _settings()

    async def run() -> str | None:
        engine = engine_from_settings(settings)
        try:
            await upgrade_database(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    revision = asyncio.run(run())
    click.echo(f"database at revision {revision}")


@db.command("runtime-grants")
@click.argument("role")
@click.option("--schema", default="public", show_default=True, help="The schema the tables are in.")
def runtime_grants_command(role: str, schema: str) -> None:
    """Print the SQL (for the schema owner, after `db upgrade`) that lets ROLE read and write rows only."""
    from bot.store.roles import InvalidRoleName, runtime_grants

    try:
        statements = runtime_grants(role=role, schema=schema)
    except InvalidRoleName as exc:
        raise click.ClickException(str(exc)) from exc
    for statement in statements:
        click.echo(f"{statement};")


@click.group()
def accounts() -> None:
    """The accounts directory verification looks addresses up in."""


@accounts.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_accounts(file: Path) -> None:
    """Import FILE.csv (columns: email, optionally name, account_id); known addresses are updated."""
    text = file.read_text(encoding="utf-8-sig")
    try:
        report = _with_database(_settings(), lambda maker: import_directory(maker, text, clock=SystemClock()))
    except MissingColumn as exc:
        raise click.ClickException(str(exc)) from exc
    for problem in report.problems:
        click.echo(f"{file}:{problem.line}: {problem.reason}", err=True)
    click.echo(
        f"imported {report.imported} account(s), skipped {len(report.problems)} bad row(s); "
        f"{report.total_accounts} in the directory"
    )
    if report.problems:
        raise SystemExit(1)


@accounts.command("export")
@click.option("--opted-out", is_flag=True, help="Only accounts that opted out of marketing.")
def export_accounts(opted_out: bool) -> None:
    """The directory as CSV on stdout, with each account's marketing opt-out (yes/no, and when)."""
    entries = _with_database(
        _settings(), lambda maker: AccountDirectory(maker).entries(opted_out=True if opted_out else None)
    )
    click.echo(directory_csv(entries), nl=False)


@click.group()
def tickets() -> None:
    """Tickets, for the officer at a terminal."""


def _left(deadline: datetime, now: datetime) -> str:
    """``2d 4h``, or ``overdue 3h``."""
    delta = deadline - now
    sign = "" if delta >= timedelta(0) else "overdue "
    hours = int(abs(delta).total_seconds() // 3600)
    return f"{sign}{hours // 24}d {hours % 24}h" if hours >= 24 else f"{sign}{hours}h"


def _service(maker: async_sessionmaker[AsyncSession], settings: Settings) -> TicketService:
    """The ticket service for reading (no outbox: the command line sends nothing)."""
    terms = SlaTerms.from_settings(settings)
    return TicketService(
        maker, clock=SystemClock(), terms=terms, responses=Responses(organisation=settings.organisation)
    )


@tickets.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([s.value for s in TicketStatus]),
    help="Only these statuses (repeatable); default: every open one.",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice([k.value for k in RequestKind]),
    help="Only these kinds (repeatable).",
)
@click.option("--limit", default=200, show_default=True)
def list_tickets(statuses: tuple[str, ...], kinds: tuple[str, ...], limit: int) -> None:
    """Tickets as a table, the least time left first."""
    settings = _settings()
    rows = _with_database(
        settings,
        lambda maker: _service(maker, settings).list_tickets(
            statuses=[TicketStatus(s) for s in statuses] or None,
            kinds=[RequestKind(k) for k in kinds],
            limit=limit,
        ),
    )
    if not rows:
        click.echo("no tickets")
        return
    now = SystemClock().now()
    header = (
        f"{'REFERENCE':<15} {'KIND':<18} {'STATUS':<21} {'PRIORITY':<8} {'NEXT DEADLINE':<18} {'LEFT':<12} "
        "ASSIGNEE"
    )
    click.echo(header)
    for t in rows:
        click.echo(
            f"{t.reference:<15} {t.kind.value:<18} {t.status.value:<21} {t.priority.value:<8} "
            f"{t.next_deadline:%Y-%m-%d %H:%M}   {_left(t.next_deadline, now):<12} {t.assignee or '-'}"
        )


def _address(ticket: TicketView) -> str:
    """The requester's address, marked when it was only claimed."""
    if ticket.requester_address is None:
        return "no verified address"
    verified = ticket.identity_status is IdentityStatus.VERIFIED
    return ticket.requester_address + ("" if verified else " (not verified)")


def _render_detail(detail: TicketDetail) -> list[str]:
    t: TicketView = detail.ticket
    lines = [
        f"Ticket {t.reference}",
        f"  kind            {t.kind.value}",
        f"  status          {t.status.value}",
        f"  priority        {t.priority.value}",
        f"  requester       {t.requester_label} · {_address(t)}",
        f"  channel         {t.channel.value}",
        f"  identity        {t.identity_status.value} via {t.identity_method.value}"
        f"{'' if t.account_known else ' (no account in the directory)'}",
        f"  language        {t.language}",
        f"  assignee        {t.assignee or '-'}",
        f"  created         {t.created_at:%Y-%m-%d %H:%M} UTC",
        f"  first response  due {t.first_response_due:%Y-%m-%d %H:%M} UTC, "
        + (f"given {t.first_response_at:%Y-%m-%d %H:%M} UTC" if t.first_response_at else "not yet given"),
        f"  due             {t.due_at:%Y-%m-%d %H:%M} UTC"
        + (
            f", extended to {t.extended_until:%Y-%m-%d %H:%M} UTC ({t.extension_reason})"
            if t.extended_until
            else ""
        ),
        "",
        "Audit trail",
    ]
    for entry in detail.audit:
        extra = " ".join(f"{key}={value}" for key, value in entry.detail.items())
        lines.append(
            f"  {entry.at:%Y-%m-%d %H:%M:%S}  {entry.event.value:<18} {entry.actor}  {extra}".rstrip()
        )
    lines += ["", "Transcript"]
    for message in detail.transcript:
        lines.append(f"  {message.at:%Y-%m-%d %H:%M:%S} {message.author.value:<9} {message.text}")
        if message.policy_version:
            lines.append(f"  {'':19} policy version {message.policy_version}")
        if message.attachments:
            lines.append(f"  {'':19} {message.attachments}")
    if not detail.transcript:
        lines.append("  (no messages)")
    return lines


@tickets.command("show")
@click.argument("reference")
def show_ticket(reference: str) -> None:
    """The full ticket REFERENCE: fields, audit trail, transcript."""
    settings = _settings()
    detail = _with_database(settings, lambda maker: _service(maker, settings).detail(reference))
    if detail is None:
        raise click.ClickException(f"no ticket {reference}")
    for line in _render_detail(detail):
        click.echo(line)


@click.group()
def retention() -> None:
    """The retention periods of the policy, applied to what the assistant keeps."""


@retention.command("report")
def retention_report() -> None:
    """Print what the next retention purge would remove (removing nothing)."""
    from bot.sla.retention import RetentionPurge
    from policy.retention import RetentionNotStated

    settings = _settings()
    try:
        report = _with_database(
            settings,
            lambda maker: RetentionPurge(maker, clock=SystemClock(), policy_path=settings.policy).report(),
        )
    except RetentionNotStated as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{report.category}: kept {report.days} days (policy: {settings.policy.name}); "
        f"older than {report.cutoff:%Y-%m-%d %H:%M} UTC would be removed:"
    )
    for name, count in report.counts.as_dict().items():
        click.echo(f"  {name.replace('_', ' ')}: {count}")
