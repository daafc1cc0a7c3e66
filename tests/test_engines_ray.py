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
