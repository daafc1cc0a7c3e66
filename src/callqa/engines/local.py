"""`--engine local`: transcription in this machine's processes (asr/batch.py), then checks on the driver."""

from __future__ import annotations

from .base import BatchRun, BatchSpec, EngineOptions, VerificationCost

__all__ = ["LocalEngine"]


class LocalEngine:
    name = "local"

    def __init__(self, options: EngineOptions) -> None:
        self.workers = options.workers or 1

    def run(self, spec: BatchSpec) -> BatchRun:
        from ..asr.batch import transcribe_batch

        results = transcribe_batch(spec.calls, spec.asr, spec.out_dir, workers=self.workers, use_cache=spec.use_cache,
                                   progress=spec.progress, backend=spec.backend, cache_dir=spec.cache_dir)
        if spec.scoring is None:
            return BatchRun(results)
        return _check(results, spec)


def _check(results: list, spec: BatchSpec) -> BatchRun:
    """Run the checks on every call, verifying against the audio when the scorecard says so."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..scoring.score import score_batch
    from ..scoring.verifiers import RescorerFactory

    card, roster = spec.scoring.card, spec.scoring.roster
    rescorers = (RescorerFactory(spec.asr, backend=spec.backend, fitted_windows=card.verification.fitted_windows)
                 if card.verification.enabled else None)
    bar = Progress(TextColumn("checking   "), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True), disable=not spec.progress)
    with bar:
        task = bar.add_task("checks", total=len(results))
        scores = score_batch(results, card, roster, rescorers, on_call=lambda _: bar.advance(task))
    return BatchRun(results, scores, VerificationCost.of(rescorers) if rescorers is not None else VerificationCost())
