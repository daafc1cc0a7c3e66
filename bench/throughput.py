"""Benchmark: what callqa costs per audio second, where the time goes, side by side with bare Whisper.

    .venv/bin/python bench/throughput.py                     # 6 calls of the corpus test split
    .venv/bin/python bench/throughput.py --limit 12 --scaling
    .venv/bin/python bench/throughput.py samples/manifest.csv --skip openai-whisper
    .venv/bin/python bench/throughput.py --variant beam_size=1 --variant batch_size=8
    .venv/bin/python bench/throughput.py --variant verification.fitted_windows=false

Each engine runs in its own subprocess, one after the other, on the same calls
with the same thread count (so peak RSS is that engine's alone and no two
compete for the cores):

- ``callqa``: the whole per-call job with the default options and no caches:
  decode, Whisper (VAD, encoder, decoder, word times), speech measures, the second look, roles,
  checks, verification against the audio; each stage timed (the profile), and
  then the re-score from the caches (what a scorecard change costs);
- ``callqa VARIANT``: the same with an ASR option changed (``--variant k=v``), or a setting of the
  scorecard's ``[verification]`` section (``--variant verification.k=v``);
- ``faster-whisper``: raw faster-whisper, the same weights, int8, beam 5, its
  VAD, each stereo channel on its own (a mono call once): the model's bare price;
- ``openai-whisper``: the same weights through callqa's converter and backend.

Printed: wall and CPU seconds, CPU seconds per audio second (the cost: on a
busy machine CPU time is the honest figure), wall real-time factor, peak RSS,
calls per core-hour, and each engine's CPU ratio to callqa. ``--scaling``
adds the whole job as `callqa score` runs it (the local engine: each call
transcribed, checked and verified in one worker process) with 1 and 2
workers; each worker gets cores / workers threads, and 2 workers is the
default on 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

ENGINES = ("callqa", "faster-whisper", "openai-whisper")
RESULT_PREFIX = "BENCH-RESULT "
# Whisper runs its VAD inside transcribe(): its share is estimated by running it once more, alone.
VAD_STAGE = "  of which VAD (estimated)"


# --- the calls ------------------------------------------------------------------------------------------


def pick_calls(input_path: Path | None, split: str, limit: int) -> list:
    """The calls to time: the first ``limit`` of the corpus split (both layouts), or of INPUT."""
    from callqa.audio.inputs import read_inputs

    if input_path is not None:
        return read_inputs(input_path)[:limit]
    corpus = REPO / "corpus"
    labels = {r["call_id"]: r for r in csv.DictReader(open(corpus / "labels.csv", encoding="utf-8"))}
    calls = [c for c in read_inputs(corpus / "manifest.csv") if labels.get(c.call_id, {}).get("split") == split]
    missing = [c for c in calls if not c.path.is_file()]
    if missing:
        raise SystemExit(f"{len(missing)} corpus recordings are missing (e.g. {missing[0].path}): run `make corpus`")
    return calls[:limit]


# --- child processes: one engine each ------------------------------------------------------------------


class Profile:
    """Seconds of CPU (this process, all threads) and wall per stage."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.wall: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            yield
        finally:
            self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu
            self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - wall


def run_callqa(calls: list, threads: int, asr: dict, verification: dict | None = None) -> dict:
    """The whole per-call job, stage by stage, then the re-score from the caches."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    from callqa.asr import pipeline
    from callqa.asr.backends import load_backend
    from callqa.asr.cache import TranscriptCache
    from callqa.asr.options import AsrOptions
    from callqa.asr.transcript import TranscriptionResult
    from callqa.audio.decode import load_audio
    from callqa.scoring.roster import load_roster
    from callqa.scoring.score import score_call
    from callqa.scoring.scorecard import load_scorecard
    from callqa.scoring.verifiers import RescorerFactory

    options = AsrOptions.build(asr, cpu_threads=threads)
    profile = Profile()
    with profile.stage("model load"):
        backend = load_backend(options)
    card = load_scorecard(None)
    if verification:
        import tomllib

        from callqa.scoring.scorecard import default_scorecard_text, parse_scorecard

        card = parse_scorecard({"verification": verification}, base=tomllib.loads(default_scorecard_text()),
                               source=f"<bench verification {verification}>")
    roster = load_roster(_roster_for(calls))
    scratch = Path(tempfile.mkdtemp(prefix="callqa-throughput-"))
    cache = TranscriptCache(scratch / "transcripts")
    rescorers = RescorerFactory(options, cache_dir=scratch / "rescoring", backend=backend,
                                fitted_windows=card.verification.fitted_windows)
    audio_s = 0.0
    started_cpu, started = time.process_time(), time.perf_counter()
    for call in calls:
        with profile.stage("decode"):
            audio = load_audio(call.path)
        audio_s += audio.duration_s
        layout, _ = pipeline.effective_layout(call.channels, audio)
        signals = [audio.mono()] if layout == pipeline.MONO else list(audio.channels[:2])
        vad_cpu, vad_wall = time.process_time(), time.perf_counter()
        with profile.stage(VAD_STAGE):
            for samples in signals:
                get_speech_timestamps(samples, VadOptions(threshold=options.vad_threshold))
        # The estimate is extra work: it stays out of the job's total.
        started_cpu += time.process_time() - vad_cpu
        started += time.perf_counter() - vad_wall
        with profile.stage("whisper (VAD, encoder, decoder, word times)"):
            per_channel = {i: pipeline._recognize(backend, s, options) for i, s in enumerate(signals)}
        with profile.stage("speech measures"):
            measures = pipeline.measure(audio, layout, options)
        recognition = pipeline.Recognition(layout=layout, duration_s=audio.duration_s, per_channel=per_channel,
                                           backend=backend.name, elapsed_s=0.0, notes=[], measures=measures)
        if options.second_look:
            with profile.stage("second look (unwritten speech decoded again)"):
                pipeline.take_second_look(recognition, audio, backend, options)
        key = pipeline.cache_key(audio.sha256, backend.model_ref, options, call.channels)
        cache.put(key, recognition)
        with profile.stage("roles and clean-up"):
            transcript = pipeline.transcribe_call(call, options, backend, cache, audio_sha256=audio.sha256)
        result = TranscriptionResult(call, transcript)
        with profile.stage("checks (words only)"):
            score_call(result, card, roster, None)
        with profile.stage("verification against the audio"):
            rescorer = rescorers(result)
            score_call(result, card, roster, rescorer)
            rescorers.done(rescorer)
    total_cpu, total_wall = time.process_time() - started_cpu, time.perf_counter() - started
    rescore_cpu, rescore_wall = _rescore_from_cache(calls, options, backend, cache, card, roster, rescorers)
    return {"audio_s": audio_s, "cpu_s": total_cpu, "wall_s": total_wall, "profile_cpu": profile.cpu,
            "profile_wall": profile.wall, "rescore_cpu_s": rescore_cpu, "rescore_wall_s": rescore_wall}


def _rescore_from_cache(calls, options, backend, cache, card, roster, rescorers) -> tuple[float, float]:
    """A second scoring of the same calls: transcripts and verification answers from the caches."""
    from callqa.asr.pipeline import transcribe_call
    from callqa.asr.transcript import TranscriptionResult
    from callqa.scoring.score import score_call

    cpu, wall = time.process_time(), time.perf_counter()
    for call in calls:
        result = TranscriptionResult(call, transcribe_call(call, options, backend, cache))
        rescorer = rescorers(result)
        score_call(result, card, roster, rescorer)
        rescorers.done(rescorer)
    return time.process_time() - cpu, time.perf_counter() - wall


def _roster_for(calls: list) -> Path:
    folder = Path(calls[0].path).parent
    for candidate in (folder / "roster.csv", folder.parent / "roster.csv"):
        if candidate.is_file():
            return candidate
    return REPO / "samples" / "roster.csv"


def run_raw_faster_whisper(calls: list, threads: int) -> dict:
    """Bare faster-whisper on the same weights: beam 5, its VAD, each channel alone."""
    from faster_whisper import WhisperModel

    from callqa.asr.models import resolve_model
    from callqa.audio.decode import load_audio

    model = WhisperModel(str(resolve_model("base").path), device="cpu", compute_type="int8", cpu_threads=threads)
    audio_s, cpu, wall = 0.0, time.process_time(), time.perf_counter()
    for call in calls:
        audio = load_audio(call.path)
        audio_s += audio.duration_s
        signals = [audio.mono()] if call.channels == "mono" or audio.n_channels == 1 else list(audio.channels[:2])
        for samples in signals:
            segments, _ = model.transcribe(samples, language="zh", beam_size=5, vad_filter=True)
            list(segments)
    return {"audio_s": audio_s, "cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}


def run_openai_whisper(calls: list, threads: int) -> dict:
    """callqa's recognition step through the openai-whisper backend (the converted weights)."""
    from callqa.asr import pipeline
    from callqa.asr.backends import load_backend
    from callqa.asr.options import AsrOptions
    from callqa.audio.decode import load_audio

    options = AsrOptions(backend="openai-whisper", cpu_threads=threads)
    backend = load_backend(options)
    audio_s, cpu, wall = 0.0, time.process_time(), time.perf_counter()
    for call in calls:
        audio = load_audio(call.path)
        audio_s += audio.duration_s
        pipeline.recognize(audio, call.channels, backend, options)
    return {"audio_s": audio_s, "cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}


def run_scaling(calls: list, workers: int, asr: dict) -> dict:
    """Calls per hour through `callqa score`'s local engine with ``workers`` processes: transcription, checks and
    verification, each call in one worker; no caches (a scratch $CALLQA_CACHE_DIR for the verification answers)."""
    from callqa.asr.options import AsrOptions
    from callqa.engines import BatchSpec, EngineOptions, ScoringSpec, engine_for
    from callqa.scoring.roster import load_roster
    from callqa.scoring.scorecard import load_scorecard

    scratch = Path(tempfile.mkdtemp(prefix="callqa-scaling-"))
    os.environ["CALLQA_CACHE_DIR"] = str(scratch / "cache")  # the workers inherit it
    spec = BatchSpec(calls, AsrOptions.build(asr), scratch / "out", use_cache=False, progress=False,
                     scoring=ScoringSpec(load_scorecard(None), load_roster(_roster_for(calls))))
    wall = time.perf_counter()
    run = engine_for(EngineOptions.build("local", workers=workers)).run(spec)
    wall = time.perf_counter() - wall
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    cpu = children.ru_utime + children.ru_stime + own.ru_utime + own.ru_stime
    audio_s = sum(r.transcript.duration_s for r in run.results if r.transcript)
    return {"audio_s": audio_s, "cpu_s": cpu, "wall_s": wall, "calls": len(run.results),
            "verified_calls": run.verification.calls}


def child_main(args: argparse.Namespace) -> None:
    calls = pick_calls(args.input, args.split, args.limit)
    engine, _, variant = args.child.partition(":")
    asr = dict(kv.split("=", 1) for kv in variant.split(",")) if variant else {}
    asr = {k: _value(v) for k, v in asr.items()}
    # verification.NAME=VALUE changes the scorecard's [verification] section, anything else an ASR option.
    verification = {k.removeprefix("verification."): asr.pop(k) for k in list(asr) if k.startswith("verification.")}
    if engine == "callqa":
        result = run_callqa(calls, args.threads, asr, verification)
    elif engine == "faster-whisper":
        result = run_raw_faster_whisper(calls, args.threads)
    elif engine == "openai-whisper":
        result = run_openai_whisper(calls, args.threads)
    elif engine.startswith("workers="):
        result = run_scaling(calls, int(engine.removeprefix("workers=")), asr)
    else:
        raise SystemExit(f"unknown engine {engine!r}; valid: {', '.join(ENGINES)}")
    result.setdefault("calls", len(calls))
    # KiB on Linux; with workers, the largest worker process (RUSAGE_CHILDREN's maximum), not their sum.
    result["peak_rss_mb"] = max(resource.getrusage(who).ru_maxrss for who in
                                (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def _value(text: str):
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return {"true": True, "false": False, "none": None}.get(text.lower(), text)


# --- the parent: run each engine, print side by side ---------------------------------------------------


def run_child(spec: str, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--child", spec, "--threads", str(args.threads), "--limit", str(args.limit),
               "--split", args.split] + ([str(args.input)] if args.input else [])  # fmt: skip
    print(f"running {spec} ...", file=sys.stderr, flush=True)
    proc = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line.removeprefix(RESULT_PREFIX))
    raise RuntimeError(f"{spec} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


def report(results: dict[str, dict], threads: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=150)
    base = results.get("callqa")
    table = Table(title=f"Throughput on {next(iter(results.values()))['calls']} calls, {threads} thread(s)",
                  title_justify="left")
    for column in ("engine", "audio s", "wall s", "CPU s", "CPU s / audio s", "wall RTF", "peak RSS MB",
                   "calls / core-hour", "CPU vs callqa"):
        table.add_column(column, justify="left" if column == "engine" else "right")
    for name, r in results.items():
        per_call_cpu = r["cpu_s"] / max(1, r["calls"])
        ratio = f"{r['cpu_s'] / base['cpu_s']:.2f}x" if base else "-"
        table.add_row(name, f"{r['audio_s']:.0f}", f"{r['wall_s']:.1f}", f"{r['cpu_s']:.1f}",
                      f"{r['cpu_s'] / r['audio_s']:.3f}", f"{r['wall_s'] / r['audio_s']:.3f}",
                      f"{r['peak_rss_mb']:.0f}", f"{3600 / per_call_cpu:.0f}", ratio)  # fmt: skip
    console.print(table)
    for name, r in results.items():
        if "profile_cpu" in r:
            _print_profile(console, name, r)


def _print_profile(console, name: str, r: dict) -> None:
    from rich.table import Table

    table = Table(title=f"Where {name}'s time goes (CPU s; share of the per-call job)", title_justify="left")
    for column in ("stage", "CPU s", "wall s", "share", "CPU s / audio s"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for stage, cpu in r["profile_cpu"].items():
        share = "" if stage in ("model load", VAD_STAGE) else f"{cpu / r['cpu_s']:.0%}"
        table.add_row(stage, f"{cpu:.1f}", f"{r['profile_wall'][stage]:.1f}", share, f"{cpu / r['audio_s']:.3f}")
    table.add_row("re-score from the caches", f"{r['rescore_cpu_s']:.1f}", f"{r['rescore_wall_s']:.1f}", "",
                  f"{r['rescore_cpu_s'] / r['audio_s']:.3f}")
    console.print(table)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", nargs="?", type=Path, help="a manifest, directory or recording (default: the corpus)")
    parser.add_argument("--split", default="test", choices=("dev", "test"), help="corpus split (default: test)")
    parser.add_argument("--limit", type=int, default=6, help="calls to time (default 6)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads per engine")
    parser.add_argument("--skip", action="append", default=[], choices=ENGINES)
    parser.add_argument("--variant", action="append", default=[], metavar="OPTION=VALUE[,...]",
                        help="also time callqa with these ASR options, e.g. beam_size=1")
    parser.add_argument("--scaling", action="store_true", help="also `callqa score` with 1 and 2 workers")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return 0
    specs = [e for e in ENGINES if e not in args.skip] + [f"callqa:{v}" for v in args.variant]
    if args.scaling:
        specs += ["workers=1", "workers=2"]
    results = {spec: run_child(spec, args) for spec in specs}
    report(results, args.threads)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
