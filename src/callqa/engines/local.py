"""`--engine local`: each call transcribed, checked and verified by one of this machine's worker processes.

The processes are asr/batch.py's (resume, per-call files, a crashed worker
failing only its call); the checks are call_checks.py's, done in the worker
with the model it transcribed with. Calls resumed from an earlier run are
checked here, on the driver.
"""

from __future__ import annotations

from typing import Any

from ..machine import available_memory, usable_cores
from .base import BatchRun, BatchSpec, EngineOptions, VerificationCost
from .call_checks import CheckedCall, CheckInWorker

__all__ = ["LocalEngine"]


class LocalEngine:
    name = "local"

    def __init__(self, options: EngineOptions) -> None:
        self.workers = options.workers  # None: default_workers()

    def run(self, spec: BatchSpec) -> BatchRun:
        from ..asr.batch import run_batch

        workers = self.workers or default_workers(spec.backend)
        checks = CheckInWorker(spec.scoring.card, spec.scoring.roster, spec.asr) if spec.scoring else None
        batch = run_batch(spec.calls, spec.asr, spec.out_dir, workers, spec.use_cache, spec.progress,
                          backend=spec.backend, cache_dir=spec.cache_dir, then=checks,
                          label="scoring     " if checks else "transcribing")
        if spec.scoring is None:
            return BatchRun(batch.results)
        return _check(batch.results, batch.then, checks, spec)


# What one worker holds at its peak (bench/throughput.py: 660-890 MB with the base model), with room to spare.
_WORKER_MEMORY_BYTES = 1536 * 2**20


def default_workers(backend: Any = None) -> int:
    """``--workers`` when not given: a process per usable core, as many as the available memory holds (a
    container's CPU quota and memory limit included: callqa/machine.py).

    Measured on 2 cores (bench/throughput.py --scaling): two workers with a thread each cost a fifth less CPU
    than one process with two threads, and finish 1.7x sooner: CTranslate2's threads wait on each other on
    short phone turns. A backend made by the caller lives in this process: one worker.
    """
    if backend is not None:
        return 1
    cores, memory = usable_cores(), available_memory()
    return cores if memory is None else max(1, min(cores, memory // _WORKER_MEMORY_BYTES))


def _check(results: list, checked: list[CheckedCall | None], checks: CheckInWorker, spec: BatchSpec) -> BatchRun:
    """The workers' scores, and here the checks of the calls no worker checked (resumed from an earlier run)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    left = [i for i, done in enumerate(checked) if done is None]
    bar = Progress(TextColumn("checking   "), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True), disable=not spec.progress or not left)
    with bar:
        task = bar.add_task("checks", total=len(left))
        for i in left:
            checked[i] = checks(results[i], spec.backend)  # no backend given: loaded here if a question needs it
            bar.advance(task)
    cost = sum((done.verification for done in checked), VerificationCost())
    return BatchRun(results, [done.score for done in checked], cost)
