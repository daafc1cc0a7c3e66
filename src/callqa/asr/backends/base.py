"""The interface both Whisper backends implement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..options import AsrOptions

SAMPLE_RATE = 16000  # what Whisper expects; audio/ resamples to it


@dataclass
class AsrWord:
    start: float
    end: float
    word: str
    probability: float


@dataclass
class AsrSegment:
    """One Whisper segment of one channel, before clean-up and role assignment."""

    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    words: list[AsrWord] = field(default_factory=list)  # filled when options.word_timestamps


class AsrBackend(Protocol):
    name: str

    def transcribe(self, audio: np.ndarray, options: AsrOptions) -> list[AsrSegment]:
        """Transcribe mono float32 audio at SAMPLE_RATE; times in seconds."""
        ...
