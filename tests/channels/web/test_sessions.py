"""Session ids and the per-minute limiter, without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels.web.errors import MalformedSession, UnknownSession
from bot.channels.web.sessions import KEY_FILE_NAME, SessionIds, load_session_key
from tests.support.core import make_settings


def test_issued_ids_check_and_others_do_not() -> None:
    """An issued id passes; a changed tag is unknown; a wrong shape or type is malformed."""
    ids = SessionIds(b"k" * 32)
    issued = ids.issue()
    assert ids.check(issued) == issued
    with pytest.raises(UnknownSession):
        SessionIds(b"j" * 32).check(issued)
    for bad in ("", "abc", issued + "x", issued.replace(".", "-"), 42, None):
        with pytest.raises(MalformedSession):
            ids.check(bad)


def test_generated_key_is_kept_in_the_data_directory(tmp_path: Path) -> None:
    """Without PRIVACYBOT_SECRET_KEY the key is created once (mode 0600) and reused after a restart."""
    settings = make_settings(tmp_path)
    first = load_session_key(settings)
    assert load_session_key(settings) == first
    assert (tmp_path / KEY_FILE_NAME).stat().st_mode & 0o777 == 0o600


def test_secret_key_setting_gives_the_same_ids_everywhere(tmp_path: Path) -> None:
    """Two servers sharing PRIVACYBOT_SECRET_KEY accept each other's ids."""
    one = SessionIds(load_session_key(make_settings(tmp_path / "a", secret_key="s3cr3t-shared")))
    two = SessionIds(load_session_key(make_settings(tmp_path / "b", secret_key="s3cr3t-shared")))
    issued = one.issue()
    assert two.check(issued) == issued
