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


def _alone(u: dict, utterances: list[dict]) -> tuple[float, float] | None:
    """The longest stretch of u during which the other party is silent (at least 0.3 s)."""
    cuts = sorted((max(v["start"], u["start"]), min(v["end"], u["end"])) for v in utterances
                  if v["role"] != u["role"] and v["start"] < u["end"] and v["end"] > u["start"])
    free, t = [], u["start"]
    for a, b in cuts:
        free.append((t, a))
        t = max(t, b)
    free.append((t, u["end"]))
    best = max(free, key=lambda ab: ab[1] - ab[0])
    return best if best[1] - best[0] >= 0.3 else None


def check_audio_layout(rep: Report, labels, truth, manifest) -> None:
    """On stereo files, each channel is loud while its own party speaks alone and quiet while the other does.

    Each channel is compared with itself: the parties' levels and the line noise differ
    between channels, so comparing one channel with the other proves nothing at SNR 12 dB.
    """
    from .codecs import decode_audio

    checked = 0
    for m in manifest:
        path = CORPUS / m["file"]
        if m["channels"] == "mono" or not path.exists():
            continue
        audio = decode_audio(path.read_bytes())
        utts = truth[m["call_id"]]["utterances"]
        for ch, role in enumerate(m["channels"].split(",")):
            own, other = [], []
            for u in utts:
                part = _alone(u, utts)
                if part is not None:
                    seg = audio[ch, int(part[0] * 8000) : int(part[1] * 8000)]
                    (own if u["role"] == role else other).append(float((seg**2).mean()))
            ok = bool(own) and bool(other) and min(own) > 3 * float(np.median(other))
            rep.expect(ok, f"{m['call_id']}: channel {ch} does not carry the {role} alone")
        checked += 1
    rep.note(f"stereo channel layout verified on {checked} assembled files (each channel: its party's quietest "
             f"solo turn > 3x the other party's median)")


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
    out = rep.lines + [f"FAIL {f}" for f in rep.failures[:50]]
    out.append(f"check: {'FAILED, ' + str(len(rep.failures)) + ' problems' if rep.failures else 'all passed'}")
    print("\n".join(out))
    (CORPUS / "intelligibility" / "check.txt").write_text("\n".join(out) + "\n", encoding="utf-8")  # for the README
    return 1 if rep.failures else 0
