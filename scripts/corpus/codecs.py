"""Codecs of the corpus: file suffix, how PyAV writes them, and decoding to 8 kHz float.

Every entry is registered in make_samples.FORMATS so its one encoder writes them all.
GSM 06.10 is the exception: PyAV has a GSM decoder but no encoder, so sox writes it
from a PCM WAV (assemble.py), and the finished GSM calls are committed.
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .model import RATE
from .shared import FORMATS


@dataclass(frozen=True)
class Codec:
    name: str
    suffix: str
    container: str
    encoder: str
    bitrates: tuple[int, ...]  # the bit rates calls are drawn from (empty: fixed-rate)

    def format_key(self, bitrate: int) -> str:
        """The key under which make_samples.FORMATS knows this codec at this bit rate."""
        return f"{self.suffix}#{self.name}@{bitrate}"


CODECS = {
    c.name: c
    for c in (
        Codec("pcm16", ".wav", "wav", "pcm_s16le", ()),
        Codec("alaw", ".wav", "wav", "pcm_alaw", ()),
        Codec("mulaw", ".wav", "wav", "pcm_mulaw", ()),
        Codec("gsm", ".wav", "wav", "gsm_ms", ()),  # via sox, see module docstring
        Codec("opus", ".ogg", "ogg", "libopus", (12000, 16000, 20000, 24000)),  # per channel (specs.py)
        Codec("aac", ".m4a", "mp4", "aac", (16000, 24000, 32000)),
        Codec("mp3", ".mp3", "mp3", "libmp3lame", (16000, 24000, 32000)),
    )
}
CLIP_CODEC = Codec("clip", ".ogg", "ogg", "libopus", (20000,))  # the committed TTS clip store


def _register() -> None:
    for codec in [*CODECS.values(), CLIP_CODEC]:
        if codec.name == "gsm":
            continue
        stereo_opus = tuple(2 * b for b in codec.bitrates) if codec.name == "opus" else ()  # see specs.py
        for bitrate in (codec.bitrates + stereo_opus) or (0,):
            FORMATS[codec.format_key(bitrate)] = (codec.container, codec.encoder, bitrate or None)


_register()


@contextmanager
def _bitexact_writes():
    """Open output containers with fflags=+bitexact while make_samples.encode runs.

    Without it FFmpeg's Ogg muxer gives every file a random stream serial number, so
    two builds of the same call differ byte for byte.
    """
    import av

    real_open = av.open

    def bitexact_open(file, mode="r", *args, **kwargs):
        if mode == "w":
            kwargs["options"] = {**kwargs.get("options", {}), "fflags": "+bitexact"}
        return real_open(file, mode, *args, **kwargs)

    av.open = bitexact_open
    try:
        yield
    finally:
        av.open = real_open


def encode_audio(audio: np.ndarray, codec: Codec, bitrate: int) -> bytes:
    """(channels x samples) float32 at RATE -> file bytes, through make_samples.encode."""
    from .shared import encode

    with _bitexact_writes():
        return encode(audio, codec.format_key(bitrate))


def decode_audio(data: bytes, rate: int = RATE) -> np.ndarray:
    """File bytes -> (channels x samples) float32 at `rate` (Opus decodes at 48 kHz: resampled)."""
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        n = stream.codec_context.channels
        resampler = av.AudioResampler(format="fltp", layout="stereo" if n == 2 else "mono", rate=rate)
        chunks = []
        for frame in container.decode(stream):
            chunks.extend(out.to_ndarray() for out in resampler.resample(frame))
        chunks.extend(out.to_ndarray() for out in resampler.resample(None))
    return np.concatenate(chunks, axis=1).astype(np.float32)
