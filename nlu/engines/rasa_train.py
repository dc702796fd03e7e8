"""Train the Rasa NLU model in the Rasa env, once per version of the training data.

The model is cached under ``~/.cache/privacybot/rasa-models/`` as ``nlu-<key>.tar.gz``, where the key hashes
config.yml, every file under the data directory and the Rasa requirements: unchanged data reuses
the model, any edit retrains. Training runs `rasa train nlu` in a subprocess of the Rasa env and
streams its progress (the DIET epoch bar) to a callback.

Run ``python -m nlu.engines.rasa_train`` to train (or find) the model and print its path.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from nlu.engines.rasa_env import REQUIREMENTS, RasaEnv, build_rasa_env

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = ROOT / "config.yml"
DEFAULT_DATA = ROOT / "nlu" / "data"
# Outside the clone, like the Rasa env itself: a fresh clone (CI) reuses a model trained on the same data.
_CACHE_HOME = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
DEFAULT_MODELS = _CACHE_HOME / "privacybot" / "rasa-models"

_EPOCH = re.compile(r"Epochs:\s+\d+%.*?\|\s*(\d+)/(\d+)")


class RasaTrainingFailed(RuntimeError):
    """`rasa train nlu` exited non-zero; ``tail`` holds its last output lines."""

    def __init__(self, returncode: int, tail: str) -> None:
        super().__init__(f"rasa train nlu exited {returncode}:\n{tail}")
        self.returncode = returncode
        self.tail = tail


@dataclass(frozen=True)
class TrainingProgress:
    """One progress report: a phase line from Rasa, or the DIET epoch counter."""

    message: str
    epoch: int | None = None
    epochs: int | None = None


ProgressCallback = Callable[[TrainingProgress], None]


def training_key(config: Path, data: Path) -> str:
    """A short hash of everything the model depends on: config, data files and Rasa requirements."""
    digest = hashlib.sha256()
    for label, path in (("config", config), ("requirements", REQUIREMENTS)):
        digest.update(f"{label}\0".encode())
        digest.update(path.read_bytes())
    files = sorted(p for p in data.rglob("*") if p.is_file()) if data.is_dir() else [data]
    for path in files:
        digest.update(f"\0data\0{path.relative_to(data) if data.is_dir() else path.name}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path(models_dir: Path, key: str) -> Path:
    """Where the model trained from inputs with this key is cached."""
    return models_dir / f"nlu-{key}.tar.gz"


def print_progress(progress: TrainingProgress) -> None:
    """Default progress callback: one line per phase, and the epoch counter every 10 epochs."""
    if progress.epoch is None:
        print(f"[rasa train] {progress.message}", file=sys.stderr, flush=True)
    elif progress.epoch == progress.epochs or progress.epoch % 10 == 0:
        print(f"[rasa train] DIET epoch {progress.epoch}/{progress.epochs}", file=sys.stderr, flush=True)


def train_nlu(
    env: RasaEnv,
    *,
    config: Path = DEFAULT_CONFIG,
    data: Path = DEFAULT_DATA,
    models_dir: Path = DEFAULT_MODELS,
    progress: ProgressCallback = print_progress,
) -> Path:
    """Return the cached model for these inputs, training it first if the data changed.

    Blocking (minutes): call it from a CLI or `asyncio.to_thread`, never on the event loop.
    Raises RasaTrainingFailed with the tail of Rasa's output if training fails.
    """
    key = training_key(config, data)
    target = model_path(models_dir, key)
    if target.is_file():
        log.info("Rasa model up to date: %s", target.name)
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    log.info("Training Rasa NLU model %s", target.name)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".training-") as work:
        out = Path(work)
        command = [
            str(env.rasa), "train", "nlu",
            "--config", str(config.resolve()),
            "--nlu", str(data.resolve()),
            "--out", str(out),
            "--fixed-model-name", target.name.removesuffix(".tar.gz"),
        ]  # fmt: skip
        child_env = env.subprocess_env()
        # Rasa's fingerprint cache would otherwise land in `.rasa/` of the current directory.
        child_env.setdefault("RASA_CACHE_DIRECTORY", str(models_dir / ".cache"))
        _run_streaming(command, cwd=out, env=child_env, progress=progress)
        produced = out / target.name
        if not produced.is_file():
            raise RasaTrainingFailed(0, f"no model written at {produced}")
        shutil.move(produced, target)  # same filesystem: atomic, so a half-written model is never cached
    elapsed = time.monotonic() - started
    progress(TrainingProgress(f"model saved at {target} after {elapsed:.0f} s"))
    log.info("Trained %s in %.0f s", target.name, elapsed)
    return target


def _run_streaming(command: list[str], *, cwd: Path, env: dict[str, str], progress: ProgressCallback) -> None:
    """Run ``command``, turning its output into progress reports; raise on a non-zero exit."""
    tail: deque[str] = deque(maxlen=40)
    with subprocess.Popen(
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as child:
        assert child.stdout is not None
        last_epoch = -1
        for line in _lines(child.stdout):
            tail.append(line)
            match = _EPOCH.search(line)
            if match:
                epoch, epochs = int(match[1]), int(match[2])
                if epoch != last_epoch:
                    last_epoch = epoch
                    progress(TrainingProgress(f"epoch {epoch}/{epochs}", epoch=epoch, epochs=epochs))
            elif " - Starting to train component " in line:
                progress(TrainingProgress(_strip_ansi(line.split(" - ", 1)[-1])))
        returncode = child.wait()
    if returncode != 0:
        raise RasaTrainingFailed(returncode, "\n".join(tail))


def _lines(stream: IO[bytes]) -> Iterator[str]:
    """Split a byte stream on newlines and on tqdm's carriage returns, as they arrive."""
    pending = b""
    while chunk := stream.read1(4096):  # type: ignore[attr-defined]
        pending += chunk
        *complete, pending = re.split(rb"[\r\n]", pending)
        for raw in complete:
            if raw.strip():
                yield raw.decode("utf-8", "replace")
    if pending.strip():
        yield pending.decode("utf-8", "replace")


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text).strip()


def main() -> None:
    """Build the Rasa env if needed, train (or reuse) the model and print its path."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    print(train_nlu(build_rasa_env()))


if __name__ == "__main__":
    main()
