"""The interface both Whisper backends implement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

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


# Whisper hears 30 s at a time: a window to rescore is at most this long.
WINDOW_S = 30.0


@dataclass
class TextScore:
    """How well a text fits a stretch of audio: Whisper's teacher-forced log-probability of its tokens."""

    text: str
    logprob: float  # sum over the text's tokens (natural log)
    token_logprobs: list[float] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return len(self.token_logprobs)

    @property
    def mean_logprob(self) -> float:
        return self.logprob / max(1, self.tokens)


class AsrBackend(Protocol):
    name: str

    def transcribe(self, audio: np.ndarray, options: AsrOptions) -> list[AsrSegment]:
        """Transcribe mono float32 audio at SAMPLE_RATE; times in seconds."""
        ...

    def encode(self, window: np.ndarray, pad: bool = True) -> Any:
        """The encoder's output for up to WINDOW_S of mono float32 audio at SAMPLE_RATE: padded to WINDOW_S like
        Whisper, or with ``pad=False`` just the audio given, where the encoder can take less (faster-whisper)."""
        ...

    def score_texts(self, encoded: Any, prefix: str, candidates: list[str], options: AsrOptions) -> list[TextScore]:
        """Each candidate's log-probability as the window's transcript after ``prefix`` (the words
        heard before it in the window, which are given, not scored)."""
        ...

    # Optional: ``read_openings(encoded, openings, options, max_tokens, slot) -> list[str]``, the window's best reading
    # opening with each given text (faster-whisper has it; a backend without it is simply not asked, see
    # CallRescorer.score_openings).
