"""The engine interface: its options (validated when built), what a batch asks, what it gives back."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..asr.options import AsrOptions
from ..asr.transcript import CallInput, TranscriptionResult
from ..errors import UsageError
from ..scoring.roster import Roster
from ..scoring.score import CallScore

__all__ = ["ENGINES", "EngineOptions", "ScoringSpec", "BatchSpec", "BatchRun", "VerificationCost", "Engine"]

ENGINES = ("local", "ray")
# `ray start` on this machine (auto), a head's GCS (HOST:PORT), or the Ray client (ray://HOST:PORT).
_ADDRESS = re.compile(r"auto|(ray://)?[A-Za-z0-9._\-\[\]:]+:\d{1,5}")


@dataclass(frozen=True)
class EngineOptions:
    name: str = "local"
    address: str | None = None  # ray only; None starts a Ray instance on this machine
    # local: processes (default: one per core, as memory allows); ray without an address: the local Ray's CPUs
    workers: int | None = None

    @classmethod
    def build(cls, name: str = "local", address: str | None = None, workers: int | None = None) -> "EngineOptions":
        if name not in ENGINES:
            raise UsageError(f"--engine {name!r}: unknown engine; valid engines: {', '.join(ENGINES)}")
        if workers is not None and workers < 1:
            raise UsageError(f"--workers {workers}: give 1 or more")
        if address is not None:
            if name != "ray":
                raise UsageError(f"--address is for --engine ray; --engine {name} runs on this machine")
            if not _ADDRESS.fullmatch(address):
                raise UsageError(f"--address {address!r}: give auto, HOST:PORT (a head started with "
                                 "`ray start --head`) or ray://HOST:PORT")
            if workers is not None:
                raise UsageError("--workers with --address: the cluster's CPUs decide how many calls run at once; "
                                 "drop --workers")
        return cls(name, address, workers)


@dataclass
class ScoringSpec:
    card: Any  # a scoring.scorecard.Scorecard
    roster: Roster | None


@dataclass
class BatchSpec:
    calls: list[CallInput]
    asr: AsrOptions
    out_dir: Path
    use_cache: bool = True
    progress: bool = True
    scoring: ScoringSpec | None = None  # None: transcribe only
    backend: Any = None  # an already made (picklable) AsrBackend; default: each worker loads asr.backend once
    cache_dir: Path | None = None  # the transcript cache; default $CALLQA_CACHE_DIR/transcripts where the call runs


@dataclass
class VerificationCost:
    """What asking the audio cost (RescorerFactory's counters), summed over calls or workers."""

    calls: int = 0
    encoded_windows: int = 0
    scored_texts: int = 0
    cached_texts: int = 0
    elapsed_s: float = 0.0

    @classmethod
    def of(cls, counters: Any) -> "VerificationCost":
        return cls(counters.calls, counters.encoded_windows, counters.scored_texts, counters.cached_texts,
                   counters.elapsed_s)

    def __add__(self, other: "VerificationCost") -> "VerificationCost":
        return VerificationCost(self.calls + other.calls, self.encoded_windows + other.encoded_windows,
                                self.scored_texts + other.scored_texts, self.cached_texts + other.cached_texts,
                                self.elapsed_s + other.elapsed_s)

    def __sub__(self, other: "VerificationCost") -> "VerificationCost":
        return VerificationCost(self.calls - other.calls, self.encoded_windows - other.encoded_windows,
                                self.scored_texts - other.scored_texts, self.cached_texts - other.cached_texts,
                                self.elapsed_s - other.elapsed_s)


@dataclass
class BatchRun:
    results: list[TranscriptionResult]
    scores: list[CallScore] | None = None  # with BatchSpec.scoring, one per call in input order
    verification: VerificationCost = field(default_factory=VerificationCost)


class Engine(Protocol):
    name: str

    def run(self, spec: BatchSpec) -> BatchRun:
        """Every call of ``spec`` once; KeyboardInterrupt keeps the finished calls' files (a rerun resumes)."""
        ...

