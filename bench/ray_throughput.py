"""Calls per hour and per core-hour: `callqa score` with the local engine beside the Ray engine on 1 and 2 CPUs.

    python bench/ray_throughput.py [--copies 2] [--configs local-1,local-2,ray-1,ray-2]

The six sample calls (the broken upload left out), plus ``--copies - 1`` copies
of each re-encoded as WAV with a gain a hair lower, so every copy is new audio
to every cache. Each configuration runs ``callqa score`` in a subprocess, cold:
its own empty transcript and verification caches (the model files are linked
in), verification on, as a real batch runs. Wall time is the command's; CPU
time is the whole process tree's (the driver, Ray's own processes and its
workers), read from /proc while it runs, so what Ray itself costs is counted.

    local-N   --engine local --workers N   (N=1: one process, the backend's threads on every core)
    ray-N     --engine ray --workers N     (a local Ray with N CPUs: N calls at once, one thread each)

Prints one row per configuration: calls, wall, CPU, calls per hour, calls per
core-hour (per hour of the N cores given) and per CPU-hour (of CPU actually
used). Not a test: nothing here asserts a speed; on a shared machine compare
the rows of one run.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
sys.path.insert(0, str(REPO / "src"))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def make_batch(folder: Path, copies: int) -> Path:
    """A manifest of the sample calls and their re-encoded copies; returns its path."""
    from callqa.audio.decode import load_audio

    with open(SAMPLES / "manifest.csv", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["call_id"] != "broken_call"]
    out_rows = []
    for row in rows:
        out_rows.append({**row, "file": str(SAMPLES / row["file"])})
        audio = load_audio(SAMPLES / row["file"]) if copies > 1 else None
        for k in range(1, copies):
            path = folder / f"{row['call_id']}_copy{k}.wav"
            _write_wav(path, audio.channels * (1 - 0.001 * k), audio.sample_rate)
            out_rows.append({**row, "file": str(path), "call_id": f"{row['call_id']}_copy{k}"})
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["file", "agent_id", "call_id", "channels"])
        writer.writeheader()
        writer.writerows(out_rows)
    return manifest


def _write_wav(path: Path, data, rate: int) -> None:
    """(channels, n) float in [-1, 1] as 16-bit PCM WAV."""
    import av
    import numpy as np

    layout = "mono" if data.shape[0] == 1 else "stereo"
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data, dtype=np.float32), format="fltp", layout=layout)
        frame.sample_rate = rate
        resampler = av.AudioResampler(format="s16", layout=layout, rate=rate)
        for block in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(block):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def _tree_cpu(root: int, seen: dict[int, float]) -> None:
    """Record the CPU seconds of ``root`` and every descendant alive now (the last reading of each pid wins)."""
    parents: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry)] = fields
            parents.setdefault(int(fields[1]), []).append(int(entry))
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            f = stats[pid]
            seen[pid] = (int(f[11]) + int(f[12])) / CLK_TCK  # utime + stime
        todo.extend(parents.get(pid, []))


def run(config: str, manifest: Path, work: Path) -> tuple[float, float]:
    """(wall s, CPU s) of one cold `callqa score` with ``config``."""
    engine, n = config.split("-")
    cache = work / f"cache-{config}"
    cache.mkdir()
    real_cache = Path(os.environ.get("CALLQA_CACHE_DIR") or Path.home() / ".cache" / "callqa").expanduser()
    for name in ("models", "converted"):  # the weights, not the transcripts or verification scores
        if (real_cache / name).exists():
            (cache / name).symlink_to(real_cache / name)
    args = [sys.executable, "-c", "from callqa.cli import main; main()", "score", str(manifest),
            "--roster", str(SAMPLES / "roster.csv"), "--out", str(work / f"out-{config}"), "-q",
            "--engine", engine, "--workers", n]
    seen: dict[int, float] = {}
    started = time.perf_counter()
    proc = subprocess.Popen(args, env={**os.environ, "CALLQA_CACHE_DIR": str(cache)})
    while proc.poll() is None:
        _tree_cpu(proc.pid, seen)
        time.sleep(0.2)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{config}: callqa score exited {proc.returncode}")
    return wall, sum(seen.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=2, help="copies of each sample call (1: the samples only)")
    parser.add_argument("--configs", default="local-1,local-2,ray-1,ray-2")
    args = parser.parse_args()
    table = Table(title=f"callqa score, cold, verification on ({os.cpu_count()} cores on this machine)")
    for column in ("engine", "cores", "calls", "wall s", "CPU s", "calls/hour", "calls/core-hour", "calls/CPU-hour"):
        table.add_column(column, justify="left" if column == "engine" else "right")
    with tempfile.TemporaryDirectory(prefix="callqa-ray-bench-") as tmp:
        work = Path(tmp)
        manifest = make_batch(work, args.copies)
        calls = sum(1 for _ in open(manifest, encoding="utf-8")) - 1
        for config in args.configs.split(","):
            wall, cpu = run(config, manifest, work)
            cores = os.cpu_count() if config == "local-1" else int(config.split("-")[1])  # local-1: threads on all
            per_hour = calls / wall * 3600
            table.add_row(config, str(cores), str(calls), f"{wall:.1f}", f"{cpu:.1f}", f"{per_hour:.0f}",
                          f"{per_hour / cores:.0f}", f"{calls / cpu * 3600:.0f}")
            print(f"{config}: {calls} calls, wall {wall:.1f} s, CPU {cpu:.1f} s", file=sys.stderr, flush=True)
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
