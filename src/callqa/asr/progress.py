"""Progress of a batch on stderr: a bar with transcribed / cached / failed counts and the rate, and each failure as it happens."""

from __future__ import annotations

import time
from collections import Counter

from .transcript import TranscriptionResult

__all__ = ["BatchProgress"]


class BatchProgress:
    """A rich progress bar on stderr with transcribed / cached / failed counts."""

    def __init__(self, total: int, enabled: bool, label: str = "transcribing") -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.enabled = enabled
        self.counts: Counter[str] = Counter()
        self.started = time.monotonic()
        self.bar = Progress(
            TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
            console=Console(stderr=True), disable=not enabled,
        )
        self.task = self.bar.add_task("transcribe", total=total, counts=self._counts())

    def _counts(self) -> str:
        c = self.counts
        # The rate of calls that cost work (cached and resumed ones arrive at once and would flatter it).
        elapsed = time.monotonic() - self.started
        rate = f"  {(c['new'] + c['failed']) / elapsed:.2f} calls/s" if c["new"] + c["failed"] and elapsed > 0 else ""
        return f"new {c['new']}  cached {c['cached']}  failed {c['failed']}{rate}"

    def done(self, result: TranscriptionResult) -> None:
        if result.transcript is None:
            self.counts["failed"] += 1
            if self.enabled:
                from rich.markup import escape

                self.bar.console.print(f"[red]failed[/red] {escape(result.call.file)}: {escape(result.error or '')}")
        else:
            self.counts["cached" if result.transcript.info and result.transcript.info.cached else "new"] += 1
        self.bar.update(self.task, advance=1, counts=self._counts())
