"""The bounded memo, and the engines and answers that use it: a repeat is a lookup, never a new result."""

from __future__ import annotations

from bot.app import Core
from bot.domain.memo import Memo
from bot.nlu_engine import RememberedParses


def test_memo_drops_the_least_recently_used() -> None:
    """Past its size the memo forgets the key used longest ago; a key read since is kept."""
    memo: Memo[str, int] = Memo(2)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1
    memo.put("c", 3)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (1, None, 3)
    assert len(memo) == 2


async def test_remembered_parses_give_the_engine_s_parse_once_per_text(core: Core) -> None:
    """The running engine's parse of a text is the embedded engine's, and a repeat is the same object."""
    engine = RememberedParses(core.embedded, size=8)
    first = await engine.parse("How long do you keep my data?")
    assert first == await core.embedded.parse("How long do you keep my data?")
    assert await engine.parse("How long do you keep my data?") is first
    assert engine.name == core.embedded.name
