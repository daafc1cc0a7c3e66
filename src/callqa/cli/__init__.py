"""The `callqa` command. Each sub-command lives in its own module and registers on `app`."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="callqa",
    help="Speech quality assurance for recorded Mandarin customer-service calls.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Sub-command modules register themselves on import: one line each, sorted.
# --- sub-commands ---
from . import eval_cmd  # noqa: E402,F401
from . import models_cmd  # noqa: E402,F401
from . import report_cmd  # noqa: E402,F401
from . import score_cmd  # noqa: E402,F401
from . import scorecard_cmd  # noqa: E402,F401
from . import transcribe_cmd  # noqa: E402,F401
from . import serve_cmd  # noqa: E402,F401
# --- end sub-commands ---


def main() -> None:
    app()
