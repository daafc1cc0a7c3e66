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
) -> ScoreOutcome:
    """Score a call from its check results.

    A dismissed finding gives its deduction back. A failed check whose every
    finding was dismissed counts as passed: the reviewer said the evidence was
    a false hit. A failed critical check flags the call; so does a score below
    ``flag_below`` and a call that could not be scored at all.
    """
    if error is not None:
        return ScoreOutcome(score=None, flagged=True, flag_reasons=[f"not scored: {error}"])

    dismissed = set(dismissed)
    total = 0.0
    outcome = ScoreOutcome(score=None, flagged=False)
    for check_id, result in results.items():
        live = [f for f in result.findings if f.fingerprint not in dismissed]
        if result.findings:
            deduction = sum(f.deduction for f in live)
        else:
            deduction = result.deduction if result.passed is False else 0.0
        passed = result.passed
        if passed is False and result.findings and not live:
            passed = True
        outcome.passed[check_id] = passed
        outcome.deductions[check_id] = deduction
        total += deduction
        if passed is False and result.critical:
            live_result = CheckResult(check_id, passed, deduction, live, result.critical, result.extra)
            outcome.flag_reasons.append(_reason(check_id, live_result))

    score = min(MAX_SCORE, max(0.0, MAX_SCORE - total))
    outcome.score = round(score, 2)
    if flag_below is not None and score < flag_below:
        outcome.flag_reasons.append(f"score {score:g} below {flag_below:g}")
    outcome.flagged = bool(outcome.flag_reasons)
    return outcome
