"""The core (trained NLU model, parsed policy, templates), built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import Core, build_core
from bot.settings import PROJECT_ROOT, Settings

MODEL_CACHE = PROJECT_ROOT / "var" / "models"


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for a test: its own data directory, the shared model cache, test mode."""
    values: dict[str, object] = {"testing": True, "data_dir": data_dir, "model_cache_dir": MODEL_CACHE}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def core_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings shared by the session's core."""
    return make_settings(tmp_path_factory.mktemp("core"))


@pytest.fixture(scope="session")
def core(core_settings: Settings) -> Core:
    """The real core on the project's policy and training data."""
    return build_core(core_settings)
