"""Assembling calls from the clip store (callqa venv): mix, phone line, codec, files."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .codecs import CODECS, encode_audio

GSM_PAD = 5120  # samples: a whole number of PyAV PCM frames (1024) and an even number of GSM blocks (320)


def gsm_encode(audio: np.ndarray) -> bytes:
    """Mono float32 at 8 kHz -> GSM 06.10 WAV bytes via sox (PyAV has no GSM encoder).

    Padded with silence to an even number of 65-byte GSM blocks: with an odd number sox
    pads the data chunk with one byte, and FFmpeg's gsm_ms decoder fails on that
    one-byte last packet ("Invalid data found when processing input").
    """
    pad = (-audio.shape[-1]) % GSM_PAD
    audio = np.pad(audio.reshape(1, -1), ((0, 0), (0, pad)))
    with tempfile.TemporaryDirectory(prefix="corpus_gsm_") as tmp:
        src, dst = Path(tmp) / "in.wav", Path(tmp) / "out.wav"
        src.write_bytes(encode_audio(audio, CODECS["pcm16"], 0))
        subprocess.run(["sox", str(src), "-e", "gsm-full-rate", str(dst)], check=True, capture_output=True)
        return dst.read_bytes()
