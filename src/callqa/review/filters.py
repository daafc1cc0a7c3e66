"""Template filters and globals: times, points, masking of personal numbers, check labels."""

from __future__ import annotations

from flask import Flask

from ..checks.registry import check_label
from .i18n import detail, field_name, flag_reason, local_time
from .masking import mask_sensitive

__all__ = ["clock", "points", "init_app"]


def clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(0.0, float(seconds))
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def points(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _when_recorded(call) -> str:
    """When a call was recorded (local time), else when it was scored: older batches have no recording time."""
    if call.recorded_at:
        return local_time(call.recorded_at, naive_is_local=True)
    return local_time(call.scored_at)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["mask"] = lambda text: mask_sensitive(text) if app.config["CALLQA_MASK"] else text
    app.jinja_env.filters["clock"] = clock
    app.jinja_env.filters["points"] = points
    app.jinja_env.globals["check_label"] = check_label
    app.jinja_env.filters["detail"] = detail  # finding details and reasons in the reviewer's language
    app.jinja_env.filters["reason"] = flag_reason
    app.jinja_env.filters["field"] = field_name
    app.jinja_env.filters["localtime"] = local_time
    app.jinja_env.filters["localdate"] = lambda value: local_time(value, with_time=False)
    app.jinja_env.globals["when_recorded"] = _when_recorded
