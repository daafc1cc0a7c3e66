"""`--engine ray`: each call is one Ray task that decodes, transcribes, checks and verifies it on a worker.

The driver (this process) only submits calls and records what comes back:
transcripts and error files through BatchOutput (so a rerun resumes, whatever
engine ran before), progress through BatchProgress, and the scores for the
caller to write. A call that raises is its own error (ray_worker.py catches
it); a worker process or node lost mid-call makes Ray run that call again
(``max_retries``), and the driver records each call once, when its one result
arrives, so a retried call is neither lost nor written twice.

The workers read the audio at the paths the driver sees and keep the
transcript cache at their own ``$CALLQA_CACHE_DIR``: on a cluster both must be
a shared filesystem mounted at the same place on every node (docs/scale.md).
"""

from __future__ import annotations

import logging
import signal
import threading
import uuid
from collections import deque

from ..asr.batch import WORKER_CRASHED, BackendUnavailableError, interrupted_message, resume_jobs
from ..asr.batch_output import BatchOutput, CallJob, CallOutcome
from ..asr.options import AsrOptions
from ..asr.pipeline import model_for
from ..asr.progress import BatchProgress
from ..asr.transcript import Transcript
from ..errors import UnavailableError
from ..machine import usable_cores
from ..scoring.score import score_call
from .base import BatchRun, BatchSpec, EngineOptions, VerificationCost
from .ray_worker import CallDone, WorkerSpec, run_call

__all__ = ["RayEngine", "INSTALL_HINT", "WORKER_RETRIES", "import_ray"]

INSTALL_HINT = "pip install 'callqa[ray]'"
# Ray runs a call again after its worker process or node died, this many times; then the call gets an error.
WORKER_RETRIES = 2
# Calls handed to the cluster ahead of its CPUs: enough to keep every worker busy, not a whole province at once.
INFLIGHT_PER_CPU = 2
_AUTH_NOTICE_LOGGER = "ray._private.authentication.authentication_token_setup"
# How long the driver waits for a result before looking again, so Ctrl-C and SIGTERM are seen promptly.
_WAIT_S = 0.5


def import_ray():
    try:
        import ray
    except ImportError:
        raise UnavailableError(f"--engine ray needs Ray, which is not installed here: {INSTALL_HINT}") from None
    return ray


class RayEngine:
    name = "ray"

    def __init__(self, options: EngineOptions) -> None:
        self.address, self.num_cpus = options.address, options.workers

    def run(self, spec: BatchSpec) -> BatchRun:
        ray = import_ray()
        started = self._connect(ray)
        try:
            # A Ray this batch started is shut down right after, workers and all; cancelling the calls in
            # flight first races their replies inside Ray (its core worker aborts: "Tried to complete task that
            # was not pending", seen once under load), so only calls on a cluster that outlives us are cancelled.
            return _Driver(ray, spec, cancel_on_stop=not started).run()
        finally:
            if started:
                ray.shutdown()  # the local Ray this batch started stops with it, workers included

    def _connect(self, ray) -> bool:
        """Join ``--address``, or start a Ray on this machine; False when this process already has one."""
        if ray.is_initialized():  # a script or a test that made its own cluster
            return False
        quiet = {"logging_level": logging.WARNING, "log_to_driver": False}  # the progress bar is the output
        # Ray's core installs its own SIGTERM handler, which exits at once: the batch's own one (SIGTERM stops
        # it like Ctrl-C, finished calls kept, exit 130) is put back.
        on_sigterm = signal.getsignal(signal.SIGTERM)
        try:
            if self.address:
                ray.init(address=self.address, **quiet)
            else:
                # A local instance announces that token authentication is on, its default: not worth a line.
                logging.getLogger(_AUTH_NOTICE_LOGGER).setLevel(logging.ERROR)
                # address="local": a new instance even where `ray start` left one (ray.init() would join that).
                ray.init(address="local", num_cpus=self.num_cpus or usable_cores(), include_dashboard=False, **quiet)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as e:
            where = f"--address {self.address}" if self.address else "a local Ray"
            raise UnavailableError(f"{where}: Ray did not start or connect: {e}") from None
        finally:
            if threading.current_thread() is threading.main_thread() and on_sigterm is not None:
                signal.signal(signal.SIGTERM, on_sigterm)
        return True


class _Driver:
    def __init__(self, ray, spec: BatchSpec, cancel_on_stop: bool = True) -> None:
        self.ray, self.spec, self.cancel_on_stop = ray, spec, cancel_on_stop
        # One CPU per task: each call's backend uses one thread instead of one per core of its node.
        self.asr = spec.asr if spec.asr.cpu_threads else AsrOptions.build(spec.asr, cpu_threads=1)
        self.model = model_for(self.asr, spec.backend)
        scoring = spec.scoring
        self.worker_spec = WorkerSpec(
            uuid.uuid4().hex, self.asr, self.model, spec.use_cache, spec.cache_dir,
            scoring.card if scoring else None, scoring.roster if scoring else None, spec.backend,
        )  # fmt: skip
        n = len(spec.calls)
        self.results: list = [None] * n
        self.scores: list = [None] * n
        self.verification = VerificationCost()

    def run(self) -> BatchRun:
        spec = self.spec
        output = BatchOutput(spec.out_dir, self.model, self.asr)
        bar = BatchProgress(len(spec.calls), spec.progress, "scoring     " if spec.scoring else "transcribing")
        with bar.bar:
            try:
                todo = [(job, None) for job in resume_jobs(spec.calls, output, self.results, bar)]
                if spec.scoring is not None:  # resumed calls still need their checks: on the cluster, no ASR
                    todo += [(CallJob(i, r.call, None), r.transcript) for i, r in enumerate(self.results) if r]
                    todo.sort(key=lambda t: t[0].index)
                self._submit_all(todo, lambda job, earlier, done: self._finish(job, earlier, done, output, bar))
            except KeyboardInterrupt:
                done = sum(r is not None for r in self.results)
                bar.bar.console.print(interrupted_message(done, len(spec.calls), output.dir))
                raise
            finally:
                output.close()
        return BatchRun(self.results, self.scores if spec.scoring else None, self.verification)

    def _submit_all(self, todo: list[tuple[CallJob, Transcript | None]], finish) -> None:
        ray = self.ray
        task = ray.remote(num_cpus=1, max_retries=WORKER_RETRIES)(run_call)
        shared = ray.put(self.worker_spec)
        limit = INFLIGHT_PER_CPU * max(1, int(ray.cluster_resources().get("CPU", 1)))
        queue, inflight = deque(todo), {}
        try:
            while queue or inflight:
                while queue and len(inflight) < limit:
                    job, earlier = queue.popleft()
                    inflight[task.remote(shared, job, earlier)] = (job, earlier)
                ready, _ = ray.wait(list(inflight), num_returns=1, timeout=_WAIT_S)
                for ref in ready:
                    job, earlier = inflight.pop(ref)
                    finish(job, earlier, self._result(ref))
        except BaseException:
            # Ctrl-C, SIGTERM, a model that won't load: stop the calls in progress now.
            for ref in inflight if self.cancel_on_stop else ():
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # already finished or its worker is gone
                    pass
            raise

    def _result(self, ref) -> CallDone:
        try:
            return self.ray.get(ref)
        except self.ray.exceptions.RayError as e:  # the call's worker died more than WORKER_RETRIES times, or
            lost = isinstance(e, (self.ray.exceptions.WorkerCrashedError, self.ray.exceptions.NodeDiedError,
                                  self.ray.exceptions.OutOfMemoryError))  # the task could not run at all
            if lost:
                return CallDone(CallOutcome(None, WORKER_CRASHED, f"the worker process died on this call "
                                            f"{WORKER_RETRIES + 1} times (a crash, out of memory or a lost node)"))
            return CallDone(CallOutcome(None, type(e).__name__, f"{type(e).__name__}: {str(e).splitlines()[0]}"))

    def _finish(self, job: CallJob, earlier: Transcript | None, done: CallDone, output: BatchOutput,
                bar: BatchProgress) -> None:
        if done.fatal:
            raise BackendUnavailableError(done.fatal)
        if earlier is None:
            self.results[job.index] = output.record(job, done.outcome)
            bar.done(self.results[job.index])
        if self.spec.scoring is not None:
            score = done.score
            if score is None:  # the cluster could not run this call: scored here, with its error, flagged
                score = score_call(self.results[job.index], self.spec.scoring.card, self.spec.scoring.roster)
            self.scores[job.index] = score
            self.verification += done.verification
