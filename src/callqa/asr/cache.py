"""Transcript cache: the same audio through the same model and options is transcribed once.

The key covers everything that can change a transcript's text:

- the recording's bytes (sha256): a renamed or moved file still hits;
- the model's identity: its recorded sha256, else its path, size and mtime;
- ``AsrOptions.cache_key_fields()`` (backend, prompt, beam, VAD...);
- the manifest's channel layout (it decides who is agent and who customer);
- the pipeline version: ``PIPELINE_VERSION`` plus a digest of the
  post-processing sources (filters, roles, normalization, their data files),
  so an edit there invalidates old entries without anyone remembering to bump.

Entries live under ``$CALLQA_CACHE_DIR/transcripts`` (default
``~/.cache/callqa/transcripts``) as ``<key[:2]>/<key>.json``, written
atomically. A damaged entry is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from .models import ModelRef, cache_dir
from .options import AsrOptions
from .transcript import CallInput, Transcript

log = logging.getLogger(__name__)

# Bump when decoding or post-processing changes what a transcript holds in a way
# the source digest below would not see (e.g. a dependency's behaviour).
PIPELINE_VERSION = 1

# The modules and data whose edits change transcripts after ASR.
_POSTPROCESSING_SOURCES = (
    "pipeline.py", "filters.py", "hallucinations.yaml", "roles.py", "roles_mono.py", "roles_text.py", "role_phrases.yaml",
    "normalize.py", "../audio/decode.py",
)


@lru_cache(maxsize=1)
def pipeline_fingerprint() -> str:
    digest = hashlib.sha256(f"v{PIPELINE_VERSION}".encode())
    here = Path(__file__).parent
    for name in _POSTPROCESSING_SOURCES:
        path = here / name
        if path.is_file():
            digest.update(name.encode())
            digest.update(path.read_bytes())
    return f"{PIPELINE_VERSION}:{digest.hexdigest()[:16]}"


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


def cache_key(audio_sha256: str, model: ModelRef, options: AsrOptions, channels: str) -> str:
    material = {
        "pipeline": pipeline_fingerprint(),
        "audio": audio_sha256,
        "model": model_identity(model),
        "options": options.cache_key_fields(),
        "channels": channels,
    }
    blob = json.dumps(material, sort_keys=True, ensure_ascii=False, default=list)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def as_served(transcript: Transcript, call: CallInput) -> Transcript:
    """A stored transcript as this call's result: its current names, marked cached, no ASR time."""
    info = replace(transcript.info, cached=True, elapsed_s=0.0) if transcript.info else None
    return replace(transcript, call_id=call.call_id, file=call.file, agent_id=call.agent_id, info=info)


class TranscriptCache:
    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    def path_for(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str, call: CallInput) -> Transcript | None:
        path = self.path_for(key)
        if not path.is_file():
            return None
        try:
            transcript = Transcript.load(path)
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("ignoring damaged cache entry %s: %s", path, e)
            return None
        return as_served(transcript, call)

    def put(self, key: str, transcript: Transcript) -> Path:
        path = self.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A unique temporary name: two worker processes may store the same key at once.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(transcript.to_dict(), ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
        return path
