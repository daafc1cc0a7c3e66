"""`callqa scorecard check FILE` validates a scorecard; `callqa scorecard show` prints the default."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ..errors import EXIT_FAILED
from .app import app, command

scorecard_app = typer.Typer(
    help="Validate a scorecard, print the default one to start from, or list the checks it configures.",
    no_args_is_help=True,
)
app.add_typer(scorecard_app, name="scorecard")

@command("check", scorecard_app)
def check(file: Path = typer.Argument(..., metavar="TOML", help="A scorecard TOML file (overrides the default key by key).")) -> None:
    """Validate FILE: print OK and what it will run, or every error by key."""
    from ..scoring.scorecard import ScorecardError, load_scorecard

    out, err = Console(), Console(stderr=True, soft_wrap=True)
    try:
        scorecard = load_scorecard(file)
    except ScorecardError as e:
        err.print(f"[bold red]{file}: {len(e.errors)} error{'s' if len(e.errors) > 1 else ''}[/]", highlight=False)
        for line in e.errors:
            err.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_FAILED) from None

    table = Table(title=f"{scorecard.name}: flag calls below {scorecard.flag_below:g}", title_justify="left")
    for column in ("check", "enabled", "critical", "deduction", "settings"):
        table.add_column(column, justify="right" if column == "deduction" else "left")
    for check_id, config in scorecard.checks.items():
        settings = [k for k in vars(config) if k not in ("enabled", "critical", "deduction", "matching")]
        table.add_row(
            check_id,
            "yes" if config.enabled else "no",
            "yes" if config.critical else "no",
            f"{config.deduction:g}",
            ", ".join(settings),
        )
    out.print(f"[bold green]OK[/] {file}", highlight=False)
    out.print(table)
    m = scorecard.matching
    out.print(
        f"matching: pinyin={'on' if m.pinyin else 'off'}, fuzzy={'on' if m.fuzzy else 'off'} "
        f"(threshold {m.fuzzy_threshold:g}, phrases of {m.fuzzy_min_chars}+ characters), "
        f"low confidence below {m.low_confidence_below:g}",
        highlight=False,
    )


@command("show", scorecard_app)
def show() -> None:
    """Print the packaged default scorecard (TOML), to copy and edit."""
    from ..scoring.scorecard import default_scorecard_text

    typer.echo(default_scorecard_text(), nl=False)


@command("checks", scorecard_app)
def list_checks() -> None:
    """List the checks a scorecard can configure: id, name, what each one checks, its default deduction."""
    from ..checks.registry import REGISTERED

    table = Table(title="Checks (sections \\[checks.<id>] of a scorecard)", title_justify="left")
    for column in ("id", "name", "passes when", "deduction", "critical"):
        table.add_column(column, justify="right" if column == "deduction" else "left", overflow="fold",
                         no_wrap=column == "id")
    for cls in REGISTERED:
        defaults = cls.config_class()
        table.add_row(cls.id, f"{cls.name_zh} {cls.name}", cls.description, f"{defaults.deduction:g}",
                      "yes" if defaults.critical else "no")
    Console().print(table)
