"""Appeals: an agent disputes a confirmed finding, a second reviewer rules, and the ruling is final.

The chain, all kept: the confirmation (decisions), the appeal with its reason
(appeals), the ruling by someone other than the reviewer who confirmed it,
and, when overturned, a dismissal recorded in the ruler's name that names the
appeal, so the score, agents.csv and every report change through the one path
every decision takes. Once ruled, no decision changes the finding again.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from ..reports.db import record_decision, transaction, utc_now
from . import store
from .auth import current_role, reviewer_from_form
from .db import get_db
from .i18n import t

__all__ = ["bp", "Appeal", "appeals_by_fingerprint", "raise_appeal", "rule_appeal", "AppealError"]

bp = Blueprint("appeals", __name__)

REASON_MAX = 2000
RULINGS = ("upheld", "overturned")


@dataclass
class Appeal:
    id: int
    call_id: str
    fingerprint: str
    check_id: str | None
    confirmed_by: str | None
    raised_by: str
    raised_role: str
    reason: str
    raised_at: str
    ruling: str | None
    ruled_by: str | None
    ruling_comment: str | None
    ruled_at: str | None

    @property
    def open(self) -> bool:
        return self.ruling is None


class AppealError(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _appeals(conn: sqlite3.Connection, where: str = "1=1", params: tuple = ()) -> list[Appeal]:
    return [Appeal(**dict(r)) for r in store.select(conn, f"SELECT * FROM appeals WHERE {where} ORDER BY id", params)]


def appeals_by_fingerprint(conn: sqlite3.Connection, call_id: str) -> dict[str, Appeal]:
    """The latest appeal per finding of a call."""
    return {a.fingerprint: a for a in _appeals(conn, "call_id = ?", (call_id,))}


def raise_appeal(conn: sqlite3.Connection, call_id: str, fingerprint: str, who: str, role: str, reason: str) -> int:
    """Dispute the confirmation in force on a finding; returns the appeal's id."""
    if role not in ("agent", "supervisor"):
        raise AppealError("only an agent, or a supervisor on their behalf, can appeal", 403)
    if not reason.strip():
        raise AppealError("an appeal needs a reason (申诉需要理由)")
    with transaction(conn):
        latest = store.latest_finding_decisions(conn, call_id).get((call_id, fingerprint))
        if latest is None or latest.decision != "confirm":
            raise AppealError("only a confirmed finding can be appealed", 409)
        if any(a.fingerprint == fingerprint for a in _appeals(conn, "call_id = ?", (call_id,))):
            raise AppealError("this finding has been appealed already; a ruling is final", 409)
        cursor = conn.execute(
            "INSERT INTO appeals(call_id, fingerprint, check_id, confirmed_by, raised_by, raised_role, reason, "
            "raised_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (call_id, fingerprint, latest.check_id, latest.reviewer, who, role, reason.strip()[:REASON_MAX], utc_now()),
        )
        return int(cursor.lastrowid)


def rule_appeal(conn: sqlite3.Connection, appeal_id: int, ruling: str, who: str, role: str, comment: str) -> Appeal:
    """Uphold or overturn an open appeal, as a reviewer other than the one who confirmed the finding."""
    if ruling not in RULINGS:
        raise AppealError(f"unknown ruling {ruling!r}; valid: {', '.join(RULINGS)}")
    if role not in ("reviewer", "supervisor"):
        raise AppealError("only a reviewer or a supervisor rules on appeals", 403)
    with transaction(conn):
        found = _appeals(conn, "id = ?", (appeal_id,))
        if not found:
            raise AppealError("no such appeal", 404)
        appeal = found[0]
        if not appeal.open:
            raise AppealError("this appeal has been ruled on; the ruling is final", 409)
        if who in (appeal.confirmed_by, appeal.raised_by):
            raise AppealError("a second reviewer must rule: not the one who confirmed the finding, "
                              "nor the one who appealed (须由另一位复核人裁定)", 403)
        now = utc_now()
        conn.execute("UPDATE appeals SET ruling = ?, ruled_by = ?, ruling_comment = ?, ruled_at = ? WHERE id = ?",
                     (ruling, who, comment or None, now, appeal_id))
        note = f"appeal #{appeal_id} {ruling}" + (f": {comment}" if comment else "")
        record_decision(conn, appeal.call_id, "dismiss" if ruling == "overturned" else "confirm", who,
                        fingerprint=appeal.fingerprint, comment=note,
                        reason="appeal" if ruling == "overturned" else None)
        return _appeals(conn, "id = ?", (appeal_id,))[0]


def _refuse_read_only():
    if current_app.config["CALLQA_READ_ONLY"]:
        abort(409, "the batch is read-only: nothing can be saved")


def _back(call_id: str, fingerprint: str = ""):
    return redirect(url_for("review.call_page", call_id=call_id) + (f"#f-{fingerprint}" if fingerprint else ""))


@bp.route("/calls/<call_id>/appeals", methods=["POST"])
def appeal(call_id: str):
    _refuse_read_only()
    if store.get_call(get_db(), call_id) is None:
        abort(404)
    fingerprint = request.form.get("fingerprint", "")
    who = reviewer_from_form()
    if not who:
        abort(400, "enter your name: an appeal records who raised it")
    try:
        raise_appeal(get_db(), call_id, fingerprint, who, current_role(), request.form.get("reason", ""))
    except AppealError as e:
        return render_template("error.html", title=t("appeal"), message=str(e)), e.status
    current_app.extensions["callqa_reports"].request()
    flash(f"{t('appeal')}: {who}", "ok")
    return _back(call_id, fingerprint)


@bp.route("/appeals/<int:appeal_id>/ruling", methods=["POST"])
def ruling(appeal_id: int):
    _refuse_read_only()
    who = reviewer_from_form()
    if not who:
        abort(400, "enter your name: a ruling records who made it")
    comment = request.form.get("comment", "").strip()[:REASON_MAX]
    try:
        ruled = rule_appeal(get_db(), appeal_id, request.form.get("ruling", ""), who, current_role(), comment)
    except AppealError as e:
        return render_template("error.html", title=t("appeal"), message=str(e)), e.status
    current_app.extensions["callqa_reports"].request()
    flash(f"{t('appeal')} #{ruled.id}: {t(ruled.ruling)} ({who})", "ok")
    if request.form.get("back") == "list":
        return redirect(url_for(".list_appeals"))
    return _back(ruled.call_id, ruled.fingerprint)


@bp.route("/appeals")
def list_appeals():
    conn = get_db()
    appeals = _appeals(conn)
    appeals.sort(key=lambda a: (not a.open, -a.id))
    texts = {(r["call_id"], r["fingerprint"]): r["text"]
             for r in store.select(conn, "SELECT call_id, fingerprint, text FROM findings "
                                         "WHERE fingerprint IN (SELECT fingerprint FROM appeals)")}
    return render_template("appeals.html", appeals=appeals, texts=texts, role=current_role())
