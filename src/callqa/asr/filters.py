"""Drop what Whisper invents: text on silence, decoding loops, subtitle credits.

Runs on one channel's segments, in time order, before roles are assigned.
Every rule removes text that no one said; none of them rewrites words that
someone did say, except collapsing a loop (好的好的好的好的… -> 好的), whose
repeats are the decoder's, not the speaker's.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from .backends.base import AsrSegment, AsrWord
from .data_files import load_sections
from ..text import content_key, is_content_char
from .echoes import is_prompt_echo, prompt_sentences, prompt_word_lists
from .options import AsrOptions

__all__ = [
    "drop_hallucinations",
    "confidence_from_logprob",
    "collapse_loops",
    "compression_ratio",
    "is_filler_only",
    "HallucinationList",
    "load_hallucinations",
]

HALLUCINATIONS_FILE = Path(__file__).with_name("hallucinations.yaml")

# Hesitations and backchannels that carry no words a check could use. On
# silence and line noise Whisper writes exactly these.
FILLER_CHARS = frozenset("嗯啊呃哦噢额唔哎诶欸呀哈喔哼嘿呣")
FILLER_WORDS = frozenset({"um", "uh", "hmm", "mm", "ah", "oh", "er", "eh"})

# A unit repeated this many times in a row is a decoding loop. Single
# characters need more: people do say 对对对对 and laugh 哈哈哈哈.
_LOOP_MIN_REPEATS_SINGLE_CHAR = 6
_LOOP_MIN_REPEATS = 4
_LOOP_MAX_UNIT = 15
_LOOP = re.compile(rf"(.{{1,{_LOOP_MAX_UNIT}}}?)\1{{{_LOOP_MIN_REPEATS - 1},}}", re.DOTALL)
_REPEAT = re.compile(rf"(.{{2,{_LOOP_MAX_UNIT}}})\1")  # any phrase said twice in a row
# Punctuation either side of a cut meets (帮到您。工号、致电…退款。 -> 帮到您。。): the first mark stays.
_MARKS_MET = re.compile(r"([，。！？、,.!?；;：:])[\s，。！？、,.!?；;：:]+")

# Fuzzy matching of listed hallucinations: only long entries (short ones
# would hit real words) and only close matches.
_FUZZY_MIN_LEN = 6
_FUZZY_MIN_SCORE = 88.0
# A segment left with fewer content characters than this after cutting out a
# hallucination was all hallucination.
_MIN_CONTENT_LEFT = 2
# Consecutive segments with the same words are the decoder repeating itself
# when they are at least this long (two 喂 in a row are real) and follow each
# other without a pause (an agent repeating a question the customer did not
# hear waits for an answer first).
_DUPLICATE_MIN_LEN = 4
_DUPLICATE_MIN_SCORE = 92.0
_DUPLICATE_MAX_GAP_S = 1.0
# No syllable is shorter than this; Whisper's time resolution is 20 ms.
_MIN_SEGMENT_S = 0.08
_UNBELIEVED_WORD_PROBABILITY = 0.15


def confidence_from_logprob(avg_logprob: float) -> float:
    """ASR confidence in [0, 1]: the geometric-mean token probability."""
    if avg_logprob is None or math.isnan(avg_logprob):
        return 0.0
    return min(1.0, max(0.0, math.exp(min(avg_logprob, 0.0))))


def compression_ratio(text: str) -> float:
    """Whisper's repetition measure: UTF-8 length over zlib-compressed length."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def is_filler_only(text: str) -> bool:
    """True when a text holds no words: only punctuation, or only hesitations."""
    key = content_key(text)
    if not key:
        return True
    if all(ch in FILLER_CHARS for ch in key):
        return True
    ascii_words = re.findall(r"[a-z]+", text.lower())
    return key.isascii() and bool(ascii_words) and all(w in FILLER_WORDS for w in ascii_words)


def collapse_loops(text: str) -> str:
    """Collapse a phrase repeated in a loop to one occurrence."""

    def collapse(m: re.Match[str]) -> str:
        unit = m.group(1)
        repeats = len(m.group(0)) // len(unit)
        if not content_key(unit):
            return m.group(0)  # repeated punctuation or spaces: not a loop of words
        if len(content_key(unit)) == 1 and repeats < _LOOP_MIN_REPEATS_SINGLE_CHAR:
            return m.group(0)
        return unit

    return _LOOP.sub(collapse, text)


@dataclass(frozen=True)
class HallucinationList:
    anywhere: tuple[str, ...]  # content keys
    alone: frozenset[str]


@lru_cache(maxsize=4)
def load_hallucinations(path: Path = HALLUCINATIONS_FILE) -> HallucinationList:
    data = load_sections(path, ("anywhere", "alone"))
    anywhere = sorted({content_key(p) for p in data.get("anywhere", []) if content_key(p)}, key=len, reverse=True)
    return HallucinationList(
        anywhere=tuple(anywhere),
        alone=frozenset(content_key(p) for p in data.get("alone", []) if content_key(p)),
    )


def _cut_listed(text: str, listed: HallucinationList) -> str:
    """The text with every 'anywhere' hallucination cut out (punctuation around
    a cut is left; an empty result means the whole text was invented)."""
    from rapidfuzz import fuzz

    for _ in range(8):  # a segment rarely holds more than one or two
        positions = [i for i, ch in enumerate(text) if is_content_char(ch)]
        key = content_key(text)
        if len(key) != len(positions):  # OpenCC changed the length: cannot map back
            return text
        # Among exact and fuzzy hits take the one covering most text, weighted
        # by how well it matches: a full variant beats an exact fragment of it.
        best, span = 0.0, None
        for phrase in listed.anywhere:
            at = key.find(phrase)
            if at >= 0:
                hit_span, score = (at, at + len(phrase)), 100.0
            elif len(phrase) >= _FUZZY_MIN_LEN and len(key) >= _FUZZY_MIN_LEN:
                hit = fuzz.partial_ratio_alignment(phrase, key, score_cutoff=_FUZZY_MIN_SCORE)
                if hit is None or hit.dest_end - hit.dest_start < _FUZZY_MIN_LEN:
                    continue
                hit_span, score = (hit.dest_start, hit.dest_end), hit.score
            else:
                continue
            if (hit_span[1] - hit_span[0]) * score > best:
                best, span = (hit_span[1] - hit_span[0]) * score, hit_span
        if span is None:
            return text
        text = text[: positions[span[0]]] + text[positions[span[1] - 1] + 1 :]
    return text


def _words_in(text: str, words: list[AsrWord]) -> list[AsrWord]:
    """The words still present in an edited text, matched in order."""
    key = content_key(text)
    kept, pos = [], 0
    for w in words:
        wkey = content_key(w.word)
        if not wkey:
            continue
        at = key.find(wkey, pos)
        if at >= 0:
            kept.append(w)
            pos = at + len(wkey)
    return kept


def _is_silence(seg: AsrSegment, options: AsrOptions) -> bool:
    # Whisper's own rule: a likely no-speech window that decoded with low confidence.
    return seg.no_speech_prob > options.no_speech_threshold and seg.avg_logprob < options.log_prob_threshold


def _is_unbelieved(seg: AsrSegment, options: AsrOptions) -> bool:
    # Whisper's own word probabilities all near zero on a low-confidence segment,
    # or no time to say anything in: a tail Whisper adds after speech (好 in 20 ms).
    if seg.end - seg.start < _MIN_SEGMENT_S:
        return True
    return (
        seg.avg_logprob < options.log_prob_threshold
        and bool(seg.words)
        and all(w.probability < _UNBELIEVED_WORD_PROBABILITY for w in seg.words)
    )


def _clean_one(seg: AsrSegment, options: AsrOptions, listed: HallucinationList) -> AsrSegment | None:
    if _is_silence(seg, options) or _is_unbelieved(seg, options):
        return None
    text = seg.text.strip()
    collapsed = collapse_loops(text)
    # Whisper measures the ratio over its whole 30 s window, so every segment of
    # a window shares it: a segment is only dropped for it when its own words
    # repeat (one that loops is kept collapsed, below).
    over_ratio = seg.compression_ratio > options.compression_ratio_threshold
    if over_ratio and collapsed == text and _REPEAT.search(content_key(text)):
        return None
    if compression_ratio(collapsed) > options.compression_ratio_threshold:
        return None
    key = content_key(collapsed)
    if key in listed.alone:
        return None
    cut = _cut_listed(collapsed, listed)
    if cut != collapsed and len(content_key(cut)) < _MIN_CONTENT_LEFT:
        return None
    if is_filler_only(cut):
        return None
    if cut == text:
        return seg
    cut = _MARKS_MET.sub(r"\1", cut.strip())
    words = _words_in(cut, seg.words)
    # The segment spans the words left: on corpus call c057 Whisper wrote the prompt's word list over 12 s of an
    # agent's speech, and with the list cut the greeting's segment still ran to 17.3 s, hiding the speech
    # under it from the second look and from the timing checks.
    start, end = (words[0].start, words[-1].end) if words else (seg.start, seg.end)
    return replace(seg, start=start, end=end, text=cut, compression_ratio=compression_ratio(cut), words=words)


def _is_repeat(prev: AsrSegment, seg: AsrSegment) -> bool:
    from rapidfuzz import fuzz

    a, b = content_key(prev.text), content_key(seg.text)
    if min(len(a), len(b)) < _DUPLICATE_MIN_LEN or seg.start - prev.end > _DUPLICATE_MAX_GAP_S:
        return False
    return a == b or fuzz.ratio(a, b) >= _DUPLICATE_MIN_SCORE


_PROMPT_LIST_MIN_ITEMS = 3  # 工号、致电、客服 in a row is the prompt's word list; an agent says one of them at a time


@lru_cache(maxsize=8)
def _with_prompt(listed: HallucinationList, prompt: str | None) -> HallucinationList:
    """The listed hallucinations plus the initial prompt's sentences and runs of its word list, which Whisper
    writes back inside a segment too (欢迎致电联信通信客服中心。工号、致电、客服、订单、快递、退款。)."""
    if not prompt:
        return listed
    phrases = set(prompt_sentences(prompt))
    for items in prompt_word_lists(prompt):
        for n in range(_PROMPT_LIST_MIN_ITEMS, len(items) + 1):
            phrases.update("".join(items[i : i + n]) for i in range(len(items) - n + 1))
    anywhere = sorted(set(listed.anywhere) | phrases, key=len, reverse=True)
    return HallucinationList(tuple(anywhere), listed.alone)


def drop_hallucinations(segments: list[AsrSegment], options: AsrOptions) -> list[AsrSegment]:
    """One channel's segments without invented text. See the module doc.

    Dropped: Whisper's no-speech rule (no_speech_prob above the threshold with
    avg_logprob below its threshold); low-confidence segments none of whose
    words Whisper believed, or too short to hold a syllable; text over the
    compression-ratio threshold that repeats itself, or still exceeds it once
    loops are collapsed; listed subtitle credits (hallucinations.yaml);
    segments of punctuation or hesitations only; a segment repeating the one
    just before it; a segment echoing a sentence of the initial prompt, and the prompt's sentences and
    runs of its word list cut out wherever they appear.
    Segments are returned in time order; an edited segment keeps only the
    words still in its text.
    """
    listed = _with_prompt(load_hallucinations(), options.initial_prompt)
    kept: list[AsrSegment] = []
    for seg in sorted(segments, key=lambda s: (s.start, s.end)):
        cleaned = None if is_prompt_echo(seg, options) else _clean_one(seg, options, listed)
        if cleaned is None:
            continue
        if kept and _is_repeat(kept[-1], cleaned):
            continue
        kept.append(cleaned)
    return kept
