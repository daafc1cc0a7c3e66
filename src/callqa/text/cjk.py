"""Small facts about Chinese text: which characters are ideographs, which are not words at all."""

from __future__ import annotations

import unicodedata

__all__ = ["HAN_RANGES", "is_han", "is_content_char", "is_punctuation_or_space", "content_key", "simplify"]

# CJK Unified Ideographs, Extension A and the compatibility block, as a regex character-class body.
HAN_RANGES = "\u3400-\u9fff\uf900-\ufaff"


def is_han(ch: str) -> bool:
    """A CJK ideograph (the common block: what Whisper writes for Mandarin)."""
    return bool(ch) and "\u4e00" <= ch <= "\u9fff"


def is_content_char(ch: str) -> bool:
    """Letters and digits of any script; not punctuation, symbols or spaces."""
    return unicodedata.category(ch)[0] in ("L", "N")


def is_punctuation_or_space(ch: str) -> bool:
    """Spaces, punctuation and symbols are not part of what anyone said."""
    return ch.isspace() or unicodedata.category(ch)[0] in "PSZ"


def content_key(text: str) -> str:
    """What a text says, for comparisons: Simplified, half-width, lower case,
    without punctuation or spaces."""
    from .normalize import to_half_width, to_simplified

    return "".join(ch for ch in to_simplified(to_half_width(text)).lower() if is_content_char(ch))


def simplify(text: str) -> str:
    """Simplified, half-width text of the same length as ``text``, so spans carry over."""
    from .normalize import to_half_width, to_simplified

    converted = to_simplified(to_half_width(text))
    if len(converted) == len(text):
        return converted
    # OpenCC occasionally changes length (phrase tables); fall back to one
    # character at a time so positions still line up with the original.
    return "".join((c if len(c := to_simplified(to_half_width(ch))) == 1 else ch) for ch in text)
