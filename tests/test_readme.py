"""README is the newcomer's contract: it starts with the two commands and lists every setting."""

from __future__ import annotations

from bot.settings import PROJECT_ROOT, Settings

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    """Each field of Settings appears in README under its environment variable name."""
    missing = [
        f"PRIVACYBOT_{name.upper()}"
        for name in Settings.model_fields
        if f"PRIVACYBOT_{name.upper()}" not in README
    ]
    assert not missing


def test_readme_starts_with_make_run_and_make_test() -> None:
    """The first commands a newcomer sees are `make run` and `make test`."""
    first_block = README.split("```", 2)[1]
    assert "make run" in first_block and "make test" in first_block
