"""Benchmark: what the review dashboard costs as the results database grows.

    .venv/bin/python bench/dashboard.py                          # out/samples/callqa.sqlite (make demo first)
    .venv/bin/python bench/dashboard.py --db RESULTS.sqlite --sizes 1000 10000

Copies a results database and grows it to each size with copies of its own calls (and their findings), then
times, in one run, the dashboard's data (`review.store.dashboard`): the first request of a server (every call's
verdicts derived from its stored checks, reports/verdicts.py), the next one (kept derivations used again), and one
right after a reviewer dismissed a finding (that call derived again); then the per-call frame behind it and every
report (`reports.tables.calls_frame`) warm, and for reference the same outcomes one call at a time through
`reports.db.call_outcome` (three queries and a parse a call). Prints seconds side by side; asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from callqa.reports import tables  # noqa: E402
from callqa.reports.db import call_outcome, record_decision  # noqa: E402
from callqa.review.store import dashboard  # noqa: E402


def grow(source: Path, target: Path, size: int) -> sqlite3.Connection:
    """``source`` copied to ``target`` and filled up to ``size`` calls with renamed copies of its calls."""
    shutil.copy(source, target)
    conn = sqlite3.connect(target)
    conn.row_factory = sqlite3.Row
    calls = conn.execute("SELECT * FROM calls").fetchall()
    findings = conn.execute("SELECT * FROM findings").fetchall()
    if not calls:
        raise SystemExit(f"{source}: no calls to copy")
    call_cols = list(calls[0].keys())
    finding_cols = [c for c in (findings[0].keys() if findings else []) if c != "id"]
    copy = 0
    while conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0] < size:
        copy += 1
        for row in calls:
            values = dict(row) | {"call_id": f"{row['call_id']}~{copy}"}
            conn.execute(f"INSERT INTO calls ({', '.join(call_cols)}) VALUES ({', '.join('?' * len(call_cols))})",
                         [values[c] for c in call_cols])
        for row in findings:
            values = dict(row) | {"call_id": f"{row['call_id']}~{copy}"}
            conn.execute(f'INSERT INTO findings ({", ".join(f"{c!r}" for c in finding_cols)}) '
                         f"VALUES ({', '.join('?' * len(finding_cols))})", [values[c] for c in finding_cols])
    conn.commit()
    return conn


def seconds(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=REPO / "out" / "samples" / "callqa.sqlite")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    args = parser.parse_args()
    if not args.db.is_file():
        raise SystemExit(f"{args.db}: no results database (run `make demo` first, or pass --db)")
    table = Table(title="Review dashboard: seconds per request")
    for column in ("calls", "first request", "next request", "after a decision", "calls_frame",
                   "call_outcome per call (reference)"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory(prefix="callqa_dashboard_") as tmp:
        for size in args.sizes:
            conn = grow(args.db, Path(tmp) / f"{size}.sqlite", size)
            calls = [row["call_id"] for row in conn.execute("SELECT call_id FROM calls")]
            first, following = seconds(lambda: dashboard(conn)), seconds(lambda: dashboard(conn))
            finding = conn.execute("SELECT call_id, fingerprint FROM findings LIMIT 1").fetchone()
            if finding is not None:
                record_decision(conn, finding["call_id"], "dismiss", "bench", finding["fingerprint"],
                                reason="asr_error")
            decided = seconds(lambda: dashboard(conn))
            table.add_row(f"{len(calls):,}", f"{first:.2f}", f"{following:.2f}", f"{decided:.2f}",
                          f"{seconds(lambda: tables.calls_frame(conn)):.2f}",
                          f"{seconds(lambda: [call_outcome(conn, c) for c in calls]):.2f}")
            conn.close()
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
