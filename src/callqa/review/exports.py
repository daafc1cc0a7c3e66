"""Keep the batch's CSV reports in step with reviewers' decisions.

agents.csv, flagged.csv and reviewed.csv are rewritten from the database
after every decision (reports.tables builds them), so a supervisor who opens
the files sees the reviewed scores, not the machine's.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from ..reports.tables import reviewed_table, write_reports

log = logging.getLogger(__name__)

# Two reviewers' requests finish at once: let one write the files at a time,
# or the two pandas writers would interleave their rows in one file.
_write_lock = threading.Lock()


def refresh_exports(conn: sqlite3.Connection, out_dir: Path) -> dict[str, Path]:
    """Rewrite the batch's CSV reports; a read-only batch directory is logged, not fatal."""
    with _write_lock:
        try:
            return write_reports(conn, out_dir)
        except OSError as e:
            log.warning("could not update the CSV reports in %s: %s", out_dir, e)
            return {}


def reviewed_calls_csv(conn: sqlite3.Connection) -> str:
    """The reviewed calls with their decisions, as CSV text (the same table as reviewed.csv)."""
    return reviewed_table(conn).to_csv(index=False)
