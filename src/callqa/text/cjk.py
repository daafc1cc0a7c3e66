"""Small facts about Chinese text: which characters are ideographs, which are not words at all."""

from __future__ import annotations

import unicodedata

__all__ = ["HAN_RANGES", "is_han", "is_content_char", "is_punctuation_or_space"]

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
