"""`privacybot nlu train` and `privacybot nlu evaluate`."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from collections.abc import Iterator
from contextlib import contextmanager

import click

from bot.settings import NluEngineName, Settings
from nlu.engines.embedded import EmbeddedEngine, ProgressCallback, save_model, train
from nlu.evaluate import evaluate, format_report, read_test_file, split
from nlu.intents import Intent
from nlu.training_data import load_training_data


@contextmanager
def _progress(label: str) -> Iterator[ProgressCallback]:
    with click.progressbar(length=100, label=label, file=click.get_text_stream("stderr")) as bar:
        done = [0]

        def update(step: int, total: int) -> None:
            pct = min(100, int(100 * step / max(total, 1)))
            if pct > done[0]:
                bar.update(pct - done[0])
                done[0] = pct

        yield update
        update(1, 1)


@click.group()
def nlu() -> None:
    """Train and evaluate the NLU model."""


@nlu.command("train")
@click.option("--engine", type=click.Choice([e.value for e in NluEngineName]), default=None,
              help="Engine to train (default: PRIVACYBOT_NLU_ENGINE).")
def train_command(engine: str | None) -> None:
    """Train the model from nlu/data and cache it."""
    settings = Settings()
    chosen = NluEngineName(engine) if engine else settings.nlu_engine
    if chosen is NluEngineName.RASA:
        from nlu.engines.rasa_train import train_rasa_model

        path = train_rasa_model(settings.model_dir / "rasa")
        click.echo(f"rasa model: {path}")
        return
    data = load_training_data()
    started = time.perf_counter()
    with _progress("training embedded model") as progress:
        model = train(data, progress=progress)
    path = save_model(model, settings.model_dir)
    click.echo(f"trained on {len(data.examples)} examples, {len(model.intents)} intents "
               f"in {time.perf_counter() - started:.2f} s -> {path}")


@nlu.command("evaluate")
@click.option("--test-share", default=0.2, show_default=True, help="Share of each intent held out.")
@click.option("--seed", default=7, show_default=True, help="Seed of the split.")
@click.option("--test-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Evaluate on this JSON Lines file of {\"text\", \"intent\"} instead, training on all data.")
def evaluate_command(test_share: float, seed: int, test_file: Path | None) -> None:
    """Train on part of the data and report per-intent precision, recall, F1 and confusions."""
    data = load_training_data()
    if test_file is not None:
        try:
            test_set = read_test_file(test_file)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--test-file") from exc
        train_set = [(e.text, e.intent) for e in data.examples]
    else:
        train_set, test_set = split(data, test_share=test_share, seed=seed)
    with _progress("training on the training split") as progress:
        model = train(data, progress=progress, examples=train_set)
    engine = EmbeddedEngine(model)

    async def classify(text: str) -> Intent:
        return (await engine.parse(text)).intent.intent

    result = asyncio.run(evaluate(test_set, classify))
    click.echo(format_report(result, engine=engine.name))
