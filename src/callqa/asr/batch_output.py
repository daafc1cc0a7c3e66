"""A batch's output folder: one transcript or one error file per call, an index, and a lock.

Everything lands in ``out_dir/transcripts/``:

    <stem>.json            the call's Transcript (Transcript.save, atomic)
    <stem>.error.json      why the call has no transcript: {call_id, file, error_type, message}
    index.jsonl            one line per finished call, {call_id, stem, key, pipeline, status}; the last line wins

``<stem>`` is the call id itself, or for an id too long to name a file (a
file name of 245 bytes is legal on ext4, and .error.json plus a temporary
suffix would pass the 255-byte limit) its first bytes and a digest of the
whole id (output_stem): bounded, unique, and mapped back to the call id by
the index and by the call_id inside each file.

Each call has exactly one of the two files: a success removes an old error
file and a failure removes a transcript of older audio. A call whose
transcript here was made from the same audio bytes, model, options and channel
layout (the cache key) by the same post-processing code (the pipeline
fingerprint) is finished: a resumed batch skips it. Every engine (local
processes, a Ray cluster) records through :class:`BatchOutput`, so they resume
each other's work.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import UnavailableError
from ..files import atomic_write
from .cache import cache_key
from .models import ModelRef
from .options import AsrOptions
from .pipeline import pipeline_fingerprint
from .transcript import CallInput, Transcript, TranscriptionResult

__all__ = ["TRANSCRIPTS_DIR", "INDEX_FILE", "CallJob", "CallOutcome", "BatchOutput", "OutputBusyError", "output_stem"]

TRANSCRIPTS_DIR = "transcripts"
INDEX_FILE = "index.jsonl"
# Bytes of a call id used as a file name as it is; longer ids are cut and get a digest. Leaves room under
# the usual 255-byte limit for ".error.json" and atomic_path's temporary suffix.
_STEM_MAX_BYTES = 120
_STEM_PREFIX_BYTES = 80


def output_stem(call_id: str) -> str:
    """The file name stem for a call's files: the id, or its first bytes + '~' + a digest when it is long."""
    raw = call_id.encode("utf-8")
    if len(raw) <= _STEM_MAX_BYTES:
        return call_id
    prefix = raw[:_STEM_PREFIX_BYTES].decode("utf-8", errors="ignore")  # never half a character
    return f"{prefix}~{hashlib.sha256(raw).hexdigest()[:16]}"


@dataclass
class CallJob:
    index: int
    call: CallInput
    audio_sha256: str | None


@dataclass
class CallOutcome:
    transcript: Transcript | None
    error_type: str | None = None
    message: str | None = None
    then: Any = None  # what the worker's AfterTranscription gave (asr/batch.py); not part of the record


class OutputBusyError(UnavailableError):
    """Another batch is writing to the same output directory."""


def _lock_output(folder: Path):
    """Hold an exclusive lock on the folder for this batch: two batches would interleave index.jsonl."""
    import fcntl

    handle = open(folder / ".lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise OutputBusyError(f"another callqa batch is writing to {folder}; wait for it or use another --out") from None
    return handle


class BatchOutput:
    def __init__(self, out_dir: Path, model: ModelRef, options: AsrOptions) -> None:
        self.dir = Path(out_dir) / TRANSCRIPTS_DIR
        self.dir.mkdir(parents=True, exist_ok=True)
        self.model, self.options = model, options
        self.index_path = self.dir / INDEX_FILE
        self._lock = _lock_output(self.dir)
        self.index = self._read_index()

    def close(self) -> None:
        self._lock.close()  # releases the lock

    def _read_index(self) -> dict[str, dict]:
        entries: dict[str, dict] = {}
        if self.index_path.is_file():
            for line in self.index_path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    entries[entry["call_id"]] = entry
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a kill
            # Compact: one line per call, written atomically.
            atomic_write(self.index_path, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries.values()))
        return entries

    def key(self, call: CallInput, audio_sha256: str) -> str:
        return cache_key(audio_sha256, self.model, self.options, call.channels, postprocessing=True)

    def _entry(self, call: CallInput, key: str | None, status: str) -> dict:
        return {"call_id": call.call_id, "stem": output_stem(call.call_id), "key": key, "pipeline": pipeline_fingerprint(),
                "status": status}

    def finished(self, call: CallInput, audio_sha256: str | None) -> Transcript | None:
        """This call's transcript from an earlier run over the same audio and settings, if any."""
        entry = self.index.get(call.call_id)
        path = self.dir / f"{output_stem(call.call_id)}.json"
        if not audio_sha256 or not entry or entry.get("status") != "ok" or not path.is_file():
            return None
        if entry.get("key") != self.key(call, audio_sha256) or entry.get("pipeline") != pipeline_fingerprint():
            return None
        try:
            transcript = Transcript.load(path)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if (transcript.file, transcript.agent_id) != (call.file, call.agent_id):  # e.g. an agent_id fixed in the manifest
            replace(transcript, file=call.file, agent_id=call.agent_id).save(path)
        # This call's current names; served without ASR.
        info = replace(transcript.info, cached=True, elapsed_s=0.0) if transcript.info else None
        return replace(transcript, call_id=call.call_id, file=call.file, agent_id=call.agent_id, info=info)

    def _append_index(self, entry: dict) -> None:
        with open(self.index_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.index[entry["call_id"]] = entry

    def record(self, job: CallJob, outcome: CallOutcome) -> TranscriptionResult:
        call = job.call
        stem = output_stem(call.call_id)
        transcript_path = self.dir / f"{stem}.json"
        error_path = self.dir / f"{stem}.error.json"
        if outcome.transcript is not None:
            outcome.transcript.save(transcript_path)
            error_path.unlink(missing_ok=True)
            key = self.key(call, outcome.transcript.info.audio_sha256) if outcome.transcript.info else None
            self._append_index(self._entry(call, key, "ok"))
            return TranscriptionResult(call, outcome.transcript)
        error = {"call_id": call.call_id, "file": call.file, "error_type": outcome.error_type, "message": outcome.message}
        atomic_write(error_path, json.dumps(error, ensure_ascii=False, indent=1))
        transcript_path.unlink(missing_ok=True)  # made from audio that is no longer what this call points to
        self._append_index(self._entry(call, None, "error"))
        return TranscriptionResult(call, None, outcome.message)
