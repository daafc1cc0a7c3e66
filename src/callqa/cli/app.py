"""The `callqa` Typer app, and the one place user errors become a message and an exit code.

Commands register with :func:`command` rather than ``app.command``: a
:class:`callqa.errors.CallqaError` raised anywhere below prints as one line,
``error: <message>`` on stderr (never a traceback, never wrapped at the
terminal width, so a CI log stays greppable), and exits with the error's
code; Ctrl-C exits 130. The codes are listed in callqa/errors.py.
"""

from __future__ import annotations

import functools
from typing import Callable

import typer
from rich.console import Console
from rich.markup import escape

from .. import __version__
from ..errors import EXIT_INTERRUPTED, EXIT_USAGE, CallqaError

__all__ = ["app", "command", "fail", "print_error", "warn"]

CONTEXT = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="callqa",
    help="Speech quality assurance for recorded Mandarin customer-service calls.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings=CONTEXT,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"callqa {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Speech quality assurance for recorded Mandarin customer-service calls."""


def print_error(message: str) -> None:
    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False)


def warn(message: str) -> None:
    Console(stderr=True, soft_wrap=True).print(f"[yellow]warning:[/] {escape(message)}", highlight=False)


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print ``message`` as an error and return the Exit to raise: ``raise fail("...")``."""
    print_error(message)
    return typer.Exit(code)


def command(name: str, typer_app: typer.Typer | None = None, **kwargs) -> Callable:
    """Register a sub-command on ``typer_app`` (default: the main app) with the shared error handling."""

    def register(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run(*args, **kw):
            try:
                return fn(*args, **kw)
            except CallqaError as e:
                raise fail(str(e), e.exit_code) from None
            except KeyboardInterrupt:
                raise typer.Exit(EXIT_INTERRUPTED) from None

        (typer_app or app).command(name, **kwargs)(run)
        return fn

    return register
