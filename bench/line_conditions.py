"""Benchmark: do the verdicts survive worse phone lines?

    .venv/bin/python bench/line_conditions.py                 # clean, noise, quiet, mu-law
    .venv/bin/python bench/line_conditions.py noise --keep    # one condition; keep its files

Degrades the sample calls (samples/manifest.csv) the way real lines do, scores
each version with the real pipeline (`callqa score`) and compares the verdicts
with samples/labels.csv (`callqa eval`). Prints, side by side per condition:
how many labelled verdicts agree, CER against the ground truth, and the
disagreements. Conditions:

- clean: the samples as they are
- noise: white line noise 20 dB below the speech
- quiet: the whole call 20 dB down (a far-away handset)
- mulaw: G.711 mu-law companding (8-bit telephone coding)
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
CONDITIONS = ("clean", "noise", "quiet", "mulaw")


def degrade(x: np.ndarray, condition: str, rng: np.random.Generator) -> np.ndarray:
    if condition == "noise":
        speech = x[np.abs(x) > 1e-3]
        rms = float(np.sqrt(np.mean(speech**2))) if speech.size else 0.01
        return (x + rng.normal(0.0, rms / 10, x.shape)).astype(np.float32)
    if condition == "quiet":
        return (x * 0.1).astype(np.float32)
    if condition == "mulaw":
        mu = 255.0
        y = np.sign(x) * np.log1p(mu * np.abs(np.clip(x, -1, 1))) / np.log1p(mu)
        y = np.round((y + 1) / 2 * mu) / mu * 2 - 1  # 8 bits
        return (np.sign(y) * ((1 + mu) ** np.abs(y) - 1) / mu).astype(np.float32)
    return x


def build(condition: str, folder: Path) -> Path:
    """The labelled sample calls under ``condition``, as 16 kHz WAVs with a manifest."""
    from callqa.audio.decode import load_audio

    rng = np.random.default_rng(0)
    labelled = {row["call_id"] for row in csv.DictReader(open(SAMPLES / "labels.csv", encoding="utf-8"))}
    rows = []
    for row in csv.DictReader(open(SAMPLES / "manifest.csv", encoding="utf-8")):
        if row["call_id"] not in labelled:
            continue
        audio = load_audio(SAMPLES / row["file"])
        name = f"{row['call_id']}.wav"
        sf.write(folder / name, degrade(audio.channels, condition, rng).T, audio.sample_rate, subtype="PCM_16")
        rows.append({**row, "file": name})
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def cer_vs_truth(out: Path) -> float:
    from callqa.asr.metrics import char_edits

    edits = length = 0
    for line in open(out / "calls.jsonl", encoding="utf-8"):
        call = json.loads(line)
        truth = SAMPLES / "truth" / f"{call['call_id']}.json"
        if call["error"] or not truth.is_file():
            continue
        reference = "".join(u["text"] for u in json.loads(truth.read_text(encoding="utf-8"))["utterances"])
        e, n = char_edits(reference, "".join(u["text"] for u in call["transcript"]))
        edits, length = edits + e, length + n
    return edits / max(length, 1)


def run(condition: str, work: Path) -> dict:
    folder = work / condition
    folder.mkdir(parents=True, exist_ok=True)
    manifest = build(condition, folder)
    out = folder / "out"
    callqa = [str(Path(sys.executable).parent / "callqa")]
    subprocess.run([*callqa, "score", str(manifest), "--roster", str(SAMPLES / "roster.csv"), "--out", str(out)],
                   check=True, capture_output=True)  # fmt: skip
    from callqa.reports.eval import evaluate, load_labels
    from callqa.reports.jsonl import read_calls_jsonl

    report = evaluate(load_labels(SAMPLES / "labels.csv"), read_calls_jsonl(out / "calls.jsonl"))
    return {"condition": condition, "report": report, "cer": cer_vs_truth(out)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("conditions", nargs="*", help=f"any of {', '.join(CONDITIONS)} (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep the degraded calls and results (printed path)")
    args = parser.parse_args()
    unknown = sorted(set(args.conditions) - set(CONDITIONS))
    if unknown:
        parser.error(f"unknown condition(s) {', '.join(unknown)}; valid: {', '.join(CONDITIONS)}")
    args.conditions = args.conditions or list(CONDITIONS)
    work = Path(tempfile.mkdtemp(prefix="callqa-lines-"))
    try:
        results = [run(c, work) for c in args.conditions]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{'condition':<10} {'check verdicts agree':>21} {'CER':>7}  disagreements")
    for r in results:
        rep = r["report"]
        agree, labelled = sum(m.agree for m in rep.checks), sum(m.labelled for m in rep.checks)
        wrong = "; ".join(f"{d.call_id} {d.check}: {d.expected}->{d.got}" for d in rep.disagreements) or "-"
        print(f"{r['condition']:<10} {agree:>14}/{labelled:<6} {r['cer']:>6.1%}  {wrong}")
    if args.keep:
        print(f"files kept in {work}")


if __name__ == "__main__":
    main()
