"""The one pinyin reader: toneless syllables, one per character, heteronyms read in context.

pypinyin reads a run of Chinese characters with its phrase dictionary, so 行
is xing in 不行 and hang in 银行; reading characters one at a time would make
every 行 the same. Everything that compares sounds (phrase matching, role
cues, the sentiment lexicon, spoken IDs) reads through here.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .cjk import HAN_RANGES, is_han
from .digits import DIGIT_CHARS, DIGIT_SYLLABLES, SYLLABLE_DIGITS

__all__ = ["syllables", "syllable", "pinyin_key", "digit_sounding_like", "near_sound"]

_HAN_RUN = re.compile(f"[{HAN_RANGES}]+")


@lru_cache(maxsize=16384)
def syllables(text: str) -> tuple[str, ...]:
    """One syllable per character of ``text``: a Chinese character its toneless
    pinyin read in context, an ASCII digit the syllable it is read as (8 -> ba),
    anything else the character itself, lower-cased."""
    from pypinyin import lazy_pinyin

    out = [DIGIT_SYLLABLES.get(ch, ch.lower()) for ch in text]
    for m in _HAN_RUN.finditer(text):
        readings = lazy_pinyin(m.group(0))
        if len(readings) != len(m.group(0)):  # characters pypinyin does not know come back grouped
            readings = [lazy_pinyin(ch)[0] for ch in m.group(0)]
        out[m.start() : m.end()] = readings
    return tuple(out)


def syllable(ch: str) -> str:
    """The toneless syllable of one character read on its own."""
    return syllables(ch)[0] if ch else ""


@lru_cache(maxsize=4096)
def pinyin_key(text: str) -> str:
    """``text``'s syllables joined by spaces and padded with one, so that a
    phrase's key found in it falls on syllable boundaries (' gong hao ')."""
    return " " + " ".join(s for s in syllables(text) if s.strip()) + " "


def digit_sounding_like(ch: str) -> str | None:
    """The digit a non-digit Chinese character sounds like (期 -> '7', 要 -> '1'), or None."""
    if ch in DIGIT_CHARS or not is_han(ch):
        return None
    return SYLLABLE_DIGITS.get(syllable(ch))


# Initials a phone line blurs together: the dental and retroflex sibilants, affricate or fricative (次 ci for
# 四 si, 是 shi), the palatals (机 ji for 七 qi), n/l, b/p. Input methods' "fuzzy pinyin" merges z/zh, c/ch,
# s/sh, n/l and in/ing the same way; the narrow band of a phone call also loses the burst that tells c from s.
_NEAR_INITIALS = (("zh", "s"), ("ch", "s"), ("sh", "s"), ("z", "s"), ("c", "s"), ("q", "j"), ("x", "j"),
                  ("n", "l"), ("p", "b"))


@lru_cache(maxsize=4096)
def near_sound(syl: str) -> str:
    """A toneless syllable with the distinctions a phone line blurs removed (ci, zi, si, shi -> si;
    qi, ji, xi -> ji; ning -> lin): two syllables with the same key are easily misheard for each other."""
    for initial, key in _NEAR_INITIALS:
        if syl.startswith(initial):
            syl = key + syl[len(initial):]
            break
    return syl[:-1] if syl.endswith(("ing", "eng")) else syl
