"""`callqa eval`: precision, recall and F1 of each check against a labels CSV."""

from __future__ import annotations

import math
from pathlib import Path

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from ..errors import EXIT_FAILED
from .app import command, fail


def _pct(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.2f}"


@command("eval")
def eval_command(
    labels: Path = typer.Argument(..., metavar="LABELS", help="Labels CSV: call_id plus pass/fail/na per check (docs/output-format.md)."),
    out: Path = typer.Option(..., "--out", metavar="DIR", help="The directory `callqa score` wrote (reads its calls.jsonl)."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 on any disagreement (for CI)."),
) -> None:
    """Compare a scored batch with labels: per-check precision/recall/F1 (violation = positive)."""
    from ..reports.eval import evaluate, load_labels
    from ..reports.jsonl import CALLS_FILENAME, read_calls_jsonl

    console = Console()
    calls_path = out / CALLS_FILENAME
    expected = load_labels(labels)
    try:
        calls = read_calls_jsonl(calls_path)
    except FileNotFoundError:
        raise fail(f"{calls_path} not found; run `callqa score ... --out {out}` first") from None
    except ValueError as e:  # a damaged calls.jsonl: the message names the line
        raise fail(str(e)) from None

    report = evaluate(expected, calls)
    table = Table(
        title=f"{report.calls} labelled calls vs {calls_path} (positive = violation)",
        title_justify="left",
        box=box.SIMPLE_HEAD,  # fits 80 columns (CI logs) without truncating the headers
        pad_edge=False,
    )
    table.add_column("check", no_wrap=True, min_width=len("standard_phrasing"))
    for column in ("labelled", "agree", "TP", "FP", "FN", "precision", "recall", "F1"):
        table.add_column(column, justify="right", min_width=len(column))
    for m in report.checks:
        table.add_row(
            m.check_id, str(m.labelled), str(m.agree), str(m.true_positive), str(m.false_positive),
            str(m.false_negative), _pct(m.precision), _pct(m.recall), _pct(m.f1),
        )  # fmt: skip
    console.print(table)
    if any(math.isnan(m.precision) or math.isnan(m.recall) for m in report.checks):
        console.print("'-': no violation was labelled (recall) or found (precision), so there is nothing to divide by.")
    if report.status_labelled:
        console.print(f"employee_id_status accuracy: {_pct(report.status_accuracy)} ({report.status_labelled} calls)")
    if report.flagged_labelled:
        console.print(f"flagged accuracy: {_pct(report.flagged_accuracy)} ({report.flagged_labelled} calls)")

    if report.disagreements:
        diff = Table(title=f"Disagreements ({len(report.disagreements)})", title_justify="left")
        for column in ("call", "check", "expected", "got"):
            diff.add_column(column)
        for d in report.disagreements:
            diff.add_row(d.call_id, d.check, d.expected, d.got)
        console.print(diff)
        if strict:
            raise typer.Exit(EXIT_FAILED)
    else:
        console.print("[bold green]No disagreements:[/] every labelled verdict matches.")
