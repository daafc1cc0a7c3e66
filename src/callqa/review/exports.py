"""Keep the batch's CSV reports in step with reviewers' decisions.

agents.csv, flagged.csv, reviewed.csv, calls.csv, decisions.csv and appeals.csv are rewritten from the database
(reports.tables builds them) after decisions, so a supervisor who opens the
files sees the reviewed scores, not the machine's.

Rebuilding them reads every call in the database (seconds for thousands of
calls), so it runs on a background thread: a decision returns at once, and
decisions made while a rewrite runs are folded into one more rewrite.
Files are replaced atomically, so a reader never sees half a CSV.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from ..reports.db import open_db
from ..reports.tables import csv_text, reviewed_table, write_reports

log = logging.getLogger(__name__)


class ReportRefresher:
    """Rewrites the reports after decisions, on one background thread, coalescing requests."""

    def __init__(self, db_path: Path, out_dir: Path, link_base: str = ""):
        self.db_path = db_path
        self.out_dir = out_dir
        self.link_base = link_base  # the app's address, for calls.csv's page links
        self._cond = threading.Condition()
        self._requested = 0  # generation asked for
        self._done = 0  # generation written (or given up on)
        self._worker: threading.Thread | None = None
        self.last_error: str | None = None

    def request(self) -> None:
        """Ask for a rewrite that includes everything committed so far."""
        with self._cond:
            self._requested += 1
            if self._worker is None:
                # Not a daemon: a server stopping mid-write finishes the file it is replacing.
                self._worker = threading.Thread(target=self._run, name="callqa-reports")
                self._worker.start()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every requested rewrite is done; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._done >= self._requested, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._done >= self._requested:
                    self._worker = None
                    self._cond.notify_all()
                    return
                generation = self._requested
            try:
                conn = open_db(self.db_path)
                try:
                    write_reports(conn, self.out_dir, self.link_base)  # each file replaced atomically
                finally:
                    conn.close()
                self.last_error = None
            except (OSError, sqlite3.Error) as e:  # e.g. a read-only batch directory: the pages still work
                self.last_error = str(e)
                log.warning("could not update the CSV reports in %s: %s", self.out_dir, e)
            with self._cond:
                self._done = generation
                self._cond.notify_all()


def reviewed_calls_csv(conn: sqlite3.Connection) -> str:
    """The reviewed calls with their decisions, as CSV text (the same table as reviewed.csv)."""
    return csv_text(reviewed_table(conn))
