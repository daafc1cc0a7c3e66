"""The check registry: every check module registers its class here.

Checks are found by importing every module of this package (except the
shared ones below); a module that defines a check decorates its class with
``@register``. ``CHECKS`` maps check id to class in import order; the order a
call's checks run in is the scorecard's.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Mapping

from ..asr.transcript import Transcript
from .base import CallContext, Check, CheckConfig, CheckResult


__all__ = ["CHECKS", "register", "get_check", "load_checks", "run_checks"]

log = logging.getLogger(__name__)

CHECKS: dict[str, type[Check]] = {}

# Modules of this package that hold no check.
_NOT_CHECKS = frozenset({"base", "registry", "matching"})


def register(cls: type[Check]) -> type[Check]:
    """Class decorator: add a check to ``CHECKS`` under its ``id``."""
    for attr in ("id", "name", "description", "config_class"):
        if not getattr(cls, attr, None):
            raise TypeError(f"check {cls.__name__} lacks the class attribute {attr!r}")
    existing = CHECKS.get(cls.id)
    if existing is not None and existing.__qualname__ != cls.__qualname__:
        raise ValueError(f"check id {cls.id!r} registered twice: {existing.__qualname__} and {cls.__qualname__}")
    CHECKS[cls.id] = cls
    return cls


_loaded = False


def load_checks() -> dict[str, type[Check]]:
    """Import every check module once, so that all checks are registered."""
    global _loaded
    if not _loaded:
        for module in sorted(pkgutil.iter_modules(_package_path()), key=lambda m: m.name):
            if module.name.startswith("_") or module.name in _NOT_CHECKS:
                continue
            importlib.import_module(f"{__package__}.{module.name}")
        _loaded = True
    return CHECKS


def _package_path() -> list[str]:
    package = importlib.import_module(__package__)
    return list(package.__path__)


def get_check(check_id: str) -> type[Check]:
    checks = load_checks()
    try:
        return checks[check_id]
    except KeyError:
        raise KeyError(f"unknown check {check_id!r}; valid: {', '.join(checks)}") from None


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
