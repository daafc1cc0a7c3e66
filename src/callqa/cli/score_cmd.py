"""`callqa score`: transcribe (or reuse cached transcripts), check, score, and write the reports."""

from __future__ import annotations

import math
import sqlite3
from dataclasses import replace
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ..errors import EXIT_FAILED
from .app import command, warn
from .batch_args import (address_option, agent_option, auto_swap_option, engine_option, output_folder, pattern_option,
                         read_calls, sigterm_as_interrupt, workers_option)

FLAGGED_SHOWN = 10


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


@command("score")
def score_command(
    input: Path = typer.Argument(..., metavar="INPUT", help="A directory of recordings, a manifest CSV, or one recording."),
    roster: Path = typer.Option(..., "--roster", metavar="CSV", help="CSV with agent_id,name,employee_id."),
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Output directory (created; re-scoring updates it)."),
    scorecard: Path | None = typer.Option(None, "--scorecard", metavar="TOML", help="Scorecard TOML (default: the built-in one)."),
    fail_under: float | None = typer.Option(
        None, "--fail-under", min=0, max=100, metavar="SCORE",
        help="Exit 1 when any call scores below SCORE or could not be scored (scores after reviewers' decisions).",
    ),  # fmt: skip
    workers: int | None = workers_option,
    engine: str = engine_option,
    address: str | None = address_option,
    backend: str | None = typer.Option(None, "--backend", metavar="NAME", help="faster-whisper (default) or openai-whisper."),
    model: str | None = typer.Option(None, "--model", metavar="NAME", help="A model name from `callqa models`, or a path."),
    prompt: str | None = typer.Option(
        None, "--prompt", metavar="TEXT", help="Initial prompt biasing recognition toward your service phrasing (default: generic)."
    ),
    hotword: list[str] | None = typer.Option(
        None, "--hotword", metavar="WORD", help="A word to bias recognition toward, e.g. the company's name. Repeatable."
    ),
    no_cache: bool = typer.Option(
        False, "--no-cache", help="Skip the shared transcript cache (DIR/transcripts of the same audio is still reused)."
    ),
    agent: str | None = agent_option,
    agent_pattern: str | None = pattern_option,
    auto_swap: bool = auto_swap_option,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no tables: errors, warnings and the gate only."),
    no_verify: bool = typer.Option(
        False, "--no-verify", help="Decide on the transcript's words alone (as [verification] enabled = false): faster, "
        "but a misheard word can pass or fail a check.",
    ),
) -> None:
    """Score every call: transcripts, checks with evidence, per-agent results and flagged calls.

    Exit status: 0 scored; 1 --fail-under missed (a call that could not be scored fails it too);
    2 usage error (bad roster, manifest, scorecard key, model name); 3 the model does not load or
    DIR is in use by another batch; 130 interrupted (run the same command again to resume).
    """
    from ..asr.options import AsrOptions
    from ..engines import BatchSpec, EngineOptions, ScoringSpec, engine_for
    from ..scoring.roster import load_roster
    from ..scoring.scorecard import load_scorecard

    engine_options = EngineOptions.build(engine, address=address, workers=workers)
    agents = load_roster(roster)
    card = load_scorecard(scorecard)
    if no_verify:
        card = replace(card, verification=replace(card.verification, enabled=False))
    options = AsrOptions.build(
        backend=backend, model=model, initial_prompt=prompt, hotwords=tuple(hotword) if hotword else None,
        auto_swap=auto_swap or None,
    )
    calls = read_calls(input, agent, agent_pattern)
    _warn_unverifiable(calls, agents, roster.name)
    output_folder(out)
    spec = BatchSpec(calls, options, out, use_cache=not no_cache, progress=not quiet, scoring=ScoringSpec(card, agents))
    with sigterm_as_interrupt():
        run = engine_for(engine_options).run(spec)
    cost = run.verification
    if cost.calls and not quiet:
        Console().print(
            f"Verified against the audio: {cost.scored_texts} text(s) scored in {cost.encoded_windows} "
            f"window(s), {cost.cached_texts} from the cache, {cost.elapsed_s:.1f} s.", highlight=False)
    _write_and_report(input, out, run.results, run.scores, card, fail_under, quiet)


def _warn_unverifiable(calls: list, agents, roster_name: str) -> None:
    """Once per run: calls whose employee ID can't be checked, and why."""
    nameless = sum(1 for c in calls if not c.agent_id)
    if nameless:
        warn(f"{nameless} of {len(calls)} call(s) name no agent: their employee ID can't be checked against "
             f"{roster_name} (status roster_unknown); give --agent ID, --agent-pattern REGEX or an agent_id column")
    unknown = sorted({c.agent_id for c in calls if c.agent_id and c.agent_id not in agents})
    if unknown:
        warn(f"agent(s) not in {roster_name}: {', '.join(unknown)}; their employee ID cannot be verified")


def _write_and_report(input: Path, out: Path, results: list, scores: list, card, fail_under: float | None,
                      quiet: bool = False) -> None:
    """Write calls.jsonl, the database and the CSVs, print the summary, gate."""
    from ..audio.inputs import input_root
    from ..reports.db import db_path, open_db, save_calls
    from ..reports.jsonl import CALLS_FILENAME, write_calls_jsonl
    from ..reports.tables import write_reports

    console = Console(quiet=quiet)
    calls_path = write_calls_jsonl(out / CALLS_FILENAME, scores)
    conn = open_db(db_path(out))
    try:
        save_calls(conn, scores, card.text, card.flag_below, source=str(input), input_root=input_root(input))
        reports = write_reports(conn, out)
        _print_outcome(console, conn, results, scores)
        print_summary(console, conn, out, [calls_path, *reports.values(), db_path(out), out / "transcripts"])
        if fail_under is not None:
            _gate(conn, [s.call_id for s in scores], fail_under)
    finally:
        conn.close()


def _print_outcome(console: Console, conn: sqlite3.Connection, results: list, scores: list) -> None:
    failed = [s for s in scores if s.error]
    cached = sum(1 for r in results if r.transcript and r.transcript.info and r.transcript.info.cached)
    console.print(
        f"Scored {len(scores) - len(failed)} of {len(scores)} calls "
        f"({cached} transcript(s) from the cache)" + (f"; {len(failed)} could not be scored:" if failed else "."),
        highlight=False,
    )
    for s in failed:
        console.print(f"  {s.call_id} ({s.file}): {s.error}", highlight=False, markup=False)
    for s in scores:
        layout = s.checks.get("channel_layout")
        if layout is not None and layout.extra.get("swapped"):
            console.print(f"  {s.call_id}: channels swapped: {layout.extra['note']}", highlight=False, markup=False)
        elif layout is not None and layout.passed is False:
            console.print(f"  {s.call_id}: flagged, {layout.extra['reason']} (--auto-swap swaps such calls)",
                          highlight=False, markup=False)
    kept = _calls_with_decisions(conn, [s.call_id for s in scores])
    if kept:
        console.print(f"Reviewers' earlier decisions re-applied on {kept} call(s) (see agents.csv / flagged.csv).")


def _gate(conn: sqlite3.Connection, call_ids: list[str], bar: float) -> None:
    below = _below_gate(conn, call_ids, bar)
    if below:
        Console(stderr=True, soft_wrap=True).print(
            f"[bold red]--fail-under {bar:g}:[/] {len(below)} call(s) below: "
            + ", ".join(f"{call_id} ({_fmt(score)})" for call_id, score in below),
            highlight=False,
        )
        raise typer.Exit(EXIT_FAILED)


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
