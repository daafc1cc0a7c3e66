"""The score arithmetic, in one place.

`callqa score` uses it with no decisions; the review app uses it again with
the findings a reviewer dismissed, so a machine score and a reviewed score can
never disagree about the rules.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from ..checks.base import CheckResult

MAX_SCORE = 100.0


@dataclass
class ScoreOutcome:
    score: float | None  # None when the call could not be scored
    flagged: bool
    flag_reasons: list[str] = field(default_factory=list)
    passed: dict[str, bool | None] = field(default_factory=dict)  # per check, after dismissals
    deductions: dict[str, float] = field(default_factory=dict)  # per check, after dismissals


def _reason(check_id: str, result: CheckResult) -> str:
    status = result.extra.get("status")
    if status and status != "ok":
        return f"{check_id}: {status}"
    if result.findings:
        return f"{check_id}: {result.findings[0].detail}"
    return f"{check_id}: failed"


def compute_outcome(
    results: Mapping[str, CheckResult],
    flag_below: float | None,
    dismissed: Collection[str] = (),
    error: str | None = None,
    confirmed: Collection[str] = (),
) -> ScoreOutcome:
    """Score a call from its check results and the reviewers' decisions.

    A dismissed finding gives its deduction back. A failed check whose every
    finding was dismissed counts as passed: the reviewer said the evidence was
    a false hit. A finding left to listening (``needs_listening``) takes no
    points until a reviewer confirms it, then its ``would_deduct``; a check
    left to listening is settled by the decisions on its findings, and until
    then flags the call "needs listening". A failed critical check flags the
    call; so does a score below ``flag_below`` and a call that could not be
    scored at all.
    """
    if error is not None:
        return ScoreOutcome(score=None, flagged=True, flag_reasons=[f"not scored: {error}"])

    dismissed, confirmed = set(dismissed), set(confirmed)
    total = 0.0
    outcome = ScoreOutcome(score=None, flagged=False)
    for check_id, result in results.items():
        passed, deduction, live = _settle(result, dismissed, confirmed)
        outcome.passed[check_id] = passed
        outcome.deductions[check_id] = deduction
        total += deduction
        if passed is False and result.critical:
            live_result = CheckResult(check_id, passed, deduction, live, result.critical, result.extra)
            outcome.flag_reasons.append(_reason(check_id, live_result))
        elif passed is None and result.is_needs_listening:
            outcome.flag_reasons.append(f"{check_id}: needs listening ({result.extra.get('reason', '')})")

    score = min(MAX_SCORE, max(0.0, MAX_SCORE - total))
    outcome.score = round(score, 2)
    if flag_below is not None and score < flag_below:
        outcome.flag_reasons.append(f"score {score:g} below {flag_below:g}")
    outcome.flagged = bool(outcome.flag_reasons)
    return outcome


def _settle(result: CheckResult, dismissed: set[str], confirmed: set[str]) -> tuple[bool | None, float, list]:
    """A check's verdict, deduction and findings in force once the decisions are applied."""
    live = [f for f in result.findings if f.fingerprint not in dismissed]
    listened = [f for f in live if f.extra.get("needs_listening") and f.fingerprint in confirmed]
    if result.findings:
        deduction = sum(f.deduction for f in live) + sum(float(f.extra.get("would_deduct", 0.0)) for f in listened)
    else:
        deduction = result.deduction if result.passed is False else 0.0
    passed = result.passed
    if passed is False and result.findings and not live:
        passed = True
    if result.is_needs_listening:
        pending = [f for f in result.findings if f.extra.get("needs_listening")]
        if listened:
            passed = False
        elif pending and all(f.fingerprint in dismissed for f in pending):
            passed = True
    return passed, round(deduction, 2), live
