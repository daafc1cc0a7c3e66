"""The sample builder's code that the corpus reuses, imported rather than copied.

scripts/make_samples.py holds the ttskit Synthesizer, the phone-line filter and the
PyAV encoder; it sits in scripts/ (not a package), so it is imported from there. Its
encoder picks container/codec/bit rate from a table keyed by file suffix; the corpus
registers its own entries in that table (codecs.py) instead of writing a second encoder.
"""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent
REPO = SCRIPTS.parent
CORPUS = REPO / "corpus"

if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import make_samples  # noqa: E402  (needs the path above)

FORMATS = make_samples.FORMATS
encode = make_samples.encode
phone_channel = make_samples.phone_channel
to_phone = make_samples.to_phone
normalize_text = make_samples._normalize  # Simplified, digits spelled out, punctuation removed
UNUSABLE_VOICES = make_samples.UNUSABLE_VOICES
SPEAKER_IDS = make_samples.SPEAKER_IDS
TTS_RATE = make_samples.TTS_RATE


def synthesizer():
    """ttskit's model (only in the TTS venv, see make_samples' docstring)."""
    return make_samples.Synthesizer()
