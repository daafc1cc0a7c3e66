"""The `callqa` command: one module per sub-command, each registering on ``app`` (app.py).

    main()    the console-script entry point
    app       the Typer app (tests drive it with typer.testing.CliRunner)
"""

from __future__ import annotations

from . import eval_cmd, models_cmd, report_cmd, sample_cmd, score_cmd, scorecard_cmd, serve_cmd, transcribe_cmd  # noqa: F401
from .app import app

__all__ = ["app", "main"]


def main() -> None:
    app()
