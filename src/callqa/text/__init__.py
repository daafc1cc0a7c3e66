"""Mandarin text handling shared by every stage that reads words (asr, checks, review).

    normalize_text(raw) -> str        Simplified, half-width, digit-by-digit numerals as digits
    to_simplified / to_half_width     the two conversions normalize_text is made of
    syllables(text) -> tuple[str]     one toneless pinyin syllable per character, read in context
    pinyin_key(text) -> str           those syllables as one space-padded string, for substring search
    SPOKEN_DIGITS                     the digit characters as read aloud (幺 for 1) and their values
    digit_sounding_like(ch)           the digit a non-digit character sounds like (期 -> 7), or None
    near_sound(syllable) -> str       the syllable with what a phone line blurs merged (ci, si, shi -> si)
    content_key(text) -> str          what a text says, for comparisons: no punctuation, spaces or case
    simplify(text) -> str             Simplified, half-width text of the same length (spans carry over)
    is_han(ch)                        a CJK ideograph

One reader, one table: heteronyms read the same way (不行 xing, 银行 hang)
wherever a stage compares sounds.
"""

from .cjk import HAN_RANGES, is_content_char, is_han, is_punctuation_or_space
from .digits import DIGIT_CHARS, DIGIT_SYLLABLES, SPOKEN_DIGITS, SYLLABLE_DIGITS
from .normalize import content_key, digits_to_arabic, in_script_of, normalize_text, simplify, to_half_width, to_simplified
from .pinyin import digit_sounding_like, near_sound, pinyin_key, syllable, syllables

__all__ = [
    "DIGIT_CHARS",
    "DIGIT_SYLLABLES",
    "HAN_RANGES",
    "SPOKEN_DIGITS",
    "SYLLABLE_DIGITS",
    "content_key",
    "digit_sounding_like",
    "near_sound",
    "digits_to_arabic",
    "in_script_of",
    "is_content_char",
    "is_han",
    "is_punctuation_or_space",
    "normalize_text",
    "pinyin_key",
    "simplify",
    "syllable",
    "syllables",
    "to_half_width",
    "to_simplified",
]
