"""Falling back to the embedded engine when Rasa is unavailable."""

from __future__ import annotations

import logging

import pytest

from bot.app import Core
from bot.nlu_engine import start_nlu_engine
from bot.settings import NluEngineName
from nlu.engines.fallback import FallbackEngine
from nlu.engines.rasa_http import RasaHttpEngine
from nlu.engines.rasa_server import free_loopback_port
from nlu.intents import Intent
from tests.support.core import make_settings


async def test_parse_falls_back_while_the_primary_is_down(core: Core) -> None:
    """A Rasa URL nobody listens on: every message is still understood, by the embedded engine."""
    dead = RasaHttpEngine(f"http://127.0.0.1:{free_loopback_port()}", timeout=2.0)
    engine = FallbackEngine(dead, core.embedded)
    try:
        parsed = await engine.parse("please delete my account")
        again = await engine.parse("hello there")
    finally:
        await dead.close()
    assert parsed.intent.intent is Intent.REQUEST_ERASURE
    assert again.intent.intent is Intent.GREET
    assert engine.fallbacks == 2


async def test_rasa_that_cannot_start_leaves_the_embedded_engine_serving(
    core: Core, tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    """With PRIVACYBOT_NLU_ENGINE=rasa and an unreachable Rasa URL, start-up logs it and uses embedded."""
    settings = make_settings(
        tmp_path,  # type: ignore[arg-type]
        nlu_engine=NluEngineName.RASA,
        rasa_url=f"http://127.0.0.1:{free_loopback_port()}",
    )
    with caplog.at_level(logging.ERROR, logger="bot.nlu_engine"):
        running = await start_nlu_engine(settings, core.embedded, external_ready_timeout=2.0)
    try:
        assert running.engine is core.embedded
        assert "Rasa could not start" in caplog.text
    finally:
        await running.stop()
