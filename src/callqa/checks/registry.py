"""The check registry: the one list of checks that everything else reads.

Each check is a class in its own module under ``rules/`` (the helper modules
beside this one, ``matching``, ``spoken_ids`` and ``sentiment_models``, hold
no check). ``REGISTERED`` lists them explicitly, as sqlfluff lists its rules:
its order is the default scorecard's and the order reports show checks in.
The scorecard, the eval columns, the review app's labels and the tests all
come from here, so adding a check is one module under ``rules/``, one line
here, one YAML case file and one scorecard section.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from ..asr.transcript import Transcript
from .base import CallContext, Check, CheckConfig, CheckResult
from .rules.banned_phrases import BannedPhrasesCheck
from .rules.channel_layout import ChannelLayoutCheck
from .rules.closing import ClosingCheck
from .rules.interruptions import InterruptionsCheck
from .rules.employee_id import EmployeeIdCheck
from .rules.greeting import GreetingCheck
from .rules.raised_voice import RaisedVoiceCheck
from .rules.response_time import ResponseTimeCheck
from .rules.sentiment import SentimentCheck
from .rules.silence import SilenceCheck
from .rules.speech_rate import SpeechRateCheck
from .rules.standard_phrasing import StandardPhrasingCheck

__all__ = ["REGISTERED", "CHECKS", "get_check", "check_label", "run_checks"]

log = logging.getLogger(__name__)

REGISTERED: tuple[type[Check], ...] = (
    GreetingCheck,
    EmployeeIdCheck,
    StandardPhrasingCheck,
    BannedPhrasesCheck,
    ClosingCheck,
    SentimentCheck,
    SilenceCheck,
    InterruptionsCheck,
    SpeechRateCheck,
    RaisedVoiceCheck,
    ResponseTimeCheck,
    ChannelLayoutCheck,
)

_METADATA = ("id", "name", "name_zh", "description", "config_class")


def _index(checks: tuple[type[Check], ...]) -> dict[str, type[Check]]:
    """check id -> class, refusing a class without its metadata or an id used twice."""
    index: dict[str, type[Check]] = {}
    for cls in checks:
        missing = [attr for attr in _METADATA if not getattr(cls, attr, None)]
        if missing:
            raise TypeError(f"check {cls.__name__} lacks the class attribute(s) {', '.join(missing)}")
        if cls.id in index:
            raise ValueError(f"check id {cls.id!r} registered twice: {index[cls.id].__name__} and {cls.__name__}")
        index[cls.id] = cls
    return index


CHECKS: dict[str, type[Check]] = _index(REGISTERED)


def get_check(check_id: str) -> type[Check]:
    try:
        return CHECKS[check_id]
    except KeyError:
        raise KeyError(f"unknown check {check_id!r}; valid: {', '.join(CHECKS)}") from None


def check_label(check_id: str) -> str:
    """How pages and tables name a check: 报工号 Employee ID stated; an unknown id as it is."""
    cls = CHECKS.get(check_id)
    return f"{cls.name_zh} {cls.name}" if cls else check_id


def run_checks(
    transcript: Transcript, configs: Mapping[str, CheckConfig], context: CallContext
) -> dict[str, CheckResult]:
    """Run the enabled checks on one call, in the order of ``configs``
    (a scorecard's ``checks``: check id -> that check's config).

    A check that raises does not sink the call: its result is ``passed=None``
    (not judged) with no deduction and ``extra["error"]`` saying what went
    wrong, and the traceback is logged. The other checks' evidence is kept,
    and the error shows in calls.jsonl beside the check, where a reviewer sees
    it. ``critical`` comes from the config, whatever the check set.
    """
    results: dict[str, CheckResult] = {}
    for check_id, config in configs.items():
        if not config.enabled:
            continue
        try:
            result = get_check(check_id)().run(transcript, config, context)
        except Exception as e:
            log.exception("check %s failed on call %s", check_id, context.call_id)
            result = CheckResult(check_id, None, 0.0, extra={"error": f"{type(e).__name__}: {e}"})
        result.critical = bool(config.critical)
        results[check_id] = result
    return results
