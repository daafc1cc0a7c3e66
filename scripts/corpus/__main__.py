"""python -m scripts.corpus COMMAND: build the labelled synthetic call corpus (see corpus/README.md)."""

from __future__ import annotations

import argparse
import sys


def load_specs():
    from .intelligibility import agent_voices, usable_voices
    from .specs import make_specs

    return make_specs(usable_voices(), agent_voices())


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.corpus", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    pr = sub.add_parser("probe-render", help="TTS venv: probe sentences in every candidate voice")
    pr.add_argument("--worker", default="0/1")
    sub.add_parser("probe", help="callqa venv: Whisper CER per voice and per codec")
    r = sub.add_parser("render", help="TTS venv: every clip the calls need, into corpus/clips")
    r.add_argument("--worker", default="0/1", help="i/n: render the i-th of n shares (run n at once)")
    sub.add_parser("merge", help="fold the render workers' partial indexes into the clip index")
    args = parser.parse_args()
    if args.command == "probe-render":
        from .intelligibility import probe_requests
        from .render import render_all

        worker, workers = map(int, args.worker.split("/"))
        render_all(probe_requests(), worker, workers)
    elif args.command == "probe":
        from .intelligibility import probe

        probe()
    elif args.command == "render":
        from .render import render_all
        from .timeline import all_requests

        worker, workers = map(int, args.worker.split("/"))
        render_all(all_requests(load_specs()[1]), worker, workers)
    elif args.command == "merge":
        from .render import merge_partials

        print(f"{merge_partials()} clips added to the index")
    return 0


if __name__ == "__main__":
    sys.exit(main())
