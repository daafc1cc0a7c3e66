"""The review queue as one SQL query: filters, sort order and a page, all done by SQLite.

A batch can hold tens of thousands of calls, so nothing here loads them all to
slice a page in Python: the filters are WHERE clauses, the sort an ORDER BY
from a fixed list, the page a LIMIT/OFFSET, and the total a COUNT(*) with the
same WHERE. The request's values only ever reach SQL as parameters.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .store import FINDING_DECISION_SQL as _LATEST
from .store import NEEDS_LISTENING_SQL, CallRecord, _record, select

__all__ = ["QueueFilter", "QueuePage", "queue_page", "SORTS", "PAGE_SIZES"]

PAGE_SIZES = (25, 50, 100, 200)
# sort key -> SQL expression; "recorded" falls back to when the call was scored (older batches lack it)
SORTS = {
    "score": "c.score", "machine": "c.machine_score", "recorded": "COALESCE(c.recorded_at, c.scored_at)",
    "agent": "c.agent_id", "duration": "c.duration_s", "call": "c.call_id",
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SHOWS = ("flagged", "all", "sampled", "errors")

# A finding that counts against its check now: not dismissed, and if left to listening, confirmed.
_LIVE = (f"COALESCE({_LATEST}, '') != 'dismiss' AND "
         f"(json_extract(f.extra, '$.needs_listening') IS NOT 1 OR {_LATEST} = 'confirm')")
_WORKED_ON = "(c.flagged = 1 OR c.reviewed = 1 OR c.call_id IN (SELECT call_id FROM decisions) " \
             "OR c.call_id IN (SELECT call_id FROM samples))"


def _float(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


@dataclass
class QueueFilter:
    agent: str = ""
    check: str = ""  # calls failing this check after decisions
    reviewed: str = ""  # "", "yes", "no"
    q: str = ""  # words to find in the transcript
    show: str = "flagged"  # SHOWS: flagged or worked on / all / sampled / could not be scored
    date_from: str = ""  # YYYY-MM-DD in the reviewers' zone: the call's recording date (else its scoring date)
    date_to: str = ""
    batch: str = ""
    score_min: str = ""
    score_max: str = ""
    listening: str = ""  # "1": only calls with a check or finding left to listening, not settled yet
    sort: str = "score"
    order: str = "asc"
    page: int = 1
    per_page: int = 50
    errors: list[str] = field(default_factory=list)  # values ignored, said on the page

    @classmethod
    def from_args(cls, args: Mapping[str, str], check_ids: list[str]) -> "QueueFilter":
        flt = cls(**{k: (args.get(k) or "").strip()[:100] for k in (
            "agent", "check", "reviewed", "q", "date_from", "date_to", "batch", "score_min", "score_max",
            "listening")})
        flt.show = args.get("show", "flagged") if args.get("show") in SHOWS else "flagged"
        flt.sort = args.get("sort", "score") if args.get("sort") in SORTS else "score"
        flt.order = "desc" if args.get("order") == "desc" else "asc"
        flt.page = max(1, _int(args.get("page", ""), 1))
        per_page = _int(args.get("per_page", ""), 50)
        flt.per_page = per_page if per_page in PAGE_SIZES else 50
        flt._validate(check_ids)
        return flt

    def _validate(self, check_ids: list[str]) -> None:
        if self.check and self.check not in check_ids:
            self.errors.append(self.check)
            self.check = ""
        for name in ("date_from", "date_to"):
            if getattr(self, name) and not _DATE.match(getattr(self, name)):
                self.errors.append(getattr(self, name))
                setattr(self, name, "")
        for name in ("score_min", "score_max", "batch"):
            if getattr(self, name) and _float(getattr(self, name)) is None:
                self.errors.append(getattr(self, name))
                setattr(self, name, "")

    def args(self, **changes: Any) -> dict[str, Any]:
        """The filter as query arguments (defaults left out), with ``changes``: links to other pages and sorts."""
        values = {**asdict(self), **changes}
        values.pop("errors")
        defaults = asdict(QueueFilter())
        return {k: v for k, v in values.items() if v != defaults[k] and v not in ("", None)}


@dataclass
class QueuePage:
    calls: list[CallRecord]
    total: int
    page: int
    pages: int
    per_page: int

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)


def _where(flt: QueueFilter) -> tuple[str, list[Any]]:
    clauses, params = ["1=1"], []

    def add(clause: str, *values: Any) -> None:
        clauses.append(clause)
        params.extend(values)

    if flt.show == "flagged":
        add(_WORKED_ON)
    elif flt.show == "sampled":
        add("c.call_id IN (SELECT call_id FROM samples)")
    elif flt.show == "errors":
        add("c.error IS NOT NULL")
    if flt.agent:
        add("c.agent_id = ?", flt.agent)
    if flt.reviewed in ("yes", "no"):
        add("c.reviewed = ?", 1 if flt.reviewed == "yes" else 0)
    if flt.batch:
        add("c.batch_id = ?", int(float(flt.batch)))
    if flt.date_from:
        add("local_day(COALESCE(c.recorded_at, c.scored_at)) >= ?", flt.date_from)
    if flt.date_to:
        add("local_day(COALESCE(c.recorded_at, c.scored_at)) <= ?", flt.date_to)
    if flt.score_min:
        add("c.score >= ?", float(flt.score_min))
    if flt.score_max:
        add("c.score <= ?", float(flt.score_max))
    if flt.listening == "1":
        add(NEEDS_LISTENING_SQL)
    if flt.check:
        add(_failed_check_sql(), flt.check, f'$."{flt.check}".passed', flt.check)
    if flt.q:
        # The transcript JSON is written with ensure_ascii=False, but an older writer may have escaped
        # non-ASCII text: look for both spellings.
        escaped = json.dumps(flt.q)[1:-1]
        add("(instr(c.transcript, ?) > 0 OR instr(c.transcript, ?) > 0)", flt.q, escaped)
    return " AND ".join(clauses), params


def _failed_check_sql() -> str:
    """A call failing the check after decisions: a live finding of it, or a failed verdict that has no findings."""
    return (f"(EXISTS (SELECT 1 FROM findings f WHERE f.call_id = c.call_id AND f.check_id = ? AND {_LIVE}) "
            "OR (json_extract(c.checks, ?) = 0 AND NOT EXISTS "
            "(SELECT 1 FROM findings f WHERE f.call_id = c.call_id AND f.check_id = ?)))")


def _order(flt: QueueFilter) -> str:
    expr = SORTS[flt.sort]
    direction = "DESC" if flt.order == "desc" else "ASC"
    # Unscored calls are the most urgent: first when sorting by score from the worst; otherwise NULLs last.
    nulls = "IS NOT NULL" if flt.sort == "score" and direction == "ASC" else "IS NULL"
    return f"{expr} {nulls}, {expr} {direction}, c.call_id"


def queue_page(conn: sqlite3.Connection, flt: QueueFilter) -> QueuePage:
    where, params = _where(flt)
    total = select(conn, f"SELECT COUNT(*) AS n FROM calls c WHERE {where}", tuple(params))[0]["n"]
    pages = max(1, -(-total // flt.per_page))
    page = min(flt.page, pages)
    # The list needs neither transcripts nor check JSON: leave them in the database.
    sql = (f"SELECT c.call_id, c.file, c.audio_path, c.audio_sha256, c.agent_id, c.agent_name, c.duration_s, "
           f"c.machine_score, c.score, c.flagged, c.flag_reasons, c.error, '[]' AS transcript, '{{}}' AS checks, "
           f"c.scored_at, c.reviewed, c.reviewed_by, c.reviewed_at, c.batch_id, c.recorded_at, "
           f"EXISTS (SELECT 1 FROM samples s WHERE s.call_id = c.call_id) AS sampled "
           f"FROM calls c WHERE {where} ORDER BY {_order(flt)} LIMIT ? OFFSET ?")
    found = select(conn, sql, (*params, flt.per_page, (page - 1) * flt.per_page))
    return QueuePage([_record(r) for r in found], total, page, pages, flt.per_page)
