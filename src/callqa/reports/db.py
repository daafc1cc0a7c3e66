"""The SQLite results database: calls, findings, transcripts and reviewers' decisions.

One file per output directory (``DIR/callqa.sqlite``). `callqa score` writes
calls and findings; the review app appends decisions and recomputes scores
with :func:`recompute_call`. Decisions are never deleted: re-scoring a batch
replaces a call's findings and then re-applies the decisions whose finding
(same fingerprint) still exists, so a reviewer's work survives a new scorecard
or a new transcript.

Connections are opened in autocommit mode; writes go through
:func:`transaction` (``BEGIN IMMEDIATE``), so two writers queue on the
busy timeout instead of failing with "database is locked".
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..checks.base import CheckResult
from ..errors import UnavailableError
from ..scoring.outcome import ScoreOutcome, compute_outcome

if TYPE_CHECKING:  # only the attributes are used; keeps the DB layer free of the checks registry
    from ..scoring.score import CallScore

DB_FILENAME = "callqa.sqlite"
SCHEMA_VERSION = "4"  # 2: batches, calls.batch_id; 3: batches.input_root, calls.audio_sha256;
# 4: calls.recorded_at, decisions.reason, appeals, samples, check_verdicts; calls.prompt_echoes came later without
# a new version: its readers take a missing column as none, so a read-only version-4 file still opens.
# Columns added after the first schema, by table: (column, SQL type). _migrate adds them to older files.
_ADDED_COLUMNS = {
    "calls": (("batch_id", "INTEGER REFERENCES batches(batch_id)"), ("audio_sha256", "TEXT"), ("recorded_at", "TEXT"),
              ("prompt_echoes", "TEXT NOT NULL DEFAULT '[]'")),
    "batches": (("input_root", "TEXT"),),
    "decisions": (("reason", "TEXT"),),
}
# Indexes over added columns: made once the columns exist (schema.sql runs before _migrate).
_ADDED_INDEXES = ("CREATE INDEX IF NOT EXISTS calls_by_batch ON calls(batch_id)",)
BUSY_TIMEOUT_S = 30.0  # a reviewer's write waits this long for another's to finish

FINDING_DECISIONS = ("confirm", "dismiss")
CALL_DECISIONS = ("reviewed", "reopen")


def db_path(out_dir: str | Path) -> Path:
    """Where a scored batch directory keeps its database."""
    return Path(out_dir) / DB_FILENAME


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _schema_sql() -> str:
    return resources.files("callqa.reports").joinpath("schema.sql").read_text(encoding="utf-8")


def is_writable(path: str | Path) -> bool:
    """Whether a results database can be written: the file and its folder (SQLite writes a journal beside it)."""
    path = Path(path)
    return os.access(path.parent, os.W_OK | os.X_OK) and (not path.exists() or os.access(path, os.W_OK))


def open_db(path: str | Path, read_only: bool = False) -> sqlite3.Connection:
    """Open (creating if needed) a results database, ready for concurrent use.

    Rows come back as :class:`sqlite3.Row` (index by column name).
    ``read_only`` opens an existing database without writing anything (a batch
    folder on a read-only disk, or one the user may not write to); in a folder
    nobody can write to it is read as immutable, since no writer can change it.
    """
    path = Path(path)
    if read_only:
        return _open_read_only(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    # WAL: readers (the review app's pages) never block the writer, nor it them.
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(_schema_sql())
    _migrate(conn)
    return conn


def _open_read_only(path: Path) -> sqlite3.Connection:
    from urllib.parse import quote

    immutable = "&immutable=1" if not os.access(path.parent, os.W_OK) else ""
    conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro{immutable}", uri=True,
                           timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.row_factory = sqlite3.Row
    if get_meta(conn, "schema_version") != SCHEMA_VERSION:
        conn.close()
        raise UnavailableError(
            f"{path}: written by another version of callqa (schema {SCHEMA_VERSION} needed) and it can't be "
            "upgraded read-only; open it once from a writable folder, or re-score the batch"
        )
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a database made by an older callqa up to the current schema."""
    missing = [
        (table, column, kind)
        for table, added in _ADDED_COLUMNS.items()
        for column, kind in added
        if column not in {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
    ]
    if not missing and get_meta(conn, "schema_version") == SCHEMA_VERSION:
        return  # the usual case: no write, so opening never waits on a busy writer
    with transaction(conn):
        for table, column, kind in missing:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        for statement in _ADDED_INDEXES:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (SCHEMA_VERSION,),
        )


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction, taken up front (``BEGIN IMMEDIATE``) so that two
    writers wait on the busy timeout rather than deadlock after reading.
    Nested use joins the outer transaction."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row["value"]


def _set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def _flag_below_for(conn: sqlite3.Connection, call_id: str) -> float | None:
    """The flag threshold the call was scored with: its batch's, else the latest one."""
    return flags_below(conn, call_id).get(call_id, _latest_flag_below(conn))


def flags_below(conn: sqlite3.Connection, call_id: str | None = None) -> dict[str, float | None]:
    """call id -> the flag threshold it was scored with (its batch's, else the latest one); every call, or one."""
    where, args = ("WHERE c.call_id = ?", (call_id,)) if call_id is not None else ("", ())
    rows = conn.execute("SELECT c.call_id, b.flag_below, b.batch_id FROM calls c "
                        f"LEFT JOIN batches b ON b.batch_id = c.batch_id {where}", args).fetchall()
    latest = _latest_flag_below(conn) if any(row["batch_id"] is None for row in rows) else None
    return {row["call_id"]: row["flag_below"] if row["batch_id"] is not None else latest for row in rows}


def _latest_flag_below(conn: sqlite3.Connection) -> float | None:
    value = get_meta(conn, "flag_below")
    return None if value is None else json.loads(value)


def save_calls(
    conn: sqlite3.Connection,
    calls: Iterable["CallScore"],
    scorecard_text: str,
    flag_below: float | None,
    source: str | None = None,
    input_root: str | Path | None = None,
) -> int:
    """Store a scored batch in one transaction and return its batch id.

    Calls are upserted by ``call_id`` (calls of earlier batches stay), their
    findings replaced, and earlier decisions re-applied to findings that still
    exist. Review state (reviewed, by whom, when) is kept. ``input_root`` is the
    folder the recordings were read from (audio.inputs.input_root): the review
    app serves audio only from inside it; None serves none.
    """
    calls = list(calls)
    now = utc_now()
    root = None if input_root is None else str(input_root)
    with transaction(conn):
        cursor = conn.execute(
            "INSERT INTO batches(scored_at, source, input_root, scorecard, flag_below, calls) VALUES (?, ?, ?, ?, ?, ?)",
            (now, source, root, scorecard_text, flag_below, len(calls)),
        )
        batch_id = int(cursor.lastrowid)
        _set_meta(conn, "scorecard", scorecard_text)
        _set_meta(conn, "flag_below", json.dumps(flag_below))
        _set_meta(conn, "last_batch_id", str(batch_id))
        for call in calls:
            _upsert_call(conn, call, batch_id, now)
        for call in calls:
            recompute_call(conn, call.call_id)
    return batch_id


def _call_row(call: "CallScore", batch_id: int, now: str) -> dict[str, Any]:
    """The calls table's columns for a scored call (review state is left as it is)."""
    return {
        "call_id": call.call_id,
        "file": call.file,
        "audio_path": None if call.audio_path is None else str(call.audio_path),
        "audio_sha256": call.audio_sha256,
        "agent_id": call.agent_id,
        "agent_name": call.agent_name,
        "duration_s": call.duration_s,
        "machine_score": call.score,
        "score": call.score,
        "flagged": int(call.flagged),
        "flag_reasons": json.dumps(call.flag_reasons, ensure_ascii=False),
        "error": call.error,
        "transcript": json.dumps([_utterance_dict(u) for u in call.transcript], ensure_ascii=False),
        "checks": json.dumps({cid: result.to_dict() for cid, result in call.checks.items()}, ensure_ascii=False),
        "scored_at": now,
        "batch_id": batch_id,
        "recorded_at": _recorded_at(call),
        "prompt_echoes": json.dumps([asdict(e) for e in getattr(call, "prompt_echoes", [])], ensure_ascii=False),
    }


def _recorded_at(call: "CallScore") -> str | None:
    """When the call was recorded, as ISO text, if the scorer knew (``CallScore.recorded_at``:
    the manifest's ``recorded_at`` column, else the file's mtime). Pages fall back to ``scored_at``."""
    value = getattr(call, "recorded_at", None)
    if value is None:
        return None
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else str(value)


def _upsert_call(conn: sqlite3.Connection, call: "CallScore", batch_id: int, now: str) -> None:
    row = _call_row(call, batch_id, now)
    updates = ", ".join(f"{column} = excluded.{column}" for column in row if column != "call_id")
    conn.execute(
        f"INSERT INTO calls({', '.join(row)}) VALUES ({', '.join('?' * len(row))}) "
        f"ON CONFLICT(call_id) DO UPDATE SET {updates}",
        tuple(row.values()),
    )
    _replace_findings(conn, call)


def _replace_findings(conn: sqlite3.Connection, call: "CallScore") -> None:
    conn.execute("DELETE FROM findings WHERE call_id = ?", (call.call_id,))
    rows = [
        (
            call.call_id, check_id, finding.fingerprint, finding.utterance, finding.start, finding.end, finding.role,
            finding.text, finding.detail, finding.deduction, int(result.critical), int(finding.low_confidence),
            json.dumps(finding.extra, ensure_ascii=False),
        )
        for check_id, result in call.checks.items()
        for finding in result.findings
    ]  # fmt: skip
    conn.executemany(
        """
        INSERT INTO findings(call_id, check_id, fingerprint, utterance, start, "end", role, text, detail,
                             deduction, critical, low_confidence, extra)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        rows,
    )


def _utterance_dict(utterance: Any) -> dict[str, Any]:
    return utterance if isinstance(utterance, dict) else asdict(utterance)


def finding_decisions(conn: sqlite3.Connection, call_id: str) -> dict[str, str]:
    """fingerprint -> the confirm/dismiss decision in force (the latest)."""
    return decisions_by_call(conn, call_id).get(call_id, {})


def decisions_by_call(conn: sqlite3.Connection, call_id: str | None = None) -> dict[str, dict[str, str]]:
    """call id -> fingerprint -> the confirm/dismiss decision in force (the latest); every call, or one."""
    where, args = ("AND call_id = ?", (call_id,)) if call_id is not None else ("", ())
    latest: dict[str, dict[str, str]] = {}
    for row in conn.execute(
        "SELECT call_id, fingerprint, decision FROM decisions WHERE fingerprint IS NOT NULL "
        f"AND decision IN ('confirm', 'dismiss') {where} ORDER BY id",
        args,
    ):
        latest.setdefault(row["call_id"], {})[row["fingerprint"]] = row["decision"]
    return latest


def latest_decision_ids(conn: sqlite3.Connection) -> dict[str, int]:
    """call id -> the id of the latest confirm/dismiss decision on its findings (decisions_by_call's rows): it
    changes whenever a decision in force may have, since decisions are only ever appended."""
    return dict(conn.execute("SELECT call_id, MAX(id) FROM decisions WHERE fingerprint IS NOT NULL "
                             "AND decision IN ('confirm', 'dismiss') GROUP BY call_id").fetchall())


def dismissed_fingerprints(conn: sqlite3.Connection, call_id: str) -> set[str]:
    """Fingerprints whose latest confirm/dismiss decision is 'dismiss'."""
    return {fp for fp, decision in finding_decisions(conn, call_id).items() if decision == "dismiss"}


def load_check_results(conn: sqlite3.Connection, call_id: str) -> dict[str, CheckResult]:
    row = conn.execute("SELECT checks FROM calls WHERE call_id = ?", (call_id,)).fetchone()
    if row is None:
        raise KeyError(f"no call {call_id!r} in the results database")
    return _check_results(row["checks"])


def _check_results(checks_json: str) -> dict[str, CheckResult]:
    return _results_of(json.loads(checks_json))


def _results_of(checks: dict[str, Any]) -> dict[str, CheckResult]:
    return {check_id: CheckResult.from_dict(check_id, data) for check_id, data in checks.items()}


def call_outcome(conn: sqlite3.Connection, call_id: str) -> ScoreOutcome:
    """The call's outcome under the decisions in force, without writing anything.

    Its ``passed`` gives each check's verdict after dismissals (reports use it).
    """
    row = conn.execute("SELECT error, checks FROM calls WHERE call_id = ?", (call_id,)).fetchone()
    if row is None:
        raise KeyError(f"no call {call_id!r} in the results database")
    return outcome_from(json.loads(row["checks"]), _flag_below_for(conn, call_id), finding_decisions(conn, call_id),
                        row["error"])


def outcome_from(checks: dict[str, Any], flag_below: float | None, decisions: dict[str, str],
                 error: str | None) -> ScoreOutcome:
    """A call's outcome from its stored check results (``calls.checks``, parsed) under ``decisions``
    (fingerprint -> confirm/dismiss): call_outcome for one call, reports.tables for all at once."""
    return compute_outcome(
        _results_of(checks),
        flag_below,
        dismissed={fp for fp, d in decisions.items() if d == "dismiss"},
        error=error,
        confirmed={fp for fp, d in decisions.items() if d == "confirm"},
    )


def recompute_call(conn: sqlite3.Connection, call_id: str) -> ScoreOutcome:
    """Re-score a call from its stored check results and the decisions in force.

    ``machine_score`` is left as scored; ``score``, ``flagged`` and
    ``flag_reasons`` follow the reviewers' decisions.
    """
    with transaction(conn):
        outcome = call_outcome(conn, call_id)
        conn.execute(
            "UPDATE calls SET score = ?, flagged = ?, flag_reasons = ? WHERE call_id = ?",
            (outcome.score, int(outcome.flagged), json.dumps(outcome.flag_reasons, ensure_ascii=False), call_id),
        )
    return outcome


def record_decision(
    conn: sqlite3.Connection,
    call_id: str,
    decision: str,
    reviewer: str,
    fingerprint: str | None = None,
    comment: str | None = None,
    reason: str | None = None,
) -> ScoreOutcome:
    """Append a reviewer's decision and bring the call's score up to date, atomically.

    'confirm'/'dismiss' need the fingerprint of one of the call's findings;
    'reviewed'/'reopen' are call-level and set or clear the reviewed mark.
    ``reason`` says why a finding was dismissed (the review app requires one).
    """
    if decision not in FINDING_DECISIONS + CALL_DECISIONS:
        raise ValueError(f"unknown decision {decision!r}; valid: {', '.join(FINDING_DECISIONS + CALL_DECISIONS)}")
    if not reviewer.strip():
        raise ValueError("a decision needs the reviewer's name")
    now = utc_now()
    with transaction(conn):
        check_id = None
        if decision in FINDING_DECISIONS:
            row = conn.execute(
                "SELECT check_id FROM findings WHERE call_id = ? AND fingerprint = ?", (call_id, fingerprint)
            ).fetchone()
            if row is None:
                raise KeyError(f"call {call_id!r} has no finding {fingerprint!r}")
            check_id = row["check_id"]
        elif conn.execute("SELECT 1 FROM calls WHERE call_id = ?", (call_id,)).fetchone() is None:
            raise KeyError(f"no call {call_id!r} in the results database")
        conn.execute(
            "INSERT INTO decisions(call_id, fingerprint, check_id, decision, reviewer, comment, decided_at, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (call_id, fingerprint if decision in FINDING_DECISIONS else None, check_id, decision, reviewer, comment, now,
             reason),
        )
        if decision == "reviewed":
            conn.execute(
                "UPDATE calls SET reviewed = 1, reviewed_by = ?, reviewed_at = ? WHERE call_id = ?",
                (reviewer, now, call_id),
            )
        elif decision == "reopen":
            conn.execute(
                "UPDATE calls SET reviewed = 0, reviewed_by = NULL, reviewed_at = NULL WHERE call_id = ?", (call_id,)
            )
        return recompute_call(conn, call_id)
