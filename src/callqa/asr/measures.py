"""What the audio says besides the words: when each channel holds speech, and how loud it is.

Checks of how an agent sounds (dead air, interrupting, speaking fast, raising
the voice) need the audio, not the transcript: Whisper's segment times are
loose and its text says nothing of loudness. Per channel (stereo) or for the
mix (mono) this measures, once per recording and kept with the recognition
in the cache:

- ``speech``: spans of speech by Silero VAD (the detector transcription uses),
  with short pads and gaps so that a 1 s overlap or a 5 s silence is measured
  to about a tenth of a second;
- ``level_db``: the RMS level every ``HOP_S`` (dBFS), from which an
  utterance's loudness is the level of its speech frames.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .backends.base import SAMPLE_RATE

__all__ = ["ChannelMeasures", "attach_measures", "measure_channel", "own_speech", "CROSSTALK_GAP_DB", "HOP_S",
           "SILENT_DB"]

HOP_S = 0.05  # level frames: 50 ms
SILENT_DB = -90.0  # the level of digital silence
# One party's voice leaking into the other's channel (line echo, a folding codec) is at least this much quieter
# there than on its own. Measured on the corpus's 24 kbps stereo Opus calls: 10-25 dB.
CROSSTALK_GAP_DB = 6.0
# VAD settings for timing, not for transcription: short gaps split spans (an overlap is a second or two),
# short pads keep the spans close to the voice.
_MIN_SILENCE_MS = 250
_SPEECH_PAD_MS = 60
_MIN_SPEECH_MS = 120


@dataclass
class ChannelMeasures:
    speech: list[tuple[float, float]] = field(default_factory=list)  # seconds
    level_db: list[float] = field(default_factory=list)  # one value per HOP_S

    def to_dict(self) -> dict:
        d = asdict(self)
        d["speech"] = [[round(a, 3), round(b, 3)] for a, b in self.speech]
        d["level_db"] = [round(x, 1) for x in self.level_db]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ChannelMeasures":
        return cls([(float(a), float(b)) for a, b in d.get("speech", [])], [float(x) for x in d.get("level_db", [])])

    def speech_within(self, start: float, end: float) -> float:
        """Seconds of speech between ``start`` and ``end``."""
        return sum(max(0.0, min(b, end) - max(a, start)) for a, b in self.speech)

    def mean_level(self, start: float, end: float) -> float:
        """Mean power (dB) of all level frames between ``start`` and ``end``, speech or not; -inf if none."""
        frames = self.level_db[int(start / HOP_S) : max(int(start / HOP_S) + 1, int(math.ceil(end / HOP_S)))]
        if not frames:
            return -math.inf
        return 10 * math.log10(sum(10 ** (x / 10) for x in frames) / len(frames))

    def loudness(self, start: float, end: float) -> float | None:
        """Mean level (dB, power-averaged) of the speech frames between ``start`` and ``end``."""
        frames = []
        for a, b in self.speech:
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                frames += self.level_db[int(lo / HOP_S) : max(int(lo / HOP_S) + 1, int(hi / HOP_S))]
        frames = [x for x in frames if x > SILENT_DB]
        if not frames:
            return None
        return round(10 * math.log10(float(np.mean([10 ** (x / 10) for x in frames]))), 1)


def measure_channel(samples: np.ndarray, vad_threshold: float = 0.35) -> ChannelMeasures:
    """Speech spans and the level envelope of one channel at SAMPLE_RATE."""
    samples = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
    hop = int(HOP_S * SAMPLE_RATE)
    n = len(samples) // hop
    if n == 0:
        return ChannelMeasures()
    power = np.mean(samples[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1)
    # Rounded as the cache stores them, so a cached recognition measures the same as a fresh one.
    level = [round(SILENT_DB if p <= 1e-9 else max(SILENT_DB, 10 * math.log10(p)), 1) for p in power]
    if float(np.max(np.abs(samples))) < 1e-3:  # digital silence: nothing for the VAD to find
        return ChannelMeasures([], level)
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(threshold=vad_threshold, min_silence_duration_ms=_MIN_SILENCE_MS,
                         speech_pad_ms=_SPEECH_PAD_MS, min_speech_duration_ms=_MIN_SPEECH_MS)
    spans = get_speech_timestamps(samples, options, sampling_rate=SAMPLE_RATE)
    return ChannelMeasures([(round(s["start"] / SAMPLE_RATE, 3), round(s["end"] / SAMPLE_RATE, 3)) for s in spans], level)


# A leak is a copy of the other channel's voice at a fixed attenuation: over this many frames (0.5 s) its level
# follows the other channel's within _LEAK_SPREAD_DB, where two people talking at once differ by 10 dB and more
# from one syllable to the next (the corpus's labelled interruptions: -22 to +13 dB).
_LEAK_FRAMES = 10
_LEAK_SPREAD_DB = 3.0


def own_speech(own: ChannelMeasures, other: ChannelMeasures) -> list[tuple[float, float]]:
    """``own``'s speech spans without the stretches that are the other channel's voice leaking in: a level that
    follows the other channel's, CROSSTALK_GAP_DB or more below it. On the corpus's stereo Opus calls without
    line noise the VAD heard each party in the other's channel 25 dB down, and each such stretch was overtalk."""
    n = min(len(own.level_db), len(other.level_db))
    leak = np.zeros(n, bool)
    if n >= _LEAK_FRAMES:
        diff = np.asarray(own.level_db[:n]) - np.asarray(other.level_db[:n])
        windows = np.lib.stride_tricks.sliding_window_view(diff, _LEAK_FRAMES)
        copied = (windows.std(axis=1) <= _LEAK_SPREAD_DB) & (windows.mean(axis=1) <= -CROSSTALK_GAP_DB)
        for k in np.flatnonzero(copied):  # every frame of a window that is a copy
            leak[k : k + _LEAK_FRAMES] = True
    kept: list[tuple[float, float]] = []
    for start, end in own.speech:
        piece_start = None
        for k in range(int(start / HOP_S), int(math.ceil(end / HOP_S)) + 1):
            voiced = k * HOP_S < end and not (k < n and leak[k])
            if voiced and piece_start is None:
                piece_start = max(start, k * HOP_S)
            elif not voiced and piece_start is not None:
                piece = (round(piece_start, 3), round(min(end, k * HOP_S), 3))
                if piece[1] - piece[0] >= _MIN_SPEECH_MS / 1000:
                    kept.append(piece)
                piece_start = None
    return kept


def attach_measures(utterances: list, measures: dict[int, ChannelMeasures] | None) -> list:
    """Each utterance's speech time and loudness, from its own channel (the mix on a mono call)."""
    if measures:
        for u in utterances:
            m = measures.get(u.channel if u.channel is not None else 0)
            if m is not None:
                u.speech_s = round(m.speech_within(u.start, u.end), 3)
                u.loudness_db = m.loudness(u.start, u.end)
    return utterances
