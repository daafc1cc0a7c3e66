"""reports: the results database (decisions survive re-scoring), CSV tables, calls.jsonl and its schema."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pandas as pd
import pytest

from callqa.asr.transcript import Utterance
from callqa.checks.base import CheckResult, Finding
from callqa.reports.db import (
    dismissed_fingerprints,
    open_db,
    record_decision,
    recompute_call,
    save_calls,
    transaction,
)
from callqa.reports.jsonl import read_calls_jsonl, schema_errors, write_calls_jsonl
from callqa.reports.tables import agents_table, calls_frame, flagged_table, reviewed_table, write_reports
from callqa.scoring.outcome import compute_outcome
from callqa.scoring.score import CallScore, assign_fingerprints

FLAG_BELOW = 80.0


def banned(text: str, start: float, deduction: float = 10.0) -> Finding:
    return Finding(start, start + 1, "agent", text, "banned phrase", utterance=0, deduction=deduction,
                   extra={"phrase": "不行"})  # fmt: skip


def make_call(call_id: str, agent_id: str | None, findings: list[Finding], *, critical_fail: bool = False,
              error: str | None = None, agent_name: str | None = "王芳") -> CallScore:  # fmt: skip
    """A scored call built by hand, with the arithmetic of compute_outcome, as score_call builds it."""
    if error is not None:
        outcome = compute_outcome({}, FLAG_BELOW, error=error)
        return CallScore(call_id, f"{call_id}.wav", agent_id, agent_name, None, None, True, outcome.flag_reasons,
                         error)  # fmt: skip
    checks = {
        "greeting": CheckResult("greeting", True, 0.0),
        "employee_id": CheckResult(
            "employee_id", not critical_fail, 0.0 if not critical_fail else 5.0,
            [] if not critical_fail else [Finding(0, 0, "agent", "", "no employee ID in the opening", deduction=5.0)],
            critical=True, extra={"status": "missing" if critical_fail else "ok", "heard_id": None if critical_fail
                                  else "8023", "expected_id": "8023"},
        ),  # fmt: skip
        "banned_phrases": CheckResult("banned_phrases", not findings, sum(f.deduction for f in findings), findings),
        "standard_phrasing": CheckResult("standard_phrasing", None, 0.0),
    }
    assign_fingerprints(call_id, checks)
    outcome = compute_outcome(checks, FLAG_BELOW)
    transcript = [Utterance("agent", 0.0, 1.5, "您好，工号8023", "您好，工號八零二三", 0.9)]
    return CallScore(call_id, f"{call_id}.wav", agent_id, agent_name, 12.5, outcome.score, outcome.flagged,
                     outcome.flag_reasons, None, transcript, checks, Path(f"/calls/{call_id}.wav"))  # fmt: skip


@pytest.fixture
def batch() -> list[CallScore]:
    return [
        make_call("c1", "A1", [banned("这个不行", 3.0), banned("真的不行", 8.0), banned("这个不行", 20.0)]),
        make_call("c2", "A1", []),
        make_call("c3", "A2", [], critical_fail=True, agent_name="李雷"),
        make_call("c4", "A2", [], error="decode failed: not an audio file", agent_name="李雷"),
    ]


@pytest.fixture
def conn(tmp_path: Path, batch: list[CallScore]) -> sqlite3.Connection:
    conn = open_db(tmp_path / "callqa.sqlite")
    save_calls(conn, batch, "[scorecard]\n", FLAG_BELOW, source="manifest.csv")
    yield conn
    conn.close()


def call_row(conn: sqlite3.Connection, call_id: str) -> sqlite3.Row:
    return conn.execute("SELECT * FROM calls WHERE call_id = ?", (call_id,)).fetchone()


def add_decision(conn, call_id, fingerprint, decision, reviewer="ann"):
    conn.execute(
        "INSERT INTO decisions(call_id, fingerprint, check_id, decision, reviewer, decided_at) "
        "VALUES (?, ?, 'banned_phrases', ?, ?, '2026-01-01T00:00:00+00:00')",
        (call_id, fingerprint, decision, reviewer),
    )


def test_repeated_evidence_gets_numbered_fingerprints(batch):
    fingerprints = [f.fingerprint for f in batch[0].checks["banned_phrases"].findings]
    assert fingerprints[0] and fingerprints[1] and len(set(fingerprints)) == 3
    assert fingerprints[2] == f"{fingerprints[0]}-2"  # the second 这个不行, whatever its time


def test_database_holds_calls_findings_and_transcripts(conn):
    c1 = call_row(conn, "c1")
    assert c1["machine_score"] == c1["score"] == 70.0 and c1["flagged"] == 1
    assert json.loads(c1["flag_reasons"]) == ["score 70 below 80"]
    assert json.loads(c1["transcript"])[0]["raw_text"] == "您好，工號八零二三"
    assert set(json.loads(c1["checks"])) == {"greeting", "employee_id", "banned_phrases", "standard_phrasing"}
    assert conn.execute("SELECT COUNT(*) FROM findings WHERE call_id = 'c1'").fetchone()[0] == 3
    c4 = call_row(conn, "c4")
    assert c4["score"] is None and c4["flagged"] == 1 and c4["error"].startswith("decode failed")
    assert json.loads(c4["flag_reasons"]) == ["not scored: decode failed: not an audio file"]


def test_rescoring_reapplies_decisions_to_findings_that_still_exist(conn, batch):
    first, second, third = batch[0].checks["banned_phrases"].findings
    add_decision(conn, "c1", first.fingerprint, "dismiss")
    add_decision(conn, "c1", "gone-finding", "dismiss")  # a finding no later run reproduces
    save_calls(conn, batch, "[scorecard]\n", FLAG_BELOW)  # re-score: findings replaced, decisions kept
    c1 = call_row(conn, "c1")
    assert c1["machine_score"] == 70.0 and c1["score"] == 80.0 and c1["flagged"] == 0
    assert conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0] == 2

    # The latest confirm/dismiss per finding is in force.
    add_decision(conn, "c1", first.fingerprint, "confirm", reviewer="bob")
    add_decision(conn, "c1", second.fingerprint, "dismiss")
    add_decision(conn, "c1", third.fingerprint, "dismiss")
    assert dismissed_fingerprints(conn, "c1") == {second.fingerprint, third.fingerprint, "gone-finding"}
    outcome = recompute_call(conn, "c1")
    assert outcome.score == 90.0 and outcome.passed["banned_phrases"] is False
    assert call_row(conn, "c1")["score"] == 90.0


def test_dismissing_every_finding_passes_the_check_and_unflags(conn, batch):
    finding = batch[2].checks["employee_id"].findings[0]
    assert call_row(conn, "c3")["flagged"] == 1  # critical check failed
    outcome = record_decision(conn, "c3", "dismiss", "ann", fingerprint=finding.fingerprint, comment="said 8023")
    assert outcome.passed["employee_id"] is True and outcome.score == 100.0 and not outcome.flagged
    assert call_row(conn, "c3")["flagged"] == 0
    with pytest.raises(KeyError, match="no finding"):
        record_decision(conn, "c3", "dismiss", "ann", fingerprint="nope")
    with pytest.raises(ValueError, match="unknown decision"):
        record_decision(conn, "c3", "approve", "ann", fingerprint=finding.fingerprint)


def _fresh_frame(path: Path) -> pd.DataFrame:
    """The frame as a server that has kept nothing would build it (an in-memory copy keeps nothing)."""
    memory = sqlite3.connect(":memory:")
    memory.row_factory = sqlite3.Row
    with sqlite3.connect(path) as source:
        source.backup(memory)
    return calls_frame(memory)


def test_the_calls_frame_between_requests_follows_decisions_and_rescoring(conn, batch, tmp_path):
    """Each call's verdicts are kept between requests (reports/verdicts.py): they must follow every change."""
    path = tmp_path / "callqa.sqlite"
    assert calls_frame(conn).set_index("call_id").loc["c3", "passed_employee_id"] is False
    finding = batch[2].checks["employee_id"].findings[0]
    record_decision(conn, "c3", "dismiss", "ann", fingerprint=finding.fingerprint, comment="said 8023")
    frame = calls_frame(conn).set_index("call_id")
    assert frame.loc["c3", "passed_employee_id"] is True and frame.loc["c3", "failed_checks"] == []
    record_decision(conn, "c3", "confirm", "bob", fingerprint=finding.fingerprint)
    assert calls_frame(conn).set_index("call_id").loc["c3", "passed_employee_id"] is False

    # Re-scored without the banned phrases: c1 passes; a call gone from the database is gone from the frame.
    save_calls(conn, [make_call("c1", "A1", [])], "[scorecard]\n", FLAG_BELOW)
    conn.execute("DELETE FROM calls WHERE call_id = 'c2'")
    conn.commit()
    frame = calls_frame(conn)
    assert frame.set_index("call_id").loc["c1", "passed_banned_phrases"] is True and "c2" not in set(frame["call_id"])
    pd.testing.assert_frame_equal(frame, _fresh_frame(path))


def test_history_across_batches_and_review_marks_are_kept(conn, batch):
    record_decision(conn, "c2", "reviewed", "ann")
    save_calls(conn, [make_call("c9", "A3", [])], "[other]\n", 90.0, source="day2.csv")
    assert {r[0] for r in conn.execute("SELECT call_id FROM calls")} == {"c1", "c2", "c3", "c4", "c9"}
    save_calls(conn, batch[:2], "[scorecard]\n", FLAG_BELOW)
    c2 = call_row(conn, "c2")
    assert c2["reviewed"] == 1 and c2["reviewed_by"] == "ann"
    batches = conn.execute("SELECT batch_id, source, flag_below, calls FROM batches ORDER BY batch_id").fetchall()
    assert [tuple(b) for b in batches] == [(1, "manifest.csv", 80.0, 4), (2, "day2.csv", 90.0, 1), (3, None, 80.0, 2)]
    # Each call is recomputed with the flag threshold of the batch that scored it.
    assert call_row(conn, "c9")["batch_id"] == 2 and recompute_call(conn, "c9").score == 100.0


def test_a_second_writer_waits_instead_of_failing(tmp_path, batch):
    path = tmp_path / "callqa.sqlite"
    first = open_db(path)
    save_calls(first, batch, "", FLAG_BELOW)
    fingerprint = batch[0].checks["banned_phrases"].findings[0].fingerprint
    errors: list[BaseException] = []
    done = threading.Event()

    def second_reviewer() -> None:
        conn = open_db(path)
        try:
            record_decision(conn, "c1", "dismiss", "bob", fingerprint=fingerprint)
        except BaseException as e:  # noqa: BLE001 - reported to the test below
            errors.append(e)
        finally:
            conn.close()
            done.set()

    with transaction(first):  # the first reviewer holds the write lock ...
        first.execute("UPDATE calls SET reviewed = 1, reviewed_by = 'ann' WHERE call_id = 'c1'")
        thread = threading.Thread(target=second_reviewer)
        thread.start()
        assert not done.wait(0.3)  # ... so the second one waits
    thread.join(10)
    assert errors == [] and done.is_set()
    row = call_row(first, "c1")
    assert row["reviewed_by"] == "ann" and row["score"] == 80.0  # both writes landed


def test_open_db_migrates_a_version_1_database(tmp_path):
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE calls (call_id TEXT PRIMARY KEY, file TEXT NOT NULL, checks TEXT NOT NULL DEFAULT '{}')")
    old.commit()
    old.close()
    conn = open_db(path)
    assert {"batch_id", "prompt_echoes"} <= {r["name"] for r in conn.execute("PRAGMA table_info(calls)")}
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_agents_table_applies_decisions(conn, batch):
    agents = agents_table(conn).set_index("agent_id")
    assert list(agents.index) == ["A1", "A2"]
    a1, a2 = agents.loc["A1"], agents.loc["A2"]
    assert (a1.agent_name, a1.calls, a1.scored_calls, a1.mean_score, a1.min_score, a1.flagged_calls) == (
        "王芳", 2, 2, 85.0, 70.0, 1)  # fmt: skip
    assert a1.banned_phrases_pass_rate == 0.5 and a1.greeting_pass_rate == 1.0
    assert pd.isna(a1.standard_phrasing_pass_rate)  # never applicable: no rate, not 0
    assert (a2.calls, a2.scored_calls, a2.mean_score, a2.flagged_calls, a2.employee_id_pass_rate) == (2, 1, 95.0, 2, 0.0)

    for finding in batch[0].checks["banned_phrases"].findings:
        record_decision(conn, "c1", "dismiss", "ann", fingerprint=finding.fingerprint)
    a1 = agents_table(conn).set_index("agent_id").loc["A1"]
    assert a1.mean_score == 100.0 and a1.banned_phrases_pass_rate == 1.0 and a1.flagged_calls == 0


def test_flagged_table_is_worst_first_with_reasons(conn):
    flagged = flagged_table(conn)
    assert list(flagged["call_id"]) == ["c4", "c1", "c3"]  # unscored first, then by score
    assert flagged.loc[1, "reasons"] == "score 70 below 80"
    assert flagged.loc[1, "failed_checks"] == "banned_phrases"
    assert flagged.loc[2, "reasons"] == "employee_id: missing"
    assert flagged.loc[0, "error"] == "decode failed: not an audio file"


def test_reports_are_written_and_reviewed_calls_exported(conn, batch, tmp_path):
    fingerprint = batch[0].checks["banned_phrases"].findings[1].fingerprint
    record_decision(conn, "c1", "dismiss", "ann", fingerprint=fingerprint, comment="customer's words")
    record_decision(conn, "c1", "reviewed", "ann")
    paths = write_reports(conn, tmp_path / "out")
    assert sorted(paths) == ["agents.csv", "appeals.csv", "calls.csv", "decisions.csv", "flagged.csv", "reviewed.csv"]
    reviewed = pd.read_csv(paths["reviewed.csv"], encoding="utf-8-sig")
    assert list(reviewed["call_id"]) == ["c1"]
    row = reviewed.iloc[0]
    assert (row.machine_score, row.score, row.reviewed_by, row.dismissed, row.confirmed) == (70.0, 80.0, "ann", 1, 0)
    assert row.decisions == "dismiss banned_phrases 「真的不行」 by ann: customer's words"
    agents = pd.read_csv(paths["agents.csv"], encoding="utf-8-sig", dtype={"agent_id": str})
    assert agents.loc[agents.agent_id == "A1", "reviewed_calls"].item() == 1
    assert len(reviewed_table(conn)) == 1


def test_calls_jsonl_follows_the_schema(tmp_path, batch):
    path = write_calls_jsonl(tmp_path / "calls.jsonl", batch)
    rows = read_calls_jsonl(path)
    assert [r["call_id"] for r in rows] == ["c1", "c2", "c3", "c4"]
    for row in rows:
        assert schema_errors(row) == [], row["call_id"]
    assert set(rows[0]) == {"call_id", "file", "agent_id", "agent_name", "duration_s", "score", "flagged",
                            "flag_reasons", "error", "transcript", "checks"}  # fmt: skip
    finding = rows[0]["checks"]["banned_phrases"]["findings"][0]
    assert finding["phrase"] == "不行" and finding["fingerprint"] and finding["text"] == "这个不行"
    assert rows[0]["transcript"][0] == {"role": "agent", "start": 0.0, "end": 1.5, "text": "您好，工号8023",
                                        "raw_text": "您好，工號八零二三", "confidence": 0.9, "role_confidence": 1.0}  # fmt: skip
    assert rows[3]["score"] is None and rows[3]["checks"] == {} and rows[3]["error"]


def test_schema_rejects_broken_objects(batch):
    good = batch[0].to_json()
    assert schema_errors({**good, "score": 130}) != []
    assert schema_errors({**good, "error": "x"}) != []  # an error with a score contradicts itself
    no_status = json.loads(json.dumps(good))
    del no_status["checks"]["employee_id"]["status"]
    assert any("status" in e for e in schema_errors(no_status))
    no_phrase = json.loads(json.dumps(good))
    del no_phrase["checks"]["banned_phrases"]["findings"][0]["phrase"]
    assert any("phrase" in e for e in schema_errors(no_phrase))


def test_agents_csv_averages_how_each_agent_sounds(tmp_path):
    from callqa.reports.tables import agents_table

    calls = []
    for call_id, cpm, cuts, dead in (("s1", 280, 0, 0.0), ("s2", 320, 2, 9.0)):
        call = make_call(call_id, "A1", [])
        call.checks["speech_rate"] = CheckResult("speech_rate", True, 0.0, extra={"agent_cpm": cpm})
        call.checks["interruptions"] = CheckResult("interruptions", cuts == 0, 0.0, extra={"count": cuts})
        call.checks["silence"] = CheckResult("silence", dead == 0, 0.0, extra={"total_s": dead})
        calls.append(call)
    conn = open_db(tmp_path / "callqa.sqlite")
    save_calls(conn, calls, "[scorecard]\n", FLAG_BELOW)
    row = agents_table(conn).iloc[0]
    assert (row["mean_agent_cpm"], row["interruptions_per_call"], row["dead_air_s_per_call"]) == (300.0, 1.0, 4.5)
