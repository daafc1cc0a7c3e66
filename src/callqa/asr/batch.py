"""Transcribe a batch of calls without losing any: per-call files and errors, resume, workers.

A call that fails gets its error file and the batch goes on; a call already
finished in ``out_dir`` is not done again, so an interrupted or killed batch
resumes where it stopped, even with the cache off (batch_output.py keeps
that record).

``workers > 1`` runs calls in that many processes (spawned, so no state is
shared with the parent; a script calling this needs the usual
``if __name__ == "__main__":`` guard); each loads the model once, on its
first cache miss, and gets an equal share of the cores. ``then`` (run_batch)
is more work each worker does on a call right after transcribing it, with its
own loaded model: the engines' checks and verification, so a batch is checked
in parallel and each worker holds one model.
A worker that dies (a crash, the OOM killer) fails only the call it was on:
the calls in flight are retried one at a time, and a call that kills a worker
twice gets an error file.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time
from collections import Counter, deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

from ..audio.decode import AudioDecodeError, file_sha256
from ..errors import UnavailableError
from ..machine import usable_cores
from .backends.base import AsrBackend
from .batch_output import INDEX_FILE, TRANSCRIPTS_DIR, BatchOutput, CallJob, CallOutcome, OutputBusyError
from .cache import TranscriptCache, default_cache_dir
from .models import ModelRef
from .options import AsrOptions
from .pipeline import model_for, transcribe_call
from .progress import BatchProgress
from .transcript import CallInput, Transcript, TranscriptionResult

__all__ = ["transcribe_batch", "run_batch", "BatchResults", "AfterTranscription", "BackendUnavailableError",
           "OutputBusyError", "TRANSCRIPTS_DIR", "INDEX_FILE", "WORKER_CRASHED", "CallWorker", "resume_jobs",
           "interrupted_message"]

log = logging.getLogger(__name__)

WORKER_CRASHED = "WorkerCrashed"
# A call is retried alone this many times after its worker died before it is failed.
_CRASH_RETRIES = 1


class BackendUnavailableError(UnavailableError):
    """The ASR backend could not load: no call can succeed, so the batch stops."""


class _LazyBackend:
    """The real backend, loaded on the first call that misses the cache (a cached rerun loads no model)."""

    def __init__(self, options: AsrOptions, model: ModelRef) -> None:
        self.name = options.backend
        self.model_ref = model
        self.options = options
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

    def encode(self, window, pad: bool = True):
        # Verification of a call whose transcript came from the cache is this worker's first use of the model.
        return self.ensure_loaded(self.options).encode(window, pad=pad)

    def score_texts(self, encoded, prefix: str, candidates: list[str], options: AsrOptions):
        return self.ensure_loaded(options).score_texts(encoded, prefix, candidates, options)

    def read_openings(self, encoded, openings: list[str], options: AsrOptions, max_tokens: int, slot: int):
        backend = self.ensure_loaded(options)
        if not hasattr(backend, "read_openings"):
            raise NotImplementedError(f"the {self.name} backend reads no forced openings")
        return backend.read_openings(encoded, openings, options, max_tokens, slot)


class AfterTranscription(Protocol):
    """More work on a transcribed call, done in the worker process that transcribed it, with that worker's
    backend (loaded at most once per process). Picklable; what it returns is sent back with the call.
    An exception leaves the call's transcript recorded and the work undone (``CallOutcome.then`` None)."""

    def __call__(self, result: TranscriptionResult, backend: AsrBackend) -> Any: ...


class CallWorker:
    """Transcribes one call at a time in one process, loading the model once; every engine's worker."""

    def __init__(self, options: AsrOptions, model: ModelRef, cache_dir: Path | None, backend: AsrBackend | None,
                 then: AfterTranscription | None = None):
        self.options = options
        self.cache = TranscriptCache(cache_dir) if cache_dir is not None else None
        self.backend = backend if backend is not None else _LazyBackend(options, model)
        self.then = then

    def run(self, job: CallJob, earlier: Transcript | None = None) -> CallOutcome:
        """The call transcribed (or ``earlier``, a resumed call's transcript), then ``then`` done on it."""
        outcome = CallOutcome(earlier) if earlier is not None else self._transcribe(job)
        if self.then is not None:
            try:
                outcome.then = self.then(TranscriptionResult(job.call, outcome.transcript, outcome.message),
                                         self.backend)
            except BackendUnavailableError:
                raise
            except Exception:  # the caller does it again where it can report it; the transcript is kept
                log.warning("call %s: the work after transcription failed in the worker", job.call.call_id,
                            exc_info=True)
        return outcome

    def _transcribe(self, job: CallJob) -> CallOutcome:
        try:
            transcript = transcribe_call(job.call, self.options, self.backend, self.cache, audio_sha256=job.audio_sha256)
        except BackendUnavailableError:
            raise
        except AudioDecodeError as e:
            return CallOutcome(None, type(e).__name__, e.problem)
        except Exception as e:  # any other failure is this call's, and the batch goes on
            log.debug("call %s failed", job.call.call_id, exc_info=True)
            return CallOutcome(None, type(e).__name__, f"{type(e).__name__}: {e}")
        return CallOutcome(transcript)


_worker: CallWorker | None = None  # one per worker process, made by the pool's initializer


def _init_worker(options: AsrOptions, model: ModelRef, cache_dir: Path | None, backend: AsrBackend | None,
                 then: AfterTranscription | None) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _die_with_parent()
    _worker = CallWorker(options, model, cache_dir, backend, then)


# How often a worker checks that the batch that started it is still there (where prctl is not available).
_PARENT_CHECK_S = 1.0


def _die_with_parent() -> None:
    """A worker holds a model (about 700 MB) and must not outlive its batch: kill -9 of the parent runs no
    clean-up, so the kernel is asked to kill the worker with it (Linux PR_SET_PDEATHSIG), and a watcher
    thread exits the worker when its parent changes (anywhere else, and as a second guard)."""
    import threading

    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(_PARENT_CHECK_S)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="callqa-parent-watch", daemon=True).start()


def _run_in_worker(job: CallJob) -> CallOutcome:
    assert _worker is not None, "worker not initialized"
    return _worker.run(job)


# --- the batch -------------------------------------------------------------------


def transcribe_batch(calls: list[CallInput], options: AsrOptions | dict | None, out_dir: Path, workers: int = 1,
                     use_cache: bool = True, progress: bool = True, **keywords: Any) -> list[TranscriptionResult]:
    """run_batch's transcripts alone (``backend``, ``cache_dir`` as there): results in input order, failures
    included."""
    return run_batch(calls, options, out_dir, workers, use_cache, progress, **keywords).results


@dataclass
class BatchResults:
    results: list[TranscriptionResult]  # input order, failures included
    then: list[Any]  # per call, what ``then`` gave; None for a call resumed from an earlier run, or where it failed


def run_batch(
    calls: list[CallInput],
    options: AsrOptions | dict | None,
    out_dir: Path,
    workers: int = 1,
    use_cache: bool = True,
    progress: bool = True,
    *,
    backend: AsrBackend | None = None,
    cache_dir: Path | None = None,
    then: AfterTranscription | None = None,
    label: str = "transcribing",
) -> BatchResults:
    """Transcribe ``calls`` into ``out_dir/transcripts``, and do ``then`` on each newly transcribed call in the
    worker that transcribed it.

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
    model = model_for(options, backend)
    output = BatchOutput(out_dir, model, options)
    cache = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) if use_cache else None
    results: list[TranscriptionResult | None] = [None] * len(calls)
    after: list[Any] = [None] * len(calls)
    bar = BatchProgress(len(calls), progress, label)

    def finish(job: CallJob, outcome: CallOutcome) -> None:
        results[job.index] = output.record(job, outcome)
        after[job.index] = outcome.then
        bar.done(results[job.index])

    with bar.bar:
        try:
            todo = resume_jobs(calls, output, results, bar)
            processes = min(workers, len(todo))
            if processes > 1:
                _Pool(processes, (_threads_shared(options, processes), model, cache, backend, then), finish).run(todo)
            elif todo:
                worker = CallWorker(options, model, cache, backend, then)
                for job in todo:
                    finish(job, worker.run(job))
        except KeyboardInterrupt:
            bar.bar.console.print(interrupted_message(sum(r is not None for r in results), len(calls), output.dir))
            raise
        finally:
            output.close()
    kept = [i for i, r in enumerate(results) if r is not None]
    return BatchResults([results[i] for i in kept], [after[i] for i in kept])


def _threads_shared(options: AsrOptions, processes: int) -> AsrOptions:
    """Each of ``processes`` workers gets its share of the cores, instead of every backend starting a thread per
    core; an explicit ``cpu_threads`` is kept (threads only change speed, never the transcript)."""
    if options.cpu_threads:
        return options
    return AsrOptions.build(options, cpu_threads=max(1, usable_cores() // processes))


def interrupted_message(done: int, total: int, folder: Path) -> str:
    return (f"Interrupted: {done} of {total} calls finished; their files in {folder} are kept. "
            "Run the same command again to resume: finished calls are skipped.")


def resume_jobs(calls: list[CallInput], output: BatchOutput, results: list, bar: BatchProgress) -> list[CallJob]:
    """Fill ``results`` with the calls an earlier run already finished; the rest are the jobs to do."""
    todo: list[CallJob] = []
    for i, call in enumerate(calls):
        sha = file_sha256(call.path) if call.path.is_file() else None
        if (earlier := output.finished(call, sha)) is not None:
            results[i] = TranscriptionResult(call, earlier)
            bar.done(results[i])
        else:
            todo.append(CallJob(i, call, sha))
    return todo


class _Pool:
    """Calls spread over worker processes; a worker that dies fails only the call it was on.

    The calls in flight when a worker died are rerun one at a time, so the one
    that kills a worker is found; it fails after _CRASH_RETRIES reruns.
    """

    def __init__(self, workers: int, init_args: tuple, finish: Callable[[CallJob, CallOutcome], None]) -> None:
        self.workers, self.init_args, self.finish = workers, init_args, finish
        self.suspects: deque[CallJob] = deque()  # in flight when a worker died
        self.strikes: Counter[int] = Counter()
        self.inflight: dict[Future, CallJob] = {}
        self.executor: ProcessPoolExecutor | None = None

    def run(self, todo: list[CallJob]) -> None:
        queue: deque[CallJob] = deque(todo)
        try:
            while queue or self.suspects or self.inflight:
                self._submit(queue)
                done, _ = wait(self.inflight, return_when=FIRST_COMPLETED)
                if self._collect(done):  # the pool is unusable: everything else in flight died with it
                    for job in self.inflight.values():
                        self._crashed(job)
                    self.inflight.clear()
                    self.executor.shutdown(wait=True, cancel_futures=True)
                    self.executor = None
        except BaseException:
            self._kill()
            raise
        finally:
            if self.executor is not None:
                self.executor.shutdown(wait=True)

    def _submit(self, queue: deque[CallJob]) -> None:
        if self.executor is None:
            self.executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker, initargs=self.init_args,
            )
        if self.suspects:  # one at a time, to find the culprit
            if not self.inflight:
                self._send(self.suspects)
            return
        while queue and len(self.inflight) < self.workers and self._send(queue):
            pass

    def _send(self, jobs: deque[CallJob]) -> bool:
        """Submit the first of ``jobs``; False (the job kept) when the pool broke since the last look: a worker
        can die while another call's result is being collected, before any future in flight says so."""
        job = jobs.popleft()
        try:
            self.inflight[self.executor.submit(_run_in_worker, job)] = job
            return True
        except BrokenProcessPool:
            jobs.appendleft(job)
            if not self.inflight:  # no future left to report the break: start a new pool now
                self.executor.shutdown(wait=True, cancel_futures=True)
                self.executor = None
            return False

    def _collect(self, done) -> bool:
        """Record finished calls; True when a worker died."""
        broken = False
        for future in done:
            job = self.inflight.pop(future)
            try:
                outcome = future.result()
            except BrokenProcessPool:
                broken = True
                self._crashed(job)
                continue
            except BackendUnavailableError:
                raise
            except Exception as e:  # e.g. a result that could not be sent back
                outcome = CallOutcome(None, type(e).__name__, f"{type(e).__name__}: {e}")
            self.finish(job, outcome)
        return broken

    def _crashed(self, job: CallJob) -> None:
        self.strikes[job.index] += 1
        if self.strikes[job.index] > _CRASH_RETRIES:
            self.finish(job, CallOutcome(None, WORKER_CRASHED, "the worker process died on this call (a crash or out of memory)"))
        else:
            self.suspects.append(job)

    def _kill(self) -> None:
        """Stop calls in progress now rather than after they finish (Ctrl-C, SIGTERM, an error)."""
        if self.executor is None:
            return
        processes = list((getattr(self.executor, "_processes", None) or {}).values())
        self.executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        self.executor = None
