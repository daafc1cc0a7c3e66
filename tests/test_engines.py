"""The engine choice on the command line: validated before any work, and `--engine local` never imports Ray.

The Ray engine itself runs in tests/test_engines_ray.py (a real local Ray cluster).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callqa.cli import app
from callqa.engines import EngineOptions
from callqa.errors import UsageError

REPO = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture
def broken_folder(tmp_path) -> Path:
    """Two files that are not audio: a batch that fails per call without ever loading a model."""
    folder = tmp_path / "calls"
    folder.mkdir()
    (folder / "a.wav").write_bytes(b"this is not audio")
    (folder / "b.wav").write_bytes(b"RIFF\x00\x00")
    return folder


@pytest.mark.parametrize("command", ["score", "transcribe"])
def test_an_unknown_engine_is_a_usage_error_naming_the_valid_ones(tmp_path, broken_folder, command):
    args = [command, str(broken_folder), "--out", str(tmp_path / "out"), "--engine", "spark"]
    if command == "score":
        args += ["--roster", str(REPO / "samples" / "roster.csv")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "--engine 'spark': unknown engine; valid engines: local, ray" in result.output
    assert not (tmp_path / "out").exists()  # refused before anything was written


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "local", "address": "auto"}, "--address is for --engine ray"),
    ({"name": "ray", "address": "http://head"}, "give auto, HOST:PORT"),
    ({"name": "ray", "address": "auto", "workers": 2}, "the cluster's CPUs decide"),
    ({"name": "local", "workers": 0}, "--workers 0: give 1 or more"),
])  # fmt: skip
def test_engine_options_validate_when_built(kwargs, message):
    with pytest.raises(UsageError, match=message):
        EngineOptions.build(**kwargs)


def test_engine_options_accept_the_documented_addresses():
    for address in ("auto", "10.0.0.5:6379", "head.example:6379", "ray://10.0.0.5:10001"):
        assert EngineOptions.build("ray", address=address).address == address
    assert EngineOptions.build().name == "local" and EngineOptions.build("ray", workers=2).workers == 2


def _run_cli(args: list[str], prelude: str = "") -> subprocess.CompletedProcess:
    """`callqa ARGS` in a fresh interpreter that says on exit whether Ray was ever imported."""
    script = (
        "import atexit, sys\n" + prelude +
        "atexit.register(lambda: print('RAY-IMPORTED' if 'ray' in sys.modules and sys.modules['ray'] else 'NO-RAY'))\n"
        "from callqa.cli import main\n"
        f"sys.argv = ['callqa', *{args!r}]\n"
        "main()\n"
    )  # fmt: skip
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})


def test_the_local_engine_never_imports_ray(tmp_path, broken_folder):
    roster = str(REPO / "samples" / "roster.csv")
    scored = _run_cli(["score", str(broken_folder), "--roster", roster, "--out", str(tmp_path / "out"),
                       "--agent", "A001", "--engine", "local", "-q"])
    assert scored.stdout.strip().splitlines()[-1] == "NO-RAY", scored.stdout + scored.stderr
    assert scored.returncode == 0, scored.stderr  # every call listed with its error
    assert (tmp_path / "out" / "calls.jsonl").read_text(encoding="utf-8").count('"error": "') == 2
    transcribed = _run_cli(["transcribe", str(broken_folder), "--out", str(tmp_path / "t")])
    assert transcribed.stdout.strip().splitlines()[-1] == "NO-RAY"
    assert transcribed.returncode == 1  # every call failed


def test_without_ray_installed_the_ray_engine_exits_3_with_the_install_hint(tmp_path, broken_folder):
    # sys.modules['ray'] = None makes `import ray` fail as it does where Ray is not installed.
    result = _run_cli(["transcribe", str(broken_folder), "--out", str(tmp_path / "out"), "--engine", "ray"],
                      prelude="sys.modules['ray'] = None\n")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "error: --engine ray needs Ray, which is not installed here: pip install 'callqa[ray]'" in result.stderr


# --- the local engine's workers ----------------------------------------------------------------------------------


def _tone_calls(folder: Path, n: int) -> list:
    import numpy as np
    from conftest import write_audio

    from callqa.audio.inputs import read_inputs

    folder.mkdir()
    for i in range(n):
        t = np.arange(int(8000 * (4.0 + i * 0.1))) / 8000  # distinct lengths: distinct audio
        write_audio(folder / f"c{i}.wav", (0.3 * np.sin(2 * np.pi * 440 * t))[None, :], 8000)
    return read_inputs(folder)


def test_the_local_engines_workers_check_and_verify_their_own_calls(tmp_path, monkeypatch):
    """Each worker verifies the calls it transcribed, with its own model: the driver never asks the audio."""
    from worker_backends import VerifyingBackend

    monkeypatch.setenv("CALLQA_CACHE_DIR", str(tmp_path / "cache"))  # no verification answers from earlier runs
    from callqa.asr.options import AsrOptions
    from callqa.engines import BatchSpec, ScoringSpec, engine_for
    from callqa.scoring.scorecard import load_scorecard

    asked = tmp_path / "asked"
    asked.mkdir()
    calls = _tone_calls(tmp_path / "calls", 4)
    spec = BatchSpec(calls, AsrOptions.build(), tmp_path / "out", use_cache=False, progress=False,
                     scoring=ScoringSpec(load_scorecard(None), None), backend=VerifyingBackend(asked),
                     cache_dir=tmp_path / "cache")
    run = engine_for(EngineOptions.build("local", workers=2)).run(spec)

    assert [s.call_id for s in run.scores] == [c.call_id for c in calls]
    assert all(s.error is None for s in run.scores)
    pids = {p.name.removeprefix("verify-") for p in asked.iterdir()}
    assert pids and str(os.getpid()) not in pids  # asked by the workers, not here
    assert run.verification.calls == 4 and run.verification.encoded_windows >= 4


def test_default_workers_one_per_usable_core_as_memory_allows(monkeypatch):
    from callqa.engines import local

    gib = 2**30
    available = {"bytes": 20 * gib}
    monkeypatch.setattr(local, "usable_cores", lambda: 4)
    monkeypatch.setattr(local, "available_memory", lambda: available["bytes"])
    assert local.default_workers() == 4
    available["bytes"] = 3 * gib  # room for two models
    assert local.default_workers() == 2
    available["bytes"] = gib
    assert local.default_workers() == 1
    available["bytes"] = None  # not known: the cores decide
    assert local.default_workers() == 4
    assert local.default_workers(backend=object()) == 1  # a backend made here lives in this process


def _cgroup(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text + "\n", encoding="ascii")
    return tmp_path


def test_a_containers_cpu_quota_and_memory_limit_bind_not_the_hosts(tmp_path):
    """In a container given 1.5 CPUs and 4 GB of a big node, the batch sizes itself to those, not to the node."""
    from callqa.machine import available_memory, usable_cores

    gib = 2**30
    meminfo = tmp_path / "meminfo"
    meminfo.write_text(f"MemTotal: {256 * gib // 1024} kB\nMemAvailable: {200 * gib // 1024} kB\n", encoding="ascii")
    v2 = _cgroup(tmp_path / "v2", {"cpu.max": "150000 100000", "memory.max": str(4 * gib),
                                   "memory.current": str(gib)})
    assert usable_cores(v2) == min(2, len(os.sched_getaffinity(0)))  # 1.5 CPUs of quota: 2 busy processes at most
    assert available_memory(v2, meminfo) == 3 * gib  # the limit less what the group already uses
    v1 = _cgroup(tmp_path / "v1", {"cpu/cpu.cfs_quota_us": "100000", "cpu/cpu.cfs_period_us": "100000",
                                   "memory/memory.limit_in_bytes": str(2**63 - 4096)})  # v1's "no limit"
    assert usable_cores(v1) == 1
    assert available_memory(v1, meminfo) == 200 * gib
    unlimited = _cgroup(tmp_path / "none", {"cpu.max": "max 100000", "memory.max": "max"})
    assert usable_cores(unlimited) == len(os.sched_getaffinity(0))
    assert available_memory(unlimited, meminfo) == 200 * gib
    assert usable_cores() >= 1 and available_memory() > 0  # this machine's own, read for real


def test_a_lazily_loaded_worker_backend_passes_the_window_padding_on():
    """Verification asks for unpadded (fitted) windows: the worker's lazy backend must pass that on."""
    from callqa.asr.batch import _LazyBackend
    from callqa.asr.options import AsrOptions

    seen = []

    class Loaded:
        def encode(self, window, pad=True):
            seen.append(pad)

    lazy = _LazyBackend(AsrOptions.build(), None)
    lazy._loaded = Loaded()
    lazy.encode([0.0], pad=False)
    assert seen == [False]
