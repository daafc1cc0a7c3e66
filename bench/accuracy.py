"""Benchmark: callqa's verdicts on the labelled corpus, dev and test side by side.

    .venv/bin/python bench/accuracy.py                  # score corpus/ (cached transcripts make reruns fast)
    .venv/bin/python bench/accuracy.py --variant no-verify --variant default
    .venv/bin/python bench/accuracy.py --json out/bench/accuracy.json
    .venv/bin/python bench/accuracy.py --split test --asr batch_size=8 --asr beam_size=1   # speed options' cost

The corpus (corpus/README.md) is assembled first if its audio is missing.
Prints per split (dev | test):

- per check: precision, recall and F1 of violations (positive = the check
  failed), the share of labelled verdicts callqa gave rather than left to
  listening (coverage), and the precision of the verdicts it gave;
- the employee ID heard exactly (heard_id = the ID said), the customer
  sentiment 3-class accuracy, per-role CER;
- customer words charged to the agent: findings that take points and quote
  words whose time lies in a customer utterance of the truth, unless an agent
  utterance overlapping them says those words (overtalk; must be 0);
- a naive reference row on the same transcripts: raw Whisper text with exact
  substring rules, so the gain of callqa's rules is visible.

`test` is only ever reported on: tune on `dev` (corpus/README.md says why).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

CHECKS = ("greeting", "employee_id", "standard_phrasing", "banned_phrases", "closing", "sentiment",
          "silence", "interruptions", "speech_rate", "raised_voice")
# The timing and voice checks' labels, from the corpus's measured columns (corpus/README.md): the dead air, each
# interruption, each fast or loud utterance the generator placed (empty: none).
_LABEL_FROM_LIST = {"interruptions": "interruptions", "speech_rate": "fast_utterances",
                    "raised_voice": "loud_utterances"}


def label_of(label: dict, check_id: str) -> str:
    """The labelled verdict of a check: pass / fail / na."""
    if check_id not in _LABEL_FROM_LIST:
        return label[check_id]
    listed = label[_LABEL_FROM_LIST[check_id]]
    return "na" if listed == "na" else ("fail" if listed else "pass")
SPLITS = ("dev", "test")
# Variants: scorecard overrides applied on top of the default (a variant may also change ASR options).
VARIANTS: dict[str, dict] = {
    "default": {},
    "no-verify": {"verification": {"enabled": False}},
    "full-windows": {"verification": {"fitted_windows": False}},
}
# `--asr OPTION=VALUE`: every variant again on transcripts made with these ASR options (bench/throughput.py
# measures what they save), each into its own output folder.


# --- the corpus ----------------------------------------------------------------------------------------


def load_corpus(corpus: Path) -> tuple[list[dict], dict[str, dict]]:
    labels = list(csv.DictReader(open(corpus / "labels.csv", encoding="utf-8")))
    truth = {row["call_id"]: json.loads((corpus / "truth" / f"{row['call_id']}.json").read_text(encoding="utf-8"))
             for row in labels}
    return labels, truth


def ensure_audio(corpus: Path) -> None:
    rows = list(csv.DictReader(open(corpus / "manifest.csv", encoding="utf-8")))
    if all((corpus / row["file"]).is_file() for row in rows):
        return
    print("assembling the corpus audio (make corpus) ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "scripts.corpus", "assemble"], cwd=REPO, check=True)


# --- scoring -------------------------------------------------------------------------------------------


def transcribe(corpus: Path, out: Path, workers: int, asr: dict, split: str | None) -> list:
    from callqa.asr.batch import transcribe_batch
    from callqa.audio.inputs import read_inputs

    calls = read_inputs(corpus / "manifest.csv")
    if split:
        splits = {row["call_id"]: row["split"] for row in csv.DictReader(open(corpus / "labels.csv", encoding="utf-8"))}
        calls = [c for c in calls if splits.get(c.call_id) == split]
    return transcribe_batch(calls, asr, out, workers=workers, progress=True)


def score(results: list, corpus: Path, overrides: dict, asr: dict, workers: int) -> list[dict]:
    """Score every call, verifying against the audio when the variant's scorecard says so; verification
    is most of the time, so the calls are split over ``workers`` processes (each loads the model once)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    shares = [results[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        scored = list(pool.map(_score_share, shares, [corpus] * workers, [overrides] * workers, [asr] * workers))
    by_id = {call["call_id"]: call for share in scored for call in share}
    return [by_id[r.call.call_id] for r in results]


def _score_share(results: list, corpus: Path, overrides: dict, asr: dict) -> list[dict]:
    import tomllib

    from callqa.asr.options import AsrOptions
    from callqa.scoring.roster import load_roster
    from callqa.scoring.score import score_batch
    from callqa.scoring.scorecard import default_scorecard_text, parse_scorecard
    from callqa.scoring.verifiers import RescorerFactory

    base = tomllib.loads(default_scorecard_text())
    card = parse_scorecard(overrides, base=base, source=f"<bench {overrides}>")
    roster = load_roster(corpus / "roster.csv")
    rescorers = (RescorerFactory(AsrOptions.build(asr), fitted_windows=card.verification.fitted_windows)
                 if card.verification.enabled else None)
    return [s.to_json() for s in score_batch(results, card, roster, rescorers)]


# --- metrics -------------------------------------------------------------------------------------------


def _verdict(check: dict | None) -> str:
    if not check:
        return "missing"
    if check.get("needs_listening"):
        return "listen"
    passed = check.get("passed")
    return "na" if passed is None else ("pass" if passed else "fail")


@dataclass
class CheckFigures:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    labelled: int = 0  # labelled pass or fail
    given: int = 0  # of those, callqa gave pass or fail
    given_right: int = 0

    def add(self, expected: str, got: str) -> None:
        if expected not in ("pass", "fail"):
            if got == "fail":
                self.fp += 1  # a violation where nothing was there to judge
            return
        self.labelled += 1
        if got in ("pass", "fail"):
            self.given += 1
            self.given_right += got == expected
        positive, predicted = expected == "fail", got == "fail"
        self.tp += positive and predicted
        self.fp += predicted and not positive
        self.fn += positive and not predicted

    def f1(self) -> float:
        p, r = self.precision(), self.recall()
        return 2 * p * r / (p + r) if p + r else float("nan")

    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    def coverage(self) -> float:
        return self.given / self.labelled if self.labelled else float("nan")

    def given_precision(self) -> float:
        return self.given_right / self.given if self.given else float("nan")


@dataclass
class SplitFigures:
    checks: dict[str, CheckFigures] = field(default_factory=lambda: {c: CheckFigures() for c in CHECKS})
    id_said: int = 0
    id_heard_exactly: int = 0
    sentiment_n: int = 0
    sentiment_right: int = 0
    cer_edits: dict[str, int] = field(default_factory=lambda: {"agent": 0, "customer": 0})
    cer_chars: dict[str, int] = field(default_factory=lambda: {"agent": 0, "customer": 0})
    charged_to_agent: int = 0
    unscored: int = 0
    calls: int = 0


_CN = dict(zip("0123456789", "零一二三四五六七八九"))


def _plain(text: str) -> str:
    from callqa.text import to_simplified

    text = "".join(_CN.get(ch, ch) for ch in to_simplified(text)).replace("幺", "一")
    return re.sub(r"[^\w]", "", text)


def _cer(figures: SplitFigures, call: dict, truth: dict) -> None:
    from rapidfuzz.distance import Levenshtein

    for role in ("agent", "customer"):
        ref = _plain("".join(u["text"] for u in truth["utterances"] if u["role"] == role))
        hyp = _plain("".join(u["raw_text"] for u in call["transcript"] if u["role"] == role))
        figures.cer_edits[role] += Levenshtein.distance(ref, hyp)
        figures.cer_chars[role] += len(ref)


def _spoken_by_agent(truth: dict, quote: str, start: float, end: float) -> bool:
    """An agent utterance of the truth that overlaps the finding (±0.5 s) says the quoted words.

    During overtalk Whisper's times can lean into the customer's turn (不行 cut in over 那我能直接退掉吗 is
    written 0.1 s early): the words are still the agent's, so they are not charged to the customer."""
    words = _plain(quote)
    return any(
        u["role"] == "agent" and u["end"] > start - 0.5 and u["start"] < end + 0.5 and words in _plain(u["text"])
        for u in truth["utterances"]
    )


def _speaker_at(truth: dict, start: float, end: float) -> str | None:
    best, role = 0.0, None
    for u in truth["utterances"]:
        overlap = min(end, u["end"]) - max(start, u["start"])
        if overlap > best:
            best, role = overlap, u["role"]
    return role


def _charged(call: dict, truth: dict) -> int:
    """Findings that take points for words said in a customer utterance of the truth (and by no agent then)."""
    count = 0
    for check in call["checks"].values():
        for f in check.get("findings", []):
            if not (f.get("deduction", 0) > 0 and f.get("quote")):
                continue
            if _speaker_at(truth, f["start"], f["end"]) == "customer" and not _spoken_by_agent(
                truth, f["quote"], f["start"], f["end"]
            ):
                count += 1
    return count


def measure(calls: list[dict], labels: list[dict], truth: dict[str, dict], verdicts) -> dict[str, SplitFigures]:
    """Figures per split; ``verdicts(call, check_id)`` gives callqa's (or the naive rules') verdict."""
    by_id = {c["call_id"]: c for c in calls}
    out = {s: SplitFigures() for s in SPLITS}
    for label in labels:
        figures = out[label["split"]]
        call = by_id[label["call_id"]]
        figures.calls += 1
        figures.unscored += call["score"] is None
        for check_id in CHECKS:
            figures.checks[check_id].add(label_of(label, check_id), verdicts(call, check_id))
        if call["error"]:
            continue
        if label["id_said"]:
            figures.id_said += 1
            heard = (call["checks"].get("employee_id") or {}).get("heard_id")
            figures.id_heard_exactly += heard == label["id_said"]
        customer = (call["checks"].get("sentiment") or {}).get("customer", {})
        if label.get("customer_sentiment"):
            figures.sentiment_n += 1
            figures.sentiment_right += customer.get("label") == label["customer_sentiment"]
        _cer(figures, call, truth[label["call_id"]])
        figures.charged_to_agent += _charged(call, truth[label["call_id"]])
    return out


def callqa_verdict(call: dict, check_id: str) -> str:
    return "fail" if call["error"] else _verdict(call["checks"].get(check_id))


# --- the naive reference: raw Whisper text, exact substrings ------------------------------------------


def naive_verdict(call: dict, check_id: str, roster: dict[str, str]) -> str:
    agent = [u for u in call["transcript"] if u["role"] == "agent"]
    customer = [u for u in call["transcript"] if u["role"] == "customer"]
    if not agent:
        return "fail"
    text = lambda us: "".join(u["raw_text"] for u in us)  # noqa: E731
    if check_id == "greeting":
        return "pass" if re.search("您好|你好|欢迎", agent[0]["raw_text"]) else "fail"
    if check_id == "employee_id":
        m = re.search(r"工号(\d+)", text([u for u in agent if u["start"] < agent[0]["start"] + 30]))
        return "pass" if m and m.group(1) == roster.get(call["agent_id"] or "") else "fail"
    if check_id == "standard_phrasing":
        waited = re.search("稍等|查一下", text(agent))
        complained = re.search("投诉|太差|不满意", text(customer))
        if not waited and not complained:
            return "na"
        ok = (not waited or (re.search("稍等", text(agent)) and re.search("耐心等待|久等", text(agent)))) and (
            not complained or re.search("抱歉|对不起", text(agent)))
        return "pass" if ok else "fail"
    if check_id == "banned_phrases":
        return "fail" if re.search("不行|不知道|不可以", text(agent)) else "pass"
    if check_id == "closing":
        end = text(agent[-3:])
        return "pass" if "还有" in end and re.search("再见|感谢您的来电", end) else "fail"
    if check_id == "sentiment":
        return "fail" if re.search("投诉|太差|生气|不满意", text(customer[-2:])) else "pass"
    return _naive_timing(call, check_id, agent, customer)


def _naive_timing(call: dict, check_id: str, agent: list[dict], customer: list[dict]) -> str:
    """Whisper's segment times taken at their word: gaps of 5 s, overlaps of 1 s, 360 characters a minute."""
    if check_id == "silence":
        spans = sorted((u["start"], u["end"]) for u in call["transcript"])
        ends = [max(e for _, e in spans[: k + 1]) for k in range(len(spans))]
        return "fail" if any(spans[k + 1][0] - ends[k] >= 5 for k in range(len(spans) - 1)) else "pass"
    if check_id == "interruptions":  # (mono segments never overlap; their label is na)
        return "fail" if any(c["start"] < a["start"] < c["end"] and min(a["end"], c["end"]) - a["start"] > 1
                             for a in agent for c in customer) else "pass"
    if check_id == "speech_rate":
        return "fail" if any(len(u["text"]) / max(u["end"] - u["start"], 0.1) * 60 > 360 for u in agent) else "pass"
    return "na"  # raised_voice: the words say nothing about loudness


# --- printing ------------------------------------------------------------------------------------------


def _f(x: float, pct: bool = False) -> str:
    if x != x:  # nan
        return "-"
    return f"{100 * x:.0f}%" if pct else f"{x:.2f}"


def print_tables(rows: dict[str, dict[str, SplitFigures]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200)
    table = Table(title="Per-check F1 / precision / recall (violation = positive), coverage, precision of verdicts given",
                  title_justify="left")
    table.add_column("variant")
    table.add_column("check")
    for split in SPLITS:
        for col in ("F1", "P", "R", "cov", "given P"):
            table.add_column(f"{split} {col}", justify="right")
    for variant, per_split in rows.items():
        for check_id in CHECKS:
            cells = []
            for split in SPLITS:
                c = per_split[split].checks[check_id]
                cells += [_f(c.f1()), _f(c.precision()), _f(c.recall()), _f(c.coverage(), True),
                          _f(c.given_precision())]
            table.add_row(variant, check_id, *cells)
    console.print(table)
    other = Table(title="Other figures", title_justify="left")
    other.add_column("variant")
    other.add_column("figure")
    for split in SPLITS:
        other.add_column(split, justify="right")
    for variant, per_split in rows.items():
        for name, get in (
            ("calls (not scored)", lambda s: f"{s.calls} ({s.unscored})"),
            ("employee ID heard exactly", lambda s: f"{_f(s.id_heard_exactly / s.id_said if s.id_said else float('nan'), True)} of {s.id_said}"),
            ("customer sentiment 3-class accuracy", lambda s: _f(s.sentiment_right / s.sentiment_n if s.sentiment_n else float("nan"))),
            ("CER agent", lambda s: _f(s.cer_edits["agent"] / max(1, s.cer_chars["agent"]), True)),
            ("CER customer", lambda s: _f(s.cer_edits["customer"] / max(1, s.cer_chars["customer"]), True)),
            ("customer words charged to the agent", lambda s: str(s.charged_to_agent)),
        ):
            if variant == "naive" and name not in ("calls (not scored)",):
                continue
            other.add_row(variant, name, *(get(per_split[split]) for split in SPLITS))
    console.print(other)


def figures_json(rows: dict[str, dict[str, SplitFigures]]) -> dict:
    out: dict = {}
    for variant, per_split in rows.items():
        for split, s in per_split.items():
            out.setdefault(variant, {})[split] = {
                "checks": {c: {"f1": f.f1(), "precision": f.precision(), "recall": f.recall(),
                               "coverage": f.coverage(), "given_precision": f.given_precision()}
                           for c, f in s.checks.items()},
                "id_heard_exactly": s.id_heard_exactly / s.id_said if s.id_said else None,
                "sentiment_accuracy": s.sentiment_right / s.sentiment_n if s.sentiment_n else None,
                "cer": {r: s.cer_edits[r] / max(1, s.cer_chars[r]) for r in ("agent", "customer")},
                "charged_to_agent": s.charged_to_agent,
            }
    return out


def write_calls(path: Path, variant: str, calls: list[dict], labels: list[dict], first: bool) -> None:
    """One JSON line per scored call: the variant, the call's labels, callqa's output."""
    by_id = {row["call_id"]: row for row in labels}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w" if first else "a", encoding="utf-8") as out:
        for call in calls:
            if call["call_id"] in by_id:
                out.write(json.dumps({"variant": variant, "labels": by_id[call["call_id"]], **call},
                                     ensure_ascii=False) + "\n")


def _asr_option(text: str) -> dict:
    from callqa.asr.options import AsrOptions

    name, _, value = text.partition("=")
    parsed = json.loads(value) if value[:1].isdigit() or value in ("true", "false") else value
    AsrOptions.build({name: parsed})  # an unknown option or a bad value fails here, naming the valid ones
    return {name: parsed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus")
    parser.add_argument("--out", type=Path, default=REPO / "out" / "bench" / "corpus")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS), help="default: default")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--calls", type=Path, metavar="JSONL",
                        help="also write every scored call here, a line each with its variant and labels (for error "
                             "analysis on dev: reading test's calls is tuning on test)")
    parser.add_argument("--split", choices=SPLITS, help="only this split's calls (default: both)")
    parser.add_argument("--asr", action="append", default=[], metavar="OPTION=VALUE",
                        help="also transcribe with this ASR option changed, e.g. batch_size=8 (repeatable)")
    args = parser.parse_args()

    ensure_audio(args.corpus)
    labels, truth = load_corpus(args.corpus)
    if args.split:
        labels = [row for row in labels if row["split"] == args.split]
    roster = {row["agent_id"]: row["employee_id"] for row in csv.DictReader(open(args.corpus / "roster.csv"))}
    rows: dict[str, dict[str, SplitFigures]] = {}
    timings = {}
    written = False
    for asr in [{}] + [_asr_option(text) for text in args.asr]:
        suffix = ",".join(f"{k}={v}" for k, v in asr.items())
        started = time.perf_counter()
        results = transcribe(args.corpus, args.out / suffix if suffix else args.out, args.workers, asr, args.split)
        timings[f"transcription {suffix or 'default'}"] = time.perf_counter() - started
        for variant in args.variant or ["default"]:
            name = f"{variant} {suffix}".strip()
            started = time.perf_counter()
            calls = score(results, args.corpus, VARIANTS[variant], asr, args.workers)
            timings[name] = time.perf_counter() - started
            rows[name] = measure(calls, labels, truth, callqa_verdict)
            if args.calls:
                write_calls(args.calls, name, calls, labels, first=not written)
                written = True
            if "naive" not in rows:
                rows["naive"] = measure(calls, labels, truth,
                                        lambda c, k: "fail" if c["error"] else naive_verdict(c, k, roster))
    naive = rows.pop("naive")
    rows["naive"] = naive
    print_tables(rows)
    print("seconds (cached transcripts and verification answers are free): "
          + ", ".join(f"{v} {t:.0f}" for v, t in timings.items()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"figures": figures_json(rows), "timings_s": timings}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
