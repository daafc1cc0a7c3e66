"""Sampling and calibration pages: draw calls for human scoring, give a verdict on a check,
and the agreement report (reviewers with each other, the machine against them)."""

from __future__ import annotations

import pandas as pd
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for

from ..reports import tables
from ..reports.db import transaction, utc_now
from . import store
from .agreement import REPORT_COLUMNS, agreement_report
from .auth import current_role, reviewer_from_form
from .db import get_db
from .i18n import t
from .sampling import draw_sample

bp = Blueprint("calibration", __name__)

MAX_PER_AGENT = 1000


def _refuse(message: str, status: int):
    return render_template("error.html", title=t("calibration"), message=message), status


@bp.route("/calibration")
def report():
    conn = get_db()
    rows = agreement_report(conn, tables.check_ids(conn))
    sampled = store.select(conn, "SELECT COUNT(*) AS n, SUM(c.reviewed) AS reviewed FROM samples s "
                                 "JOIN calls c ON c.call_id = s.call_id")[0]
    return render_template("calibration.html", rows=rows, sampled=sampled["n"], sampled_reviewed=sampled["reviewed"] or 0)


@bp.route("/calibration/sample", methods=["POST"])
def sample():
    if current_app.config["CALLQA_READ_ONLY"]:
        return _refuse("the batch is read-only: nothing can be saved (只读批次)", 409)
    if current_role() == "agent":
        return _refuse("an agent can't draw samples", 403)
    try:
        per_agent = int(request.form.get("per_agent", ""))
        seed = int(request.form.get("seed", "") or 0)
    except ValueError:
        return _refuse("per agent and seed must be whole numbers", 400)
    if not 1 <= per_agent <= MAX_PER_AGENT:
        return _refuse(f"per agent must be 1 to {MAX_PER_AGENT}", 400)
    who = reviewer_from_form() or "review app"
    drawn = draw_sample(get_db(), per_agent, unflagged=bool(request.form.get("unflagged")), seed=seed, drawn_by=who)
    flash(f"{t('sampled')}: {len(drawn)} {t('calls')} (seed {seed})", "ok")
    return redirect(url_for("queue.queue", show="sampled"))


@bp.route("/calls/<call_id>/verdicts", methods=["POST"])
def verdict(call_id: str):
    """A reviewer's own verdict on one check of a call: the machine missed it, or was right."""
    if current_app.config["CALLQA_READ_ONLY"]:
        return _refuse("the batch is read-only: nothing can be saved (只读批次)", 409)
    if current_role() == "agent":
        return _refuse("an agent can appeal a finding, not score a call", 403)
    call = store.get_call(get_db(), call_id)
    check_id, value = request.form.get("check_id", ""), request.form.get("verdict", "")
    if call is None or check_id not in call.checks:
        abort(404)
    if value not in ("pass", "fail"):
        abort(400, "verdict: pass or fail")
    who = reviewer_from_form()
    if not who:
        flash("Enter your name before deciding: every decision records who made it. (请先填写姓名)", "error")
        return redirect(url_for("review.call_page", call_id=call_id))
    conn = get_db()
    with transaction(conn):
        conn.execute("INSERT INTO check_verdicts(call_id, check_id, verdict, reviewer, comment, decided_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)", (call_id, check_id, value, who,
                                                   request.form.get("comment", "").strip()[:2000] or None, utc_now()))
    return redirect(url_for("review.call_page", call_id=call_id) + f"#check-{check_id}")


def agreement_frame() -> pd.DataFrame:
    conn = get_db()
    return pd.DataFrame([r.row() for r in agreement_report(conn, tables.check_ids(conn))], columns=REPORT_COLUMNS)


@bp.route("/export/agreement.csv")
def agreement_csv():
    text = tables.csv_text(agreement_frame())
    return Response(text.encode(tables.CSV_ENCODING), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=agreement.csv"})
