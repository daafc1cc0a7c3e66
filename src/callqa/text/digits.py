"""Digits as call-centre agents read them, and the characters Whisper writes for them.

Agents read IDs and phone numbers digit by digit (八零二三) and say 幺 for 1;
〇 is written for 0 in years. Whisper on phone audio sometimes writes a digit
as a character that only sounds like it (要 for 幺, 期 for 七): pinyin.digit_sounding_like
reads those through SYLLABLE_DIGITS, and callers decide where that reading is allowed.
"""

from __future__ import annotations

__all__ = ["SPOKEN_DIGITS", "DIGIT_CHARS", "DIGIT_SYLLABLES", "SYLLABLE_DIGITS"]

# Digit characters as read aloud and their values. 两 is not one: nobody reads
# IDs with it, and it is common in ordinary words (两天).
SPOKEN_DIGITS: dict[str, str] = {
    "零": "0", "〇": "0", "一": "1", "幺": "1", "二": "2", "三": "3", "四": "4",
    "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}  # fmt: skip
# Every character that is a digit: the spoken ones and ASCII 0-9.
DIGIT_CHARS = "".join(SPOKEN_DIGITS) + "0123456789"
# The toneless syllable of each digit, as read digit by digit.
DIGIT_SYLLABLES: dict[str, str] = dict(zip("0123456789", ["ling", "yi", "er", "san", "si", "wu", "liu", "qi", "ba", "jiu"]))
# Syllables that are a digit: the readings above, plus yao (幺, the call-centre 1).
SYLLABLE_DIGITS: dict[str, str] = {**{s: d for d, s in DIGIT_SYLLABLES.items()}, "yao": "1"}
