"""`callqa score` / `callqa report` end to end, with the ASR stage replaced by hand-made transcripts.

One @pytest.mark.asr test runs the real pipeline on samples/ and checks the
verdicts against samples/labels.csv.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from callqa.asr.batch import BatchResults
from callqa.asr.transcript import TranscriptionResult
from callqa.cli import app
from callqa.reports.db import open_db, record_decision
from callqa.reports.jsonl import read_calls_jsonl, schema_errors
from test_scoring import BAD_CALL, GOOD_CALL, transcript

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
runner = CliRunner()


@pytest.fixture
def fake_asr(monkeypatch):
    """run_batch as a test double: the transcripts below, an error for any other call; ``then`` (the checks)
    done on each call as a worker does."""
    transcripts = {"good": GOOD_CALL, "bad": BAD_CALL}
    seen = []

    def run_batch(calls, options, out_dir, workers=1, use_cache=True, progress=True, *, then=None, **kwargs):
        seen.append([c.call_id for c in calls])
        results = [
            TranscriptionResult(c, transcript(c.call_id, transcripts[c.call_id], agent_id=c.agent_id))
            if c.call_id in transcripts
            else TranscriptionResult(c, None, "AudioDecodeError: not an audio file")
            for c in calls
        ]
        return BatchResults(results, [then(r, None) if then else None for r in results])

    monkeypatch.setattr("callqa.asr.batch.run_batch", run_batch)
    return seen


@pytest.fixture
def batch(tmp_path):
    (tmp_path / "manifest.csv").write_text(
        "file,agent_id,call_id\ngood.wav,A1,good\nbad.wav,A2,bad\nbroken.wav,A1,broken\n", encoding="utf-8"
    )
    (tmp_path / "two.csv").write_text("file,agent_id,call_id\ngood.wav,A1,good\nbad.wav,A2,bad\n", encoding="utf-8")
    (tmp_path / "roster.csv").write_text("agent_id,name,employee_id\nA1,王芳,8023\nA2,李雷,0802\n", encoding="utf-8")
    return tmp_path


def score(batch: Path, manifest: str = "manifest.csv", *extra: str):
    args = ["score", str(batch / manifest), "--roster", str(batch / "roster.csv"), "--out", str(batch / "out"), *extra]
    return runner.invoke(app, args)


def test_score_writes_every_output(fake_asr, batch):
    result = score(batch)
    assert result.exit_code == 0, result.output
    out = batch / "out"
    calls = read_calls_jsonl(out / "calls.jsonl")
    assert [c["call_id"] for c in calls] == ["good", "bad", "broken"]  # input order, the broken call listed
    assert all(schema_errors(c) == [] for c in calls)
    good, bad, broken = calls
    assert good["score"] == 100.0 and not good["flagged"] and good["agent_name"] == "王芳"
    assert bad["checks"]["employee_id"]["status"] == "missing" and bad["checks"]["employee_id"]["expected_id"] == "0802"
    assert broken["score"] is None and broken["flagged"] and broken["error"].startswith("AudioDecodeError")

    agents = pd.read_csv(out / "agents.csv", encoding="utf-8-sig").set_index("agent_id")
    assert agents.loc["A1", "calls"] == 2 and agents.loc["A1", "scored_calls"] == 1
    assert agents.loc["A1", "mean_score"] == 100.0 and agents.loc["A2", "mean_score"] == bad["score"]
    assert agents.loc["A2", "banned_phrases_pass_rate"] == 0.0 and agents.loc["A1", "greeting_pass_rate"] == 1.0
    flagged = pd.read_csv(out / "flagged.csv", encoding="utf-8-sig")
    assert list(flagged["call_id"]) == ["broken", "bad"]
    assert "banned_phrases" in flagged.loc[1, "reasons"]
    assert (out / "callqa.sqlite").is_file() and (out / "reviewed.csv").is_file()
    assert "could not be scored" in result.output and "broken" in result.output and "calls.jsonl" in result.output


def test_fail_under_gates_on_scores_and_unscored_calls(fake_asr, batch):
    assert score(batch, "two.csv", "--fail-under", "0").exit_code == 0
    bad_score = read_calls_jsonl(batch / "out" / "calls.jsonl")[1]["score"]
    assert 0 < bad_score < 100
    assert score(batch, "two.csv", "--fail-under", str(bad_score)).exit_code == 0  # "below", not "at"
    failing = score(batch, "two.csv", "--fail-under", str(bad_score + 0.5))
    assert failing.exit_code == 1 and "1 call(s) below: bad (" in failing.output
    unscored = score(batch, "manifest.csv", "--fail-under", "0")  # a call that could not be scored fails the gate
    assert unscored.exit_code == 1 and "broken (-)" in unscored.output
    assert score(batch, "manifest.csv").exit_code == 0  # no gate, no failure


def test_usage_errors_exit_2_and_name_the_problem(fake_asr, batch):
    (batch / "roster.csv").write_text("agent_id,name,employee_id\nA1,王芳,80two\n", encoding="utf-8")
    bad_roster = score(batch)
    assert bad_roster.exit_code == 2 and "row 2, column employee_id" in bad_roster.output
    (batch / "roster.csv").write_text("agent_id,name,employee_id\nA1,王芳,8023\n", encoding="utf-8")
    (batch / "card.toml").write_text("[checks.banned_phrases]\ndeduction = 'ten'\n", encoding="utf-8")
    bad_card = score(batch, "manifest.csv", "--scorecard", str(batch / "card.toml"))
    assert bad_card.exit_code == 2 and "deduction" in bad_card.output
    (batch / "empty.csv").write_text("file,agent_id\n", encoding="utf-8")
    assert score(batch, "empty.csv").exit_code == 2
    assert fake_asr == []  # nothing was transcribed for a batch that could not start


def test_rescoring_keeps_decisions_and_report_shows_them(fake_asr, batch):
    assert score(batch, "two.csv").exit_code == 0
    out = batch / "out"
    bad = read_calls_jsonl(out / "calls.jsonl")[1]
    findings = bad["checks"]["banned_phrases"]["findings"]
    conn = open_db(out / "callqa.sqlite")
    for finding in findings:
        record_decision(conn, "bad", "dismiss", "ann", fingerprint=finding["fingerprint"], comment="misheard")
    record_decision(conn, "bad", "reviewed", "ann")
    conn.close()
    given_back = sum(f["deduction"] for f in findings)

    report = runner.invoke(app, ["report", str(out)])
    assert report.exit_code == 0, report.output
    agents = pd.read_csv(out / "agents.csv", encoding="utf-8-sig").set_index("agent_id")
    assert agents.loc["A2", "mean_score"] == pytest.approx(bad["score"] + given_back)
    assert agents.loc["A2", "banned_phrases_pass_rate"] == 1.0
    reviewed = pd.read_csv(out / "reviewed.csv", encoding="utf-8-sig")
    assert list(reviewed["call_id"]) == ["bad"] and reviewed.loc[0, "dismissed"] == len(findings)

    # Re-score the same batch: calls.jsonl keeps the machine's verdict, the database the reviewed score.
    rescored = score(batch, "two.csv", "--fail-under", str(bad["score"] + given_back))
    assert rescored.exit_code == 0 and "decisions re-applied on 1 call(s)" in rescored.output
    assert read_calls_jsonl(out / "calls.jsonl")[1]["score"] == bad["score"]
    conn = open_db(out / "callqa.sqlite")
    row = conn.execute("SELECT score, machine_score, reviewed FROM calls WHERE call_id = 'bad'").fetchone()
    assert (row["score"], row["machine_score"], row["reviewed"]) == (bad["score"] + given_back, bad["score"], 1)
    assert runner.invoke(app, ["report", str(batch / "nothing")]).exit_code == 2


@pytest.fixture(scope="session")
def scored_samples(tmp_path_factory):
    """The real pipeline on samples/, once per session (the transcript cache makes reruns cheap)."""
    if not (SAMPLES / "manifest.csv").is_file():
        pytest.fail("samples/manifest.csv is missing: run scripts/make_samples.py")
    out = tmp_path_factory.mktemp("scored_samples")
    args = ["score", str(SAMPLES / "manifest.csv"), "--roster", str(SAMPLES / "roster.csv"), "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.asr
def test_samples_score_end_to_end_and_match_their_labels(scored_samples):
    calls = read_calls_jsonl(scored_samples / "calls.jsonl")
    manifest = pd.read_csv(SAMPLES / "manifest.csv", dtype=str)
    assert len(calls) == len(manifest)
    for call in calls:
        assert schema_errors(call) == [], (call["call_id"], schema_errors(call))
    assert json.loads((scored_samples / "calls.jsonl").read_text(encoding="utf-8").splitlines()[0])["transcript"]
    evaluation = runner.invoke(app, ["eval", str(SAMPLES / "labels.csv"), "--out", str(scored_samples), "--strict"])
    assert evaluation.exit_code == 0, evaluation.output


def test_default_prompt_never_suggests_an_id_or_a_check_phrase():
    """Whisper writes what its prompt suggests: an ID in the prompt becomes the heard ID,
    a greeting in it can become the agent's greeting."""
    import re

    from callqa.asr.options import DEFAULT_INITIAL_PROMPT
    from callqa.checks.matching import compile_phrases, find_phrases
    from callqa.scoring.scorecard import load_scorecard

    assert not re.search(r"[0-9零〇一二三四五六七八九幺]", DEFAULT_INITIAL_PROMPT)
    card = load_scorecard(None)
    for check in ("greeting", "closing", "standard_phrasing"):
        config = card.checks[check]
        phrases = [p for name, value in vars(config).items() if name.endswith("phrases") for p in value]
        assert phrases, f"{check} has no phrase lists"
        compiled = compile_phrases(phrases, card.matching, pinyin=False, fuzzy=False)
        assert find_phrases(DEFAULT_INITIAL_PROMPT, compiled) == [], check
