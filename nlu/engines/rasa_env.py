"""The separate Python 3.10 virtualenv that runs Rasa beside the product.

The product environment never imports rasa: it only runs the `rasa` executable of this env in a
subprocess. `build_rasa_env.sh` owns where the env lives (a cache outside the clone keyed by the
requirements and the Python version); this module only asks it.
"""

from __future__ import annotations

import logging
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

BUILD_SCRIPT = Path(__file__).with_name("build_rasa_env.sh")
REQUIREMENTS = Path(__file__).with_name("rasa-requirements.txt")
VENV_OVERRIDE = "PRIVACYBOT_RASA_VENV"
"""Environment variable naming an already-built env to use instead of the cached one."""

_NOT_BUILT = 3  # build_rasa_env.sh --check exit status for "not built"


class RasaEnvMissing(RuntimeError):
    """The Rasa env is not built (or could not be built)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Rasa env unavailable: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class RasaEnv:
    """A built Rasa virtualenv."""

    path: Path

    @property
    def rasa(self) -> Path:
        """The env's `rasa` executable."""
        return self.path / "bin" / "rasa"

    def subprocess_env(self) -> dict[str, str]:
        """Environment for a rasa child: no telemetry, quiet TensorFlow, nothing from the product venv."""
        env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}}
        env["PATH"] = f"{self.path / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(self.path)
        env.setdefault("RASA_TELEMETRY_ENABLED", "false")
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
        return env


def find_rasa_env() -> RasaEnv | None:
    """The built Rasa env, or None when it has not been built; never builds."""
    override = os.environ.get(VENV_OVERRIDE)
    if override:
        env = RasaEnv(Path(override))
        return env if env.rasa.is_file() else None
    try:
        done = subprocess.run(
            ["bash", str(BUILD_SCRIPT), "--check"], capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("Rasa env check failed: %s", exc)
        return None
    if done.returncode == _NOT_BUILT:
        return None
    if done.returncode != 0:
        log.warning("Rasa env check exited %s: %s", done.returncode, done.stderr.strip()[-500:])
        return None
    env = RasaEnv(Path(done.stdout.strip().splitlines()[-1]))
    return env if env.rasa.is_file() else None


def require_rasa_env() -> RasaEnv:
    """The built Rasa env; raises RasaEnvMissing telling how to build it."""
    env = find_rasa_env()
    if env is None:
        raise RasaEnvMissing("not built; run `make rasa`")
    return env


def build_rasa_env() -> RasaEnv:
    """Build the env if needed (minutes the first time, instant after) and return it.

    Blocking: call it from a CLI or `asyncio.to_thread`, never on the event loop. The build's own
    output goes to this process's stderr so the person running it sees pip's progress.
    """
    override = os.environ.get(VENV_OVERRIDE)
    if override:
        return require_rasa_env()
    log.info("Building the Rasa env (cached after the first time)")
    done = subprocess.run(["bash", str(BUILD_SCRIPT)], stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise RasaEnvMissing(f"{BUILD_SCRIPT.name} exited {done.returncode}")
    env = RasaEnv(Path(done.stdout.strip().splitlines()[-1]))
    if not env.rasa.is_file():
        raise RasaEnvMissing(f"no rasa executable at {env.rasa}")
    return env
