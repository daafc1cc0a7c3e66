"""Whisper transcription and character error rate, the way the samples were verified.

faster-whisper with the embedded base model (int8, language zh, VAD on, beam 5, no
prompt); both texts are converted to Simplified, digits spelled out and punctuation
removed (make_samples._normalize) before the edit distance is taken.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .shared import normalize_text


@lru_cache(maxsize=1)
def whisper():
    from callqa.asr.models import resolve_model
    from faster_whisper import WhisperModel

    return WhisperModel(str(resolve_model("base").path), device="cpu", compute_type="int8", cpu_threads=2)


def transcribe(audio_8k: np.ndarray) -> str:
    """Mono float32 at 8 kHz -> the text Whisper hears."""
    import soxr

    audio = soxr.resample(audio_8k.astype(np.float32), 8000, 16000).astype(np.float32)
    segments, _ = whisper().transcribe(audio, language="zh", vad_filter=True, beam_size=5)
    return "".join(s.text for s in segments)


def cer(heard: str, reference: str) -> float:
    from rapidfuzz.distance import Levenshtein

    h, r = normalize_text(heard), normalize_text(reference)
    return Levenshtein.distance(h, r) / max(len(r), 1)


def pinyin_contains(heard: str, phrase: str) -> bool:
    """Is the phrase in what was heard, allowing homophones (工号 heard as 公号)?"""
    from pypinyin import lazy_pinyin

    def py(text: str) -> str:
        return " " + " ".join(lazy_pinyin(normalize_text(text))) + " "

    return py(phrase) in py(heard)
