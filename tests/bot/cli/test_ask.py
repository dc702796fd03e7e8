"""`privacybot ask` as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from bot.settings import PROJECT_ROOT
from nlu.engines.rasa_env import find_rasa_env
from tests.support.core import MODEL_CACHE

EXE = str(Path(sys.executable).with_name("privacybot"))
KEYS = {
    "text",
    "intent",
    "confidence",
    "action",
    "kind",
    "kinds",
    "section",
    "replies",
    "lang",
    "coverage",
    "passages",
    "policy_version",
}


def run_ask(
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    command: str = "ask",
) -> subprocess.CompletedProcess[str]:
    """Run `privacybot ask` (or ``command``) with the test model cache and no tickets (and ``env`` on top)."""
    env = {
        **os.environ,
        "PRIVACYBOT_MODEL_CACHE_DIR": str(MODEL_CACHE),
        "PRIVACYBOT_TESTING": "1",
        **(env or {}),
    }
    return subprocess.run(
        [EXE, command, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=timeout,
        check=False,
    )


def test_ask_prints_the_reply() -> None:
    """Plain `ask TEXT` prints the answer quoting the policy."""
    out = run_ask("How long is my IP address kept?")
    assert out.returncode == 0, out.stderr
    assert "12 months" in out.stdout


def test_ask_json_not_covered_has_no_section() -> None:
    """`not_covered` is the explicit decline: section null, coverage `none`, nothing quoted; an `answer`
    names its section, its coverage and the passages it quotes, each with its section and text."""
    for question in ("How much does a course cost?", "Do you set cookies in my browser?"):
        declined = json.loads(run_ask("--json", question).stdout)
        assert declined["action"] == "not_covered" and declined["section"] is None, question
        assert declined["coverage"] == "none" and declined["passages"] == [], question
    answered = json.loads(run_ask("--json", "How long do you keep payment records?").stdout)
    assert answered["action"] == "answer" and answered["section"]
    assert answered["coverage"] == "full"
    texts = [p["text"] for p in answered["passages"]]
    assert any("Payment records: Kept for 5 years" in t for t in texts), texts
    assert all(p["section"] and p["text"] in answered["replies"][0] for p in answered["passages"])


def test_ask_json_has_the_contract_keys() -> None:
    """`ask --json` prints one object with exactly the documented keys."""
    out = run_ask("--json", "please delete my account")
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert set(obj) == KEYS
    assert obj["action"] == "request" and obj["kind"] == "erasure" and obj["kinds"] == ["erasure"]
    assert obj["coverage"] is None and obj["passages"] == []
    assert isinstance(obj["replies"], list) and obj["replies"]


def test_ask_json_kinds_is_empty_without_a_request() -> None:
    """A policy question has no request kind: `kind` is null and `kinds` an empty list."""
    obj = json.loads(run_ask("--json", "How long is my IP address kept?").stdout)
    assert obj["kind"] is None and obj["kinds"] == []


def test_ask_jsonl_one_object_per_line_and_bad_lines_reported() -> None:
    """Each JSON line is a fresh conversation; a malformed line yields an error object, not a crash."""
    lines = "\n".join(
        [
            json.dumps({"text": "how long do you keep payment records?"}),
            "{not json",
            json.dumps({"text": "I want to unsubscribe from your newsletters"}),
            json.dumps({"nope": 1}),
        ]
    )
    out = run_ask("--jsonl", stdin=lines + "\n")
    assert out.returncode == 0, out.stderr
    objs = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(objs) == 4
    assert objs[0]["section"] == "Retention Periods" and objs[0]["action"] == "answer"
    assert "error" in objs[1] and "line 2" in objs[1]["error"] and objs[1]["kinds"] == []
    assert objs[2]["kind"] == "marketing_opt_out"
    assert "error" in objs[3]
    assert all(KEYS <= set(o) for o in objs)


def test_ask_jsonl_lists_every_request_kind_in_order() -> None:
    """`kinds` holds every request of a message in the order written, without the ones it refuses; `kind`
    is the first; a question beside a request is answered too."""
    cases = {
        "delete my data and stop sending me the newsletter": ["erasure", "marketing_opt_out"],
        "stop the marketing emails but do NOT delete my account": ["marketing_opt_out"],
        "I want a copy of my data, and please fix my phone number": ["access", "rectification"],
        "Hello!\n1. please correct my address\n2. stop all promotional texts": [
            "rectification",
            "marketing_opt_out",
        ],
        "Erase my profile. Also send me my data first.": ["erasure", "access"],
        "Please don't delete my account.": [],
    }
    stdin = "".join(json.dumps({"text": text}) + "\n" for text in cases)
    out = run_ask("--jsonl", stdin=stdin)
    assert out.returncode == 0, out.stderr
    objs = [json.loads(line) for line in out.stdout.splitlines()]
    assert [o["kinds"] for o in objs] == list(cases.values())
    assert [o["kind"] for o in objs] == [kinds[0] if kinds else None for kinds in cases.values()]
    assert all(o["action"] == "request" for o in objs[:-1]) and objs[-1]["action"] == "smalltalk"


def test_ask_finds_several_requests_and_refusals_in_azerbaijani_and_russian() -> None:
    """Joined Azerbaijani and Russian requests are each found; "silməyin" / "не удаляйте" keep one out; the
    replies are in the person's language."""
    cases = {
        "Hesabımı silin və reklam məktublarını dayandırın": ("az", ["erasure", "marketing_opt_out"]),
        "Reklam məktublarını dayandırın, amma hesabımı silməyin": ("az", ["marketing_opt_out"]),
        "Hesabımı silməyin": ("az", []),
        "Не удаляйте мой аккаунт": ("ru", []),
        "Удалите мой аккаунт и отпишите меня от рассылки": ("ru", ["erasure", "marketing_opt_out"]),
        "Отпишите меня от рассылки, но не удаляйте аккаунт": ("ru", ["marketing_opt_out"]),
        "Пришлите копию моих данных, а также исправьте мой номер телефона": (
            "ru",
            ["access", "rectification"],
        ),
    }
    stdin = "".join(json.dumps({"text": text}) + "\n" for text in cases)
    out = run_ask("--jsonl", stdin=stdin)
    assert out.returncode == 0, out.stderr
    objs = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(o["lang"], o["kinds"]) for o in objs] == list(cases.values())
    assert "hesabınızın və şəxsi məlumatlarınızın silinməsi" in objs[0]["replies"][0]
    assert "başlatmayacağam" in objs[2]["replies"][0]
    assert objs[3]["action"] == "smalltalk" and "ничего не изменится" in objs[3]["replies"][0]
    assert "удаление вашего аккаунта" in objs[4]["replies"][0]


def test_ask_answers_a_question_and_starts_the_request_beside_it() -> None:
    """ "What data do you collect? Also, please delete my account." quotes the collection section and starts
    the erasure; "I want a copy of my data. Do you sell my data?" starts the access request and quotes the
    answer to the question after it. `action` stays `request`; the answer is among the `replies`."""
    cases = {
        "What data do you collect? Also, please delete my account.": (["erasure"], "Collect"),
        "I want a copy of my data. Do you sell my data?": (["access"], "never sell"),
    }
    stdin = "".join(json.dumps({"text": text}) + "\n" for text in cases)
    out = run_ask("--jsonl", stdin=stdin)
    assert out.returncode == 0, out.stderr
    for obj, (kinds, answered) in zip(map(json.loads, out.stdout.splitlines()), cases.values(), strict=True):
        assert obj["action"] == "request" and obj["kinds"] == kinds and obj["kind"] == kinds[0]
        assert obj["section"] is not None and answered in obj["replies"][0]
        assert "email address" in obj["replies"][-1]


def test_ask_without_text_is_a_usage_error() -> None:
    """`ask` with neither TEXT nor --jsonl explains how to call it."""
    out = run_ask()
    assert out.returncode == 2
    assert "--jsonl" in out.stderr


def test_invalid_setting_is_one_clear_line() -> None:
    """A setting that does not validate names the variable instead of printing a traceback."""
    env = {**os.environ, "PRIVACYBOT_WEB_PORT": "eighty"}
    out = subprocess.run(
        [EXE, "ask", "hi"], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=60, check=False
    )
    assert out.returncode == 1
    assert "invalid settings: PRIVACYBOT_WEB_PORT" in out.stderr
    assert "Traceback" not in out.stderr


def test_ask_honours_the_engine_setting_and_fails_clearly_when_rasa_cannot_start(tmp_path: Path) -> None:
    """PRIVACYBOT_NLU_ENGINE=rasa is used by `ask` (no silent embedded answer when Rasa is missing: one
    clear error); `--engine embedded` overrides the setting."""
    missing = {"PRIVACYBOT_NLU_ENGINE": "rasa", "PRIVACYBOT_RASA_VENV": str(tmp_path / "no-rasa-here")}
    failed = run_ask("--json", "please delete my account", env=missing)
    assert failed.returncode == 1
    assert "Rasa could not start" in failed.stderr and "Traceback" not in failed.stderr
    assert failed.stdout == ""
    chosen = run_ask(
        "--jsonl",
        "--engine",
        "rasa",
        stdin='{"text": "hi"}\n',
        env={**missing, "PRIVACYBOT_NLU_ENGINE": "embedded"},
    )
    assert chosen.returncode == 1 and "Rasa could not start" in chosen.stderr
    embedded = run_ask("--json", "--engine", "embedded", "please delete my account", env=missing)
    assert embedded.returncode == 0, embedded.stderr
    assert json.loads(embedded.stdout)["kinds"] == ["erasure"]


def test_chat_takes_the_engine_option(tmp_path: Path) -> None:
    """`chat --engine rasa` without a Rasa env stops with one clear line; `chat --engine embedded` talks."""
    env = {"PRIVACYBOT_DATA_DIR": str(tmp_path), "PRIVACYBOT_RASA_VENV": str(tmp_path / "no-rasa-here")}

    def chat(*args: str) -> subprocess.CompletedProcess[str]:
        said = "delete my data and stop sending me the newsletter\nquit\n"
        return run_ask(*args, stdin=said, env=env, command="chat")

    failed = chat("--engine", "rasa")
    assert failed.returncode == 1 and "Rasa could not start" in failed.stderr
    talked = chat("--engine", "embedded")
    assert talked.returncode == 0, talked.stderr
    said = " ".join(talked.stdout.split())  # the terminal wraps replies
    assert "deleting your account" in said and "stopping marketing messages" in said


def test_ask_rejects_an_unknown_engine() -> None:
    """`--engine` takes only the engines there are."""
    out = run_ask("--engine", "spacy", "hi")
    assert out.returncode == 2 and "embedded" in out.stderr and "rasa" in out.stderr


def _rasa_servers() -> set[int]:
    """Process ids of every `rasa run` server on this machine."""
    found = set()
    for process in psutil.process_iter(["pid", "cmdline"]):
        command = process.info["cmdline"] or []
        if "run" in command and "--enable-api" in command and any(c.endswith("/rasa") for c in command):
            found.add(process.info["pid"])
    return found


@pytest.mark.rasa
def test_ask_on_rasa_serves_from_a_server_of_its_own_and_stops_it() -> None:
    """`ask --jsonl --engine rasa` answers through a Rasa server trained on the project's data (no fallback
    to the embedded engine; other confidences than it), finds several requests, leaves no server behind."""
    if find_rasa_env() is None:
        pytest.skip("Rasa env not built: run `make rasa`")
    questions = [
        "How long do you keep my payment records?",
        "please delete my account",
        "delete my data and stop sending me the newsletter",
        "stop the marketing emails but do NOT delete my account",
    ]
    stdin = "".join(json.dumps({"text": q}) + "\n" for q in questions)
    before = _rasa_servers()
    rasa = run_ask("--jsonl", "--engine", "rasa", stdin=stdin, timeout=1500)
    assert rasa.returncode == 0, rasa.stderr[-3000:]
    assert "unavailable" not in rasa.stderr
    assert _rasa_servers() <= before
    answers = [json.loads(line) for line in rasa.stdout.splitlines()]
    assert [a["text"] for a in answers] == questions
    assert answers[0]["action"] == "answer" and answers[0]["section"] == "Retention Periods"
    assert answers[1]["kinds"] == ["erasure"]
    assert answers[2]["kinds"] == ["erasure", "marketing_opt_out"]
    assert answers[3]["kinds"] == ["marketing_opt_out"]
    embedded = run_ask("--jsonl", "--engine", "embedded", stdin=stdin)
    confidences = [json.loads(line)["confidence"] for line in embedded.stdout.splitlines()]
    assert confidences != [a["confidence"] for a in answers]


def test_ask_json_names_the_policy_version_it_quoted(tmp_path: Path) -> None:
    """The same question on two policies names two versions; each is the id `policy versions` lists."""
    other = tmp_path / "policy.txt"
    other.write_text(
        (PROJECT_ROOT / "policy" / "zynorlink-privacy-policy.txt")
        .read_text(encoding="utf-8")
        .replace("Payment records: Kept for 5 years", "Payment records: Kept for 11 years"),
        encoding="utf-8",
    )
    question = "How long do you keep payment records?"
    first = json.loads(run_ask("--json", question).stdout)
    second = json.loads(run_ask("--json", question, env={"PRIVACYBOT_POLICY": str(other)}).stdout)
    assert first["policy_version"] and second["policy_version"]
    assert first["policy_version"] != second["policy_version"]
    versions = run_ask(
        "versions",
        "--json",
        env={"PRIVACYBOT_POLICY": str(other), "PRIVACYBOT_DATA_DIR": str(tmp_path)},
        command="policy",
    )
    assert [v["id"] for v in json.loads(versions.stdout)] == [second["policy_version"]]
