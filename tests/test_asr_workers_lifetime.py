"""`--workers 2`: no worker outlives its batch, and a resumed batch loses and duplicates nothing.

A batch runs in a child process over slow calls; it is killed (SIGKILL, so no
clean-up runs; or SIGTERM, as a service manager stops it) while its two
workers are busy. Before the fix the workers (about 700 MB each with a real
model) lived on indefinitely.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import write_audio

TESTS = Path(__file__).resolve().parent
N_CALLS = 6

SCRIPT = """
import sys
from pathlib import Path
from callqa.asr.batch import transcribe_batch
from callqa.audio.inputs import read_inputs
from callqa.cli.batch_args import sigterm_as_interrupt
from worker_backends import SlowBackend

calls = read_inputs(sys.argv[1])
try:
    with sigterm_as_interrupt():
        transcribe_batch(calls, {}, Path(sys.argv[2]), workers=2, use_cache=False, progress=False,
                         backend=SlowBackend(float(sys.argv[3])))
except KeyboardInterrupt:
    sys.exit(130)
"""


def _recordings(folder: Path) -> Path:
    folder.mkdir()
    for i in range(N_CALLS):
        t = np.arange(8000 * (2 + i * 0.1)) / 8000  # distinct lengths: distinct audio
        write_audio(folder / f"c{i}.wav", np.stack([0.3 * np.sin(2 * np.pi * 440 * t)] * 2), 8000)
    return folder


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start_batch(recordings: Path, out: Path, seconds: float) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(recordings), str(out), str(seconds)], env=env)


def _wait_for_workers(proc: subprocess.Popen, out: Path, timeout: float = 60.0) -> list[int]:
    """The worker PIDs, once both are busy and at least one call is finished."""
    deadline = time.monotonic() + timeout
    index = out / "transcripts" / "index.jsonl"
    while time.monotonic() < deadline:
        workers = [p for p in _children(proc.pid) if "multiprocessing" in Path(f"/proc/{p}/cmdline").read_text()]
        if len(workers) >= 2 and index.is_file() and index.read_text().strip():
            return workers
        assert proc.poll() is None, "the batch ended before it could be killed"
        time.sleep(0.2)
    raise AssertionError("the workers never got going")


def _resume_and_check(recordings: Path, out: Path) -> None:
    """Run the same batch to the end: every call exactly once, and finished calls not redone."""
    index = out / "transcripts" / "index.jsonl"
    done_before = {json.loads(line)["call_id"] for line in index.read_text().splitlines() if line.strip()}
    proc = _start_batch(recordings, out, 0.0)
    assert proc.wait(timeout=120) == 0
    entries = [json.loads(line) for line in index.read_text().splitlines() if line.strip()]
    ids = [e["call_id"] for e in entries]
    assert sorted(set(ids)) == [f"c{i}" for i in range(N_CALLS)]
    assert all(e["status"] == "ok" for e in entries)
    assert len({p.name for p in (out / "transcripts").glob("c*.json")}) == N_CALLS
    assert not list((out / "transcripts").glob("*.error.json"))
    assert done_before, "some calls were finished before the kill"


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["kill -9", "SIGTERM"])
def test_no_worker_outlives_its_batch_and_the_resume_is_exact(tmp_path, how):
    recordings, out = _recordings(tmp_path / "calls"), tmp_path / "out"
    proc = _start_batch(recordings, out, 2.0)
    workers = _wait_for_workers(proc, out)
    proc.send_signal(how)
    code = proc.wait(timeout=30)
    assert code == (130 if how == signal.SIGTERM else -signal.SIGKILL)
    deadline = time.monotonic() + 15
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [w for w in workers if _alive(w)], "a worker outlived its batch"
    _resume_and_check(recordings, out)
