"""The CSV reports, served: the same tables reports/tables.py writes beside the database,
built fresh from it (so they include the decision made a second ago), spreadsheet-safe."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from ..reports import tables
from .db import get_db

bp = Blueprint("downloads", __name__)

# file name -> how to build it from a connection (and the frame of all calls, when it needs one)
_TABLES = {
    "reviewed": lambda conn: tables.reviewed_table(conn),
    "agents": lambda conn: tables.agents_table(conn),
    "flagged": lambda conn: tables.flagged_table(conn),
    "calls": lambda conn: tables.calls_table(conn, link_base=request.host_url),
    "decisions": tables.decisions_table,
    "appeals": tables.appeals_table,
}


@bp.route("/export/<name>.csv")
def export(name: str):
    build = _TABLES.get(name)
    if build is None:
        abort(404)
    text = tables.csv_text(build(get_db()))
    return Response(text.encode(tables.CSV_ENCODING), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}.csv"})
