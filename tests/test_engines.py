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
