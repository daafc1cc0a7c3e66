"""What scoring costs next to transcription, and what re-scoring a cached batch costs.

    python bench/scoring.py [--manifest samples/manifest.csv] [--roster samples/roster.csv] [--workers 1]

Runs, in one process and a fresh temporary transcript cache:

1. the sample batch transcribed cold (no cache): the ASR cost;
2. the checks and scoring of that batch with the default scorecard (first
   pass, which loads the lexicon and pinyin tables, then the median of
   ``--repeat`` passes), and writing calls.jsonl, the database and the CSVs;
3. the batch again into a new output directory with a changed scorecard
   (other deductions, a critical greeting, a higher flag_below): transcripts
   come from the cache, so the ASR call count must be 0.

Prints the figures side by side. Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from callqa.asr.batch import transcribe_batch  # noqa: E402
from callqa.asr.options import AsrOptions  # noqa: E402
from callqa.audio.inputs import read_inputs  # noqa: E402
from callqa.reports.db import db_path, open_db, save_calls  # noqa: E402
from callqa.reports.jsonl import write_calls_jsonl  # noqa: E402
from callqa.reports.tables import write_reports  # noqa: E402
from callqa.scoring.roster import load_roster  # noqa: E402
from callqa.scoring.score import score_call  # noqa: E402
from callqa.scoring.scorecard import load_scorecard  # noqa: E402

CHANGED_SCORECARD = """\
# bench: a QA team tightening its scorecard after a first run
flag_below = 90

[checks.banned_phrases]
deduction = 15

[checks.greeting]
critical = true
deduction = 10
"""


def asr_calls(results) -> int:
    """Calls that ran the recognizer (neither cached nor failed)."""
    return sum(1 for r in results if r.transcript is not None and not (r.transcript.info and r.transcript.info.cached))


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def save_all(out: Path, scores, card) -> None:
    write_calls_jsonl(out / "calls.jsonl", scores)
    conn = open_db(db_path(out))
    save_calls(conn, scores, card.text, card.flag_below)
    write_reports(conn, out)
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, default=REPO / "samples" / "manifest.csv")
    parser.add_argument("--roster", type=Path, default=REPO / "samples" / "roster.csv")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5, help="scoring passes for the steady-state median")
    args = parser.parse_args()

    calls = read_inputs(args.manifest)
    roster = load_roster(args.roster)
    options = AsrOptions.build()
    work = Path(tempfile.mkdtemp(prefix="callqa-bench-"))
    cache = work / "cache"
    n = len(calls)
    rows: list[tuple[str, float, str, str]] = []  # stage, seconds, ASR calls, note

    cold_s, results = timed(lambda: transcribe_batch(calls, options, work / "cold", args.workers, cache_dir=cache))
    failed = sum(r.transcript is None for r in results)
    rows.append(("transcription, cold (no cache)", cold_s, str(asr_calls(results)),
                 f"{options.backend} / {options.model}, {args.workers} worker(s), {failed} failed"))  # fmt: skip

    card = load_scorecard(None)
    first_s, scores = timed(lambda: [score_call(r, card, roster) for r in results])
    rows.append(("checks + scoring, first pass", first_s, "0", "includes loading lexicon, pinyin, phrase lists"))
    passes = [timed(lambda: [score_call(r, card, roster) for r in results])[0] for _ in range(args.repeat)]
    steady_s = statistics.median(passes)
    rows.append((f"checks + scoring, median of {args.repeat}", steady_s, "0", f"{steady_s / n * 1000:.1f} ms per call"))
    save_s, _ = timed(lambda: save_all(work / "cold", scores, card))
    rows.append(("calls.jsonl + SQLite + CSVs", save_s, "0", ""))

    changed_path = work / "changed.toml"
    changed_path.write_text(CHANGED_SCORECARD, encoding="utf-8")
    changed = load_scorecard(changed_path)
    rescore_out = work / "rescored"  # a new output directory: only the content-keyed cache can help
    warm_s, warm = timed(lambda: transcribe_batch(calls, options, rescore_out, args.workers, cache_dir=cache))
    cached = sum(1 for r in warm if r.transcript and r.transcript.info and r.transcript.info.cached)
    rows.append(("re-score: transcripts", warm_s, str(asr_calls(warm)), f"{cached}/{n} from the cache"))

    def rescore():
        rescored = [score_call(r, changed, roster) for r in warm]
        save_all(rescore_out, rescored, changed)
        return rescored

    rescore_s, rescored = timed(rescore)
    moved = sum(a.score != b.score or a.flagged != b.flagged for a, b in zip(scores, rescored))
    rows.append(("re-score: checks + scoring + reports", rescore_s, "0",
                 f"changed scorecard: {moved}/{n} calls' score or flag changed"))  # fmt: skip

    table = Table(title=f"Scoring benchmark: {n} calls from {args.manifest}", title_justify="left")
    for column, justify in (("stage", "left"), ("wall s", "right"), ("ASR calls", "right"), ("note", "left")):
        table.add_column(column, justify=justify)
    for stage, seconds, asr, note in rows:
        table.add_row(stage, f"{seconds:.3f}", asr, note)
    console = Console(width=130)  # one line per stage, also when piped to a file
    console.print(table)
    console.print(
        f"checks + scoring (steady) = {steady_s / cold_s:.2%} of cold transcription; "
        f"whole re-score with a changed scorecard = {(warm_s + rescore_s) / cold_s:.2%} of it "
        f"({cold_s / max(warm_s + rescore_s, 1e-9):.0f}x faster). Work files in {work}"
    )


if __name__ == "__main__":
    main()
