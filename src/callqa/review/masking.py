"""Hide personal numbers in what the review pages show.

Supervisors need to hear and read the call, not to copy a customer's phone,
ID-card or bank-card number off the screen. Numbers are found as runs of
digits (ASCII, full-width or Chinese numerals as Whisper writes them, with
optional single spaces or hyphens between groups) and classified by length
and shape; everything else (amounts, 4-digit employee IDs, order numbers of
other lengths) is left alone.
"""

from __future__ import annotations

import re

from ..text import SPOKEN_DIGITS

# Digits as Whisper writes them: ASCII, full-width ０-９, or Chinese numerals read out digit by digit.
_DIGIT_VALUES = {
    **{str(d): str(d) for d in range(10)},
    **{chr(0xFF10 + d): str(d) for d in range(10)},
    **SPOKEN_DIGITS,
}
_DIGIT = "[" + "".join(re.escape(c) for c in _DIGIT_VALUES) + "]"
# A run of digits with at most one space or hyphen between any two, and an
# optional trailing X (the ID-card check digit).
_RUN = re.compile(rf"(?<![0-9A-Za-z０-９]){_DIGIT}(?:[ \-－]?{_DIGIT})*[Xx]?(?![0-9A-Za-z０-９])")

_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{9,11}")  # area code 0xx / 0xxx + a 7-8 digit number
_ID_CARD = re.compile(r"[1-9]\d{16}[\dX]")
_BANK_CARD = re.compile(r"\d{16,19}")

MASK_CHAR = "*"


def _kind(digits: str) -> tuple[int, int] | None:
    """How many leading and trailing digits stay visible, or None to leave it."""
    if _MOBILE.fullmatch(digits):
        return 3, 4  # 138****5678
    if _ID_CARD.fullmatch(digits):
        return 3, 4
    if _BANK_CARD.fullmatch(digits):
        return 4, 4
    if _LANDLINE.fullmatch(digits):
        return (3 if digits[1] in "12" else 4), 4  # keep the area code: 010 / 0755
    return None


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    positions = [i for i, c in enumerate(run) if c in _DIGIT_VALUES or c in "Xx"]
    digits = "".join(_DIGIT_VALUES.get(run[i], "X") for i in positions)
    kind = _kind(digits)
    if kind is None:
        return run
    keep_head, keep_tail = kind
    hidden = set(positions[keep_head: len(positions) - keep_tail])
    return "".join(MASK_CHAR if i in hidden else c for i, c in enumerate(run))


def mask_sensitive(text: str) -> str:
    """``text`` with mobile and landline phone numbers, 18-character ID-card
    numbers and 16-19 digit bank-card numbers masked, keeping the first and
    last few digits so a reviewer can still tell two numbers apart.

    >>> mask_sensitive("我的电话是13812345678")
    '我的电话是138****5678'
    >>> mask_sensitive("工号8023为您服务")
    '工号8023为您服务'
    """
    if not text:
        return text
    return _RUN.sub(_mask_run, text)
