"""Deciding findings: what a request must carry, and what the page is told back.

A dismissal needs a reason: the calibration report counts them (an ASR error
is the recognizer's fault, a rule too strict is the scorecard's), and a
dismissal without one can't be told from a slip of the mouse. Findings worth
no points (a sentiment finding, a channel-layout hint) are shown but not
offered for decision, so the list holds only what changes a score. A
finding whose appeal was ruled on is final: no decision changes it again.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from ..checks.base import CheckResult, Finding
from ..reports.db import FINDING_DECISIONS, record_decision, transaction
from ..scoring.outcome import ScoreOutcome
from .store import CallRecord, latest_finding_decisions

__all__ = ["DISMISS_REASONS", "DecisionError", "dismiss_reason", "decidable", "open_findings", "ruled_fingerprints",
           "confirm_remaining", "outcome_payload", "reason_label"]

# code -> (Chinese, English); "other" needs the free text of the comment.
DISMISS_REASONS: dict[str, tuple[str, str]] = {
    "asr_error": ("识别错误", "ASR error"),
    "customer_said": ("客户所说", "said by the customer"),
    "polite_form": ("礼貌用语", "polite form"),
    "rule_too_strict": ("规则过严", "rule too strict"),
    "other": ("其他（请写明）", "other (say why)"),
}


class DecisionError(Exception):
    """A decision refused for what the request carried; ``status`` is the HTTP code to answer with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def reason_label(code: str | None, lang: str = "zh") -> str:
    pair = DISMISS_REASONS.get(code or "")
    return "" if pair is None else pair[0 if lang == "zh" else 1]


def dismiss_reason(code: str, comment: str | None) -> str:
    """The reason code to store for a dismissal, or DecisionError when there is none.

    A comment alone counts as the free-text reason ("other"): a reviewer who wrote why gave one.
    """
    code = (code or "").strip()
    if code and code not in DISMISS_REASONS:
        raise DecisionError(f"unknown dismissal reason {code!r}; valid: {', '.join(DISMISS_REASONS)}")
    if code and code != "other":
        return code
    if comment:
        return "other"
    raise DecisionError("a dismissal needs a reason: pick one, or write why in the comment "
                        "(驳回需要理由：请选择一项，或在备注中写明)")


def decidable(finding: Finding) -> bool:
    """Worth a decision: it takes points now, or would once confirmed (left to listening)."""
    return bool(finding.deduction) or bool(finding.extra.get("needs_listening"))


def _findings(call: CallRecord) -> list[tuple[str, Finding]]:
    return [(cid, f) for cid, r in call.checks.items() for f in r.findings]


def open_findings(conn: sqlite3.Connection, call: CallRecord) -> list[Finding]:
    """The decidable findings nobody has confirmed or dismissed yet."""
    latest = {fp for (_, fp) in latest_finding_decisions(conn, call.call_id)}
    return [f for _, f in _findings(call) if decidable(f) and f.fingerprint not in latest]


def ruled_fingerprints(conn: sqlite3.Connection, call_id: str) -> set[str]:
    """Findings whose appeal has been ruled on: final."""
    rows = conn.execute("SELECT fingerprint FROM appeals WHERE call_id = ? AND ruling IS NOT NULL", (call_id,))
    return {r["fingerprint"] for r in rows}


def confirm_remaining(conn: sqlite3.Connection, call: CallRecord, reviewer: str) -> tuple[list[str], ScoreOutcome | None]:
    """Confirm every open decidable finding of the call in one transaction; their fingerprints and the outcome."""
    outcome = None
    with transaction(conn):
        todo = [f.fingerprint for f in open_findings(conn, call)]
        for fingerprint in todo:
            outcome = record_decision(conn, call.call_id, "confirm", reviewer, fingerprint=fingerprint,
                                      comment="confirm all remaining")
    return todo, outcome


@dataclass
class Decided:
    """What a decision changed, for the page that made it (decided in place, no reload)."""

    decision: str
    fingerprints: list[str]
    reviewer: str
    outcome: ScoreOutcome | None


def outcome_payload(conn: sqlite3.Connection, call: CallRecord, decided: Decided) -> dict[str, Any]:
    """The JSON answer to a decision: the new score, each check's verdict and points, the open count."""
    outcome = decided.outcome
    checks: dict[str, CheckResult] = call.checks
    return {
        "ok": True,
        "decision": decided.decision,
        "fingerprints": decided.fingerprints,
        "reviewer": decided.reviewer,
        "score": None if outcome is None else outcome.score,
        "machine_score": call.machine_score,
        "flagged": None if outcome is None else outcome.flagged,
        "checks": {cid: {"passed": outcome.passed.get(cid), "deduction": outcome.deductions.get(cid, 0.0)}
                   for cid in checks} if outcome else {},
        "open": len(open_findings(conn, call)),
        "state": decided.decision if decided.decision in FINDING_DECISIONS else None,
    }
