"""Decode a recording into separate 16 kHz float32 channels.

PyAV (FFmpeg's decoders, bundled in its wheel) reads every format the
recorders of this field write: WAV (PCM, mu-law, A-law, GSM 06.10, ADPCM),
MP3, FLAC, M4A/AAC, Ogg (Vorbis/Opus), AMR... There is no ffmpeg binary on
these machines and libsndfile can't read GSM WAV, so nothing else is used.
Channels stay separate (stereo call recordings carry one party per channel);
all of them are kept here and the pipeline decides what a layout uses.
Resampling is soxr's high-quality mode, the resampler librosa uses.

A file that can't give trustworthy audio raises AudioDecodeError naming the
file and what is wrong, so a batch can report it and go on.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..files import file_sha256

log = logging.getLogger(__name__)

# Whisper's rate (the same constant as asr.backends.base.SAMPLE_RATE; audio/ sits left of asr/ so it
# does not import it).
SAMPLE_RATE = 16000
# A decoded length this far below what the container declares means the file was cut short.
_TRUNCATION_TOLERANCE_S = 0.25
_TRUNCATION_TOLERANCE_FRACTION = 0.02
# Skip a few damaged packets as players do; more than this share means the file is corrupt.
_MAX_BAD_PACKET_FRACTION = 0.05

# Magic numbers of audio containers, to tell "a damaged audio file" from "not audio at all".
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"RIFF", "WAV"),
    (0, b"RF64", "WAV"),
    (0, b"fLaC", "FLAC"),
    (0, b"OggS", "Ogg"),
    (0, b"ID3", "MP3"),
    (4, b"ftyp", "MP4/M4A"),
    (0, b"FORM", "AIFF"),
    (0, b"#!AMR", "AMR"),
)


class AudioDecodeError(Exception):
    """A recording that can't be decoded; the message names the file and the problem."""

    def __init__(self, path: Path | str, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


@dataclass
class DecodedAudio:
    channels: np.ndarray  # float32, shape (n_channels, n_samples), at sample_rate
    sample_rate: int
    duration_s: float
    source_sample_rate: int
    source_channels: int
    codec: str  # FFmpeg decoder name, e.g. "pcm_s16le", "gsm_ms", "mp3float"
    sha256: str  # of the file's bytes: the cache key's audio identity
    bad_packets: int = 0  # damaged packets skipped while decoding
    container: str = field(default="")

    @property
    def n_channels(self) -> int:
        return int(self.channels.shape[0])

    def mono(self) -> np.ndarray:
        """All channels averaged into one."""
        if self.n_channels == 1:
            return self.channels[0]
        return self.channels.mean(axis=0, dtype=np.float32)



def _import_av():
    try:
        import av
    except ImportError as e:  # pragma: no cover - av is a hard dependency
        raise RuntimeError("decoding audio needs PyAV: pip install av==18.1.0") from e
    return av


def _sniff(head: bytes) -> str | None:
    for offset, magic, kind in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return kind
    if len(head) >= 4 and _is_mpeg_audio_header(head[:4]):
        return "MP3"  # a bare MPEG audio frame, no ID3 tag
    return None


def _is_mpeg_audio_header(b: bytes) -> bool:
    sync = b[0] == 0xFF and b[1] & 0xE0 == 0xE0
    version, layer = (b[1] >> 3) & 3, (b[1] >> 1) & 3
    bitrate, rate = b[2] >> 4, (b[2] >> 2) & 3
    return sync and version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3


def _ogg_truncation(path: Path, size: int) -> str | None:
    """An Ogg stream that ends properly flags its last page end-of-stream (EOS).

    Ogg records no total length, so a file cut at a page boundary decodes
    cleanly; the missing EOS flag (or a last page cut in half) is the evidence.
    """
    with open(path, "rb") as f:
        f.seek(max(0, size - 65536))
        tail = f.read()
    last = tail.rfind(b"OggS")
    if last < 0 or len(tail) - last < 27:
        return "truncated: the Ogg file ends inside a page"
    page = tail[last:]
    n_segments = page[26]
    if len(page) < 27 + n_segments or len(page) < 27 + n_segments + sum(page[27 : 27 + n_segments]):
        return "truncated: the Ogg file ends inside a page"
    if not page[5] & 0x04:
        return "truncated: the Ogg stream has no end-of-stream page"
    return None


def _wav_truncation(path: Path, size: int) -> str | None:
    """Compare a WAV header's declared data size with the bytes present.

    FFmpeg quietly shortens a cut WAV to what is there, so this is checked
    from the header itself. Streaming writers leave 0 or 0xFFFFFFFF: unknown.
    """
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return None
            chunk_id, chunk_size = struct.unpack("<4sI", chunk)
            if chunk_id == b"data":
                present = size - f.tell()
                if chunk_size in (0, 0xFFFFFFFF) or present >= chunk_size:
                    return None
                return f"truncated: the WAV header declares {chunk_size:,} bytes of audio, the file holds {present:,}"
            f.seek(chunk_size + (chunk_size & 1), 1)


def _mp4_truncation(path: Path, size: int) -> str | None:
    """Walk an MP4/M4A file's top-level boxes: a box running past the end, or no index, means a cut file.

    Recorders write the index (``moov``) last, so a cut upload has audio but
    nothing that says how to play it; FFmpeg then only says "invalid data".
    """
    boxes: list[str] = []
    with open(path, "rb") as f:
        offset = 0
        while offset + 8 <= size:
            f.seek(offset)
            box_size, box_type = struct.unpack(">I4s", f.read(8))
            if box_size == 1:  # a 64-bit size follows
                box_size = struct.unpack(">Q", f.read(8))[0]
            elif box_size == 0:  # the box runs to the end of the file
                box_size = size - offset
            name = box_type.decode("latin-1")
            if box_size < 8:
                return None  # not a box layout we understand: let FFmpeg judge
            if offset + box_size > size:
                missing = "" if "moov" in boxes else "; the index (moov) is missing"
                return f"truncated: the MP4 '{name}' box declares {box_size:,} bytes, the file holds {size - offset:,}{missing}"
            boxes.append(name)
            offset += box_size
    if "moov" not in boxes:
        return "truncated: the MP4 index (moov box) is missing; the file was cut off or never finished"
    return None


def _declared_duration(container, stream, kind: str | None, head: bytes) -> float | None:
    """The duration the file's header states, when the format records one reliably."""
    if kind == "MP3" and not any(tag in head for tag in (b"Xing", b"Info", b"VBRI")):
        return None  # without a VBR header FFmpeg only guesses from the bit rate
    if kind not in ("FLAC", "MP3", "Ogg", "MP4/M4A"):
        return None
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return None


def _open(av, path: Path, kind: str | None):
    try:
        return av.open(str(path), metadata_errors="ignore")
    except av.error.EOFError as e:
        raise AudioDecodeError(path, f"truncated: the {kind or 'audio'} file ends early ({e.strerror})") from e
    except av.error.FFmpegError as e:
        if kind:
            raise AudioDecodeError(path, f"corrupt or truncated {kind} file: {e.strerror}") from e
        raise AudioDecodeError(path, "not an audio file (no audio format recognised)") from e


def _decode_stream(av, path: Path, container, stream) -> tuple[list[np.ndarray], int, int, int]:
    """Decoded float32 blocks (channels, n), the source rate, bad and total packet counts."""
    # Converts any sample format (s16, s32p, flt, dbl, u8...) to planar float at the source rate.
    converter = av.AudioResampler(format="fltp")
    blocks: list[np.ndarray] = []
    bad = total = 0
    rate = stream.rate or 0
    try:
        for packet in container.demux(stream):
            if packet.size == 0 and packet.dts is None:
                frames = packet.decode()  # the flush packet
            else:
                total += 1
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:
                    bad += 1
                    continue
            for frame in frames:
                if frame.sample_rate and rate and frame.sample_rate != rate:
                    raise AudioDecodeError(path, f"sample rate changes mid-stream ({rate} -> {frame.sample_rate} Hz)")
                rate = frame.sample_rate or rate
                for out in converter.resample(frame):
                    blocks.append(out.to_ndarray())
    except av.error.EOFError:
        bad += 1  # the demuxer hit the end mid-packet: a cut file, judged below by length
    except av.error.FFmpegError as e:
        raise AudioDecodeError(path, f"corrupt: {e.strerror} while reading packets") from e
    for out in converter.resample(None):
        blocks.append(out.to_ndarray())
    return blocks, rate, bad, total


def _resample(samples: np.ndarray, source_rate: int) -> np.ndarray:
    if source_rate == SAMPLE_RATE:
        return samples
    import soxr

    # soxr wants (frames, channels).
    out = soxr.resample(samples.T, source_rate, SAMPLE_RATE, quality="HQ")
    return np.ascontiguousarray(out.T if out.ndim == 2 else out[None, :], dtype=np.float32)


def load_audio(path: Path | str, sha256: str | None = None) -> DecodedAudio:
    """Decode ``path`` to float32 channels at 16 kHz; raise AudioDecodeError if it can't be trusted.

    ``sha256``: the file's hash when the caller already has it (saves reading the file twice).
    """
    path = Path(path)
    if not path.exists():
        raise AudioDecodeError(path, f"no such file: {path} (check the path in the manifest, or that the file was copied)")
    if not path.is_file():
        raise AudioDecodeError(path, f"not a file: {path} is a folder or a device, not a recording")
    size = path.stat().st_size
    if size == 0:
        raise AudioDecodeError(path, "empty file (0 bytes)")
    with open(path, "rb") as f:
        head = f.read(4096)
    kind = _sniff(head)
    check = {"WAV": _wav_truncation, "Ogg": _ogg_truncation, "MP4/M4A": _mp4_truncation}.get(kind or "")
    if check and (problem := check(path, size)):
        raise AudioDecodeError(path, problem)

    av = _import_av()
    with _open(av, path, kind) as container:
        if not container.streams.audio:
            found = ", ".join(sorted({s.type for s in container.streams})) or "no streams"
            what = f"{kind} file with no audio stream" if kind else "not an audio file: no audio stream"
            raise AudioDecodeError(path, f"{what} (read as {container.format.name}: {found})")
        stream = container.streams.audio[0]
        codec = stream.codec_context.name
        source_channels = stream.channels
        declared = _declared_duration(container, stream, kind, head)
        blocks, rate, bad, total = _decode_stream(av, path, container, stream)
        container_name = container.format.name

    samples = np.concatenate(blocks, axis=1) if blocks else np.zeros((max(source_channels, 1), 0), np.float32)
    n = samples.shape[1]
    if n == 0:
        detail = f"; {bad} damaged packet(s)" if bad else ""
        raise AudioDecodeError(path, f"decoded 0 samples ({codec}{detail})")
    decoded_s = n / rate
    if declared is not None and decoded_s < declared * (1 - _TRUNCATION_TOLERANCE_FRACTION) - _TRUNCATION_TOLERANCE_S:
        raise AudioDecodeError(path, f"truncated: the header says {declared:.2f} s, only {decoded_s:.2f} s decode")
    if total and bad > max(1, _MAX_BAD_PACKET_FRACTION * total):
        raise AudioDecodeError(path, f"corrupt: {bad} of {total} packets failed to decode ({codec})")
    if bad:
        log.warning("%s: skipped %d damaged packet(s) of %d", path, bad, total)

    samples = np.nan_to_num(samples.astype(np.float32, copy=False), copy=False)
    audio16k = _resample(samples, rate)
    return DecodedAudio(
        channels=audio16k,
        sample_rate=SAMPLE_RATE,
        duration_s=decoded_s,
        source_sample_rate=rate,
        source_channels=samples.shape[0],
        codec=codec,
        sha256=sha256 or file_sha256(path),
        bad_packets=bad,
        container=container_name,
    )
