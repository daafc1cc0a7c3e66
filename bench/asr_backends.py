"""Benchmark: faster-whisper vs openai-whisper on the same weights and the same audio.

    .venv/bin/python bench/asr_backends.py                      # samples/manifest.csv, both backends
    .venv/bin/python bench/asr_backends.py INPUT --limit 2      # a directory, manifest or recording
    .venv/bin/python bench/asr_backends.py --threads 2 --model base

Each backend runs in its own subprocess (so peak memory is that backend's
alone: ru_maxrss) with the same thread count, options and audio. Printed side
by side: model load time, transcription wall and CPU time, real-time factor
(wall / audio duration; stereo channels are transcribed one after the other),
peak memory, CER against the ground truth (samples/truth/<call_id>.json) and
the CER between the two backends' outputs.

CER is per channel against that channel's role in the truth (mono: against the
whole call), summed over calls, so it measures recognition rather than role
assignment or segment order. Target: faster-whisper >= 4x faster than
openai-whisper, CER no worse by more than 1 point.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BACKENDS = ("faster-whisper", "openai-whisper")


def _channel_jobs(call) -> list[tuple[str | None, int | None]]:
    """(role, channel index) per transcription: one per channel of a stereo layout, one mixed for mono."""
    if call.channels == "mono":
        return [(None, None)]
    return [(role, i) for i, role in enumerate(call.channels.split(","))]


def run_worker(backend: str, model: str, threads: int, input_path: str, limit: int | None) -> None:
    """Child process: load one backend, transcribe every call, print one JSON line."""
    from callqa.asr.backends import load_backend
    from callqa.asr.options import AsrOptions
    from callqa.audio.decode import AudioDecodeError, load_audio
    from callqa.audio.inputs import read_inputs

    options = AsrOptions(backend=backend, model=model, cpu_threads=threads)
    started, cpu_started = time.perf_counter(), time.process_time()
    asr = load_backend(options)
    result = {"backend": backend, "load_s": time.perf_counter() - started,
              "load_cpu_s": time.process_time() - cpu_started, "calls": []}  # fmt: skip
    for call in read_inputs(input_path)[:limit]:
        try:
            audio = load_audio(call.path)
        except AudioDecodeError as e:
            result["calls"].append({"call_id": call.call_id, "error": str(e)})
            continue
        channels = []
        wall, cpu = time.perf_counter(), time.process_time()
        for role, index in _channel_jobs(call):
            samples = audio.mono() if index is None else audio.channels[min(index, audio.n_channels - 1)]
            segments = asr.transcribe(samples, options)
            channels.append({"role": role, "text": "".join(s.text for s in segments)})
        result["calls"].append({
            "call_id": call.call_id, "duration_s": audio.duration_s, "channels": channels,
            "wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
        })  # fmt: skip
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print("BENCH-RESULT " + json.dumps(result, ensure_ascii=False), flush=True)


def _run_backend(backend: str, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, str(args.input), "--worker", backend, "--model", args.model,
               "--threads", str(args.threads)] + (["--limit", str(args.limit)] if args.limit else [])  # fmt: skip
    print(f"running {backend} ...", file=sys.stderr, flush=True)
    proc = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            return json.loads(line.removeprefix("BENCH-RESULT "))
    raise RuntimeError(f"{backend} worker failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


def _truth(truth_dir: Path, call_id: str) -> list[dict] | None:
    path = truth_dir / f"{call_id}.json"
    return json.loads(path.read_text(encoding="utf-8"))["utterances"] if path.is_file() else None


def _reference(utterances: list[dict], role: str | None) -> str:
    return "".join(u["text"] for u in sorted(utterances, key=lambda u: u["start"]) if role in (None, u["role"]))


def _cer_sums(result: dict, truth_dir: Path) -> dict[str, tuple[int, int]]:
    from callqa.asr.metrics import char_edits

    sums = {}
    for call in result["calls"]:
        utterances = _truth(truth_dir, call["call_id"])
        if "error" in call or utterances is None:
            continue
        pairs = [char_edits(_reference(utterances, ch["role"]), ch["text"]) for ch in call["channels"]]
        sums[call["call_id"]] = (sum(e for e, _ in pairs), sum(n for _, n in pairs))
    return sums


def _ratio(edits_lengths) -> float | None:
    edits, length = map(sum, zip(*edits_lengths)) if edits_lengths else (0, 0)
    return edits / length if length else None


def report(results: dict[str, dict], truth_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from callqa.asr.metrics import char_edits

    console = Console()
    ok = {b: [c for c in r["calls"] if "error" not in c] for b, r in results.items()}
    cers = {b: _cer_sums(r, truth_dir) for b, r in results.items()}
    table = Table(title="ASR backends on the same weights (embedded Whisper base)")
    table.add_column("metric")
    for backend in results:
        table.add_column(backend, justify="right")
    rows = {
        "calls / audio": lambda b: f"{len(ok[b])} / {sum(c['duration_s'] for c in ok[b]):.1f} s",
        "model load (wall)": lambda b: f"{results[b]['load_s']:.1f} s",
        "transcribe wall": lambda b: f"{sum(c['wall_s'] for c in ok[b]):.1f} s",
        "transcribe CPU": lambda b: f"{sum(c['cpu_s'] for c in ok[b]):.1f} s",
        "real-time factor": lambda b: f"{sum(c['wall_s'] for c in ok[b]) / sum(c['duration_s'] for c in ok[b]):.3f}",
        "peak memory (RSS)": lambda b: f"{results[b]['peak_rss_mb']:.0f} MB",
        "CER vs truth": lambda b: "-" if _ratio(list(cers[b].values())) is None else f"{100 * _ratio(list(cers[b].values())):.2f} %",
    }
    for label, cell in rows.items():
        table.add_row(label, *(cell(b) for b in results))
    console.print(table)

    if len(results) == 2:
        fast, ref = results["faster-whisper"], results["openai-whisper"]
        speed_wall = sum(c["wall_s"] for c in ok["openai-whisper"]) / sum(c["wall_s"] for c in ok["faster-whisper"])
        speed_cpu = sum(c["cpu_s"] for c in ok["openai-whisper"]) / sum(c["cpu_s"] for c in ok["faster-whisper"])
        by_id = {c["call_id"]: c for c in ok["openai-whisper"]}
        between = [char_edits(" ".join(ch["text"] for ch in by_id[c["call_id"]]["channels"]),
                              " ".join(ch["text"] for ch in c["channels"]))
                   for c in ok["faster-whisper"] if c["call_id"] in by_id]  # fmt: skip
        cer_fast, cer_ref = _ratio(list(cers["faster-whisper"].values())), _ratio(list(cers["openai-whisper"].values()))
        console.print(f"speed-up of faster-whisper: {speed_wall:.1f}x wall, {speed_cpu:.1f}x CPU (target >= 4x)")
        if cer_fast is not None and cer_ref is not None:
            console.print(f"CER difference: {100 * (cer_fast - cer_ref):+.2f} points (target <= +1)")
        if between:
            console.print(f"CER between the backends' outputs: {100 * _ratio(between):.2f} %")
        per_call = Table(title="per call: CER vs truth")
        per_call.add_column("call")
        for backend in (fast["backend"], ref["backend"]):
            per_call.add_column(backend, justify="right")
        for call_id in cers["faster-whisper"]:
            cells = [f"{100 * e / n:.1f} %" if n else "-" for e, n in
                     (cers[b].get(call_id, (0, 0)) for b in ("faster-whisper", "openai-whisper"))]  # fmt: skip
            per_call.add_row(call_id, *cells)
        console.print(per_call)
    for backend, result in results.items():
        for call in result["calls"]:
            if "error" in call:
                console.print(f"[yellow]{backend}: skipped {call['call_id']}: {call['error']}[/yellow]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", nargs="?", default=str(REPO / "samples" / "manifest.csv"),
                        help="directory of recordings, manifest CSV or one recording (default: samples)")
    parser.add_argument("--truth", default=str(REPO / "samples" / "truth"), help="folder of <call_id>.json truths")
    parser.add_argument("--model", default="base")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CPU threads for both backends")
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--limit", type=int, default=None, help="only the first N calls")
    parser.add_argument("--json", help="also write the raw results here")
    parser.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker, args.model, args.threads, args.input, args.limit)
        return
    results = {backend: _run_backend(backend, args) for backend in args.backends}
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    report(results, Path(args.truth))


if __name__ == "__main__":
    main()
