"""Assembling calls from the clip store (callqa venv): mix, phone line, codec, files."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .clips import CLIP_LEVEL_DBFS, ClipEntry, load_clip
from .codecs import CODECS, encode_audio
from .model import AGENT, CUSTOMER, RATE, CallSpec, Timeline
from .shared import CORPUS, phone_channel
from .timeline import SENTENCE_PAUSE, ring_segments

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


# ---------------------------------------------------------------- mixing

AGENT_LEVEL, CUSTOMER_LEVEL = -20.0, -23.0  # dBFS RMS: the customer's line is a little quieter, as in the samples
LOUD_CALL_HEADROOM = 7.0  # calls with a raised turn are this much quieter overall, so +12 dB never clips
RINGBACK_HZ, RINGBACK_DBFS = 450.0, -22.0
NO_NOISE_DBFS = -200.0
PEAK_LIMIT = 0.97  # make_samples.phone_channel clips at 0.98: stay below it
PRE_FILTER_PEAK = 0.8  # the band filter and the noise can raise peaks a little


@dataclass(frozen=True)
class Levels:  # the parties' speech levels before the phone line (dBFS RMS)
    agent: float
    customer: float


def call_levels(spec: CallSpec) -> Levels:
    drop = LOUD_CALL_HEADROOM if any(t.gain_db for t in spec.turns) else 0.0
    return Levels(AGENT_LEVEL - drop, CUSTOMER_LEVEL - drop)


class ClipCache:
    """Decoded clips, each decoded once per assemble run."""

    def __init__(self, index: dict[str, ClipEntry]) -> None:
        self.index = index
        self.audio: dict[str, np.ndarray] = {}

    def get(self, key: str) -> np.ndarray:
        if key not in self.audio:
            clip = load_clip(key)
            if len(clip) != self.index[key].samples:
                raise ValueError(f"clip {key} decodes to {len(clip)} samples, the index says {self.index[key].samples}")
            self.audio[key] = clip
        return self.audio[key]

    def turn_audio(self, keys: tuple[str, ...]) -> np.ndarray:
        pieces = []
        for i, key in enumerate(keys):
            if i:
                pieces.append(np.zeros(SENTENCE_PAUSE, np.float32))
            pieces.append(self.get(key))
        return np.concatenate(pieces)


def ringback(spec: CallSpec, total: int) -> np.ndarray:
    tone = np.zeros(total, np.float32)
    amp = 10 ** (RINGBACK_DBFS / 20) * np.sqrt(2)
    for a, b in ring_segments(spec):
        t = np.arange(b - a) / RATE
        ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)  # 10 ms fades: no clicks
        tone[a:b] = amp * ramp * np.sin(2 * np.pi * RINGBACK_HZ * t)
    return tone


def mix(spec: CallSpec, tl: Timeline, clips: ClipCache) -> np.ndarray:
    """(channels x samples) float32: one party per channel in the manifest's order, or both in mono."""
    levels = call_levels(spec)
    tracks = {AGENT: np.zeros(tl.total, np.float32), CUSTOMER: np.zeros(tl.total, np.float32)}
    for p in tl.placed:
        audio = clips.turn_audio(p.clip_keys)
        assert len(audio) == p.end - p.start, (spec.call_id, p.index)
        level = levels.agent if p.role == AGENT else levels.customer
        tracks[p.role][p.start : p.end] += audio * 10 ** ((level - CLIP_LEVEL_DBFS + p.turn.gain_db) / 20)
    # The recorder sits on the agent's side: the ringing comes down the line from the far end.
    tracks[CUSTOMER] += ringback(spec, tl.total)
    roles = [AGENT, CUSTOMER] if spec.line.layout == "mono" else spec.line.layout.split(",")
    channels = [tracks[AGENT] + tracks[CUSTOMER]] if spec.line.layout == "mono" else [tracks[r] for r in roles]
    # TTS clips have crest factors up to ~21 dB: where a peak would clip, the whole call is
    # turned down (both parties alike, so the raised turns keep their labelled gain).
    peak = max(float(np.max(np.abs(track))) for track in channels)
    scale = min(1.0, PRE_FILTER_PEAK / peak) if peak else 1.0
    rng = np.random.default_rng([spec.seed, 21])
    out = []
    for i, track in enumerate(channels):
        track = track * scale
        if spec.line.snr_db:
            carried = roles if spec.line.layout == "mono" else [roles[i]]
            spans = [(p.start, p.end) for p in tl.placed if p.role in carried]
            noise = speech_level_db(track, spans) - spec.line.snr_db
        else:
            noise = NO_NOISE_DBFS
        out.append(phone_channel(track, rng, noise_dbfs=noise))
    audio = np.stack(out)
    peak = float(np.max(np.abs(audio)))
    if peak >= PEAK_LIMIT:
        raise ValueError(f"{spec.call_id}: peak {peak:.3f} would clip")
    return audio


def speech_level_db(track: np.ndarray, spans: list[tuple[int, int]]) -> float:
    """RMS (dBFS) of the channel's speech as it sounds on the line, i.e. after the 300-3400 Hz band filter.

    The SNR is set against this, not against the full-band clip level: the band filter
    takes several dB off a low voice, which would otherwise make the line noisier than labelled.
    """
    banded = phone_channel(track, np.random.default_rng(0), noise_dbfs=NO_NOISE_DBFS)
    speech = np.concatenate([banded[a:b] for a, b in spans])
    return float(10 * np.log10(np.mean(speech.astype(np.float64) ** 2) + 1e-20))


# ---------------------------------------------------------------- files

AUDIO = CORPUS / "audio"
AUDIO_GSM = CORPUS / "audio_gsm"


def call_file(spec: CallSpec) -> Path:
    """Where the call's audio lives; GSM calls are committed (sox makes them), the rest are built."""
    if spec.line.codec == "gsm":
        return AUDIO_GSM / f"{spec.call_id}.wav"
    return AUDIO / f"{spec.call_id}{CODECS[spec.line.codec].suffix}"


def encode_call(spec: CallSpec, audio: np.ndarray) -> bytes:
    if spec.line.codec == "gsm":
        return gsm_encode(audio[0])
    return encode_audio(audio, CODECS[spec.line.codec], spec.line.bitrate)


def sox_available() -> bool:
    return shutil.which("sox") is not None


def assemble(specs: list[CallSpec], timelines: dict[str, Timeline], index: dict[str, ClipEntry]) -> dict[str, int]:
    """Write every call's audio; GSM calls only when sox is here (otherwise the committed ones stand)."""
    AUDIO.mkdir(parents=True, exist_ok=True)
    AUDIO_GSM.mkdir(parents=True, exist_ok=True)
    clips = ClipCache(index)
    have_sox = sox_available()
    counts = {"written": 0, "gsm_kept": 0}
    for spec in specs:
        if spec.line.codec == "gsm" and not have_sox:
            if not call_file(spec).exists():
                raise FileNotFoundError(f"{call_file(spec)} is missing and sox is not installed to make it")
            counts["gsm_kept"] += 1
            continue
        data = encode_call(spec, mix(spec, timelines[spec.call_id], clips))
        path = call_file(spec)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
        counts["written"] += 1
    return counts
