"""What `callqa score` and `callqa transcribe` share: reading the input, the output folder, SIGTERM."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import typer

from ..errors import UnavailableError, UsageError
from .app import warn

AGENT_HELP = "The agent of every call whose input names none (a folder or a single recording)."
PATTERN_HELP = ("Read each call's agent id from its file name: a regular expression whose group 'agent' (or first "
                "group) is the id, e.g. '^(?P<agent>A\\d+)_'. Used where the manifest has no agent_id.")
AUTO_SWAP_HELP = ("Swap the channels of a stereo call whose words say they are the other way round (the customer's "
                  "side uses the service formulas), and say so; without it such a call is flagged.")

ENGINE_HELP = ("Where the calls run: local (this machine's processes, the default) or ray (one Ray task per call on a "
               "Ray cluster; pip install 'callqa[ray]').")
ADDRESS_HELP = ("--engine ray: the cluster to join: auto (the one `ray start` made on this machine), HOST:PORT or "
                "ray://HOST:PORT; without it a Ray instance starts on this machine. The audio and $CALLQA_CACHE_DIR "
                "must be on a path every node sees (docs/scale.md).")
WORKERS_HELP = ("Calls transcribed and checked at once, each in its own process with the model loaded (default: one "
                "per usable core, a container's CPU quota included, as many as available memory holds at 1.5 GB "
                "each); with --engine ray and no --address, the CPUs the local Ray may use (default: all usable).")

agent_option = typer.Option(None, "--agent", metavar="ID", help=AGENT_HELP)
pattern_option = typer.Option(None, "--agent-pattern", metavar="REGEX", help=PATTERN_HELP)
auto_swap_option = typer.Option(False, "--auto-swap", help=AUTO_SWAP_HELP)
engine_option = typer.Option("local", "--engine", metavar="NAME", help=ENGINE_HELP)
address_option = typer.Option(None, "--address", metavar="ADDR", help=ADDRESS_HELP)
workers_option = typer.Option(None, "--workers", min=1, metavar="N", help=WORKERS_HELP)


def read_calls(input: Path, agent: str | None, pattern: str | None) -> list:
    """The calls INPUT names, with agent ids filled in; warns about what a folder held that is not a recording."""
    from ..audio.inputs import assign_agents, scan_inputs

    scan = scan_inputs(input)
    for line in scan.skipped:
        warn(f"{input}: skipped {line}")
    return assign_agents(scan.calls, agent, pattern)


def output_folder(out: Path) -> Path:
    """``--out``, created, or a clear error: a file in the way is a usage error, an unwritable folder unavailable."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file, not a folder; give a folder for the results")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UnavailableError(f"--out {out}: cannot create the folder ({e.strerror})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UnavailableError(f"--out {out}: the folder is not writable; give another --out")
    return out


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """A service manager's SIGTERM stops a batch like Ctrl-C: finished calls kept, workers stopped, exit 130."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
