"""Transcribe a batch of calls without losing any: per-call files and errors, resume, workers.

Everything lands in ``out_dir/transcripts/``:

    <call_id>.json         the call's Transcript (Transcript.save, atomic)
    <call_id>.error.json   why the call has no transcript: {call_id, file, error_type, message}
    index.jsonl            one line per finished call, {call_id, key, pipeline, status}; the last line wins

A call that fails gets its error file and the batch goes on. A call whose
transcript in ``out_dir`` was made from the same audio bytes, model, options
and channel layout (the cache key) by the same post-processing code (the
pipeline fingerprint), both recorded in index.jsonl, is not done again: an
interrupted or killed batch resumes where it stopped, even with the cache off. Each call has exactly one of the two files: a success removes an
old error file and a failure removes a transcript of older audio.

``workers > 1`` runs calls in that many processes (spawned, so no state is
shared with the parent; a script calling this needs the usual
``if __name__ == "__main__":`` guard); each loads the model once, on its
first cache miss.
A worker that dies (a crash, the OOM killer) fails only the call it was on:
the calls in flight are retried one at a time, and a call that kills a worker
twice gets an error file.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
from collections import Counter, deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from ..audio.decode import AudioDecodeError, file_sha256
from ..errors import UnavailableError
from ..files import atomic_write
from .backends.base import AsrBackend
from .cache import TranscriptCache, cache_key, default_cache_dir
from .models import ModelRef
from .options import AsrOptions
from .pipeline import model_for, pipeline_fingerprint, transcribe_call
from .transcript import CallInput, Transcript, TranscriptionResult

log = logging.getLogger(__name__)

TRANSCRIPTS_DIR = "transcripts"
INDEX_FILE = "index.jsonl"
WORKER_CRASHED = "WorkerCrashed"
# A call is retried alone this many times after its worker died before it is failed.
_CRASH_RETRIES = 1


class BackendUnavailableError(UnavailableError):
    """The ASR backend could not load: no call can succeed, so the batch stops."""


@dataclass
class _Job:
    index: int
    call: CallInput
    audio_sha256: str | None


@dataclass
class _Outcome:
    transcript: Transcript | None
    error_type: str | None = None
    message: str | None = None


class _LazyBackend:
    """The real backend, loaded on the first call that misses the cache (a cached rerun loads no model)."""

    def __init__(self, options: AsrOptions, model: ModelRef) -> None:
        self.name = options.backend
        self.model_ref = model
        self._loaded: AsrBackend | None = None

    def ensure_loaded(self, options: AsrOptions) -> AsrBackend:
        if self._loaded is None:
            from .backends import load_backend

            try:
                self._loaded = load_backend(options)
            except Exception as e:
                raise BackendUnavailableError(
                    f"could not load the {options.backend} backend with model {options.model!r}: {e}"
                ) from e
        return self._loaded

    def transcribe(self, audio, options: AsrOptions):
        return self.ensure_loaded(options).transcribe(audio, options)


class _Worker:
    def __init__(self, options: AsrOptions, model: ModelRef, cache_dir: Path | None, backend: AsrBackend | None):
        self.options = options
        self.cache = TranscriptCache(cache_dir) if cache_dir is not None else None
        self.backend = backend if backend is not None else _LazyBackend(options, model)

    def run(self, job: _Job) -> _Outcome:
        try:
            transcript = transcribe_call(job.call, self.options, self.backend, self.cache, audio_sha256=job.audio_sha256)
        except BackendUnavailableError:
            raise
        except AudioDecodeError as e:
            return _Outcome(None, type(e).__name__, e.problem)
        except Exception as e:  # any other failure is this call's, and the batch goes on
            log.debug("call %s failed", job.call.call_id, exc_info=True)
            return _Outcome(None, type(e).__name__, f"{type(e).__name__}: {e}")
        return _Outcome(transcript)


_worker: _Worker | None = None  # one per worker process, made by the pool's initializer


def _init_worker(options: AsrOptions, model: ModelRef, cache_dir: Path | None, backend: AsrBackend | None) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _worker = _Worker(options, model, cache_dir, backend)


def _run_in_worker(job: _Job) -> _Outcome:
    assert _worker is not None, "worker not initialized"
    return _worker.run(job)


# --- out_dir bookkeeping -----------------------------------------------------


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


class _Output:
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
        return cache_key(audio_sha256, self.model, self.options, call.channels)

    def _entry(self, call: CallInput, key: str | None, status: str) -> dict:
        return {"call_id": call.call_id, "key": key, "pipeline": pipeline_fingerprint(), "status": status}

    def finished(self, call: CallInput, audio_sha256: str | None) -> Transcript | None:
        """This call's transcript from an earlier run over the same audio and settings, if any."""
        entry = self.index.get(call.call_id)
        path = self.dir / f"{call.call_id}.json"
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

    def record(self, job: _Job, outcome: _Outcome) -> TranscriptionResult:
        call = job.call
        transcript_path = self.dir / f"{call.call_id}.json"
        error_path = self.dir / f"{call.call_id}.error.json"
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


# --- progress ------------------------------------------------------------------


class _Progress:
    """A rich progress bar on stderr with transcribed / cached / failed counts."""

    def __init__(self, total: int, enabled: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.enabled = enabled
        self.counts: Counter[str] = Counter()
        self.bar = Progress(
            TextColumn("transcribing"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
            console=Console(stderr=True), disable=not enabled,
        )
        self.task = self.bar.add_task("transcribe", total=total, counts=self._counts())

    def _counts(self) -> str:
        c = self.counts
        return f"new {c['new']}  cached {c['cached']}  failed {c['failed']}"

    def done(self, result: TranscriptionResult) -> None:
        if result.transcript is None:
            self.counts["failed"] += 1
            if self.enabled:
                from rich.markup import escape

                self.bar.console.print(f"[red]failed[/red] {escape(result.call.file)}: {escape(result.error or '')}")
        else:
            self.counts["cached" if result.transcript.info and result.transcript.info.cached else "new"] += 1
        self.bar.update(self.task, advance=1, counts=self._counts())


# --- the batch -------------------------------------------------------------------


def transcribe_batch(
    calls: list[CallInput],
    options: AsrOptions | dict | None,
    out_dir: Path,
    workers: int = 1,
    use_cache: bool = True,
    progress: bool = True,
    *,
    backend: AsrBackend | None = None,
    cache_dir: Path | None = None,
) -> list[TranscriptionResult]:
    """Transcribe ``calls`` into ``out_dir/transcripts``; results in input order, failures included.

    ``backend``: an already loaded backend (picklable when ``workers > 1``);
    default: each process loads ``options.backend`` on its first cache miss.
    ``cache_dir``: the transcript cache (default ``$CALLQA_CACHE_DIR/transcripts``).
    Ctrl-C keeps every finished call's files and says how to resume, then
    re-raises KeyboardInterrupt. Raises BackendUnavailableError when the
    model can't load (no call could succeed), OutputBusyError when another
    batch holds ``out_dir``.
    """
    options = AsrOptions.build(options)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if workers > 1 and options.cpu_threads == 0:
        # Share the cores instead of each worker's backend starting one thread per core.
        options = AsrOptions.build(options, cpu_threads=max(1, (os.cpu_count() or 1) // workers))
    model = model_for(options, backend)
    output = _Output(out_dir, model, options)
    cache = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) if use_cache else None
    results: list[TranscriptionResult | None] = [None] * len(calls)
    bar = _Progress(len(calls), progress)

    def finish(job: _Job, outcome: _Outcome) -> None:
        results[job.index] = output.record(job, outcome)
        bar.done(results[job.index])

    with bar.bar:
        try:
            todo: list[_Job] = []
            for i, call in enumerate(calls):
                sha = file_sha256(call.path) if call.path.is_file() else None
                if (earlier := output.finished(call, sha)) is not None:
                    results[i] = TranscriptionResult(call, earlier)
                    bar.done(results[i])
                else:
                    todo.append(_Job(i, call, sha))
            if todo and workers > 1:
                _run_pool(todo, min(workers, len(todo)), (options, model, cache, backend), finish)
            elif todo:
                worker = _Worker(options, model, cache, backend)
                for job in todo:
                    finish(job, worker.run(job))
        except KeyboardInterrupt:
            done = sum(r is not None for r in results)
            bar.bar.console.print(
                f"Interrupted: {done} of {len(calls)} calls finished; their files in {output.dir} are kept. "
                "Run the same command again to resume: finished calls are skipped."
            )
            raise
        finally:
            output.close()
    return [r for r in results if r is not None]


def _run_pool(todo: list[_Job], workers: int, init_args: tuple, finish: Callable[[_Job, _Outcome], None]) -> None:
    queue: deque[_Job] = deque(todo)
    suspects: deque[_Job] = deque()  # in flight when a worker died: rerun one at a time to find the culprit
    strikes: Counter[int] = Counter()
    inflight: dict[Future, _Job] = {}
    executor: ProcessPoolExecutor | None = None

    def crashed(job: _Job) -> None:
        strikes[job.index] += 1
        if strikes[job.index] > _CRASH_RETRIES:
            finish(job, _Outcome(None, WORKER_CRASHED, "the worker process died on this call (a crash or out of memory)"))
        else:
            suspects.append(job)

    try:
        while queue or suspects or inflight:
            if executor is None:
                executor = ProcessPoolExecutor(
                    max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_worker, initargs=init_args,
                )
            if suspects:
                if not inflight:
                    job = suspects.popleft()
                    inflight[executor.submit(_run_in_worker, job)] = job
            else:
                while queue and len(inflight) < workers:
                    job = queue.popleft()
                    inflight[executor.submit(_run_in_worker, job)] = job
            done, _ = wait(inflight, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                job = inflight.pop(future)
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    broken = True
                    crashed(job)
                    continue
                except BackendUnavailableError:
                    raise
                except Exception as e:  # e.g. a result that could not be sent back
                    outcome = _Outcome(None, type(e).__name__, f"{type(e).__name__}: {e}")
                finish(job, outcome)
            if broken:  # the pool is unusable: everything else in flight died with it
                for job in inflight.values():
                    crashed(job)
                inflight.clear()
                executor.shutdown(wait=True, cancel_futures=True)
                executor = None
    except BaseException:
        if executor is not None:
            processes = list((getattr(executor, "_processes", None) or {}).values())
            executor.shutdown(wait=False, cancel_futures=True)
            for process in processes:  # stop calls in progress now rather than after they finish
                process.terminate()
            executor = None
        raise
    finally:
        if executor is not None:
            executor.shutdown(wait=True)
