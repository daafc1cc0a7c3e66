"""Shared fixtures. Append yours below with a comment naming your area."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"


# --- audio: synthetic recordings written with PyAV ---------------------------

# extension -> (PyAV container format, encoder, encoder options)
AUDIO_FORMATS: dict[str, tuple[str, str, dict[str, str]]] = {
    "wav": ("wav", "pcm_s16le", {}),
    "flac": ("flac", "flac", {}),
    "mp3": ("mp3", "libmp3lame", {}),
    "m4a": ("ipod", "aac", {}),
    # FFmpeg's own Vorbis encoder is marked experimental; Opus is the default here.
    "ogg": ("ogg", "libopus", {"strict": "experimental"}),
    "webm": ("webm", "libopus", {}),  # browser and WebRTC call recorders
    "mka": ("matroska", "libopus", {}),
    "mp4": ("mp4", "aac", {}),
    "3gp": ("3gp", "aac", {}),  # phone recorders (AMR inside is decoded too; FFmpeg here has no AMR encoder)
    "au": ("au", "pcm_mulaw", {}),
    "caf": ("caf", "pcm_alaw", {}),
}


def tone_signal(rate: int, seconds: float, freqs: list[float], amplitude: float = 0.3) -> np.ndarray:
    """One sine per channel: (len(freqs), n) float32; a distinct pitch tells the channels apart."""
    t = np.arange(int(rate * seconds)) / rate
    return np.stack([amplitude * np.sin(2 * np.pi * f * t) for f in freqs]).astype(np.float32)


def write_audio(path: Path, data: np.ndarray, rate: int, codec: str | None = None) -> Path:
    """Encode ``data`` (channels, n) float in [-1, 1] to ``path``; the format follows the extension."""
    import av

    fmt, default_codec, options = AUDIO_FORMATS[path.suffix.lstrip(".")]
    layout = "mono" if data.shape[0] == 1 else "stereo"
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec or default_codec, rate=rate, layout=layout, options=options)
        ctx = stream.codec_context
        # Converts our planar float to what the encoder takes, in frames of the size it wants.
        converter = av.AudioResampler(format=ctx.format.name, layout=layout, rate=rate, frame_size=ctx.frame_size or None)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data, dtype=np.float32), format="fltp", layout=layout)
        frame.sample_rate = rate
        frame.pts = 0
        for block in [*converter.resample(frame), *converter.resample(None)]:
            for packet in stream.encode(block):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.fixture
def make_audio(tmp_path: Path) -> Callable[..., Path]:
    """make_audio("x.flac", rate=8000, freqs=[440, 1000], seconds=2.0) -> path of a tone recording."""

    def make(name: str, rate: int = 8000, freqs: list[float] | None = None, seconds: float = 2.0,
             data: np.ndarray | None = None, codec: str | None = None) -> Path:
        signal = data if data is not None else tone_signal(rate, seconds, freqs or [440.0])
        return write_audio(tmp_path / name, signal, rate, codec)

    return make


# --- asr models/backends: the embedded Whisper base and both loaded backends (session-wide) ---


@pytest.fixture(scope="session")
def embedded_model():
    """The embedded default model, assembled into the user's cache once (as the product does)."""
    from callqa.asr.models import resolve_model

    return resolve_model("base")


@pytest.fixture(scope="session")
def asr_backends(embedded_model):
    """{'faster-whisper': backend, 'openai-whisper': backend} on the embedded base; loaded once per session."""
    from callqa.asr.backends import load_backend
    from callqa.asr.options import AsrOptions

    return {name: load_backend(AsrOptions(backend=name)) for name in ("faster-whisper", "openai-whisper")}
