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

Scores are cached on disk per recording (:class:`RescoreCache`, keyed by the
audio bytes, the model, the recognition options, the window and the texts),
so re-scoring a batch with a changed scorecard asks the model only the new
questions: the audio is decoded and the model loaded only on a miss.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..audio.decode import DecodedAudio
from ..files import atomic_write
from .backends.base import SAMPLE_RATE, WINDOW_S, AsrBackend, TextScore
from .options import AsrOptions
from .transcript import Transcript, Utterance

__all__ = ["CallRescorer", "RescoreCache", "TextScore", "LEAD_S"]

# A window opens this long before the utterance asked about: Whisper's times are
# about 0.1-0.3 s early or late, and the first syllable must be in the window.
LEAD_S = 0.4
# Whisper often drops an utterance's first words on phone audio (您好 before 我是…: the segment starts
# 0.7-1.0 s after the voice does, measured on the corpus dev split). A window opens at the voice's onset
# by the VAD when it is at most this much earlier, so a question about those words has their audio.
MAX_ONSET_LEAD_S = 3.0
# An utterance is scored in an open window only if it ends this long before the window does.
_TAIL_S = 1.0
# A fitted window (``fitted=True``) holds the audio up to this long after the end of the utterance that opened
# it, in whole seconds, rather than Whisper's full 30 s: the encoder's cost falls with the length, and so does
# the decoder's cross-attention, paid once per candidate (measured totals below).
_FITTED_AFTER_S = 2.0
# ... and at least this much: with less context Whisper's scores of the same words fall (about 0.1 nats a
# token) and their margins shrink. Measured on the corpus dev split: windows ending 2 s after the utterance
# cut banned_phrases recall from 0.55 to 0.48 (convictions left to listening); 10 s or more kept every check
# within 0.01 F1 of full windows, and verification took 214 s instead of 744 s for the 210 calls.
_FITTED_MIN_S = 10.0
# A reading of an utterance with a forced opening (score_openings) covers it from this long before its start to
# this long after its end, and may run this many tokens past its heard length after its opening, counted as at
# least _OPENING_SLOT tokens long: the hold requests (请您耐心等待 is 7) share one limit, so each reading is the
# same whichever others are asked with it, and the same as when tuned (one limit set by the longest asked).
_OPENING_LEAD_S = 0.3
_OPENING_TAIL_S = 0.5
_OPENING_EXTRA_TOKENS = 6
_OPENING_SLOT = 7
# Bump when what a score means changes (windowing, prompt handling).
RESCORE_VERSION = 1


class RescoreCache:
    """Scores already computed, one JSON file per recording under ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _path(self, audio_sha256: str) -> Path:
        return self.directory / audio_sha256[:2] / f"{audio_sha256}.json"

    def load(self, audio_sha256: str) -> dict[str, list]:
        try:
            return json.loads(self._path(audio_sha256).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # a missing or damaged entry is a miss, never an error

    def save(self, audio_sha256: str, entries: dict[str, list]) -> None:
        path = self._path(audio_sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(entries, ensure_ascii=False))


@dataclass
class _Window:
    channel: int | None
    start: float
    length: float = WINDOW_S  # seconds of audio encoded (a full window is padded to WINDOW_S like Whisper's)
    encoded: object = None  # encoded on the first question the cache can't answer

    def holds(self, u: Utterance) -> bool:
        return self.start <= u.start - 0.1 and u.end <= self.start + self.length - _TAIL_S


def _voice_onset(u: Utterance, transcript: Transcript) -> float:
    """Where the VAD heard this utterance's speaker start, if that is before the words Whisper wrote
    (at most MAX_ONSET_LEAD_S before); else the utterance's start. Mono: anyone's voice."""
    spans = transcript.speech.get(u.role if transcript.channels != "mono" else "any", [])
    for start, end in spans:
        if start - 0.05 <= u.start <= end + 0.05 and u.start - start <= MAX_ONSET_LEAD_S:
            return start - 0.1
    return u.start


@dataclass
class CallRescorer:
    """Scores candidate texts against one call's audio; one encoder pass per window used.

    ``audio`` and ``backend`` are callables, so a call whose every question is
    in ``cache`` is never decoded and loads no model.
    """

    audio: Callable[[], DecodedAudio]
    layout: str  # the transcript's channels: "mono" or a stereo layout
    backend: Callable[[], AsrBackend]
    options: AsrOptions
    identity: str = ""  # audio sha256 + model: what the cache entries belong to
    cache: RescoreCache | None = None
    fitted: bool = True  # windows hold the audio a question needs, not a padded 30 s (see _FITTED_AFTER_S)
    windows: list[_Window] = field(default_factory=list)
    encoded_windows: int = 0
    scored_texts: int = 0
    cached_texts: int = 0
    elapsed_s: float = 0.0
    _decoded: DecodedAudio | None = None
    _entries: dict[str, list] | None = None
    _dirty: bool = False

    def _samples(self, channel: int | None) -> np.ndarray:
        if self._decoded is None:
            self._decoded = self.audio()
        audio = self._decoded
        if channel is None or self.layout == "mono" or audio.n_channels == 1:
            return audio.mono()
        return audio.channels[channel]

    def _window_for(self, u: Utterance, transcript: Transcript) -> _Window:
        channel = None if self.layout == "mono" else u.channel
        for window in self.windows:
            if window.channel == channel and window.holds(u):
                return window
        start = round(max(0.0, min(u.start - LEAD_S, _voice_onset(u, transcript))), 2)
        needed = max(_FITTED_MIN_S, float(math.ceil(u.end + _FITTED_AFTER_S - start)))
        length = min(WINDOW_S, needed) if self.fitted else WINDOW_S
        window = _Window(channel, start, length)
        self.windows.append(window)
        return window

    def _encoded(self, window: _Window):
        if window.encoded is None:
            first = int(window.start * SAMPLE_RATE)
            samples = self._samples(window.channel)[first : first + int(window.length * SAMPLE_RATE)]
            window.encoded = self.backend().encode(samples, pad=window.length >= WINDOW_S)
            self.encoded_windows += 1
        return window.encoded

    def _key(self, window: _Window, prefix: str, text: str) -> str:
        # A full window's key is as it was before windows could be fitted, so those scores stay valid.
        place = [window.start] if window.length >= WINDOW_S else [window.start, window.length]
        material = json.dumps([RESCORE_VERSION, self.identity, self.options.recognition_fields(), window.channel,
                               *place, prefix, text], ensure_ascii=False, sort_keys=True, default=list)
        return hashlib.sha256(material.encode("utf-8")).hexdigest()[:24]

    def score_utterance(self, transcript: Transcript, index: int, candidates: list[str]) -> list[TextScore]:
        """Each candidate's fit as the words of utterance ``index`` (in the order given)."""
        started = time.perf_counter()
        u = transcript.utterances[index]
        window = self._window_for(u, transcript)
        prefix = "".join(
            other.raw_text
            for other in transcript.utterances
            if other is not u
            and (self.layout == "mono" or other.channel == u.channel)
            and other.start >= window.start - 0.05
            and other.end <= u.start + 0.05
        )
        if self._entries is None:
            self._entries = self.cache.load(self.identity) if self.cache and self.identity else {}
        keys = [self._key(window, prefix, text) for text in candidates]
        missing = [text for text, key in zip(candidates, keys) if key not in self._entries]
        if missing:
            scored = self.backend().score_texts(self._encoded(window), prefix, missing, self.options)
            for score in scored:
                self._entries[self._key(window, prefix, score.text)] = [score.logprob, score.token_logprobs]
            self._dirty = True
        self.scored_texts += len(missing)
        self.cached_texts += len(candidates) - len(missing)
        self.elapsed_s += time.perf_counter() - started
        return [TextScore(text, *self._entries[key]) for text, key in zip(candidates, keys)]

    def score_openings(self, transcript: Transcript, index: int, openings: list[str]) -> list[TextScore] | None:
        """Utterance ``index``'s audio alone, read by Whisper freely and opening with each of ``openings``: the
        scores of [the heard words, the free reading, each opening's reading], or None when the backend can't
        read with a forced opening (openai-whisper)."""
        started = time.perf_counter()
        u = transcript.utterances[index]
        channel = None if self.layout == "mono" else u.channel
        # Just the utterance (and the silence after it: a hold follows a hold request), no context before it:
        # the readings compared must cover the same audio, and a longer window lets them run into the next turn.
        start, end = round(max(0.0, u.start - _OPENING_LEAD_S), 2), round(u.end + _OPENING_TAIL_S, 2)
        window = _Window(channel, start, end - start)
        wanted = ["", *openings]
        # Each reading depends on its opening and its length limit alone (backends read each with its own), so
        # each is kept on its own, under that limit, and only those not kept yet are read ("opening/3": readings
        # from before depended on the openings asked beside them, or had other limits, and are read again).
        reading = f"opening/3+{_OPENING_EXTRA_TOKENS}/{_OPENING_SLOT}"
        keys = [self._key(window, "heard", u.raw_text)] + [self._key(window, reading, text) for text in wanted]
        if self._entries is None:
            self._entries = self.cache.load(self.identity) if self.cache and self.identity else {}
        missing = [i for i, key in enumerate(keys) if key not in self._entries]
        if missing:
            backend = self.backend()
            if not hasattr(backend, "read_openings"):
                return None
            first = int(start * SAMPLE_RATE)
            encoded = backend.encode(self._samples(channel)[first : int(end * SAMPLE_RATE)], pad=False)
            self.encoded_windows += 1
            try:
                texts = backend.read_openings(encoded, [wanted[i - 1] for i in missing if i], self.options,
                                              len(u.raw_text) + _OPENING_EXTRA_TOKENS, _OPENING_SLOT)
            except NotImplementedError:
                return None
            to_score = ([u.raw_text] if missing[0] == 0 else []) + texts
            for i, score in zip(missing, backend.score_texts(encoded, "", to_score, self.options)):
                self._entries[keys[i]] = [score.text, score.logprob, score.token_logprobs]
            self._dirty = True
        self.elapsed_s += time.perf_counter() - started
        return [TextScore(*self._entries[key]) for key in keys]

    def close(self) -> None:
        """Keep what was scored for the next run."""
        if self._dirty and self.cache and self.identity and self._entries is not None:
            self.cache.save(self.identity, self._entries)
            self._dirty = False
