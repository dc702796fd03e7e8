"""The Rasa engine: training in the Rasa env, a managed `rasa run` server, and parsing over HTTP.

Tests marked `rasa` train a real model and talk to a real server; they skip when the Rasa env has not
been built (`make rasa`). They train on nlu/data once it covers every intent, else on a small dataset
in the same format made here. The unmarked tests check the translation, the training cache and the
error path without Rasa.
"""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import yaml

from nlu.engines.rasa_env import RasaEnv, find_rasa_env
from nlu.engines.rasa_http import RasaHttpEngine, RasaUnavailable, parse_result_from_rasa
from nlu.engines.rasa_server import RasaServer, free_loopback_port
from nlu.engines.rasa_train import (
    DEFAULT_CONFIG,
    DEFAULT_DATA,
    DEFAULT_MODELS,
    TrainingProgress,
    train_nlu,
    training_key,
)
from nlu.intents import EntityName, Intent

# ----------------------------------------------------------------------------------------- a small dataset

_EXAMPLES: dict[Intent, list[str]] = {
    Intent.GREET: ["hi", "hello", "hey there", "good morning", "hello assistant", "hiya"],
    Intent.THANK: ["thanks", "thank you", "thank you very much", "cheers, that helped", "many thanks"],
    Intent.GOODBYE: ["bye", "goodbye", "see you later", "that's all, bye", "have a nice day"],
    Intent.BOT_CHALLENGE: [
        "are you a bot?",
        "am I talking to a human?",
        "are you a real person",
        "is this AI",
    ],
    Intent.AFFIRM: ["yes", "yes please", "correct", "that's right", "sure", "ok go ahead"],
    Intent.DENY: ["no", "no thanks", "nope", "that's wrong", "not really", "don't"],
    Intent.HUMAN_HANDOFF: [
        "talk to a human",
        "I want a real agent",
        "connect me to your staff",
        "human please",
    ],
    Intent.TICKET_STATUS: [
        "what is the status of my ticket",
        "any news on [PRV-7K3M-Q9XZ](ticket_ref)?",
        "status of ticket [PRV-AB2C-DE3F](ticket_ref)",
        "where is my request",
        "has my case been handled yet",
        "check ticket [PRV-4H5J-6K7L](ticket_ref) please",
    ],
    Intent.INFORM: [
        "my email is [jane.doe@example.org](email)",
        "[bob@example.com](email)",
        "it's [alice.smith@mail.example.net](email)",
        "the code is [482913](otp_code)",
        "[771204](otp_code)",
        "code: [305118](otp_code)",
    ],
    Intent.OUT_OF_SCOPE: ["what's the weather", "tell me a joke", "who won the match", "order a pizza"],
    Intent.ASK_DATA_COLLECTED: [
        "what data do you collect",
        "which personal information do you have about me",
    ],
    Intent.ASK_AUTOMATIC_DATA: ["do you use cookies", "what do you collect automatically when I browse"],
    Intent.ASK_DATA_USE: ["how do you use my data", "what do you do with my information"],
    Intent.ASK_DATA_SHARING: ["do you sell my data", "who do you share my data with"],
    Intent.ASK_LEGAL_DISCLOSURE: [
        "do you give data to the police",
        "when do you disclose data to authorities",
    ],
    Intent.ASK_RIGHTS: ["what are my privacy rights", "what rights do I have over my data"],
    Intent.ASK_SECURITY: ["how do you protect my data", "is my information stored securely"],
    Intent.ASK_RETENTION: ["how long do you keep my data", "when do you delete old records"],
    Intent.ASK_TRANSFERS: ["is my data sent abroad", "do you transfer data outside the EU"],
    Intent.ASK_POLICY_CHANGES: ["how will I know if the policy changes", "do you notify policy updates"],
    Intent.ASK_CONTACT: ["how do I contact your privacy officer", "what is the DPO's address"],
    Intent.REQUEST_ACCESS: ["send me a copy of my data", "I want to see all data you hold on me"],
    Intent.REQUEST_RECTIFICATION: ["my address is wrong, please correct it", "fix my personal details"],
    Intent.REQUEST_ERASURE: [
        "delete my data",
        "please delete all my personal data",
        "erase my account, my email is [sam@example.com](email)",
        "I want you to forget everything about me",
        "remove all my information",
    ],
    Intent.REQUEST_PORTABILITY: ["export my data as a file", "I want to move my data to another service"],
    Intent.REQUEST_RESTRICTION: ["stop processing my data for now", "restrict the use of my data"],
    Intent.REQUEST_OBJECTION: ["I object to profiling", "I object to you processing my data"],
    Intent.REQUEST_MARKETING_OPT_OUT: ["stop sending me newsletters", "unsubscribe me from marketing emails"],
    Intent.REQUEST_SECURITY_INCIDENT: ["I think my account was hacked", "report a data breach"],
    Intent.REQUEST_POLICY_ARCHIVE: ["show me an older version of the policy", "the privacy policy from 2022"],
}

_REGEXES = {
    EntityName.EMAIL: r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    EntityName.OTP_CODE: r"\b\d{6}\b",
    EntityName.TICKET_REF: r"\bPRV-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\b",
}

_CONFIG = """\
recipe: default.v1
language: en
assistant_id: privacybot-test
pipeline:
  - name: WhitespaceTokenizer
  - name: RegexFeaturizer
  - name: RegexEntityExtractor
    use_regexes: true
    use_lookup_tables: false
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 2
    max_ngram: 5
  - name: DIETClassifier
    epochs: 100
    entity_recognition: false
  - name: FallbackClassifier
    threshold: 0.3
"""


def _write_small_dataset(directory: Path) -> Path:
    """Write a Rasa 3.1-format NLU dataset covering every intent and entity; return its folder."""
    data = directory / "data"
    data.mkdir(parents=True)
    nlu: list[dict[str, str]] = [
        {"intent": intent.value, "examples": "".join(f"- {text}\n" for text in texts)}
        for intent, texts in _EXAMPLES.items()
    ]
    nlu += [{"regex": name.value, "examples": f"- {pattern}\n"} for name, pattern in _REGEXES.items()]
    (data / "nlu.yml").write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}, sort_keys=False))
    return data


def _intents_in(data: Path) -> set[str]:
    """The intent names that Rasa-format files under ``data`` define."""
    names: set[str] = set()
    for path in data.glob("**/*.yml"):
        document = yaml.safe_load(path.read_text()) or {}
        names.update(item["intent"] for item in document.get("nlu") or () if "intent" in item)
    return names


def test_small_dataset_covers_every_intent(tmp_path: Path) -> None:
    """The fallback dataset has examples for every Intent, so it stands in for nlu/data faithfully."""
    assert _intents_in(_write_small_dataset(tmp_path)) == {i.value for i in Intent}


# ------------------------------------------------------------------------------ translation (no Rasa needed)


def test_fallback_intent_becomes_out_of_scope_and_known_ranking_is_kept() -> None:
    """`nlu_fallback` maps to OUT_OF_SCOPE; the ranking keeps known intents in Rasa's order, drops others."""
    result = parse_result_from_rasa(
        {
            "text": "blorp",
            "intent": {"name": "nlu_fallback", "confidence": 0.7},
            "intent_ranking": [
                {"name": "nlu_fallback", "confidence": 0.7},
                {"name": "greet", "confidence": 0.2},
                {"name": "retired_intent", "confidence": 0.06},
                {"name": "thank", "confidence": 0.04},
            ],
            "entities": [],
        }
    )
    assert result.intent.intent is Intent.OUT_OF_SCOPE
    assert result.intent.confidence == pytest.approx(0.7)
    assert [s.intent for s in result.ranking] == [Intent.GREET, Intent.THANK]


def test_entities_are_mapped_deduplicated_and_unknown_ones_skipped() -> None:
    """Known entity names become EntityName; a span two extractors found is kept once; others are skipped."""
    result = parse_result_from_rasa(
        {
            "text": "PRV-7K3M-Q9XZ in Paris",
            "intent": {"name": "ticket_status", "confidence": 0.9},
            "intent_ranking": [{"name": "ticket_status", "confidence": 0.9}],
            "entities": [
                {
                    "entity": "ticket_ref",
                    "value": "PRV-7K3M-Q9XZ",
                    "start": 0,
                    "end": 13,
                    "extractor": "DIET",
                },
                {
                    "entity": "ticket_ref",
                    "value": "PRV-7K3M-Q9XZ",
                    "start": 0,
                    "end": 13,
                    "extractor": "Regex",
                },
                {"entity": "city", "value": "Paris", "start": 17, "end": 22},
            ],
        }
    )
    assert result.intent.intent is Intent.TICKET_STATUS
    assert [(e.name, e.value, e.start, e.end) for e in result.entities] == [
        (EntityName.TICKET_REF, "PRV-7K3M-Q9XZ", 0, 13)
    ]


def test_round_trip_through_rasa_json_shape() -> None:
    """A ParseResult rendered as Rasa JSON translates back to an equal ParseResult."""
    original = parse_result_from_rasa(
        {
            "text": "my email is a@b.org",
            "intent": {"name": "inform", "confidence": 0.8},
            "intent_ranking": [{"name": "inform", "confidence": 0.8}, {"name": "deny", "confidence": 0.2}],
            "entities": [{"entity": "email", "value": "a@b.org", "start": 12, "end": 19}],
        }
    )
    assert parse_result_from_rasa(original.as_rasa_json()) == original


async def test_unreachable_server_raises_rasa_unavailable() -> None:
    """Parsing against a port nothing listens on raises RasaUnavailable, not an aiohttp error."""
    url = f"http://127.0.0.1:{free_loopback_port()}"
    async with RasaHttpEngine(url, timeout=2.0) as engine:
        with pytest.raises(RasaUnavailable) as caught:
            await engine.parse("hello")
    assert caught.value.url == url


# ---------------------------------------------------------------------- training cache (fake rasa executable)


def _fake_rasa_env(root: Path) -> RasaEnv:
    """An env whose `rasa` prints tqdm-style epochs and writes an empty model where `--out` says."""
    script = root / "fakeenv" / "bin" / "rasa"
    script.parent.mkdir(parents=True)
    script.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import pathlib, sys
            args = sys.argv[1:]
            out, name = args[args.index("--out") + 1], args[args.index("--fixed-model-name") + 1]
            print("INFO rasa.engine.training.hooks  - Starting to train component 'DIETClassifier'.")
            for epoch in range(0, 5):
                sys.stdout.write(f"\\rEpochs:  {{epoch * 25}}%|##  | {{epoch}}/4 [00:01<00:02, t_loss=1.0]")
                sys.stdout.flush()
            print()
            (pathlib.Path(out) / f"{{name}}.tar.gz").write_bytes(b"model")
            counter = pathlib.Path(__file__).with_name("runs")
            counter.write_text(str(int(counter.read_text()) + 1 if counter.exists() else 1))
            """
        )
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return RasaEnv(script.parent.parent)


def test_training_streams_progress_and_is_cached_until_data_changes(tmp_path: Path) -> None:
    """Epochs are reported as they stream; unchanged inputs reuse the model; edited data retrains."""
    env = _fake_rasa_env(tmp_path)
    config = tmp_path / "config.yml"
    config.write_text(_CONFIG)
    data = _write_small_dataset(tmp_path)
    models = tmp_path / "models"
    seen: list[TrainingProgress] = []

    first = train_nlu(env, config=config, data=data, models_dir=models, progress=seen.append)
    assert first.read_bytes() == b"model"
    assert [p.epoch for p in seen if p.epoch is not None] == [0, 1, 2, 3, 4]
    assert any("DIETClassifier" in p.message for p in seen if p.epoch is None)
    assert train_nlu(env, config=config, data=data, models_dir=models, progress=seen.append) == first
    assert (env.path / "bin" / "runs").read_text() == "1"

    (data / "extra.yml").write_text('version: "3.1"\nnlu: []\n')
    second = train_nlu(env, config=config, data=data, models_dir=models, progress=seen.append)
    assert second != first
    assert (env.path / "bin" / "runs").read_text() == "2"
    assert not list(models.glob(".training-*")), "the temporary training folder is removed"


def test_training_key_depends_on_config_and_every_data_file(tmp_path: Path) -> None:
    """Editing config.yml or any data file changes the key; nothing else does."""
    config = tmp_path / "config.yml"
    config.write_text(_CONFIG)
    data = _write_small_dataset(tmp_path)
    key = training_key(config, data)
    assert training_key(config, data) == key
    config.write_text(_CONFIG.replace("epochs: 100", "epochs: 50"))
    assert training_key(config, data) != key
    config.write_text(_CONFIG)
    (data / "nlu.yml").write_text((data / "nlu.yml").read_text() + "\n")
    assert training_key(config, data) != key


# --------------------------------------------------------------------------------- real Rasa (marked `rasa`)


@pytest.fixture(scope="module")
def rasa_env() -> RasaEnv:
    """The built Rasa env, or skip."""
    env = find_rasa_env()
    if env is None:
        pytest.skip("Rasa env not built: run `make rasa` (nlu/engines/build_rasa_env.sh) first")
    return env


@pytest.fixture(scope="module")
def rasa_model(rasa_env: RasaEnv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained on nlu/data when it covers every intent, else on the small dataset (cached by hash)."""
    config = DEFAULT_CONFIG
    data = DEFAULT_DATA
    if not data.is_dir() or _intents_in(data) != {i.value for i in Intent}:
        folder = tmp_path_factory.mktemp("rasa-data")
        data = _write_small_dataset(folder)
        if not config.is_file():
            config = folder / "config.yml"
            config.write_text(_CONFIG)
    return train_nlu(rasa_env, config=config, data=data, models_dir=DEFAULT_MODELS)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rasa_server(
    rasa_env: RasaEnv, rasa_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RasaServer]:
    """A real `rasa run` child serving the model, stopped after the module."""
    server = RasaServer(
        env=rasa_env, model=rasa_model, log_path=tmp_path_factory.mktemp("rasa") / "server.log"
    )
    await server.start()
    yield server
    await server.stop()


@pytest.mark.rasa
@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hello", Intent.GREET),
        ("thank you very much", Intent.THANK),
        ("please delete all my personal data", Intent.REQUEST_ERASURE),
        ("what is the status of my ticket", Intent.TICKET_STATUS),
    ],
)
async def test_obvious_messages_get_their_intent(rasa_server: RasaServer, text: str, intent: Intent) -> None:
    """A real Rasa server classifies plain messages correctly, with a ranking of known intents."""
    async with RasaHttpEngine(rasa_server.url) as engine:
        result = await engine.parse(text)
    assert result.intent.intent is intent
    assert result.text == text
    assert result.ranking and result.ranking[0].intent is intent


@pytest.mark.rasa
@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    ("text", "name", "value"),
    [
        ("my email is jane.doe@example.org", EntityName.EMAIL, "jane.doe@example.org"),
        ("the code is 482913", EntityName.OTP_CODE, "482913"),
        ("any news on PRV-7K3M-Q9XZ?", EntityName.TICKET_REF, "PRV-7K3M-Q9XZ"),
    ],
)
async def test_entities_are_extracted_with_spans(
    rasa_server: RasaServer, text: str, name: EntityName, value: str
) -> None:
    """Email, one-time code and ticket reference come back with the value and its character span."""
    async with RasaHttpEngine(rasa_server.url) as engine:
        result = await engine.parse(text)
    found = [e for e in result.entities if e.name is name]
    assert [e.value for e in found] == [value]
    assert text[found[0].start : found[0].end] == value


@pytest.mark.rasa
@pytest.mark.asyncio(loop_scope="module")
async def test_server_given_a_url_only_waits_for_it(rasa_server: RasaServer) -> None:
    """Given a URL, RasaServer spawns nothing: start() waits until it answers, stop() leaves it up."""
    external = RasaServer(url=rasa_server.url + "/", ready_timeout=10)
    await external.start()
    assert external.url == rasa_server.url
    assert external.pid is None
    await external.stop()
    assert rasa_server.pid is not None


@pytest.mark.rasa
@pytest.mark.asyncio(loop_scope="module")
async def test_killed_server_is_restarted(rasa_server: RasaServer) -> None:
    """A server killed with SIGKILL is restarted on the same URL by the watch task and parses again."""
    pid = rasa_server.pid
    assert pid is not None
    restarts = rasa_server.restarts
    os.kill(pid, signal.SIGKILL)
    async with asyncio.timeout(30):
        while rasa_server.is_ready:  # noqa: ASYNC110 - the server exposes no event for "noticed the death"
            await asyncio.sleep(0.1)
    async with asyncio.timeout(240):
        await rasa_server.wait_ready()
    assert rasa_server.restarts == restarts + 1
    assert rasa_server.pid not in (None, pid)
    async with RasaHttpEngine(rasa_server.url) as engine:
        started = time.monotonic()
        result = await engine.parse("hello")
        assert time.monotonic() - started < 5
    assert result.intent.intent is Intent.GREET


@pytest.mark.rasa
@pytest.mark.asyncio(loop_scope="module")
async def test_stopped_server_leaves_no_process(rasa_env: RasaEnv, rasa_model: Path, tmp_path: Path) -> None:
    """stop() ends the child (terminate, then kill) and the engine then reports RasaUnavailable."""
    server = RasaServer(env=rasa_env, model=rasa_model, log_path=tmp_path / "server.log")
    await server.start()
    pid = server.pid
    assert pid is not None
    await server.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    async with RasaHttpEngine(server.url, timeout=2.0) as engine:
        with pytest.raises(RasaUnavailable):
            await engine.parse("hello")
