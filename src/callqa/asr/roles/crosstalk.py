"""Words one party said that Whisper also wrote on the other party's channel.

A stereo recording keeps each party on a channel, but not perfectly: line
echo, a headset that picks up the handset, or a low-bit-rate codec that folds
the channels (libopus at 24 kbps leaves the other side only 10-25 dB down)
put a quiet copy of one party's voice on the other's channel. Whisper
normalizes every window's level, so it writes that copy as words, and the
customer's 我想续保 turns up in the agent's channel (or the agent's greeting in
the customer's).

The copy is found word by word, since Whisper cuts the two channels into
different segments: a run of the same syllables on both channels at the same
time is one voice heard twice, and the channel where that run is clearly
louder is the speaker's. Overtalk is not touched: two parties speaking at once
say different words.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from difflib import SequenceMatcher

from ...text import content_key, syllables
from ..backends.base import AsrSegment, AsrWord
from ..filters import compression_ratio
from ..measures import CROSSTALK_GAP_DB, ChannelMeasures

__all__ = ["drop_crosstalk"]

_MIN_RUN = 2  # syllables in a row (and the level gap): one syllable alike on both channels is chance
_MAX_SHIFT_S = 0.6  # the two copies' word times may disagree by this much (word timestamps are loose)
# A run is judged in pieces cut where either copy pauses this long: the parties take turns at pauses, and a run of
# both channels' copies can hold the agent's words and then the customer's.
_TURN_GAP_S = 0.3


@dataclass(frozen=True)
class _Syllable:
    segment: int
    word: int
    time: float
    sound: str
    word_start: float
    word_end: float


def _syllables(segments: list[AsrSegment]) -> list[_Syllable]:
    """Every content character of a channel's words, in order, with a time spread over its word."""
    out = []
    for s, seg in enumerate(segments):
        for w, word in enumerate(seg.words):
            key = content_key(word.word)
            for k, sound in enumerate(syllables(key)):
                time = word.start + (word.end - word.start) * (k + 0.5) / len(key)
                out.append(_Syllable(s, w, time, sound, word.start, word.end))
    return out


def _copies(a: list[_Syllable], b: list[_Syllable]) -> list[tuple[int, int, int]]:
    """Runs of the same syllables on both channels at the same time: (start in a, start in b, length)."""
    matcher = SequenceMatcher(None, [x.sound for x in a], [x.sound for x in b], autojunk=False)
    runs = []
    for i, j, n in matcher.get_matching_blocks():
        for start, length in _pieces(a[i : i + n], b[j : j + n]):
            if length >= _MIN_RUN and sum(abs(a[i + start + k].time - b[j + start + k].time)
                                          for k in range(length)) / length <= _MAX_SHIFT_S:
                runs.append((i + start, j + start, length))
    return runs


def _pieces(a: list[_Syllable], b: list[_Syllable]) -> list[tuple[int, int]]:
    """(start, length) of the stretches of a matched run between pauses of either copy."""
    cuts = [k for k in range(1, len(a))
            if max(a[k].word_start - a[k - 1].word_end, b[k].word_start - b[k - 1].word_end) >= _TURN_GAP_S]
    bounds = [0, *cuts, len(a)]
    return [(lo, hi - lo) for lo, hi in zip(bounds, bounds[1:])]


def drop_crosstalk(per_channel: dict[int, list[AsrSegment]],
                   measures: dict[int, ChannelMeasures] | None) -> dict[int, list[AsrSegment]]:
    """Each channel's segments without the words that are a quieter copy of the other channel's."""
    if not measures or sorted(per_channel) != [0, 1] or not all(ch in measures for ch in (0, 1)):
        return per_channel
    sylls = {ch: _syllables(per_channel[ch]) for ch in (0, 1)}
    leaked: dict[int, set[tuple[int, int]]] = {0: set(), 1: set()}  # (segment, word) per channel
    for i, j, n in _copies(sylls[0], sylls[1]):
        start = min(sylls[0][i].time, sylls[1][j].time) - 0.1
        end = max(sylls[0][i + n - 1].time, sylls[1][j + n - 1].time) + 0.1
        gap = measures[0].mean_level(start, end) - measures[1].mean_level(start, end)
        if abs(gap) < CROSSTALK_GAP_DB:
            continue  # no clear source: the utterance-level echo rule decides (stereo.py)
        quiet, first = (1, j) if gap > 0 else (0, i)
        leaked[quiet].update((x.segment, x.word) for x in sylls[quiet][first : first + n])
    for ch in (0, 1):
        _spread(per_channel[ch], per_channel[1 - ch], measures[ch], measures[1 - ch], leaked[ch])
    return {ch: _without(segments, leaked[ch]) for ch, segments in per_channel.items()}


def _spread(segments: list[AsrSegment], other: list[AsrSegment], own: ChannelMeasures, louder: ChannelMeasures,
            leaked: set[tuple[int, int]]) -> None:
    """Also the words next to a copy that Whisper wrote differently on the two channels (拿带您上 for 拿饭您稍候):
    a neighbour is a copy too when the other channel has words at that time and is clearly louder there."""
    spans = [(w.start, w.end) for seg in other for w in seg.words if content_key(w.word)]
    grown = True
    while grown:
        grown = False
        for s, w in sorted(leaked):
            for n in (_next_content(segments[s].words, w, -1), _next_content(segments[s].words, w, 1)):
                if n is None or (s, n) in leaked:
                    continue
                word = segments[s].words[n]
                said_there = any(a < word.end and word.start < b for a, b in spans)
                if said_there and louder.mean_level(word.start, word.end) - own.mean_level(word.start, word.end) \
                        >= CROSSTALK_GAP_DB:
                    leaked.add((s, n))
                    grown = True


def _next_content(words: list[AsrWord], k: int, step: int) -> int | None:
    """The nearest word from ``k`` in direction ``step`` that is not punctuation."""
    k += step
    while 0 <= k < len(words):
        if content_key(words[k].word):
            return k
        k += step
    return None


def _without(segments: list[AsrSegment], leaked: set[tuple[int, int]]) -> list[AsrSegment]:
    """Segments with those words taken out; a segment is cut where they stood."""
    if not leaked:
        return segments
    out = []
    for s, seg in enumerate(segments):
        if not any(key[0] == s for key in leaked):
            out.append(seg)
            continue
        runs: list[list[AsrWord]] = [[]]
        for w, word in enumerate(seg.words):
            if (s, w) in leaked:
                runs.append([])
            else:
                runs[-1].append(word)
        for words in runs:
            content = [w for w in words if content_key(w.word)]
            if content:
                words = words[words.index(content[0]):]  # no punctuation left over from the words taken out
                text = "".join(w.word for w in words).strip()
                out.append(replace(seg, start=content[0].start, end=content[-1].end, text=text,
                                   compression_ratio=compression_ratio(text), words=words))
    return out
