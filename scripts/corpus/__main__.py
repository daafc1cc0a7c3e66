"""python -m scripts.corpus COMMAND: build the labelled synthetic call corpus (see corpus/README.md).

  probe-render  TTS venv     probe sentences in every candidate voice, into the clip store
  probe         callqa venv  Whisper CER per voice and per codec -> corpus/intelligibility/probe.csv
  render        TTS venv     every clip the calls need (resumable; --worker i/n to share the cores)
  merge         any          fold the render workers' partial indexes into corpus/clips/index.csv
  tables        callqa venv  truth/, labels.csv, manifest.csv, roster.csv from the specs and clip lengths
  assemble      callqa venv  the calls' audio into corpus/audio/ (GSM into corpus/audio_gsm/ when sox is here)
  measure       callqa venv  Whisper per call and role -> corpus/intelligibility/calls.csv (the `hard` column)
  check         callqa venv  re-derive every label from the truth files and check the corpus' promises
  report        callqa venv  regenerate the measured sections of corpus/README.md
"""

from __future__ import annotations

import argparse
import sys
import time


def load_specs():
    from .intelligibility import agent_voices, usable_voices
    from .specs import make_specs

    return make_specs(usable_voices(), agent_voices())


def load_timelines(specs):
    from .clips import read_index
    from .timeline import build_timeline

    index = read_index()
    return index, {s.call_id: build_timeline(s, index) for s in specs}


def _worker(arg: str) -> tuple[int, int]:
    worker, workers = map(int, arg.split("/"))
    return worker, workers


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.corpus", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("probe-render", "render"):
        sub.add_parser(name).add_argument("--worker", default="0/1", help="i/n: the i-th of n shares (run n at once)")
    for name in ("probe", "merge", "tables", "assemble", "measure", "check", "report"):
        sub.add_parser(name)
    args = parser.parse_args()
    t0 = time.time()
    if args.command == "probe-render":
        from .intelligibility import probe_requests
        from .render import render_all

        render_all(probe_requests(), *_worker(args.worker))
    elif args.command == "probe":
        from .intelligibility import probe

        probe()
    elif args.command == "render":
        from .render import render_all
        from .timeline import all_requests

        render_all(all_requests(load_specs()[1]), *_worker(args.worker))
    elif args.command == "merge":
        from .intelligibility import probe_requests
        from .render import merge_partials, prune
        from .timeline import all_requests

        print(f"{merge_partials()} clips added to the index")
        needed = {r.key for r in all_requests(load_specs()[1]) + probe_requests()}
        print(f"{prune(needed)} clips no call uses any more removed")
    elif args.command == "tables":
        from .tables import write_tables

        roster, specs = load_specs()
        write_tables(roster, specs, load_timelines(specs)[1])
        print(f"{len(specs)} calls: truth, labels, manifest and roster written")
    elif args.command == "assemble":
        from .assemble import assemble

        specs = load_specs()[1]
        index, timelines = load_timelines(specs)
        counts = assemble(specs, timelines, index)
        print(f"{counts['written']} calls written, {counts['gsm_kept']} committed GSM calls kept "
              f"({time.time() - t0:.0f} s)")
    elif args.command == "measure":
        from .measure import measure_corpus

        measure_corpus(*load_specs())
    elif args.command == "check":
        from .check import run_checks

        return run_checks()
    elif args.command == "report":
        from .report import write_report

        write_report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
