"""The results database for the length of one request (as flaskr's db.py)."""

from __future__ import annotations

import sqlite3

from flask import Flask, current_app, g

from ..reports.db import open_db
from .i18n import local_day

__all__ = ["get_db", "init_app"]


def get_db() -> sqlite3.Connection:
    """One connection per request (sqlite3 connections are not shared across threads)."""
    if "conn" not in g:
        g.conn = open_db(current_app.config["CALLQA_DB"], read_only=current_app.config["CALLQA_READ_ONLY"])
        zone = current_app.config["CALLQA_TZ"]
        # The queue's date filter (queries.py) compares days as the reviewers' pages show them.
        g.conn.create_function("local_day", 1, lambda value: local_day(value, zone), deterministic=True)
    return g.conn


def close_db(_exc: BaseException | None = None) -> None:
    conn = g.pop("conn", None)
    if conn is not None:
        conn.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
