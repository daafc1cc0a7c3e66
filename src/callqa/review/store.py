"""What the review pages read from the results database, as plain types.

This module only reads; decisions are written by reports/db.py (record_decision).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..asr.transcript import PromptEcho
from ..checks.base import CheckResult
from ..reports import tables


# The finding decision in force (latest confirm/dismiss), for a findings row aliased f.
FINDING_DECISION_SQL = ("(SELECT d.decision FROM decisions d WHERE d.call_id = f.call_id AND d.fingerprint = f.fingerprint "
                        "AND d.decision IN ('confirm', 'dismiss') ORDER BY d.id DESC LIMIT 1)")
# A call still waiting for a person (calls table aliased c): a finding the checks left to listening that no reviewer
# has confirmed or dismissed yet, or, in a call not yet marked reviewed, a check left to listening with no finding
# to decide on. Settled calls leave the queue's "needs listening" and the dashboard's count.
NEEDS_LISTENING_SQL = (
    "(EXISTS (SELECT 1 FROM findings f WHERE f.call_id = c.call_id AND json_extract(f.extra, '$.needs_listening') = 1 "
    f"AND {FINDING_DECISION_SQL} IS NULL) "
    "OR (c.reviewed = 0 AND EXISTS (SELECT 1 FROM json_each(c.checks) j "
    "WHERE json_extract(j.value, '$.needs_listening') = 1 "
    "AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.call_id = c.call_id AND f.check_id = j.key))))"
)


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
    batch_id: int | None = None
    recorded_at: str | None = None  # when recorded, if the scorer knew; pages fall back to scored_at
    sampled: bool = False  # drawn for human scoring (review/sampling.py)
    # where Whisper wrote its prompt back (asr/echoes.py): the page sends a listener there
    prompt_echoes: list[PromptEcho] = field(default_factory=list)


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
    reason: str | None = None  # why a finding was dismissed (review/reasons.py)


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
    listening: int = 0  # calls with a check or finding left to listening and not settled yet


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
        batch_id=_column(row, "batch_id"),
        recorded_at=_column(row, "recorded_at"),
        sampled=bool(_column(row, "sampled")),
        prompt_echoes=_echo_stretches(_load_json(_column(row, "prompt_echoes"), [])),
    )


def _echo_stretches(echoes: Any) -> list[PromptEcho]:
    """The stored prompt echoes; anything malformed is left out rather than failing the page."""
    out = []
    for e in echoes if isinstance(echoes, list) else []:
        try:
            out.append(PromptEcho(str(e["role"]), float(e["start"]), float(e["end"]), str(e.get("text", ""))))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def _column(row: sqlite3.Row, name: str) -> Any:
    return row[name] if name in row.keys() else None


def select(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [r if isinstance(r, sqlite3.Row) else dict(zip(names, r)) for r in cur.fetchall()]


def get_call(conn: sqlite3.Connection, call_id: str) -> CallRecord | None:
    rows = select(
        conn,
        "SELECT c.*, b.input_root, EXISTS (SELECT 1 FROM samples s WHERE s.call_id = c.call_id) AS sampled "
        "FROM calls c LEFT JOIN batches b ON b.batch_id = c.batch_id WHERE c.call_id = ?",
        (call_id,),
    )
    return _record(rows[0]) if rows else None


def decision_history(conn: sqlite3.Connection, call_id: str) -> list[Decision]:
    """Every action on a call, newest first (the audit trail)."""
    rows = select(conn, "SELECT * FROM decisions WHERE call_id = ? ORDER BY id DESC", (call_id,))
    return [Decision(**dict(r)) for r in rows]


def latest_finding_decisions(conn: sqlite3.Connection, call_id: str | None = None) -> dict[tuple[str, str], Decision]:
    """The decision in force per (call_id, fingerprint): the latest row wins."""
    where = "WHERE fingerprint IS NOT NULL" + (" AND call_id = ?" if call_id is not None else "")
    params = (call_id,) if call_id is not None else ()
    rows = select(
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
    ids = tables.frame_check_ids(frame)
    agents = tables.agents_table(conn, frame).astype(object)
    agents = agents.where(agents.notna(), None)
    live: Counter = Counter()
    dismissed: Counter = Counter()
    for row in select(
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
        decisions=select(conn, "SELECT COUNT(*) AS n FROM decisions")[0]["n"],
        listening=select(conn, f"SELECT COUNT(*) AS n FROM calls c WHERE {NEEDS_LISTENING_SQL}")[0]["n"],
    )


def agent_ids(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    rows = select(conn, "SELECT agent_id, MAX(agent_name) AS name FROM calls WHERE agent_id IS NOT NULL "
                       "GROUP BY agent_id ORDER BY agent_id")
    return [(r["agent_id"], r["name"] or "") for r in rows]


def batch_ids(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """(batch id, when it was scored), newest first: the queue's batch filter."""
    return [(r["batch_id"], r["scored_at"]) for r in select(conn, "SELECT batch_id, scored_at FROM batches ORDER BY batch_id DESC")]


def check_verdicts(conn: sqlite3.Connection, call_id: str) -> dict[str, dict[str, Any]]:
    """check id -> the latest verdict a reviewer gave on it ({verdict, reviewer, decided_at})."""
    found = select(conn, "SELECT check_id, verdict, reviewer, decided_at FROM check_verdicts WHERE call_id = ? "
                         "ORDER BY id", (call_id,))
    return {r["check_id"]: dict(r) for r in found}
