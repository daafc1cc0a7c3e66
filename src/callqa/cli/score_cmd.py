"""`callqa score`: transcribe (or reuse cached transcripts), check, score, and write the reports."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from . import app

USAGE_ERROR = 2  # bad roster, scorecard, manifest or option
GATE_FAILED = 1  # --fail-under: a call scored below the bar or was not scored; or the model failed to load
FLAGGED_SHOWN = 10


def _usage_error(console: Console, message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(USAGE_ERROR)


def _fmt(value: object, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def print_summary(console: Console, conn: sqlite3.Connection, out_dir: Path, files: list[Path]) -> None:
    """Per-agent table, the worst flagged calls, and where the files are."""
    from ..reports.tables import agents_table, flagged_table

    agents = agents_table(conn)
    table = Table(title="Agents", title_justify="left")
    for column in ("agent", "name", "calls", "mean", "min", "flagged"):
        table.add_column(column, justify="left" if column in ("agent", "name") else "right")
    for row in agents.itertuples():
        table.add_row(
            str(row.agent_id), _fmt(row.agent_name), str(row.calls), _fmt(row.mean_score), _fmt(row.min_score),
            str(row.flagged_calls),
        )  # fmt: skip
    console.print(table)

    flagged = flagged_table(conn)
    if len(flagged):
        worst = Table(title=f"Flagged calls ({len(flagged)}), worst first", title_justify="left")
        for column in ("call", "agent", "score", "reasons"):
            worst.add_column(column, justify="right" if column == "score" else "left", overflow="fold")
        for row in flagged.head(FLAGGED_SHOWN).itertuples():
            worst.add_row(str(row.call_id), str(row.agent_id), _fmt(row.score), row.reasons)
        console.print(worst)
        if len(flagged) > FLAGGED_SHOWN:
            console.print(f"... and {len(flagged) - FLAGGED_SHOWN} more in flagged.csv")
    else:
        console.print("No flagged calls.")
    console.print(f"Results in {out_dir}/: " + ", ".join(p.name for p in files), highlight=False)


@app.command("score")
def score_command(
    input: Path = typer.Argument(..., help="A directory of recordings, a manifest CSV, or one recording."),
    roster: Path = typer.Option(..., "--roster", help="CSV with agent_id,name,employee_id."),
    out: Path = typer.Option(..., "--out", help="Output directory (created; re-scoring updates it)."),
    scorecard: Path | None = typer.Option(None, "--scorecard", help="Scorecard TOML (default: the built-in one)."),
    fail_under: float | None = typer.Option(
        None, "--fail-under", min=0, max=100,
        help="Exit 1 when any call scores below N or could not be scored (scores after reviewers' decisions).",
    ),  # fmt: skip
    workers: int = typer.Option(1, "--workers", min=1, help="Parallel transcription processes."),
    backend: str | None = typer.Option(None, "--backend", help="faster-whisper (default) or openai-whisper."),
    model: str | None = typer.Option(None, "--model", help="A model name from `callqa models`, or a path."),
    prompt: str | None = typer.Option(
        None, "--prompt", help="Initial prompt biasing recognition toward your service phrasing (default: generic)."
    ),
    hotword: list[str] | None = typer.Option(
        None, "--hotword", help="A word to bias recognition toward, e.g. the company's name. Repeatable."
    ),
    no_cache: bool = typer.Option(
        False, "--no-cache", help="Skip the shared transcript cache (DIR/transcripts of the same audio is still reused)."
    ),
) -> None:
    """Score every call: transcripts, checks with evidence, per-agent results and flagged calls."""
    from ..asr.batch import transcribe_batch
    from ..asr.options import AsrOptions
    from ..audio.inputs import input_root, read_inputs
    from ..reports.db import db_path, open_db, save_calls
    from ..reports.jsonl import CALLS_FILENAME, write_calls_jsonl
    from ..reports.tables import write_reports
    from ..scoring.roster import RosterError, load_roster
    from ..scoring.score import score_call
    from ..scoring.scorecard import ScorecardError, load_scorecard

    console = Console()
    errors = Console(stderr=True, soft_wrap=True)
    try:
        agents = load_roster(roster)
    except RosterError as e:
        raise _usage_error(errors, str(e)) from None
    try:
        card = load_scorecard(scorecard)
    except ScorecardError as e:  # the message names the file and the key
        raise _usage_error(errors, str(e)) from None
    try:
        options = AsrOptions.build(
            backend=backend, model=model, initial_prompt=prompt, hotwords=tuple(hotword) if hotword else None
        )
    except ValueError as e:
        raise _usage_error(errors, str(e)) from None
    try:
        calls = read_inputs(input)
    except ValueError as e:  # InputError: bad manifest, empty directory
        raise _usage_error(errors, str(e)) from None

    unknown = sorted({c.agent_id for c in calls if c.agent_id and c.agent_id not in agents})
    if unknown:
        errors.print(
            f"[yellow]warning:[/] agent(s) not in {roster.name}: {', '.join(unknown)}; "
            "their employee ID cannot be verified",
            highlight=False,
        )

    out.mkdir(parents=True, exist_ok=True)
    try:
        results = transcribe_batch(calls, options, out, workers=workers, use_cache=not no_cache, progress=True)
    except ValueError as e:  # an unknown model name: the message lists the valid ones
        raise _usage_error(errors, str(e)) from None
    except RuntimeError as e:  # the model could not load, so no call could be transcribed
        errors.print(f"[bold red]error:[/] {e}", highlight=False)
        raise typer.Exit(GATE_FAILED) from None
    scores = [score_call(result, card, agents) for result in results]

    calls_path = write_calls_jsonl(out / CALLS_FILENAME, scores)
    conn = open_db(db_path(out))
    try:
        save_calls(conn, scores, card.text, card.flag_below, source=str(input), input_root=input_root(input))
        reports = write_reports(conn, out)
        failed = [s for s in scores if s.error]
        cached = sum(1 for r in results if r.transcript and r.transcript.info and r.transcript.info.cached)
        console.print(
            f"Scored {len(scores) - len(failed)} of {len(scores)} calls "
            f"({cached} transcript(s) from the cache)" + (f"; {len(failed)} could not be scored:" if failed else "."),
            highlight=False,
        )
        for s in failed:
            console.print(f"  {s.call_id} ({s.file}): {s.error}", highlight=False, markup=False)
        kept = _calls_with_decisions(conn, [s.call_id for s in scores])
        if kept:
            console.print(f"Reviewers' earlier decisions re-applied on {kept} call(s) (see agents.csv / flagged.csv).")
        files = [calls_path, *reports.values(), db_path(out), out / "transcripts"]
        print_summary(console, conn, out, files)
        if fail_under is not None:
            below = _below_gate(conn, [s.call_id for s in scores], fail_under)
            if below:
                errors.print(
                    f"[bold red]--fail-under {fail_under:g}:[/] {len(below)} call(s) below: "
                    + ", ".join(f"{call_id} ({_fmt(score)})" for call_id, score in below),
                    highlight=False,
                )
                raise typer.Exit(GATE_FAILED)
    finally:
        conn.close()


def _calls_with_decisions(conn: sqlite3.Connection, call_ids: list[str]) -> int:
    """Calls of this batch with a reviewer's decision on a finding that still exists."""
    return sum(
        conn.execute(
            "SELECT EXISTS (SELECT 1 FROM decisions d JOIN findings f "
            "ON f.call_id = d.call_id AND f.fingerprint = d.fingerprint WHERE d.call_id = ?)",
            (call_id,),
        ).fetchone()[0]
        for call_id in call_ids
    )


def _below_gate(conn: sqlite3.Connection, call_ids: list[str], bar: float) -> list[tuple[str, float | None]]:
    """Calls of this batch under the bar; a call that could not be scored fails the gate too."""
    below = []
    for call_id in call_ids:
        row = conn.execute("SELECT score FROM calls WHERE call_id = ?", (call_id,)).fetchone()
        score = row["score"]
        if score is None or score < bar:
            below.append((call_id, score))
    return below
