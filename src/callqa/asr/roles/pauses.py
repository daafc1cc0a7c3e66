"""Where a pause ends a turn: the one splitter, with one threshold per purpose.

Whisper (with VAD) returns a channel's speech in windows of up to 30 s and
often a whole window as one segment; checks need turns, with the silences
between them (a wait: 请您稍等 ... silence ... 感谢您的耐心等待). A segment is
cut where its word timestamps leave a silence. Punctuation that Whisper writes
as a word of its own spans the pause it marks, so it counts as silence: only
the gap between two spoken words is measured.

The thresholds, and why:

- ``TURN_PAUSE_S`` (1.0 s), stereo: on one party's own channel a pause this
  long is the other party talking or a wait (in-turn pauses on calls stay
  under about 0.5 s).
- ``UTTERANCE_PAUSE_S`` (1.5 s), mono: pieces of one segment that the role
  assignment gave the same speaker are merged into one utterance unless a
  silence this long lies between them; the voice change, not the pause, is
  what splits turns on a mono recording, so only a clear wait splits here.
"""

from __future__ import annotations

from dataclasses import replace

from ...text import content_key
from ..backends.base import AsrSegment, AsrWord
from ..filters import compression_ratio

__all__ = ["TURN_PAUSE_S", "UTTERANCE_PAUSE_S", "split_at_pauses", "timed_words"]

TURN_PAUSE_S = 1.0
UTTERANCE_PAUSE_S = 1.5
# A word Whisper's alignment gave no duration, at a segment's edge and this far from its neighbour, was not said
# apart: on corpus c208 the 感 of 感谢您的等候 sat alone at the end of the hold request, 3 s before 谢, and split off.
_TIMELESS_S = 0.001
_TIMELESS_GAP_S = 0.5


def timed_words(words: list[AsrWord]) -> list[AsrWord]:
    """``words`` with a timeless first (or last) spoken word moved onto the next (previous) spoken word."""
    spoken = [k for k, w in enumerate(words) if content_key(w.word)]
    if len(spoken) < 2:
        return words
    out = list(words)
    first, second = out[spoken[0]], out[spoken[1]]
    if first.end - first.start <= _TIMELESS_S and second.start - first.end >= _TIMELESS_GAP_S:
        out[spoken[0]] = replace(first, start=second.start, end=second.start)
    last, before = out[spoken[-1]], out[spoken[-2]]
    if last.end - last.start <= _TIMELESS_S and last.start - before.end >= _TIMELESS_GAP_S:
        out[spoken[-1]] = replace(last, start=before.end, end=before.end)
    return out


def split_at_pauses(segments: list[AsrSegment], min_pause_s: float = TURN_PAUSE_S) -> list[AsrSegment]:
    """Segments cut where two spoken words are ``min_pause_s`` or more apart.

    Each piece keeps its segment's scores, its own words and times, and its
    own compression ratio. Segments without word timestamps stay whole.
    """
    return [piece for seg in segments for piece in _split(seg, min_pause_s)]


def _split(seg: AsrSegment, min_pause_s: float) -> list[AsrSegment]:
    if not seg.words:
        return [seg]
    timed = timed_words(seg.words)
    groups: list[list[AsrWord]] = [[]]
    last_end = None
    for w in timed:
        is_content = bool(content_key(w.word))
        if is_content and last_end is not None and w.start - last_end >= min_pause_s and groups[-1]:
            groups.append([])
        groups[-1].append(w)
        if is_content:
            last_end = w.end
    if len(groups) == 1 and timed == seg.words:
        return [seg]
    pieces = []
    for words in groups:
        content = [w for w in words if content_key(w.word)]
        text = "".join(w.word for w in words).strip()
        if content:
            pieces.append(replace(seg, start=content[0].start, end=content[-1].end, text=text,
                                  compression_ratio=compression_ratio(text), words=words))
    return pieces
