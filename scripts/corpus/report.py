"""python -m scripts.corpus report: the README's measured sections, regenerated from the corpus files.

Rewrites what lies between `<!-- generated:begin -->` and `<!-- generated:end -->` in
corpus/README.md: variety counts, verdict counts per check and split, CER tables,
sizes, and the last check output (corpus/intelligibility/check.txt).
"""

from __future__ import annotations

import csv
import json
import subprocess
from collections import Counter, defaultdict

import numpy as np

from .coverage import varieties
from .intelligibility import MAX_CER, RESULTS, voice_pace
from .shared import CORPUS, SPEAKER_IDS

README = CORPUS / "README.md"
BEGIN, END = "<!-- generated:begin -->", "<!-- generated:end -->"
VERDICT_COLUMNS = ["greeting", "employee_id", "employee_id_status", "standard_phrasing", "hold", "apology",
                   "banned_phrases", "closing", "sentiment", "customer_sentiment", "silence"]


def _rows(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def variety_table(labels, truth) -> str:
    rows = [[name, c["dev"], c["test"], c["dev"] + c["test"]] for name, c in varieties(labels, truth).items()]
    return _table(["variety (calls)", "dev", "test", "all"], rows)


def verdict_table(labels) -> str:
    rows = []
    for col in VERDICT_COLUMNS:
        for split in ("dev", "test"):
            c = Counter(r[col] for r in labels if r["split"] == split)
            rows.append([col, split, ", ".join(f"{k} {v}" for k, v in sorted(c.items()))])
    for split in ("dev", "test"):
        part = [r for r in labels if r["split"] == split]
        inter = Counter("na" if r["interruption_count"] == "na" else "some" if r["interruption_count"] != "0" else "none"
                        for r in part)
        rows.append(["interruptions", split, ", ".join(f"{k} {v}" for k, v in sorted(inter.items()))])
        rows.append(["fast / loud utterances", split, f"fast in {sum(bool(r['fast_utterances']) for r in part)} calls, "
                     f"loud in {sum(bool(r['loud_utterances']) for r in part)} calls"])
        rows.append(["hard (key phrase garbled)", split, f"{sum(r['hard'] != 'no' for r in part)} calls"])
    return _table(["check", "split", "counts"], rows)


def voice_table() -> str:
    probe = _rows(RESULTS / "probe.csv")
    pace = voice_pace()
    rows = [[r["subject"], r["cer"], f"{pace[r['subject']] * 60:.0f}",
             "**excluded** (CER > %.2f)" % MAX_CER if float(r["cer"]) > MAX_CER else ""]
            for r in probe if r["subject"] in SPEAKER_IDS]
    return _table(["voice", "CER (PCM, SNR 30 dB)", "own pace (chars/min)", ""], rows)


def codec_table() -> str:
    by_codec = defaultdict(list)
    for r in _rows(RESULTS / "probe.csv"):
        if r["subject"].startswith("codec:"):
            by_codec[r["subject"][6:]].append((r["detail"], float(r["cer"])))
    rows = [[c, v[0][0].split(" ", 1)[1], f"{np.mean([x for _, x in v]):.3f}", ", ".join(f"{d.split()[0]} {x:.3f}" for d, x in v)]
            for c, v in by_codec.items()]
    return _table(["codec", "bit rate", "mean CER", "per voice"], rows)


def corpus_cer_tables() -> str:
    path = RESULTS / "calls.csv"
    if not path.exists():
        return "(the full-corpus Whisper pass has not been run)"
    calls = _rows(path)
    out = []
    rows = []
    for role in ("agent", "customer", "mono"):
        v = np.array([float(r[f"{role}_cer"]) for r in calls if r[f"{role}_cer"]])
        rows.append([role, len(v), *(f"{q:.3f}" for q in np.percentile(v, [10, 25, 50, 75, 90])), f"{v.max():.3f}",
                     f"{v.mean():.3f}"])
    out.append(_table(["channel", "n", "p10", "p25", "median", "p75", "p90", "max", "mean"], rows))
    for key, name in (("codec", "codec"), ("snr_db", "SNR")):
        groups = defaultdict(list)
        for r in calls:
            groups[r[key]] += [float(r[c]) for c in ("agent_cer", "customer_cer", "mono_cer") if r[c]]
        out.append(_table([name, "channels", "mean CER", "median CER"],
                          [[k, len(v), f"{np.mean(v):.3f}", f"{np.median(v):.3f}"] for k, v in sorted(groups.items())]))
    voices = {r["call_id"]: r for r in _rows(CORPUS / "labels.csv")}
    by_voice = defaultdict(list)
    for r in calls:
        for role in ("agent", "customer"):
            if r[f"{role}_cer"]:
                by_voice[voices[r["call_id"]][f"{role}_voice"]].append(float(r[f"{role}_cer"]))
    out.append("Stereo channels by the voice speaking on them:\n\n" + _table(
        ["voice", "channels", "mean CER", "median CER"],
        [[v, len(x), f"{np.mean(x):.3f}", f"{np.median(x):.3f}"] for v, x in sorted(by_voice.items())]))
    kinds = Counter(k for r in calls for k in r["garbled"].split(";") if k)
    out.append("Garbled key phrases by kind (calls): " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    hard = [f"{r['call_id']} ({r['garbled']})" for r in calls if r["garbled"]]
    out.append(f"Calls with a garbled key phrase ({len(hard)}, `hard` in labels.csv): " + ", ".join(hard))
    return "\n\n".join(out)


def sizes() -> str:
    from .check import committed_bytes

    def du(path) -> str:
        return subprocess.run(["du", "-sh", "--apparent-size", str(path)], capture_output=True, text=True).stdout.split()[0]

    rows = [[f"corpus/{p}", du(CORPUS / p)] for p in ["clips", "audio_gsm", "truth", "intelligibility"]]
    rows.append(["committed in all (corpus/ and scripts/corpus/)", f"{committed_bytes() / 1e6:.1f} MB"])
    if (CORPUS / "audio").exists():
        rows.append(["corpus/audio (assembled, not committed)", du(CORPUS / "audio")])
    n_clips = len(list((CORPUS / "clips").glob("*.ogg")))
    return _table(["part", "size"], rows) + f"\n\n{n_clips} clips in the store."


def generated(labels, truth) -> str:
    check = (RESULTS / "check.txt").read_text(encoding="utf-8") if (RESULTS / "check.txt").exists() else "(not run)"
    return "\n\n".join([
        "### Counts of every variety\n\n" + variety_table(labels, truth),
        "### Verdicts per check and split\n\n" + verdict_table(labels),
        "### Whisper CER per voice\n\n" + voice_table(),
        "### Whisper CER per codec (lowest bit rate)\n\n" + codec_table(),
        "### Full-corpus Whisper pass (per call and channel)\n\n" + corpus_cer_tables(),
        "### Sizes\n\n" + sizes(),
        "### Self-check output\n\n```\n" + check.strip() + "\n```",
    ])


def write_report() -> None:
    labels = _rows(CORPUS / "labels.csv")
    truth = {r["call_id"]: json.loads((CORPUS / "truth" / f"{r['call_id']}.json").read_text(encoding="utf-8"))
             for r in labels}
    text = README.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{BEGIN}\n\n{generated(labels, truth)}\n\n{END}{tail}", encoding="utf-8")
