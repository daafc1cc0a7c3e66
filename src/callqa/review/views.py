"""The review app's core pages and actions: the dashboard, a call's page, its audio, its decisions.

A decision answers JSON to the page that asked for it (review.js sends
``Accept: application/json``): the page updates in place, so the audio keeps
playing where it was and the reviewer stays at the card. A plain form post
(no JavaScript) still works and is answered with a redirect back to the card.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    send_from_directory,
    session,
    url_for,
)

from ..reports.db import CALL_DECISIONS, FINDING_DECISIONS, call_outcome, record_decision
from ..scoring.outcome import compute_outcome
from . import store
from .appeals import appeals_by_fingerprint
from .auth import current_role, reviewer_from_form, reviewer_name, safe_target
from .charts import Bar, bar_chart, column_chart, score_bins
from .db import get_db
from .decisions import (
    DISMISS_REASONS,
    DecisionError,
    Decided,
    confirm_remaining,
    dismiss_reason,
    outcome_payload,
    reason_label,
    ruled_fingerprints,
)
from .evidence import CheckView, attach_appeals, finding_views, utterance_moods, utterance_views
from .i18n import LANGS, check_name, lang, t
from .masking import mask_sensitive
from .recordings import servable_recording
from .timeline import timeline_svg

bp = Blueprint("review", __name__, template_folder="templates")

AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".m4a": "audio/mp4",
               ".ogg": "audio/ogg", ".opus": "audio/ogg", ".aac": "audio/aac"}
COMMENT_MAX = 2000


def _mask(text: str) -> str:
    return mask_sensitive(text) if current_app.config["CALLQA_MASK"] else text


@bp.app_context_processor
def _globals():
    return {"fixed_reviewer": current_app.config["CALLQA_REVIEWER"], "reviewer_name": reviewer_name(),
            "masked": current_app.config["CALLQA_MASK"], "token_required": bool(current_app.config["CALLQA_TOKEN"]),
            "read_only": current_app.config["CALLQA_READ_ONLY"], "role": current_role(), "lang": lang(),
            "t": t, "check_name": check_name, "dismiss_reasons": DISMISS_REASONS, "reason_text": _reason_text}


def _reason_text(code: str | None) -> str:
    if code == "appeal":
        return "申诉改判" if lang() == "zh" else "appeal overturned"
    return reason_label(code, lang())


@bp.route("/favicon.ico")
def favicon():
    return send_from_directory(Path(__file__).parent / "static", "favicon.svg", mimetype="image/svg+xml")


@bp.route("/language", methods=["POST"])
def language():
    """Switch the pages between Chinese and English (kept in the session)."""
    chosen = request.form.get("lang", "zh")
    session["lang"] = chosen if chosen in LANGS else "zh"
    return redirect(safe_target(request.form.get("next", "")))


@bp.route("/")
def dashboard():
    data = store.dashboard(get_db())
    q = lambda **args: url_for("queue.queue", show="all", **args)  # noqa: E731 - a link to the calls counted
    bins = score_bins(data.scores)
    for b in bins:
        lo, hi = b.label.split("-")
        b.href = q(score_min=lo, score_max=hi if hi == "100" else f"{float(hi) - 0.01:g}")
    histogram = column_chart(bins, title="已评分通话的得分分布 · Scores of all scored calls")
    findings_chart = bar_chart(
        [Bar(check_name(c), data.findings_live[c], "bad", f"{data.findings_live[c]} / {data.findings_dismissed[c]} "
             f"{t('dismissed')}", href=q(check=c)) for c in data.check_ids],
        title=t("checks"),
    )
    pass_chart = bar_chart([_rate_bar(c, data.pass_rates[c], q(check=c)) for c in data.check_ids],
                           title=t("pass rates"), unit="%", max_value=100)
    return render_template("dashboard.html", data=data, histogram=histogram, findings_chart=findings_chart,
                           pass_chart=pass_chart)


def _rate_bar(check_id: str, rate: float | None, href: str) -> Bar:
    if rate is None:
        return Bar(check_name(check_id), 0, "na", t("not applicable"))
    tone = "good" if rate >= 0.9 else "warn" if rate >= 0.6 else "bad"  # as in the agents table
    return Bar(check_name(check_id), round(100 * rate), tone, f"{100 * rate:.0f}%", href=href)


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
    findings = finding_views(call.checks, latest, _mask)
    appeals = appeals_by_fingerprint(conn, call.call_id)
    attach_appeals(findings, appeals)
    machine = compute_outcome(call.checks, None)
    now = compute_outcome(call.checks, None, {fp for fp, d in latest.items() if d.decision == "dismiss"},
                          confirmed={fp for fp, d in latest.items() if d.decision == "confirm"})
    checks = [
        CheckView(cid, machine.passed.get(cid), now.passed.get(cid), machine.deductions.get(cid, 0.0),
                  now.deductions.get(cid, 0.0), r.critical, r.extra, findings[cid])
        for cid, r in call.checks.items()
    ]
    sentiment = call.checks.get("sentiment")
    utterances = utterance_views(call.transcript, findings, _mask)
    all_findings = [f for fs in findings.values() for f in fs]
    return render_template(
        "call.html", call=call, checks=checks, utterances=utterances,
        moods=utterance_moods(sentiment.extra if sentiment else {}),
        history=store.decision_history(conn, call.call_id), appeals=sorted(appeals.values(), key=lambda a: a.id),
        has_audio=_audio_file(call) is not None,
        open_findings=sum(1 for f in all_findings if f.decidable and f.state == "open"),
        timeline=timeline_svg(utterances, all_findings, call.duration_s,
                              {"agent": t("agent"), "customer": t("customer")}, t("timeline"),
                              echoes=call.prompt_echoes, echo_label=t("prompt echo")),
        verdicts=store.check_verdicts(conn, call.call_id),
        dismissed_keys={f.key for f in all_findings if f.state == "dismiss"},  # their words are no longer marked
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


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _refused(message: str, status: int, fingerprint: str | None, call_id: str):
    if _wants_json():
        return jsonify({"ok": False, "error": message}), status
    if status == 409 and current_app.config["CALLQA_READ_ONLY"]:
        return render_template("error.html", title="Read-only batch 只读批次", message=message), 409
    if status in (400, 403, 409):
        flash(message, "error")
        return redirect(url_for(".call_page", call_id=call_id) + (f"#f-{fingerprint}" if fingerprint else ""))
    abort(status)


@bp.route("/calls/<call_id>/decisions", methods=["POST"])
def decide(call_id: str):
    call = _call_or_404(call_id)
    fingerprint = request.form.get("fingerprint") or None
    try:
        decided = _decide(call, fingerprint)
    except DecisionError as e:
        return _refused(str(e), e.status, fingerprint, call.call_id)
    current_app.extensions["callqa_reports"].request()  # agents.csv etc., in the background
    if _wants_json():
        return jsonify(outcome_payload(get_db(), store.get_call(get_db(), call.call_id) or call, decided))
    score = decided.outcome.score if decided.outcome else None
    flash(f"{_DONE[decided.decision]} by {decided.reviewer}." + (f" Score now {score:g}." if score is not None else ""),
          "ok")
    return redirect(url_for(".call_page", call_id=call.call_id) + (f"#f-{fingerprint}" if fingerprint else ""))


def _decide(call: store.CallRecord, fingerprint: str | None) -> Decided:
    """Check the request and record the decision; DecisionError says why not."""
    if current_app.config["CALLQA_READ_ONLY"]:
        raise DecisionError("This batch's database is read-only, so decisions can't be saved. "
                            "Serve a writable copy of the folder to review it. (只读批次，无法保存)", 409)
    decision = request.form.get("decision", "")
    valid = FINDING_DECISIONS + CALL_DECISIONS + ("confirm_all",)
    if decision not in valid:
        abort(400, f"unknown decision; valid: {', '.join(valid)}")
    if decision in FINDING_DECISIONS and fingerprint not in {
        f.fingerprint for r in call.checks.values() for f in r.findings
    }:
        abort(404)
    if current_role() == "agent":
        raise DecisionError("an agent can appeal a finding, not decide it (坐席只能申诉)", 403)
    reviewer = reviewer_from_form()
    if not reviewer:
        raise DecisionError("Enter your name before deciding: every decision records who made it. (请先填写姓名)")
    conn = get_db()
    if decision == "confirm_all":
        done, outcome = confirm_remaining(conn, call, reviewer)
        return Decided(decision, done, reviewer, outcome or call_outcome(conn, call.call_id))
    comment = request.form.get("comment", "").strip()[:COMMENT_MAX] or None
    reason = dismiss_reason(request.form.get("reason", ""), comment) if decision == "dismiss" else None
    if fingerprint in ruled_fingerprints(conn, call.call_id):
        raise DecisionError("this finding's appeal has been ruled on: the ruling is final (申诉已裁定)", 409)
    outcome = record_decision(conn, call.call_id, decision, reviewer, fingerprint=fingerprint, comment=comment,
                              reason=reason)
    return Decided(decision, [fingerprint] if fingerprint else [], reviewer, outcome)


_DONE = {"confirm": "Finding confirmed", "dismiss": "Finding dismissed as a false hit",
         "reviewed": "Call marked reviewed", "reopen": "Call reopened", "confirm_all": "Remaining findings confirmed"}
