"""What the review pages read from the results database, as plain types.

This module only reads; decisions are written by reports/db.py (record_decision).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..checks.base import CheckResult
from ..reports import tables


@dataclass
class CallRecord:
    call_id: str
    file: str
    audio_path: str | None  # set only when the recording decoded as audio
    audio_sha256: str | None
    input_root: str | None  # the folder the call's batch read its recordings from
    agent_id: str | None
    agent_name: str | None
    duration_s: float | None
    machine_score: float | None
    score: float | None
    flagged: bool
    flag_reasons: list[str]
    error: str | None
    transcript: list[dict[str, Any]]
    checks: dict[str, CheckResult]
    scored_at: str
    reviewed: bool
    reviewed_by: str | None
    reviewed_at: str | None


@dataclass
class Decision:
    id: int
    call_id: str
    fingerprint: str | None
    check_id: str | None
    decision: str
    reviewer: str
    comment: str | None
    decided_at: str


@dataclass
class Dashboard:
    agents: list[dict[str, Any]]  # reports.tables.agents_table rows: the same figures as agents.csv
    check_ids: list[str]
    pass_rates: dict[str, float | None]  # per check over all calls, after decisions
    findings_live: Counter  # check id -> findings in force (not dismissed)
    findings_dismissed: Counter
    scores: list[float]
    calls: int
    flagged: int
    reviewed: int
    errors: int
    decisions: int


def _load_json(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return default


def _record(row: sqlite3.Row) -> CallRecord:
    checks = _load_json(row["checks"], {})
    return CallRecord(
        call_id=row["call_id"],
        file=row["file"],
        audio_path=row["audio_path"],
        audio_sha256=row["audio_sha256"],
        input_root=row["input_root"] if "input_root" in row.keys() else None,
        agent_id=row["agent_id"],
        agent_name=row["agent_name"],
        duration_s=row["duration_s"],
        machine_score=row["machine_score"],
        score=row["score"],
        flagged=bool(row["flagged"]),
        flag_reasons=_load_json(row["flag_reasons"], []),
        error=row["error"],
        transcript=_load_json(row["transcript"], []),
        checks={cid: CheckResult.from_dict(cid, data) for cid, data in checks.items() if isinstance(data, dict)},
        scored_at=row["scored_at"],
        reviewed=bool(row["reviewed"]),
        reviewed_by=row["reviewed_by"],
        reviewed_at=row["reviewed_at"],
    )


def _rows(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [r if isinstance(r, sqlite3.Row) else dict(zip(names, r)) for r in cur.fetchall()]


def get_call(conn: sqlite3.Connection, call_id: str) -> CallRecord | None:
    rows = _rows(
        conn,
        "SELECT c.*, b.input_root FROM calls c LEFT JOIN batches b ON b.batch_id = c.batch_id WHERE c.call_id = ?",
        (call_id,),
    )
    return _record(rows[0]) if rows else None


def decision_history(conn: sqlite3.Connection, call_id: str) -> list[Decision]:
    """Every action on a call, newest first (the audit trail)."""
    rows = _rows(conn, "SELECT * FROM decisions WHERE call_id = ? ORDER BY id DESC", (call_id,))
    return [Decision(**dict(r)) for r in rows]


def latest_finding_decisions(conn: sqlite3.Connection, call_id: str | None = None) -> dict[tuple[str, str], Decision]:
    """The decision in force per (call_id, fingerprint): the latest row wins."""
    where = "WHERE fingerprint IS NOT NULL" + (" AND call_id = ?" if call_id is not None else "")
    params = (call_id,) if call_id is not None else ()
    rows = _rows(
        conn,
        f"SELECT * FROM decisions WHERE id IN (SELECT MAX(id) FROM decisions {where} GROUP BY call_id, fingerprint)",
        params,
    )
    return {(r["call_id"], r["fingerprint"]): Decision(**dict(r)) for r in rows}


def _rate(verdicts: list[bool]) -> float | None:
    return sum(bool(v) for v in verdicts) / len(verdicts) if verdicts else None


def dashboard(conn: sqlite3.Connection) -> Dashboard:
    """Per-agent figures (as in agents.csv), pass rates and finding counts per check, after decisions."""
    frame = tables.calls_frame(conn)
    ids = tables.check_ids(conn)
    agents = tables.agents_table(conn, frame).astype(object)
    agents = agents.where(agents.notna(), None)
    live: Counter = Counter()
    dismissed: Counter = Counter()
    for row in _rows(
        conn,
        """
        SELECT f.check_id, d.decision FROM findings f
        LEFT JOIN decisions d ON d.id = (SELECT MAX(id) FROM decisions
                                         WHERE call_id = f.call_id AND fingerprint = f.fingerprint)
        """,
    ):
        (dismissed if row["decision"] == "dismiss" else live)[row["check_id"]] += 1
    return Dashboard(
        agents=agents.to_dict("records"),
        check_ids=ids,
        pass_rates={c: _rate(frame[f"passed_{c}"].dropna().tolist()) for c in ids},
        findings_live=live,
        findings_dismissed=dismissed,
        scores=[float(s) for s in frame["score"].dropna()],
        calls=len(frame),
        flagged=int(frame["flagged"].sum()),
        reviewed=int(frame["reviewed"].sum()),
        errors=int(frame["error"].notna().sum()),
        decisions=_rows(conn, "SELECT COUNT(*) AS n FROM decisions")[0]["n"],
    )


@dataclass
class QueueFilter:
    agent: str = ""
    check: str = ""
    reviewed: str = ""  # "", "yes", "no"
    q: str = ""  # words to find in the transcript
    show: str = "flagged"  # "flagged" or "all"


def queue(conn: sqlite3.Connection, flt: QueueFilter) -> list[CallRecord]:
    """Calls to review, worst first: unscorable calls, then by ascending score."""
    sql = "SELECT * FROM calls WHERE 1=1"
    params: list[Any] = []
    if flt.show != "all":
        # Flagged now, or already worked on: dismissing the only false hit unflags a call,
        # and it must not vanish from the reviewer's list.
        sql += " AND (flagged = 1 OR reviewed = 1 OR call_id IN (SELECT call_id FROM decisions))"
    if flt.agent:
        sql += " AND agent_id = ?"
        params.append(flt.agent)
    if flt.reviewed in ("yes", "no"):
        sql += " AND reviewed = ?"
        params.append(1 if flt.reviewed == "yes" else 0)
    sql += " ORDER BY score IS NOT NULL, score ASC, call_id"
    calls = [_record(r) for r in _rows(conn, sql, tuple(params))]
    if flt.check:
        calls = [c for c in calls if flt.check in c.checks and c.checks[flt.check].passed is False]
    if flt.q:
        # Searched in Python: the transcript JSON may escape non-ASCII text.
        needle = flt.q.strip()
        calls = [
            c for c in calls
            if any(needle in (u.get("text") or "") or needle in (u.get("raw_text") or "") for u in c.transcript)
        ]
    return calls


def agent_ids(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    rows = _rows(conn, "SELECT agent_id, MAX(agent_name) AS name FROM calls WHERE agent_id IS NOT NULL "
                       "GROUP BY agent_id ORDER BY agent_id")
    return [(r["agent_id"], r["name"] or "") for r in rows]
