"""Second look: speech the VAD heard on a channel that Whisper wrote no word for, transcribed again alone.

Whisper (with VAD, over 30 s windows) sometimes returns nothing for a whole
stretch of a channel: on corpus call c012 it wrote the agent's first 13 s and
then not one word of the 20 s of agent speech that followed, the closing among
them; elsewhere a closing (请问还有什么问题吗？) or an ID (工号四六二幺为您服务)
vanished between two written turns; or Whisper wrote its prompt back over the
speech, and the filters cut it. A check then convicts the agent of
leaving out words they said. The VAD's own spans (measures.py) show where
speech went unwritten; each such stretch is decoded again on its own.

Where Whisper wrote its prompt's words into a segment with the speech around them (下午好，…客服热线。工号、致电、
客服… over the agent's 工号七五四幺零为您服务, corpus c088), nothing is unwritten, but what was said under the echo
is lost; such a segment is read again the same way, without the prompt, and the new reading takes its place
(``reread_echoes``). On the corpus 6 of the 9 segments that write the prompt back were read again, among them
the openings of dev c057 and c110, whose readings gave their IDs' digits (公号二五三要, 公号8689位移服务); c088's
44 s segment held one reading Whisper was unsure of, and was kept as written.

A stretch is decoded without VAD, without the prompt (on a clip of speech
alone Whisper base writes the prompt back: 以下是普通话的客服电话录音), and at
temperature 0 only: the fallback to sampling on a stretch Whisper could not
read invents text (圈圈向著…) and cost 14 s of CPU a stretch. What it returns
is kept only when Whisper was fairly sure of it (``MIN_LOGPROB``): on corpus
dev every reading above it was the words said or close to them, every one
below it noise or invention.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..text import content_key
from .backends.base import SAMPLE_RATE, WINDOW_S, AsrBackend, AsrSegment, AsrWord
from .cache import Reread
from .echoes import find_prompt_echoes
from .filters import drop_hallucinations
from .measures import CROSSTALK_GAP_DB, ChannelMeasures, measure_channel
from .options import AsrOptions

__all__ = ["reread_echoes", "second_look", "sensitive_speech", "unwritten_speech", "with_rereads", "SECOND_LOOK_VERSION"]

# Bump when what the second look finds changes: recognitions cached with another version take it again.
SECOND_LOOK_VERSION = 4
# The VAD that finds speech to look at again is more sensitive than transcription's (options.vad_threshold):
# Silero's probability on a voice depends on what came before it, and on corpus call c164 the agent's whole
# 请问还有什么可以为您效劳的吗 scored between 0.2 and 0.35 in its channel (above 0.35 on its own). Noise it lets
# through costs one decode and is dropped by MIN_LOGPROB.
SENSITIVE_VAD_THRESHOLD = 0.2

MIN_UNWRITTEN_S = 0.5  # shorter VAD spans are breaths and clicks as often as words
MAX_WRITTEN_SHARE = 0.2  # a span this much covered by written words was heard
PAD_S = 0.3  # audio kept around a stretch: VAD spans start late and end early by about this much
JOIN_GAP_S = 0.6  # unwritten spans this close are decoded together (one clip, one encoder pass)
# Mean token log-probability a second-look segment needs. Measured on corpus dev (the 19 stretches transcription's
# VAD found): readings at -0.79 and above were the words said (a few characters off); those at -0.91 and below
# were noise or invention.
MIN_LOGPROB = -0.8


def sensitive_speech(samples: np.ndarray) -> list[tuple[float, float]]:
    """Speech spans by Silero at SENSITIVE_VAD_THRESHOLD (the timing VAD's pads and gaps, measures.py)."""
    return measure_channel(samples, SENSITIVE_VAD_THRESHOLD).speech


def unwritten_speech(segments: list[AsrSegment], speech: list[tuple[float, float]], own: ChannelMeasures,
                     other: ChannelMeasures | None = None) -> list[tuple[float, float]]:
    """Stretches of ``speech`` (this channel's VAD spans) that no written word covers and that are not the
    other channel's voice (louder there by CROSSTALK_GAP_DB, by the levels in ``own`` and ``other``), joined
    when close, each under 30 s. ``segments`` are what is kept of Whisper's (filters.drop_hallucinations)."""
    words = [(w.start, w.end) for seg in segments for w in seg.words if content_key(w.word)]
    if not words and segments:  # no word times: the segments' own spans
        words = [(seg.start, seg.end) for seg in segments]
    spans = []
    for start, end in speech:
        written = sum(max(0.0, min(end, b) - max(start, a)) for a, b in words)
        if end - start < MIN_UNWRITTEN_S or written > MAX_WRITTEN_SHARE * (end - start):
            continue
        if other is not None and other.mean_level(start, end) - own.mean_level(start, end) >= CROSSTALK_GAP_DB:
            continue
        if spans and start - spans[-1][1] <= JOIN_GAP_S and end - spans[-1][0] <= WINDOW_S - 2 * PAD_S:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def clip_options(options: AsrOptions) -> AsrOptions:
    """One decode of a clip of speech: no VAD, no prompt, no temperature fallback, no batching."""
    return replace(options, vad=False, initial_prompt=None, hotwords=(), batch_size=0,
                   log_prob_threshold=-1e9, compression_ratio_threshold=1e9, no_speech_threshold=1.0)


def second_look(backend: AsrBackend, samples: np.ndarray, segments: list[AsrSegment],
                speech: list[tuple[float, float]], own: ChannelMeasures, other: ChannelMeasures | None,
                options: AsrOptions) -> list[AsrSegment]:
    """Segments for this channel's unwritten ``speech`` (sensitive_speech; times in the call), those
    Whisper was sure enough of. ``segments`` are the channel's with their rereads in place."""
    found: list[AsrSegment] = []
    # Words the filters cut were never heard: on corpus call c057 Whisper wrote its prompt's word list
    # (工号、致电、客服…) over 12 s of the agent's speech, the employee ID among it.
    for start, end in unwritten_speech(drop_hallucinations(segments, options), speech, own, other):
        found += [seg for seg in _read_alone(backend, samples, start, end, options) if _sure(seg, options)]
    return found


def reread_echoes(backend: AsrBackend, samples: np.ndarray, segments: list[AsrSegment],
                  options: AsrOptions) -> list[Reread]:
    """This channel's segments where Whisper wrote its prompt back, each decoded again alone without the prompt,
    where Whisper is sure enough of all of the new reading and it echoes nothing."""
    rereads = []
    for echo in find_prompt_echoes(segments, options, "any"):
        reading = _read_alone(backend, samples, echo.start, echo.end, options)
        if reading and all(_sure(seg, options) for seg in reading) and not find_prompt_echoes(reading, options, "any"):
            rereads.append(Reread(echo.start, echo.end, reading))
    return rereads


def with_rereads(segments: list[AsrSegment], rereads: list[Reread]) -> list[AsrSegment]:
    """``segments`` with each one a reread stands for replaced by the reread's."""
    kept = []
    for seg in segments:
        reread = next((r for r in rereads if abs(r.start - seg.start) < 1e-3 and abs(r.end - seg.end) < 1e-3), None)
        kept += reread.segments if reread else [seg]
    return kept


def _read_alone(backend: AsrBackend, samples: np.ndarray, start: float, end: float,
                options: AsrOptions) -> list[AsrSegment]:
    """The stretch from ``start`` to ``end`` (and PAD_S around it) decoded on its own; times in the call."""
    first = max(0, int((start - PAD_S) * SAMPLE_RATE))
    offset = first / SAMPLE_RATE
    return [replace(seg, start=seg.start + offset, end=seg.end + offset,
                    words=[AsrWord(w.start + offset, w.end + offset, w.word, w.probability) for w in seg.words])
            for seg in backend.transcribe(samples[first : int((end + PAD_S) * SAMPLE_RATE)], clip_options(options))]


def _sure(seg: AsrSegment, options: AsrOptions) -> bool:
    return seg.avg_logprob >= MIN_LOGPROB and seg.no_speech_prob < options.no_speech_threshold
