"""`callqa report`: rewrite the CSV reports of a scored batch from its results database."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from .app import command, fail


@command("report")
def report_command(
    out: Path = typer.Argument(..., metavar="DIR", help="A directory written by `callqa score` (holds callqa.sqlite)."),
) -> None:
    """Regenerate agents.csv, flagged.csv and reviewed.csv, with reviewers' decisions applied."""
    from ..reports.db import db_path, open_db
    from ..reports.tables import write_reports
    from .score_cmd import print_summary

    database = db_path(out)
    if not database.is_file():
        raise fail(f"{database} not found; run `callqa score ... --out {out}` first")
    conn = open_db(database)
    try:
        reports = write_reports(conn, out)
        print_summary(Console(), conn, out, list(reports.values()))
    finally:
        conn.close()
