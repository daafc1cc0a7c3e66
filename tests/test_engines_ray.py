"""`--engine ray` on a real local Ray cluster (``ray.init(num_cpus=2)``): the same results as `--engine local`,
a bad file is its own error, and a worker process killed in the middle of a call loses and duplicates nothing.

Select them with ``-m ray``. The sample test runs Whisper when the transcript cache is cold (it is marked asr
too); the others use the fake backends of tests/worker_backends.py and take seconds.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import write_audio
from typer.testing import CliRunner

from callqa.asr.options import AsrOptions
from callqa.audio.inputs import read_inputs
from callqa.cli import app
from callqa.engines import BatchSpec, EngineOptions, ScoringSpec, engine_for
from callqa.reports.jsonl import CALLS_FILENAME, read_calls_jsonl, write_calls_jsonl
from callqa.scoring.scorecard import load_scorecard
from worker_backends import PidRecordingBackend, SlowBackend

ray = pytest.importorskip("ray", reason="the Ray engine's tests need Ray: pip install 'callqa[ray]'")
pytestmark = pytest.mark.ray

TESTS = Path(__file__).resolve().parent
SAMPLES = TESTS.parent / "samples"
runner = CliRunner()


@pytest.fixture(scope="module")
def ray_cluster():
    """A real two-CPU Ray on this machine; its workers import the fake backends from tests/."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(TESTS)}})
    yield ray
    ray.shutdown()


def _recordings(folder: Path, n: int, seconds: float = 4.0) -> Path:
    folder.mkdir()
    for i in range(n):
        t = np.arange(int(8000 * (seconds + i * 0.1))) / 8000  # distinct lengths: distinct audio, told apart
        write_audio(folder / f"c{i}.wav", (0.3 * np.sin(2 * np.pi * 440 * t))[None, :], 8000)
    return folder


def _scoring(tmp_path: Path, calls: list, backend, **kwargs) -> BatchSpec:
    card = load_scorecard(None)
    card = replace(card, verification=replace(card.verification, enabled=False))  # the fakes can't score texts
    return BatchSpec(calls, AsrOptions.build(), tmp_path / "out", use_cache=False, progress=False,
                     scoring=ScoringSpec(card, None), backend=backend, **kwargs)


def _index_ids(out: Path) -> list[str]:
    lines = (out / "transcripts" / "index.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["call_id"] for line in lines]


@pytest.mark.asr
def test_the_samples_score_the_same_on_ray_as_locally(ray_cluster, tmp_path):
    def score(out: Path, *engine: str):
        args = ["score", str(SAMPLES / "manifest.csv"), "--roster", str(SAMPLES / "roster.csv"), "--out", str(out),
                "-q", *engine]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        return read_calls_jsonl(out / CALLS_FILENAME)

    local = score(tmp_path / "local")
    on_ray = score(tmp_path / "ray", "--engine", "ray")
    ids = [c["call_id"] for c in local]
    assert [c["call_id"] for c in on_ray] == ids and len(ids) == 7  # six samples and the broken upload
    for a, b in zip(local, on_ray):
        assert (b["score"], b["flagged"], b["flag_reasons"], b["error"]) == (a["score"], a["flagged"],
                                                                             a["flag_reasons"], a["error"])
        assert {k: (v["passed"], v["deduction"]) for k, v in b["checks"].items()} == \
            {k: (v["passed"], v["deduction"]) for k, v in a["checks"].items()}
    assert on_ray == local  # and the same transcripts, findings and verification, field for field
    assert sorted(_index_ids(tmp_path / "ray")) == sorted(ids)  # every call recorded once
    assert on_ray[-1]["error"].startswith("truncated")  # the broken upload is its own error under Ray too


def test_a_bad_file_is_its_own_error_and_the_batch_goes_on(ray_cluster, tmp_path):
    folder = _recordings(tmp_path / "calls", 2)
    (folder / "broken.wav").write_bytes(b"RIFF but no audio at all")
    calls = read_inputs(folder)
    run = engine_for(EngineOptions.build("ray")).run(_scoring(tmp_path, calls, SlowBackend(0.0)))
    by_id = {r.call.call_id: r for r in run.results}
    assert set(by_id) == {"broken", "c0", "c1"}
    assert by_id["broken"].transcript is None and by_id["broken"].error
    assert all(by_id[c].transcript is not None for c in ("c0", "c1"))
    scores = {s.call_id: s for s in run.scores}
    assert scores["broken"].error == by_id["broken"].error and scores["broken"].flagged
    assert scores["c0"].error is None and scores["c0"].score is not None
    error_file = json.loads((tmp_path / "out" / "transcripts" / "broken.error.json").read_text(encoding="utf-8"))
    assert error_file["call_id"] == "broken" and error_file["message"] == by_id["broken"].error


def test_transcribe_on_ray_lists_each_failure_and_exits_1_when_all_fail(ray_cluster, tmp_path):
    folder = tmp_path / "calls"
    folder.mkdir()
    (folder / "a.wav").write_bytes(b"not audio")
    (folder / "b.mp3").write_bytes(b"")
    result = runner.invoke(app, ["transcribe", str(folder), "--out", str(tmp_path / "out"), "--engine", "ray", "-q"])
    assert result.exit_code == 1, result.output
    assert "2 calls: 0 transcribed, 0 cached, 2 failed" in result.output
    assert sorted(p.name for p in (tmp_path / "out" / "transcripts").glob("*.error.json")) == ["a.error.json",
                                                                                              "b.error.json"]


def _kill_first_busy_worker(pids: Path, killed: list[str], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = sorted(pids.iterdir())
        if busy:
            os.kill(int(busy[0].name.split("-")[1]), signal.SIGKILL)
            killed.append(busy[0].name)
            return
        time.sleep(0.05)


def test_a_worker_killed_mid_call_loses_and_duplicates_no_call(ray_cluster, tmp_path):
    calls = read_inputs(_recordings(tmp_path / "calls", 6))
    ids = [c.call_id for c in calls]
    pids = tmp_path / "pids"
    pids.mkdir()
    spec = _scoring(tmp_path, calls, PidRecordingBackend(2.0, pids))
    killed: list[str] = []
    killer = threading.Thread(target=_kill_first_busy_worker, args=(pids, killed))
    killer.start()
    run = engine_for(EngineOptions.build("ray")).run(spec)
    killer.join()

    assert len(killed) == 1, "no worker was busy to kill"
    samples, dead_pid = killed[0].split("-")
    again = [p.name for p in pids.iterdir() if p.name.startswith(f"{samples}-") and p.name != killed[0]]
    assert again and all(name.split("-")[1] != dead_pid for name in again)  # Ray ran it again, elsewhere
    assert [r.call.call_id for r in run.results] == ids
    assert all(r.transcript is not None and r.error is None for r in run.results)  # the killed call included
    assert sorted(_index_ids(spec.out_dir)) == sorted(ids)  # each call recorded once: no duplicate lines
    assert sorted(p.name for p in (spec.out_dir / "transcripts").glob("*.json")) == sorted(f"{i}.json" for i in ids)
    write_calls_jsonl(spec.out_dir / CALLS_FILENAME, run.scores)
    assert [c["call_id"] for c in read_calls_jsonl(spec.out_dir / CALLS_FILENAME)] == ids

    # Run again into the same --out: every call resumes from its transcript, none is transcribed again.
    for p in pids.iterdir():
        p.unlink()
    rerun = engine_for(EngineOptions.build("ray")).run(spec)
    assert [s.call_id for s in rerun.scores] == ids
    assert all(r.transcript.info.cached for r in rerun.results) and list(pids.iterdir()) == []
    assert [s.score for s in rerun.scores] == [s.score for s in run.scores]


BATCH_SCRIPT = """
import sys
from pathlib import Path
from callqa.asr.options import AsrOptions
from callqa.audio.inputs import read_inputs
from callqa.cli.batch_args import sigterm_as_interrupt
from callqa.engines import BatchSpec, EngineOptions, engine_for
from worker_backends import PidRecordingBackend

backend = PidRecordingBackend(float(sys.argv[3]), Path(sys.argv[4]))
spec = BatchSpec(read_inputs(sys.argv[1]), AsrOptions.build(), Path(sys.argv[2]), use_cache=False, progress=False,
                 backend=backend)
try:
    with sigterm_as_interrupt():
        engine_for(EngineOptions.build("ray", workers=2)).run(spec)  # starts, and stops, its own Ray
except KeyboardInterrupt:
    sys.exit(130)
"""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _batch(recordings: Path, out: Path, seconds: float, pids: Path):
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", BATCH_SCRIPT, str(recordings), str(out), str(seconds), str(pids)],
                            env=env)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "kill -9"])
def test_a_stopped_driver_keeps_finished_calls_leaves_no_worker_and_the_rerun_resumes(tmp_path, how):
    """No ray_cluster fixture: the engine starts a local Ray of its own, as `callqa score --engine ray` does."""
    recordings, out, pids = _recordings(tmp_path / "calls", 6), tmp_path / "out", tmp_path / "pids"
    pids.mkdir()
    proc = _batch(recordings, out, 3.0, pids)
    index = out / "transcripts" / "index.jsonl"
    deadline = time.monotonic() + 120
    while not (index.is_file() and index.read_text().strip()) and time.monotonic() < deadline:
        assert proc.poll() is None, "the batch ended before it could be stopped"
        time.sleep(0.1)
    proc.send_signal(how)
    assert proc.wait(timeout=60) == (130 if how == signal.SIGTERM else -signal.SIGKILL)
    workers = {int(p.name.split("-")[1]) for p in pids.iterdir()}
    deadline = time.monotonic() + 20
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [w for w in workers if _alive(w)], "a Ray worker outlived its batch"

    finished = _index_ids(out)
    assert finished and len(finished) < 6 and len(set(finished)) == len(finished)
    for p in pids.iterdir():
        p.unlink()
    assert _batch(recordings, out, 0.0, pids).wait(timeout=120) == 0
    ids = _index_ids(out)
    assert sorted(ids) == [f"c{i}" for i in range(6)]  # all, once each (the index is compacted on open)
    redone = {p.name.split("-")[0] for p in pids.iterdir()}
    assert len(redone) == 6 - len(finished)  # the calls finished before the signal were not transcribed again
