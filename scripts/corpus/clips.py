"""The committed clip store: one Ogg Opus file per (voice, sentence text, take, speed).

The TTS step writes each sentence once, at 8 kHz on a normalized level, into
corpus/clips/<key>.ogg, and records it in corpus/clips/index.csv with its exact decoded
length; every later step (timeline, labels, audio) works from the store alone, so the
calls can be rebuilt without the TTS venv. The same voice saying the same sentence in
several calls uses one clip.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .shared import CORPUS

CLIPS = CORPUS / "clips"
INDEX = CLIPS / "index.csv"
CLIP_LEVEL_DBFS = -20.0  # every clip's RMS: gains are applied when a call is assembled
CLIP_BITRATE = 20000


@dataclass(frozen=True)
class ClipRequest:
    voice: str
    text: str
    take: int = 0
    speed_cpm: int = 0  # 0: as spoken; > 0: time-stretched to this many characters per minute
    max_cpm: int = 0  # > 0: slowed down to this pace if the voice says it faster (agent clips)

    @property
    def key(self) -> str:
        cap = f"|max{self.max_cpm}" if self.max_cpm else ""
        return hashlib.sha1(f"{self.voice}|{self.text}|{self.take}|{self.speed_cpm}{cap}".encode()).hexdigest()[:16]

    @property
    def tts_seed(self) -> int:
        return 1000 + 17 * self.take  # Mellotron's dropout seed: one per take


@dataclass(frozen=True)
class ClipEntry:
    key: str
    voice: str
    take: int
    speed_cpm: int
    samples: int  # decoded length at 8 kHz: the timeline is built from this
    text: str
    max_cpm: int = 0


def clip_path(key: str) -> Path:
    return CLIPS / f"{key}.ogg"


def read_index() -> dict[str, ClipEntry]:
    if not INDEX.exists():
        return {}
    with open(INDEX, newline="", encoding="utf-8") as f:
        return {
            r["key"]: ClipEntry(r["key"], r["voice"], int(r["take"]), int(r["speed_cpm"]), int(r["samples"]), r["text"],
                                int(r.get("max_cpm") or 0))
            for r in csv.DictReader(f)
        }


def write_index(entries: dict[str, ClipEntry]) -> None:
    CLIPS.mkdir(parents=True, exist_ok=True)
    tmp = INDEX.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["key", "voice", "take", "speed_cpm", "max_cpm", "samples", "text"])
        for e in sorted(entries.values(), key=lambda e: e.key):
            w.writerow([e.key, e.voice, e.take, e.speed_cpm, e.max_cpm, e.samples, e.text])
    tmp.replace(INDEX)  # a crash mid-write leaves the old index


def load_clip(key: str) -> np.ndarray:
    """The clip as float32 mono at 8 kHz."""
    from .codecs import decode_audio

    return decode_audio(clip_path(key).read_bytes())[0]
