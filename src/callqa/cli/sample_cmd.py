"""`callqa sample DIR --per-agent N`: put a random sample of calls into the review queue for human scoring."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import command, fail


@command("sample")
def sample(
    target: Path = typer.Argument(..., metavar="DIR", help="A scored batch directory (holding callqa.sqlite) or the database file."),
    per_agent: int = typer.Option(..., "--per-agent", min=1, max=1000, help="Calls to draw per agent."),
    unflagged: bool = typer.Option(False, "--unflagged", help="Draw only calls the machine did not flag."),
    seed: int = typer.Option(0, "--seed", help="The same seed over the same calls draws the same sample."),
    by: str = typer.Option("callqa sample", "--by", help="Who drew it, for the record."),
) -> None:
    """Draw calls per agent at random into the queue, so people learn how often the machine misses.

    Reviewers find them in the app under "sampled"; the agreement report compares their
    verdicts with the machine's. Drawing again adds nothing already drawn.
    """
    from ..reports.db import is_writable, open_db
    from ..review import resolve_db_path
    from ..review.sampling import draw_sample

    try:
        db = resolve_db_path(target)
    except FileNotFoundError as e:
        raise fail(str(e)) from None
    if not is_writable(db):
        raise fail(f"{db} is read-only: a sample can't be recorded")
    conn = open_db(db)
    try:
        drawn = draw_sample(conn, per_agent, unflagged=unflagged, seed=seed, drawn_by=by)
    finally:
        conn.close()
    for call_id in drawn:
        typer.echo(call_id)
    typer.echo(f"{len(drawn)} calls in the sample (seed {seed}); review them with `callqa serve {target}`", err=True)
