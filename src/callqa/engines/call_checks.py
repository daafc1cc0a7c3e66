"""A call's checks and verification, done by the worker process that transcribed it (either engine).

Verification asks the audio with the model the worker already loaded to
transcribe, so each worker holds one model and the calls of a batch are
checked in parallel, instead of one by one on the driver after the last
transcription (on 2 cores that left one core idle for the quarter of the work
that verification is: bench/throughput.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..asr.backends.base import AsrBackend
from ..asr.options import AsrOptions
from ..asr.transcript import TranscriptionResult
from ..scoring.roster import Roster
from ..scoring.score import CallScore, score_batch
from .base import VerificationCost

__all__ = ["CheckedCall", "CheckInWorker"]


@dataclass
class CheckedCall:
    score: CallScore
    verification: VerificationCost  # what this call's questions to the audio cost


class CheckInWorker:
    """``check(result, backend)``: the call scored with ``card`` and ``roster``, verified with ``backend``.

    Sent to each worker once (pickled without its verifier); the verifier is made
    in the worker on its first call and kept for the worker's later calls.
    """

    def __init__(self, card: Any, roster: Roster | None, asr: AsrOptions) -> None:
        self.card, self.roster, self.asr = card, roster, asr
        self._rescorers = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_rescorers": None}

    def __call__(self, result: TranscriptionResult, backend: AsrBackend) -> CheckedCall:
        rescorers = self._rescorers_for(backend)
        before = VerificationCost.of(rescorers) if rescorers is not None else VerificationCost()
        [score] = score_batch([result], self.card, self.roster, rescorers)
        after = VerificationCost.of(rescorers) if rescorers is not None else VerificationCost()
        return CheckedCall(score, after - before)

    def _rescorers_for(self, backend: AsrBackend):
        if not self.card.verification.enabled:
            return None
        if self._rescorers is None:
            from ..scoring.verifiers import RescorerFactory

            self._rescorers = RescorerFactory(self.asr, backend=backend,
                                              fitted_windows=self.card.verification.fitted_windows)
        return self._rescorers
