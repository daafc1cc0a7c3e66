"""Character error rate, the accuracy measure for Mandarin transcripts.

Both sides go through the same clean-up as transcripts (normalize.py:
Simplified script, digit-by-digit numerals as Arabic) and lose punctuation,
symbols and spaces, so CER counts wrong words, not writing conventions.
"""

from __future__ import annotations

import unicodedata

from rapidfuzz.distance import Levenshtein

from ..text import normalize_text


def cer_text(text: str) -> str:
    """The characters CER compares: normalized, lower-cased, without punctuation, symbols or spaces."""
    return "".join(
        ch for ch in normalize_text(text).lower() if not unicodedata.category(ch).startswith(("P", "S", "Z", "C"))
    )


def char_edits(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance, reference length) after cer_text: sum these over calls for a corpus CER."""
    ref, hyp = cer_text(reference), cer_text(hypothesis)
    return Levenshtein.distance(ref, hyp), len(ref)


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate of ``hypothesis`` against ``reference`` (0 = identical; can exceed 1)."""
    edits, length = char_edits(reference, hypothesis)
    if length == 0:
        return 0.0 if edits == 0 else 1.0
    return edits / length
