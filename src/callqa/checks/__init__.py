"""Service-standard checks: a transcript and a check's config in, findings out.

    REGISTERED / CHECKS        every check, in scorecard order (registry.py is the one list)
    run_checks(transcript, configs, context) -> {check id: CheckResult}
    Check, CheckConfig         what a check module under rules/ subclasses
    CheckResult, Finding       a verdict and its evidence (who, when, the words)
    CallContext                what a check may know beyond the words (the roster's ID)

One check per module in rules/; matching.py, spoken_ids.py, waits.py,
lexicon_cues.py and sentiment_models/ are the helpers they share.
"""

from .base import CallContext, Check, CheckConfig, CheckResult, Finding
from .registry import CHECKS, REGISTERED, check_label, get_check, run_checks

__all__ = [
    "CHECKS",
    "REGISTERED",
    "CallContext",
    "Check",
    "CheckConfig",
    "CheckResult",
    "Finding",
    "check_label",
    "get_check",
    "run_checks",
]
