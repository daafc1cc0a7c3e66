"""Phrase matching that survives ASR errors, and says where it matched.

Whisper on 8 kHz phone audio writes homophones (公号 for 工号, 至电 for 致电,
克服 for 客服), Traditional characters (歡迎) and drops or repeats syllables.
A phrase is looked for in three tiers, best first:

1. ``exact``  - the characters (after OpenCC t2s and full-width to half-width).
2. ``pinyin`` - the toneless pinyin syllables (pypinyin): homophones match.
3. ``fuzzy``  - syllables again, allowing a few syllable edits (rapidfuzz
   Levenshtein over a sliding window), with near-homophone initials and finals
   merged (zh/z, ch/c, sh/s, n/l, -ng/-n).

Fuzziness scales with phrase length, because a short phrase with one edit is a
different word: a phrase of n syllables tolerates ``floor(n * (1 -
fuzzy_threshold))`` edits, and none at all when ``n < fuzzy_min_chars``. With
the defaults (0.75, 4) 再见, 不行 and 请稍等 must match exactly (characters or
pinyin), 请您稍等 tolerates one edit, 感谢您的耐心等待 two. A fuzzy match must
also start on the phrase's first syllable and end on its last or
second-to-last, so an edit never removes the word that carries the meaning
(还有什么问题 does not match 您有什么问题).

Punctuation and spaces are ignored when matching (Whisper punctuates at
will), except that a short phrase never straddles punctuation (不，行 is not
不行). Every match carries its span in the text searched, so evidence quotes
the words the recognizer wrote.

Phrase entries may spell alternatives: ``(a|b)`` is a required choice, ``[a|b]``
or ``[a]`` an optional one. ``请[您]稍(等|候)`` stands for 请您稍等, 请您稍候,
请稍等 and 请稍候; a match reports the entry as written.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from ..text import is_punctuation_or_space, simplify, syllables
from ..asr.transcript import Transcript, Utterance
from .base import CheckConfig, Finding

__all__ = [
    "MatchSettings",
    "PhraseCheckConfig",
    "PhraseMatch",
    "PhraseList",
    "compile_phrases",
    "expand_phrase",
    "find_phrases",
    "match_utterance",
    "prepare",
    "is_low_confidence",
    "utterance_finding",
    "match_extra",
    "split_deduction",
]

TIERS = ("exact", "pinyin", "fuzzy")


@dataclass(frozen=True)
class MatchSettings:
    """The scorecard's ``[matching]`` section."""

    pinyin: bool = True  # match homophones on toneless pinyin
    fuzzy: bool = True  # allow syllable edits in long phrases
    fuzzy_threshold: float = 0.75  # similarity 1 - edits/n a fuzzy match needs
    fuzzy_min_chars: int = 4  # shorter phrases never match fuzzily
    low_confidence_below: float = 0.5  # utterance confidence under this marks a hit low-confidence

    def max_edits(self, n: int) -> int:
        if not self.fuzzy or n < self.fuzzy_min_chars:
            return 0
        # The epsilon keeps 8 * (1 - 0.75) == 2 from flooring to 1 on float error.
        return int(math.floor(n * (1.0 - self.fuzzy_threshold) + 1e-9))


@dataclass
class PhraseCheckConfig(CheckConfig):
    """Base for checks that match phrases: the scorecard fills ``matching``
    from its ``[matching]`` section (it is not a key of the check's section)."""

    matching: MatchSettings = field(default_factory=MatchSettings, metadata={"toml": False})


@dataclass(frozen=True)
class PhraseMatch:
    phrase: str  # the list entry as written in the scorecard
    variant: str  # the alternative of the entry that matched
    start: int  # span in the text searched
    end: int
    quote: str  # the words in that span, as written
    tier: str  # exact | pinyin | fuzzy
    score: float  # 1.0 for exact and pinyin; 1 - edits/n for fuzzy
    source: str = "raw_text"  # which utterance field was searched


# --- phrase syntax --------------------------------------------------------

_GROUP = re.compile(r"([(\[])([^()\[\]]*)([)\]])")


def expand_phrase(entry: str) -> list[str]:
    """All alternatives an entry spells, in order; ValueError on bad syntax."""
    if not entry or not entry.strip():
        raise ValueError("empty phrase")
    parts: list[list[str]] = []
    pos = 0
    for m in _GROUP.finditer(entry):
        if (m.group(1), m.group(3)) not in (("(", ")"), ("[", "]")):
            raise ValueError(f"mismatched brackets in {entry!r}")
        parts.append([entry[pos : m.start()]])
        options = m.group(2).split("|")
        if m.group(1) == "[":
            options = options + [""]
        parts.append(options)
        pos = m.end()
    parts.append([entry[pos:]])
    if any(ch in "()[]" for part in parts if len(part) == 1 for ch in part[0]):
        raise ValueError(f"unbalanced or nested brackets in {entry!r}")
    variants = ["".join(p).strip() for p in itertools.product(*parts)]
    variants = list(dict.fromkeys(v for v in variants if v))
    if not variants:
        raise ValueError(f"{entry!r} spells no text")
    return variants


# --- text preparation -----------------------------------------------------

# Near-homophones merged in the fuzzy tier only (模糊音): Whisper on phone
# audio and southern accents blur these; exact tiers keep them apart.
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
_FUZZY_FINALS = (("ing", "in"), ("eng", "en"), ("ang", "an"))


def _blur(syllable: str) -> str:
    for a, b in _FUZZY_INITIALS:
        if syllable.startswith(a):
            syllable = b + syllable[len(a) :]
            break
    for a, b in _FUZZY_FINALS:
        if syllable.endswith(a):
            syllable = syllable[: -len(a)] + b
            break
    return syllable


# Each distinct syllable becomes one private-use character so that syllable
# sequences are plain strings: str.find and rapidfuzz work on them directly.
_SYMBOLS: dict[str, str] = {}


def _symbol(syllable: str) -> str:
    sym = _SYMBOLS.get(syllable)
    if sym is None:
        sym = _SYMBOLS[syllable] = chr(0xF0000 + len(_SYMBOLS))
    return sym


@dataclass(frozen=True)
class PreparedText:
    """A text as the matcher sees it: one unit per spoken character."""

    text: str  # the original
    chars: str  # unit characters: Simplified, half-width, lower case
    syllables: str  # one symbol per unit: its toneless pinyin
    blurred: str  # one symbol per unit: its pinyin with near-homophones merged
    positions: tuple[int, ...]  # index in ``text`` of each unit

    def span(self, first_unit: int, end_unit: int) -> tuple[int, int]:
        return self.positions[first_unit], self.positions[end_unit - 1] + 1


@lru_cache(maxsize=4096)
def prepare(text: str) -> PreparedText:
    simple = simplify(text)
    positions = [i for i, ch in enumerate(simple) if not is_punctuation_or_space(ch)]
    chars = "".join(simple[i].lower() for i in positions)
    # The spoken characters read together, so heteronyms read in context (不行 xing, 银行 hang).
    sounds = syllables(chars)
    return PreparedText(
        text=text,
        chars=chars,
        syllables="".join(_symbol(s) for s in sounds),
        blurred="".join(_symbol(_blur(s)) for s in sounds),
        positions=tuple(positions),
    )


# --- phrase lists ---------------------------------------------------------


@dataclass(frozen=True)
class _Variant:
    entry: str
    text: str
    units: PreparedText


@dataclass(frozen=True)
class PhraseList:
    """Compiled phrase entries with their matching rules."""

    entries: tuple[str, ...]
    variants: tuple[_Variant, ...]
    settings: MatchSettings
    pinyin: bool
    fuzzy: bool

    def __bool__(self) -> bool:
        return bool(self.variants)


@lru_cache(maxsize=512)
def _compile(entries: tuple[str, ...], settings: MatchSettings, pinyin: bool, fuzzy: bool) -> PhraseList:
    variants = []
    for entry in entries:
        for v in expand_phrase(entry):
            units = prepare(v)
            if units.chars:
                variants.append(_Variant(entry, v, units))
    return PhraseList(tuple(entries), tuple(variants), settings, pinyin and settings.pinyin, fuzzy and settings.fuzzy)


def compile_phrases(
    entries: list[str] | tuple[str, ...], settings: MatchSettings, *, pinyin: bool = True, fuzzy: bool = True
) -> PhraseList:
    """Compile scorecard phrase entries.

    Checks decide per list how generous to be: evidence that *excuses* the
    agent (a greeting, an apology) matches on every tier; evidence that
    *convicts* (a banned phrase, a complaint cue that creates an obligation)
    is matched with ``fuzzy=False`` and, where homophones are real words
    (不行/不幸/步行), ``pinyin=False``.
    """
    return _compile(tuple(entries), settings, pinyin, fuzzy)


def _has_punctuation(text: str, start: int, end: int) -> bool:
    return any(unicodedata.category(ch).startswith("P") for ch in text[start:end])


def _find_all(haystack: str, needle: str) -> list[int]:
    found, i = [], haystack.find(needle)
    while i >= 0:
        found.append(i)
        i = haystack.find(needle, i + 1)
    return found


def _fuzzy_spans(needle: str, haystack: str, max_edits: int) -> list[tuple[int, int, int]]:
    """(edits, first_unit, end_unit) of windows within max_edits of needle."""
    from rapidfuzz import fuzz
    from rapidfuzz.distance import Levenshtein

    n = len(needle)
    # partial_ratio is a cheap, permissive screen: e edits cost at most 100*e/n of it.
    if fuzz.partial_ratio(needle, haystack) < 100.0 * (1 - max_edits / n) - 1:
        return []
    found = []
    for i in range(len(haystack)):
        for length in range(max(1, n - max_edits), n + max_edits + 1):
            if i + length > len(haystack):
                break
            window = haystack[i : i + length]
            # Anchors: the head word is what tells 还有什么 from 有什么 or 您有什么,
            # so a window starts on the phrase's first syllable; it ends on the
            # last or, for a dropped particle (问题吗 -> 问题), the second-to-last.
            if window[0] != needle[0] or window[-1] not in needle[-2:]:
                continue
            d = Levenshtein.distance(needle, window, score_cutoff=max_edits)
            if d <= max_edits:
                found.append((d, i, i + length))
    return found


def find_phrases(text: str, phrases: PhraseList, source: str = "raw_text") -> list[PhraseMatch]:
    """Non-overlapping matches of the phrases in ``text``, in text order.

    Where matches overlap, the better tier wins, then the longer phrase.
    """
    if not text or not phrases:
        return []
    prep = prepare(text)
    settings = phrases.settings
    candidates: list[tuple[int, float, int, int, int, _Variant]] = []  # (tier, -score, -len, a, b, variant)
    for var in phrases.variants:
        n = len(var.units.chars)
        hits = [(0, 1.0, a, a + n) for a in _find_all(prep.chars, var.units.chars)]
        if phrases.pinyin:
            hits += [(1, 1.0, a, a + n) for a in _find_all(prep.syllables, var.units.syllables)]
        edits = settings.max_edits(n) if phrases.fuzzy else 0
        if not hits and edits:
            # Without pinyin the edits are counted on characters.
            needle, hay = (var.units.blurred, prep.blurred) if phrases.pinyin else (var.units.chars, prep.chars)
            hits = [(2, 1.0 - d / n, a, b) for d, a, b in _fuzzy_spans(needle, hay, edits)]
        for tier, score, a, b in hits:
            if n < settings.fuzzy_min_chars and _has_punctuation(text, *prep.span(a, b)):
                continue  # 不，行 is two answers, not 不行: short phrases never straddle punctuation
            candidates.append((tier, -score, -(b - a), a, b, var))
    candidates.sort(key=lambda c: c[:5])
    taken: list[tuple[int, int]] = []
    matches: list[PhraseMatch] = []
    for tier, neg_score, _, a, b, var in candidates:
        if any(a < tb and ta < b for ta, tb in taken):
            continue
        taken.append((a, b))
        start, end = prep.span(a, b)
        matches.append(PhraseMatch(var.entry, var.text, start, end, text[start:end], TIERS[tier], -neg_score, source))
    return sorted(matches, key=lambda m: m.start)


def match_utterance(utterance: Utterance, phrases: PhraseList) -> list[PhraseMatch]:
    """Matches in an utterance's raw text (so spans quote what Whisper wrote);
    its normalized text is searched when the raw text yields nothing."""
    found = find_phrases(utterance.raw_text, phrases, "raw_text")
    if not found and utterance.text and utterance.text != utterance.raw_text:
        found = find_phrases(utterance.text, phrases, "text")
    return found


def is_low_confidence(utterance: Utterance, settings: MatchSettings) -> bool:
    """Evidence a reviewer should doubt: Whisper was unsure of the words, or
    (mono calls) the role split was unsure who said them."""
    threshold = settings.low_confidence_below
    return utterance.confidence < threshold or utterance.role_confidence < threshold


# --- findings -------------------------------------------------------------


def utterance_finding(
    transcript: Transcript,
    index: int,
    detail: str,
    deduction: float,
    settings: MatchSettings,
    extra: dict | None = None,
) -> Finding:
    """A finding anchored at one utterance, quoting its raw text.

    Also used for "absence" findings (no greeting, no closing): they are
    anchored at the utterance where the words were due, and marked
    low-confidence when that utterance is, since the words may have been said
    and misheard.
    """
    u = transcript.utterances[index]
    return Finding(
        start=u.start,
        end=u.end,
        role=u.role,
        text=u.raw_text or u.text,
        detail=detail,
        utterance=index,
        deduction=deduction,
        low_confidence=is_low_confidence(u, settings),
        extra=dict(extra or {}),
    )


def match_extra(match: PhraseMatch) -> dict:
    """What calls.jsonl says about a match: the words, how they matched, and
    where they are in the finding's raw text (no span when only the
    normalized text matched: its offsets differ)."""
    extra: dict = {"quote": match.quote, "match": match.tier}
    if match.source == "raw_text":
        extra["span"] = [match.start, match.end]
    return extra


def split_deduction(total: float, parts: int) -> list[float]:
    """Shares of a check's deduction over its findings, summing exactly to it."""
    if parts <= 0:
        return []
    share = round(total / parts, 2)
    return [round(total - share * (parts - 1), 2)] + [share] * (parts - 1)
