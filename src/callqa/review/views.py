"""The review app's pages and actions."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)

from ..reports import tables
from ..reports.db import CALL_DECISIONS, FINDING_DECISIONS, record_decision
from ..scoring.outcome import compute_outcome
from . import store
from .db import get_db
from .charts import Bar, bar_chart, column_chart, score_bins
from .evidence import CheckView, finding_views, utterance_moods, utterance_views
from .exports import reviewed_calls_csv
from .masking import mask_sensitive
from .recordings import servable_recording

bp = Blueprint("review", __name__, template_folder="templates")

AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".m4a": "audio/mp4",
               ".ogg": "audio/ogg", ".opus": "audio/ogg", ".aac": "audio/aac"}
COMMENT_MAX = 2000
QUEUE_ROWS = 300  # worst first, so the rows cut off are the least urgent
NAME_MAX = 80


def _mask(text: str) -> str:
    return mask_sensitive(text) if current_app.config["CALLQA_MASK"] else text


def _reviewer_default() -> str:
    return current_app.config["CALLQA_REVIEWER"] or session.get("reviewer", "")


@bp.app_context_processor
def _globals():
    return {"fixed_reviewer": current_app.config["CALLQA_REVIEWER"], "reviewer_name": _reviewer_default(),
            "masked": current_app.config["CALLQA_MASK"], "token_required": bool(current_app.config["CALLQA_TOKEN"]),
            "read_only": current_app.config["CALLQA_READ_ONLY"]}


@bp.route("/")
def dashboard():
    data = store.dashboard(get_db())
    histogram = column_chart(score_bins(data.scores), title="Scores of all scored calls")
    findings_chart = bar_chart(
        [Bar(c, data.findings_live[c], "bad", f"{data.findings_live[c]} in force, "
             f"{data.findings_dismissed[c]} dismissed") for c in data.check_ids],
        title="Findings per check (dismissed ones not counted)",
    )
    pass_chart = bar_chart(
        [_rate_bar(c, data.pass_rates[c]) for c in data.check_ids],
        title="Pass rate per check, all calls", unit="%", max_value=100,
    )
    return render_template("dashboard.html", data=data, histogram=histogram, findings_chart=findings_chart,
                           pass_chart=pass_chart)


def _rate_bar(check_id: str, rate: float | None) -> Bar:
    if rate is None:
        return Bar(check_id, 0, "na", "applied to no call")
    tone = "good" if rate >= 0.9 else "warn" if rate >= 0.6 else "bad"  # as in the agents table
    return Bar(check_id, round(100 * rate), tone, f"{100 * rate:.0f}% of the calls it applied to passed")


@bp.route("/queue")
def queue():
    flt = store.QueueFilter(
        agent=request.args.get("agent", ""), check=request.args.get("check", ""),
        reviewed=request.args.get("reviewed", ""), q=request.args.get("q", "").strip()[:100],
        show=request.args.get("show", "flagged"),
    )
    conn = get_db()
    calls = store.queue(conn, flt)
    return render_template("queue.html", calls=calls[:QUEUE_ROWS], total=len(calls), flt=flt,
                           agents=store.agent_ids(conn), check_ids=tables.check_ids(conn))


def _call_or_404(call_id: str) -> store.CallRecord:
    call = store.get_call(get_db(), call_id)
    if call is None:
        abort(404)
    return call


@bp.route("/calls/<call_id>")
def call_page(call_id: str):
    conn = get_db()
    call = _call_or_404(call_id)
    latest = {fp: d for (_, fp), d in store.latest_finding_decisions(conn, call.call_id).items()}
    dismissed = {fp for fp, d in latest.items() if d.decision == "dismiss"}
    confirmed = {fp for fp, d in latest.items() if d.decision == "confirm"}
    findings = finding_views(call.checks, latest, _mask)
    machine = compute_outcome(call.checks, None)
    now = compute_outcome(call.checks, None, dismissed, confirmed=confirmed)
    checks = [
        CheckView(cid, machine.passed.get(cid), now.passed.get(cid), machine.deductions.get(cid, 0.0),
                  now.deductions.get(cid, 0.0), r.critical, r.extra, findings[cid])
        for cid, r in call.checks.items()
    ]
    sentiment = call.checks.get("sentiment")
    return render_template(
        "call.html", call=call, checks=checks, utterances=utterance_views(call.transcript, findings, _mask),
        moods=utterance_moods(sentiment.extra if sentiment else {}),
        history=store.decision_history(conn, call.call_id), has_audio=_audio_file(call) is not None,
        open_findings=sum(1 for fs in findings.values() for f in fs if f.state == "open"),
    )


def _audio_file(call: store.CallRecord) -> Path | None:
    """The call's recording as the database names it (never a path from the request), if it may be served."""
    return servable_recording(call.audio_path, call.audio_sha256, call.input_root, current_app.config["CALLQA_DIR"],
                              current_app.config["CALLQA_AUDIO_ROOTS"])


@bp.route("/calls/<call_id>/audio")
def audio(call_id: str):
    path = _audio_file(_call_or_404(call_id))
    if path is None:
        abort(404)
    mimetype = AUDIO_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    # conditional=True answers Range requests (206), which the <audio> element needs to seek.
    return send_file(path, mimetype=mimetype, conditional=True, max_age=0)


def _reviewer_from_form() -> str:
    fixed = current_app.config["CALLQA_REVIEWER"]
    if fixed:
        return fixed
    name = request.form.get("reviewer", "").strip()[:NAME_MAX]
    if name:
        session["reviewer"] = name
    return name


@bp.route("/calls/<call_id>/decisions", methods=["POST"])
def decide(call_id: str):
    call = _call_or_404(call_id)
    if current_app.config["CALLQA_READ_ONLY"]:
        return render_template("error.html", title="Read-only batch",
                               message="This batch's database is read-only, so decisions can't be saved. "
                                       "Serve a writable copy of the folder to review it."), 409
    decision = request.form.get("decision", "")
    fingerprint = request.form.get("fingerprint") or None
    comment = request.form.get("comment", "").strip()[:COMMENT_MAX] or None
    if decision not in FINDING_DECISIONS + CALL_DECISIONS:
        abort(400, f"unknown decision; valid: {', '.join(FINDING_DECISIONS + CALL_DECISIONS)}")
    if decision in FINDING_DECISIONS and fingerprint not in {
        f.fingerprint for r in call.checks.values() for f in r.findings
    }:
        abort(404)
    reviewer = _reviewer_from_form()
    anchor = f"#f-{fingerprint}" if fingerprint else ""
    if not reviewer:
        flash("Enter your name before deciding: every decision records who made it.", "error")
        return redirect(url_for(".call_page", call_id=call.call_id) + anchor)
    conn = get_db()
    outcome = record_decision(conn, call.call_id, decision, reviewer, fingerprint=fingerprint, comment=comment)
    current_app.extensions["callqa_reports"].request()  # agents.csv etc., in the background
    flash(f"{_DONE[decision]} by {reviewer}. Score now {outcome.score:g}." if outcome.score is not None
          else f"{_DONE[decision]} by {reviewer}.", "ok")
    return redirect(url_for(".call_page", call_id=call.call_id) + anchor)


_DONE = {"confirm": "Finding confirmed", "dismiss": "Finding dismissed as a false hit",
         "reviewed": "Call marked reviewed", "reopen": "Call reopened"}


@bp.route("/export/reviewed.csv")
def export_reviewed():
    text = reviewed_calls_csv(get_db())
    return Response(text.encode("utf-8-sig"), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=reviewed.csv"})
