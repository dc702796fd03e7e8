"""`privacybot nlu train` and `privacybot nlu evaluate`."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from bot.settings import NluEngineName, Settings
from nlu.engines.embedded import EmbeddedEngine, ProgressCallback, save_model, train
from nlu.evaluate import evaluate, format_report, read_labelled_file, split
from nlu.intents import Intent
from nlu.training_data import load_training_data


@contextmanager
def _progress(label: str) -> Iterator[ProgressCallback]:
    with click.progressbar(length=100, label=label, file=sys.stderr) as bar:
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
@click.option(
    "--engine",
    type=click.Choice([e.value for e in NluEngineName]),
    default=None,
    help="Engine to train (default: PRIVACYBOT_NLU_ENGINE).",
)
def train_command(engine: str | None) -> None:
    """Train the model from nlu/data and cache it."""
    settings = Settings()
    chosen = NluEngineName(engine) if engine else settings.nlu_engine
    if chosen is NluEngineName.RASA:
        _train_rasa()
        return
    data = load_training_data()
    started = time.perf_counter()
    with _progress("training embedded model") as progress:
        model = train(data, progress=progress)
    path = save_model(model, settings.model_dir)
    click.echo(
        f"trained on {len(data.examples)} examples, {len(model.intents)} intents "
        f"in {time.perf_counter() - started:.2f} s -> {path}"
    )
    if settings.semantic:
        from bot.app import build_core

        started = time.perf_counter()
        build_core(settings)
        click.echo(
            f"embedding caches (passages, training questions) ready in {time.perf_counter() - started:.1f} s"
        )


def _train_rasa() -> None:
    """Build the Rasa env if needed and train with `rasa train nlu` (skipped when the data is unchanged)."""
    from nlu.engines.rasa_env import RasaEnvMissing, build_rasa_env
    from nlu.engines.rasa_train import RasaTrainingFailed, TrainingProgress, train_nlu

    started = time.perf_counter()
    try:
        env = build_rasa_env()
        with _progress("training Rasa model") as update:

            def progress(report: TrainingProgress) -> None:
                if report.epoch is not None and report.epochs:
                    update(report.epoch, report.epochs)

            path = train_nlu(env, progress=progress)
    except (RasaEnvMissing, RasaTrainingFailed) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"rasa model ready in {time.perf_counter() - started:.1f} s -> {path}")


@nlu.command("evaluate")
@click.option("--test-share", default=0.2, show_default=True, help="Share of each intent held out.")
@click.option("--seed", default=7, show_default=True, help="Seed of the split.")
@click.option(
    "--test-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help='Evaluate on this JSON Lines file of {"text", "intent"} instead, training on all data.',
)
def evaluate_command(test_share: float, seed: int, test_file: Path | None) -> None:
    """Train on part of the data and report accuracy per language, per-intent precision, recall, F1 and
    confusions."""
    data = load_training_data()
    if test_file is not None:
        try:
            labelled = read_labelled_file(test_file)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--test-file") from exc
        test_set = [(text, intent) for text, intent, _ in labelled]
        languages = [lang for _, _, lang in labelled]
        train_set = [(e.text, e.intent) for e in data.examples]
    else:
        train_set, test_set = split(data, test_share=test_share, seed=seed)
        language_of = data.languages()
        languages = [language_of[text] for text, _ in test_set]
    with _progress("training on the training split") as progress:
        model = train(data, progress=progress, examples=train_set)
    engine = EmbeddedEngine(model)

    async def classify(text: str) -> Intent:
        return (await engine.parse(text)).intent.intent

    result = asyncio.run(evaluate(test_set, classify, languages=languages))
    click.echo(format_report(result, engine=engine.name))
