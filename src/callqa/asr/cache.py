"""Recognition cache: the same audio through the same model and options is sent to Whisper once.

What is cached is Whisper's own output per channel (``Recognition``), before
hallucination filtering, role assignment and normalization. Those steps are
cheap and re-run on every hit, so improving them never costs a re-transcription
and never serves text made by older post-processing.

The key covers everything that can change Whisper's output:

- the recording's bytes (sha256): a renamed or moved file still hits;
- the model's identity: its recorded sha256, else its path, size and mtime;
- ``AsrOptions.recognition_fields()`` (backend, prompt, beam, VAD...);
- the manifest's channel layout (it decides which channels are transcribed apart);
- ``CACHE_VERSION``: bump when decoding/resampling or the stored form changes.

Entries live under ``$CALLQA_CACHE_DIR/transcripts`` (default
``~/.cache/callqa/transcripts``) as ``<key[:2]>/<key>.json``, written
atomically. A damaged entry is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..files import atomic_write
from .backends.base import AsrSegment, AsrWord
from .measures import ChannelMeasures
from .models import ModelRef, cache_dir
from .options import AsrOptions

log = logging.getLogger(__name__)

# Bump when what Whisper is given (decoding, resampling, channel handling) or the stored form changes.
CACHE_VERSION = 1


@dataclass
class Reread:
    """A segment where Whisper wrote its prompt back (echoes.py), decoded again without the prompt
    (second_look.py): ``segments`` stand in place of the one Whisper wrote from ``start`` to ``end``."""

    start: float
    end: float
    segments: list[AsrSegment]


@dataclass
class Recognition:
    """Whisper's raw output for one call: what the cache keeps."""

    layout: str  # the layout used: the manifest's, or "mono" (see pipeline.effective_layout)
    duration_s: float
    per_channel: dict[int, list[AsrSegment]]  # stereo: {0: .., 1: ..}; mono: {0: downmix}
    backend: str
    elapsed_s: float
    notes: list[str] = field(default_factory=list)
    # Speech spans and levels per channel (measures.py); None in entries cached before they were kept.
    measures: dict[int, ChannelMeasures] | None = None
    # Segments of speech Whisper first wrote nothing for, decoded again alone (second_look.py), per channel;
    # None where the second look was not taken (cached before it existed, or second_look off).
    recovered: dict[int, list[AsrSegment]] | None = None
    second_look_version: int = 0  # second_look.SECOND_LOOK_VERSION when ``recovered`` was found
    # Segments Whisper wrote its prompt over, read again (second_look.py), per channel; None as ``recovered``.
    rereads: dict[int, list[Reread]] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["per_channel"] = {str(ch): [asdict(s) for s in segs] for ch, segs in self.per_channel.items()}
        d["measures"] = None if self.measures is None else {str(ch): m.to_dict() for ch, m in self.measures.items()}
        d["recovered"] = None if self.recovered is None else {
            str(ch): [asdict(s) for s in segs] for ch, segs in self.recovered.items()}
        d["rereads"] = None if self.rereads is None else {
            str(ch): [asdict(r) for r in rereads] for ch, rereads in self.rereads.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Recognition":
        def segments(by_channel: dict) -> dict[int, list[AsrSegment]]:
            return {int(ch): [AsrSegment(**{**s, "words": [AsrWord(**w) for w in s.get("words", [])]}) for s in segs]
                    for ch, segs in by_channel.items()}

        def rereads(by_channel: dict) -> dict[int, list[Reread]]:
            return {int(ch): [Reread(float(r["start"]), float(r["end"]), segments({0: r["segments"]})[0])
                              for r in items] for ch, items in by_channel.items()}

        measures, recovered, reread = d.get("measures"), d.get("recovered"), d.get("rereads")
        return cls(d["layout"], float(d["duration_s"]), segments(d["per_channel"]), d["backend"],
                   float(d["elapsed_s"]), list(d.get("notes", [])),
                   None if measures is None else {int(ch): ChannelMeasures.from_dict(m) for ch, m in measures.items()},
                   None if recovered is None else segments(recovered), int(d.get("second_look_version", 0)),
                   None if reread is None else rereads(reread))


def default_cache_dir() -> Path:
    return cache_dir() / "transcripts"


def model_identity(model: ModelRef) -> str:
    """A stable id of the weights: the recorded sha256, else where they are and when they changed."""
    if model.sha256:
        return f"sha256:{model.sha256}"
    weights = model.weights_file
    try:
        stat = weights.stat()
    except OSError:
        return f"path:{weights}"
    return f"path:{weights.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def cache_key(
    audio_sha256: str, model: ModelRef, options: AsrOptions, channels: str, *, postprocessing: bool = False
) -> str:
    """The recognition cache's key; with ``postprocessing`` also the post-processing options (a batch's
    record of a finished transcript must change when they do)."""
    material = {
        "version": CACHE_VERSION,
        "audio": audio_sha256,
        "model": model_identity(model),
        "options": options.cache_key_fields() if postprocessing else options.recognition_fields(),
        "channels": channels,
    }
    blob = json.dumps(material, sort_keys=True, ensure_ascii=False, default=list)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class TranscriptCache:
    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    def path_for(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> Recognition | None:
        path = self.path_for(key)
        if not path.is_file():
            return None
        try:
            return Recognition.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("ignoring damaged cache entry %s: %s", path, e)
            return None

    def put(self, key: str, recognition: Recognition) -> Path:
        path = self.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A unique temporary name: two worker processes may store the same key at once.
        atomic_write(path, json.dumps(recognition.to_dict(), ensure_ascii=False))
        return path
