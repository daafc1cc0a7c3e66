"""What a Ray worker process runs for one call: decode, transcribe, check and verify; plain dataclasses back.

This module never imports Ray: the driver (ray_engine.py) wraps :func:`run_call`
in a Ray task, and Ray imports this module by name on the worker. The model is
loaded once per worker process, on its first cache miss: the state below is
module-level, and Ray reuses a worker process for the tasks of a batch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..asr.batch import BackendUnavailableError, CallWorker
from ..asr.batch_output import CallJob, CallOutcome
from ..asr.cache import default_cache_dir
from ..asr.models import ModelRef
from ..asr.options import AsrOptions
from ..asr.transcript import Transcript
from ..scoring.roster import Roster
from ..scoring.score import CallScore
from .base import VerificationCost
from .call_checks import CheckInWorker

__all__ = ["WorkerSpec", "CallDone", "run_call"]


@dataclass
class WorkerSpec:
    """What every call of one batch shares; sent to the cluster once (ray.put)."""

    batch: str  # one batch's id: a worker process reused by a later batch builds its state again
    asr: AsrOptions
    model: ModelRef
    use_cache: bool
    cache_dir: Path | None  # None: the worker's own $CALLQA_CACHE_DIR/transcripts
    card: Any = None  # a Scorecard; None: transcribe only
    roster: Roster | None = None
    backend: Any = None  # a picklable AsrBackend (tests); None: the worker loads asr.backend once


@dataclass
class CallDone:
    outcome: CallOutcome  # the transcript or the call's error; the driver records it (BatchOutput)
    score: CallScore | None = None
    verification: VerificationCost = field(default_factory=VerificationCost)
    worker_pid: int = 0
    fatal: str | None = None  # the model does not load here: no call can succeed, the batch stops


class _State:
    def __init__(self, spec: WorkerSpec) -> None:
        cache = (spec.cache_dir or default_cache_dir()) if spec.use_cache else None
        # The checks verify with the transcribing backend: one model per worker process.
        checks = CheckInWorker(spec.card, spec.roster, spec.asr) if spec.card is not None else None
        self.worker = CallWorker(spec.asr, spec.model, cache, spec.backend, checks)


_state: tuple[str, _State] | None = None


def _state_for(spec: WorkerSpec) -> _State:
    global _state
    if _state is None or _state[0] != spec.batch:
        _state = (spec.batch, _State(spec))
    return _state[1]


def run_call(spec: WorkerSpec, job: CallJob, earlier: Transcript | None) -> CallDone:
    """One call: transcribed (unless ``earlier``, a resumed call's transcript, is given), then scored."""
    state = _state_for(spec)
    try:
        outcome = state.worker.run(job, earlier)
    except BackendUnavailableError as e:
        return CallDone(CallOutcome(None, type(e).__name__, str(e)), worker_pid=os.getpid(), fatal=str(e))
    checked, outcome.then = outcome.then, None  # sent back once, as CallDone's fields
    if checked is None:  # transcribing only, or the checks failed here: the driver scores the call
        return CallDone(outcome, worker_pid=os.getpid())
    return CallDone(outcome, checked.score, checked.verification, os.getpid())
