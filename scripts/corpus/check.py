"""python -m scripts.corpus check: the corpus keeps its promises.

1. Every label in labels.csv equals the one derive.py re-derives from the truth file.
2. Every variety (voices, layouts, codecs, SNRs, decoys, failure types …) is present in
   both splits (coverage.py lists them), and the split is 70/30 within each (layout, codec).
3. Every dialogue act has at least five paraphrases; agent and customer voices differ;
   an agent always has the same voice; manifest, truth and labels agree on the layout.
4. The committed corpus is under 30 MB; assembled stereo audio carries each party on
   the channel the manifest says.
"""

from __future__ import annotations

import csv
import json
import subprocess
from collections import Counter, defaultdict

import numpy as np

from .coverage import OPTIONAL, varieties
from .derive import derive
from .shared import CORPUS, REPO
from .tables import LABEL_COLUMNS

MAX_COMMITTED_BYTES = 30 * 1024 * 1024
MIN_PARAPHRASES = 5


class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.lines: list[str] = []

    def expect(self, ok: bool, what: str) -> None:
        if not ok:
            self.failures.append(what)

    def note(self, line: str) -> None:
        self.lines.append(line)


def read_csv(name: str) -> list[dict[str, str]]:
    with open(CORPUS / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load_truth(call_ids: list[str]) -> dict[str, dict]:
    return {c: json.loads((CORPUS / "truth" / f"{c}.json").read_text(encoding="utf-8")) for c in call_ids}


def check_labels(rep: Report, labels, truth, roster) -> None:
    mismatches = 0
    for row in labels:
        doc = truth[row["call_id"]]
        derived = derive(doc, roster[row["agent_id"]])
        for col in LABEL_COLUMNS:
            if derived[col] != row[col]:
                mismatches += 1
                rep.expect(False, f"{row['call_id']} {col}: labels.csv {row[col]!r}, truth gives {derived[col]!r}")
    rep.note(f"labels re-derived from truth: {len(labels)} calls x {len(LABEL_COLUMNS)} columns, {mismatches} disagreements")


def check_structure(rep: Report, labels, truth, manifest) -> None:
    by_manifest = {m["call_id"]: m for m in manifest}
    agent_voice: dict[str, set[str]] = defaultdict(set)
    for row in labels:
        doc, m = truth[row["call_id"]], by_manifest[row["call_id"]]
        rep.expect(m["channels"] == doc["channels"] == row["layout"], f"{row['call_id']}: layout differs")
        rep.expect(m["agent_id"] == doc["agent_id"] == row["agent_id"], f"{row['call_id']}: agent differs")
        rep.expect(row["agent_voice"] != row["customer_voice"], f"{row['call_id']}: agent and customer share a voice")
        agent_voice[row["agent_id"]].add(row["agent_voice"])
        rep.expect(25.0 <= float(row["duration"]) <= 90.0, f"{row['call_id']}: {row['duration']} s is outside 25-90 s")
    rep.expect(all(len(v) == 1 for v in agent_voice.values()), "an agent speaks in more than one voice")
    durations = [float(r["duration"]) for r in labels]
    rep.note(f"calls: {len(labels)}; duration {min(durations):.1f}-{max(durations):.1f} s, mean {np.mean(durations):.1f} s, "
             f"total {sum(durations) / 60:.1f} min")


def check_split(rep: Report, labels) -> None:
    groups = defaultdict(list)
    for r in labels:
        groups[(r["layout"], r["codec"])].append(r["split"])
    for key, splits in groups.items():
        rep.expect(splits.count("test") == round(0.3 * len(splits)), f"split of {key} is not 70/30")
    n = Counter(r["split"] for r in labels)
    rep.note(f"split: dev {n['dev']}, test {n['test']} (70/30 within each of {len(groups)} layout x codec groups)")


def check_paraphrases(rep: Report, truth) -> None:
    per_act: dict[str, set[str]] = defaultdict(set)
    for doc in truth.values():
        for u in doc["utterances"]:
            for a in u["acts"]:
                per_act[a["act"]].add(a["paraphrase"])
    thin = {act: len(p) for act, p in per_act.items() if len(p) < MIN_PARAPHRASES}
    rep.expect(not thin, f"acts with fewer than {MIN_PARAPHRASES} paraphrases in use: {thin}")
    rep.note(f"dialogue acts: {len(per_act)}, paraphrases in use per act: min {min(map(len, per_act.values()))}")


def committed_bytes() -> int:
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "corpus", "scripts/corpus"],
                           capture_output=True, check=True).stdout.decode().split("\0")
    untracked = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--others", "--exclude-standard", "corpus",
                                "scripts/corpus"], capture_output=True, check=True).stdout.decode().split("\0")
    return sum((REPO / f).stat().st_size for f in set(files + untracked) if f and (REPO / f).exists())


def check_size(rep: Report) -> None:
    size = committed_bytes()
    rep.expect(size < MAX_COMMITTED_BYTES, f"committed corpus is {size / 1e6:.1f} MB, over 30 MB")
    rep.note(f"committed corpus (tracked + to be tracked, corpus/ and scripts/corpus/): {size / 1e6:.2f} MB")


def check_audio_layout(rep: Report, labels, truth, manifest) -> None:
    """On stereo files, each party's speech is louder on its own channel (skipped if not assembled)."""
    from .codecs import decode_audio

    checked = 0
    for m in manifest:
        path = CORPUS / m["file"]
        if m["channels"] == "mono" or not path.exists():
            continue
        audio = decode_audio(path.read_bytes())
        doc = truth[m["call_id"]]
        for u in doc["utterances"]:
            ch = m["channels"].split(",").index(u["role"])
            seg = audio[:, int(u["start"] * 8000) : int(u["end"] * 8000)]
            energy = (seg**2).mean(axis=1)
            rep.expect(energy[ch] > 3 * energy[1 - ch], f"{m['call_id']} u{u['index']}: {u['role']} not on channel {ch}")
        checked += 1
    rep.note(f"stereo channel layout verified on {checked} assembled files")


def run_checks() -> int:
    rep = Report()
    labels, manifest = read_csv("labels.csv"), read_csv("manifest.csv")
    roster = {r["agent_id"]: r["employee_id"] for r in read_csv("roster.csv")}
    truth = load_truth([r["call_id"] for r in labels])
    check_labels(rep, labels, truth, roster)
    check_structure(rep, labels, truth, manifest)
    check_split(rep, labels)
    check_paraphrases(rep, truth)
    missing = [f"{name} ({split})" for name, counts in varieties(labels, truth).items()
               for split in ("dev", "test") if not counts.get(split) and name not in OPTIONAL]
    rep.expect(not missing, f"varieties missing from a split: {missing}")
    rep.note(f"varieties present in both splits: {len(varieties(labels, truth))}")
    rep.note(f"voices: {len({r['agent_voice'] for r in labels} | {r['customer_voice'] for r in labels})}, "
             f"agents: {len({r['agent_id'] for r in labels})}")
    check_size(rep)
    check_audio_layout(rep, labels, truth, manifest)
    for line in rep.lines:
        print(line)
    for f in rep.failures[:50]:
        print("FAIL", f)
    print(f"check: {'FAILED, ' + str(len(rep.failures)) + ' problems' if rep.failures else 'all passed'}")
    return 1 if rep.failures else 0
