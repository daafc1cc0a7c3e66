"""Rescoring: how well candidate texts fit an utterance's audio, by Whisper's own decoder.

A check asks a yes/no question about a few known words (did the agent say
this ID, 请您稍等, a banned 不行?). Whisper's one best transcript is often
wrong exactly there on phone audio, but the same model can score any given
text against the audio: the teacher-forced log-probability of its tokens
(CTranslate2's ``Whisper.align`` for faster-whisper, the decoder's logits for
openai-whisper). Comparing the heard text with the canonical phrase put in
its place, or a banned phrase with its sound-alike rivals, tells which one
the audio holds, and by how much.

Whisper hears 30 s at a time and its encoder is the costly part, so a
:class:`CallRescorer` encodes a window once and scores every later question
inside it: a window opens just before the first utterance asked about, and an
utterance further into it is scored after the words heard before it in the
window (given, not scored), as Whisper itself would have decoded it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..audio.decode import DecodedAudio
from .backends.base import SAMPLE_RATE, WINDOW_S, AsrBackend, TextScore
from .options import AsrOptions
from .transcript import Transcript, Utterance

__all__ = ["CallRescorer", "TextScore", "LEAD_S"]

# A window opens this long before the utterance asked about: Whisper's times are
# about 0.1-0.3 s early or late, and the first syllable must be in the window.
LEAD_S = 0.4
# An utterance is scored in an open window only if it ends this long before the window does.
_TAIL_S = 1.0


@dataclass
class _Window:
    channel: int | None
    start: float
    encoded: object

    def holds(self, u: Utterance) -> bool:
        return self.start <= u.start - 0.1 and u.end <= self.start + WINDOW_S - _TAIL_S


@dataclass
class CallRescorer:
    """Scores candidate texts against one call's audio; one encoder pass per window used."""

    audio: DecodedAudio
    layout: str  # the transcript's channels: "mono" or a stereo layout
    backend: AsrBackend
    options: AsrOptions
    windows: list[_Window] = field(default_factory=list)
    encoded_windows: int = 0
    scored_texts: int = 0
    elapsed_s: float = 0.0

    def _samples(self, channel: int | None) -> np.ndarray:
        if channel is None or self.layout == "mono" or self.audio.n_channels == 1:
            return self.audio.mono()
        return self.audio.channels[channel]

    def _window_for(self, u: Utterance) -> _Window:
        channel = None if self.layout == "mono" else u.channel
        for window in self.windows:
            if window.channel == channel and window.holds(u):
                return window
        start = max(0.0, u.start - LEAD_S)
        samples = self._samples(channel)
        first = int(start * SAMPLE_RATE)
        window = _Window(channel, start, self.backend.encode(samples[first : first + int(WINDOW_S * SAMPLE_RATE)]))
        self.windows.append(window)
        self.encoded_windows += 1
        return window

    def score_utterance(self, transcript: Transcript, index: int, candidates: list[str]) -> list[TextScore]:
        """Each candidate's fit as the words of utterance ``index`` (in the order given)."""
        started = time.perf_counter()
        u = transcript.utterances[index]
        window = self._window_for(u)
        prefix = "".join(
            other.raw_text
            for other in transcript.utterances
            if other is not u
            and (self.layout == "mono" or other.channel == u.channel)
            and other.start >= window.start - 0.05
            and other.end <= u.start + 0.05
        )
        scores = self.backend.score_texts(window.encoded, prefix, list(candidates), self.options)
        self.scored_texts += len(candidates)
        self.elapsed_s += time.perf_counter() - started
        return scores
