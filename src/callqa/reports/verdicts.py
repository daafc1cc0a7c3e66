"""Each call's check verdicts after reviewers' decisions, derived from its stored results and kept between requests.

The review server builds the calls frame (reports.tables.calls_frame) on every dashboard and agent page, and
parsing every call's stored checks and scoring them under the decisions in force was most of its cost, growing
with every call kept (bench/dashboard.py). What a call's verdicts are derived from changes only when it is scored
again or a decision is recorded on it, so each call's derivation is kept, per database file, with the facts it was
derived from, and used again only while they are all unchanged:

- the call's scoring: ``scored_at`` and ``batch_id`` (re-scoring sets both), its ``error``, and the length of its
  stored checks;
- the flag threshold it is scored against (its batch's);
- the latest confirm/dismiss decision on its findings: decisions are append-only, so a new one changes it.

An in-memory database (no file) keeps nothing.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .db import decisions_by_call, flags_below, latest_decision_ids, outcome_from

__all__ = ["CallVerdicts", "call_verdicts"]

CALL_FIGURES = {  # per-call figures the checks measure: name -> (check id, key of its result)
    "agent_cpm": ("speech_rate", "agent_cpm"),
    "interruptions": ("interruptions", "count"),
    "dead_air_s": ("silence", "total_s"),
}
_KEPT_DATABASES = 8  # a server reads one; tests and tools open many
_CHUNK = 500  # call ids per IN (...) query


@dataclass(frozen=True)
class CallVerdicts:
    """One call's checks after decisions: the verdicts (True / False / None), deductions, figures."""

    check_ids: tuple[str, ...]  # in the order the checks ran
    passed: dict[str, bool | None]
    deducted: dict[str, float | None]  # None for a check the call has no result for
    given: int  # verdicts given (not None)
    listening: int  # still without a verdict and left to a person by the checks
    figures: dict[str, float | None]


@dataclass
class _Kept:
    """One database file's kept derivations; a request holds the lock while it reads and refreshes them."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    calls: dict[str, tuple[tuple, CallVerdicts]] = field(default_factory=dict)  # call id -> (version, verdicts)


_kept: OrderedDict[str, _Kept] = OrderedDict()
_kept_lock = threading.Lock()


def call_verdicts(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[CallVerdicts]:
    """The verdicts of each call in ``rows`` (calls rows with call_id, scored_at, batch_id, error and
    checks_size = length(checks)), in their order; only calls whose facts changed are derived again."""
    flags, marks = flags_below(conn), latest_decision_ids(conn)
    versions = {row["call_id"]: (row["scored_at"], row["batch_id"], row["error"], row["checks_size"],
                                 flags.get(row["call_id"]), marks.get(row["call_id"])) for row in rows}
    kept = _kept_for(conn)
    with kept.lock:
        calls = kept.calls
        stale = [call_id for call_id, version in versions.items() if calls.get(call_id, (None,))[0] != version]
        decisions = decisions_by_call(conn) if stale else {}
        for at in range(0, len(stale), _CHUNK):
            chunk = stale[at : at + _CHUNK]
            for row in conn.execute(f"SELECT call_id, error, checks FROM calls WHERE call_id IN "
                                    f"({', '.join('?' * len(chunk))})", chunk):
                call_id = row["call_id"]
                derived = _derive(json.loads(row["checks"] or "{}"), flags.get(call_id), decisions.get(call_id, {}),
                                  row["error"])
                calls[call_id] = (versions[call_id], derived)
        for call_id in set(calls) - set(versions):  # calls no longer in the database
            del calls[call_id]
        return [calls[row["call_id"]][1] for row in rows]


def _derive(checks: dict[str, Any], flag_below: float | None, decisions: dict[str, str],
            error: str | None) -> CallVerdicts:
    outcome = outcome_from(checks, flag_below, decisions, error)
    return CallVerdicts(
        check_ids=tuple(checks),
        passed={check_id: outcome.passed.get(check_id) for check_id in checks},
        deducted={check_id: outcome.deductions.get(check_id) for check_id in checks},
        given=sum(v is not None for v in outcome.passed.values()),
        listening=sum(outcome.passed.get(c) is None and bool(r.get("needs_listening")) for c, r in checks.items()),
        figures={name: (checks.get(check_id) or {}).get(key) for name, (check_id, key) in CALL_FIGURES.items()},
    )


def _kept_for(conn: sqlite3.Connection) -> _Kept:
    """The kept derivations of this connection's database file (fresh ones, kept nowhere, for an in-memory one)."""
    path = next((row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main"), "")
    if not path:
        return _Kept()
    with _kept_lock:
        kept = _kept.setdefault(path, _Kept())
        _kept.move_to_end(path)
        while len(_kept) > _KEPT_DATABASES:
            _kept.popitem(last=False)
    return kept
