"""scoring: the roster, score_call on hand-built transcripts (no ASR), fingerprints, unscorable calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from callqa.asr.transcript import CallInput, PromptEcho, Transcript, TranscriptionResult, Utterance
from callqa.reports.db import db_path, open_db, save_calls
from callqa.reports.jsonl import schema_errors
from callqa.review.store import get_call
from callqa.scoring.outcome import compute_outcome
from callqa.scoring.roster import RosterError, load_roster
from callqa.scoring.score import score_call
from callqa.scoring.scorecard import load_scorecard

GOOD_CALL = [
    ("agent", 0.0, 3.0, "您好，欢迎致电客服中心，工号8023为您服务。"),
    ("customer", 3.5, 6.0, "我的快递三天了还没到。"),
    ("agent", 6.5, 9.0, "请您稍等，我帮您查一下。"),
    ("agent", 14.0, 16.0, "感谢您的耐心等待，您的快递明天就能送到。"),
    ("customer", 16.5, 18.0, "好的，谢谢你。"),
    ("agent", 18.5, 21.0, "请问还有其他可以帮您的吗？"),
    ("customer", 21.5, 22.5, "没有了。"),
    ("agent", 23.0, 25.0, "感谢您的来电，祝您生活愉快，再见。"),
]

BAD_CALL = [
    ("agent", 0.0, 1.5, "喂，说吧。"),
    ("customer", 2.0, 5.0, "我的快递三天了还没到，你们这什么服务，太差了，我要投诉！"),
    ("agent", 5.5, 7.0, "这个不行。"),
    ("customer", 7.5, 9.0, "为什么不行？"),  # the customer's 不行 never counts against the agent
    ("agent", 9.5, 12.0, "不行，真的不行，我也不知道。"),
    ("customer", 12.5, 14.0, "太差了，我要投诉你们！"),
    ("agent", 14.5, 15.5, "好了，就这样吧。"),
]


def transcript(call_id: str, lines, shift: float = 0.0, agent_id: str = "A1") -> Transcript:
    utterances = [
        Utterance(role, start + shift, end + shift, text, text, 0.9, channel=0 if role == "agent" else 1)
        for role, start, end, text in lines
    ]
    return Transcript(call_id, f"{call_id}.wav", agent_id, "agent,customer", utterances[-1].end + 1.0, utterances)


def result(call_id: str, lines=None, agent_id: str = "A1", error: str | None = None, shift: float = 0.0):
    call = CallInput(call_id, Path(f"/recordings/{call_id}.wav"), f"{call_id}.wav", agent_id)
    if error is not None:
        return TranscriptionResult(call, None, error)
    return TranscriptionResult(call, transcript(call_id, lines, shift, agent_id))


@pytest.fixture(scope="module")
def scorecard():
    return load_scorecard(None)


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("agent_id,name,employee_id\nA1,王芳,8023\nA2,李雷,0802\n", encoding="utf-8")
    return load_roster(path)


def test_roster_keeps_leading_zeros(roster):
    assert roster.get("A2").employee_id == "0802" and roster.get("A1").name == "王芳"
    assert roster.get("A9") is None and roster.get(None) is None and len(roster) == 2


@pytest.mark.parametrize(
    "text, message",
    [
        ("agent_id,name\nA1,王芳\n", "missing column\\(s\\) employee_id"),
        ("agent_id,name,employee_id\nA1,王芳,8023\nA2,李雷,08O2\n", "row 3, column employee_id: '08O2' is not digits"),
        ("agent_id,name,employee_id\nA1,王芳,8023\nA1,李雷,0802\n", "row 3, column agent_id: 'A1' appears twice"),
        ("agent_id,name,employee_id\n,王芳,8023\n", "row 2, column agent_id: empty"),
        ("agent_id,name,employee_id\n", "lists no agents"),
    ],
)
def test_roster_errors_name_row_and_column(tmp_path, text, message):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RosterError, match=message):
        load_roster(path)
    with pytest.raises(RosterError, match="not found"):
        load_roster(tmp_path / "nope.csv")


def test_a_compliant_call_scores_100(scorecard, roster):
    call = score_call(result("good", GOOD_CALL), scorecard, roster)
    assert call.error is None and call.agent_name == "王芳" and call.duration_s == 26.0
    assert {c: r.passed for c, r in call.checks.items()} == {
        "greeting": True, "employee_id": True, "standard_phrasing": True, "banned_phrases": True,
        "closing": True, "sentiment": True, "channel_layout": True, "silence": True, "interruptions": True,
        "speech_rate": None, "raised_voice": None,  # no measured speech time or levels in a hand-made transcript
    }  # fmt: skip
    assert call.checks["employee_id"].extra["status"] == "ok"
    assert call.score == 100.0 and not call.flagged and call.flag_reasons == []
    assert schema_errors(call.to_json()) == []


def test_a_bad_call_has_evidence_score_and_flags(scorecard, roster):
    call = score_call(result("bad", BAD_CALL), scorecard, roster)
    checks = call.checks
    assert checks["greeting"].passed is False and checks["closing"].passed is False
    assert checks["employee_id"].extra["status"] == "missing"
    banned = checks["banned_phrases"].findings
    assert [(f.utterance, f.extra["phrase"]) for f in banned] == [(2, "不行"), (4, "不行"), (4, "不行"), (4, "不知道")]
    assert all(f.role == "agent" for f in banned)
    fingerprints = [f.fingerprint for f in call.checks["banned_phrases"].findings]
    assert len(set(fingerprints)) == 4 and fingerprints[2] == fingerprints[1] + "-2"  # two 不行 in one utterance
    assert checks["sentiment"].passed is False and checks["sentiment"].extra["customer"]["label"] == "negative"
    # The score is compute_outcome's arithmetic over the same results.
    assert call.score == compute_outcome(checks, scorecard.flag_below).score < 60
    assert call.flagged and any(r.startswith("banned_phrases") for r in call.flag_reasons)
    assert schema_errors(call.to_json()) == []


def test_prompt_echoes_reach_the_results_database(scorecard, roster, tmp_path):
    scored = result("echo", GOOD_CALL)
    scored.transcript.prompt_echoes = [PromptEcho("agent", 1.0, 4.0, "工号、致电")]
    call = score_call(scored, scorecard, roster)
    assert call.prompt_echoes == scored.transcript.prompt_echoes and "prompt_echoes" not in call.to_json()
    conn = open_db(db_path(tmp_path))
    save_calls(conn, [call], scorecard_text="", flag_below=80.0, source="tests")
    assert get_call(conn, "echo").prompt_echoes == [PromptEcho("agent", 1.0, 4.0, "工号、致电")]


def test_fingerprints_survive_rescoring_with_shifted_times(scorecard, roster):
    first = score_call(result("bad", BAD_CALL), scorecard, roster)
    again = score_call(result("bad", BAD_CALL, shift=0.37), scorecard, roster)
    prints = lambda call: [f.fingerprint for r in call.checks.values() for f in r.findings]  # noqa: E731
    assert prints(first) == prints(again) and all(prints(first))
    other_call = score_call(result("bad2", BAD_CALL), scorecard, roster)
    assert not set(prints(first)) & set(prints(other_call))  # the call id is part of the fingerprint


def test_employee_id_mismatch_and_unknown_agent(scorecard, roster):
    lines = [("agent", 0.0, 3.0, "您好，工号8024为您服务。"), *GOOD_CALL[1:]]
    mismatch = score_call(result("m", lines), scorecard, roster).checks["employee_id"].extra
    assert (mismatch["status"], mismatch["heard_id"], mismatch["expected_id"]) == ("mismatch", "8024", "8023")
    unknown = score_call(result("u", GOOD_CALL, agent_id="A9"), scorecard, roster)
    assert unknown.agent_name is None and unknown.checks["employee_id"].extra["expected_id"] is None


def test_a_call_that_could_not_be_transcribed_is_listed_with_its_error(scorecard, roster):
    call = score_call(result("broken", error="AudioDecodeError: not an audio file"), scorecard, roster)
    assert call.score is None and call.flagged and call.checks == {} and call.transcript == []
    assert call.flag_reasons == ["not scored: AudioDecodeError: not an audio file"]
    line = call.to_json()
    assert line["error"] == "AudioDecodeError: not an audio file" and line["agent_name"] == "王芳"
    assert schema_errors(line) == []
