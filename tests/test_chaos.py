"""bench/chaos.py at its small size: the real server killed with SIGKILL twice under web-chat load and
restarted; every acknowledged message is then stored once with its replies, every code mail delivered once,
and no ticket is duplicated."""

from __future__ import annotations

from bench.chaos import report, run_chaos


async def test_kill_9_under_load_loses_and_duplicates_nothing() -> None:
    """Two kills at random moments: the sessions' retries (same message_id) are all acknowledged with the
    replies their message was stored with, each erasure request's code mail arrives once, and the two
    sessions asking for one address share one ticket."""
    figures = await run_chaos(sessions=6, messages=4, kills=2)
    assert figures.kills == 2 and figures.sent == figures.acknowledged > 0, report(figures)
    assert (figures.lost, figures.duplicated, figures.replies_differing) == (0, 0, 0), report(figures)
    assert figures.retries_answered_differently == 0, report(figures)
    assert figures.code_mails == figures.requests > 0, report(figures)
    assert (figures.code_mails_lost, figures.double_deliveries) == (0, 0), report(figures)
    assert figures.duplicated_tickets == 0 and figures.tickets == figures.requests // 2, report(figures)
