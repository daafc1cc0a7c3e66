"""`callqa transcribe`: role-labelled transcripts for a directory, a manifest, or one recording."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from ..errors import EXIT_FAILED
from .app import command
from .batch_args import (address_option, agent_option, auto_swap_option, engine_option, output_folder, pattern_option,
                         read_calls, sigterm_as_interrupt, workers_option)


@command("transcribe")
def transcribe_command(
    input: Path = typer.Argument(..., metavar="INPUT", help="A directory of recordings, a manifest CSV, or one recording."),
    out: Path = typer.Option(
        ..., "--out", metavar="DIR",
        help="Output directory: transcripts go to DIR/transcripts/ (or DIR itself when it is named transcripts), "
        "where `callqa score ... --out DIR` finds them.",
    ),
    backend: str | None = typer.Option(None, "--backend", metavar="NAME", help="faster-whisper (default) or openai-whisper."),
    model: str | None = typer.Option(None, "--model", metavar="NAME", help="A model name from `callqa models` (default: base), or a path."),
    workers: int | None = workers_option,
    engine: str = engine_option,
    address: str | None = address_option,
    prompt: str | None = typer.Option(None, "--prompt", metavar="TEXT", help="Initial prompt biasing recognition (default: service phrases)."),
    hotword: list[str] | None = typer.Option(None, "--hotword", metavar="WORD", help="A word to bias toward, e.g. a company name. Repeatable."),
    no_vad: bool = typer.Option(False, "--no-vad", help="Transcribe without voice-activity detection."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Transcribe again even when a cached transcript exists."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    agent: str | None = agent_option,
    agent_pattern: str | None = pattern_option,
    auto_swap: bool = auto_swap_option,
) -> None:
    """Transcribe recordings into role-labelled (agent/customer) transcripts.

    A broken recording gets its own error file and the batch goes on; an
    interrupted batch resumes where it stopped; a transcript cache keyed by
    audio, model and options makes a rerun do no ASR.

    Exit status: 0 when the batch ran (even if some calls failed), 1 when every
    call failed, 2 on a usage error, 3 when the model does not load or DIR is in
    use by another batch, 130 when interrupted.
    """
    from ..asr.batch import TRANSCRIPTS_DIR
    from ..asr.options import AsrOptions
    from ..engines import BatchSpec, EngineOptions, engine_for

    engine_options = EngineOptions.build(engine, address=address, workers=workers)
    console = Console()
    options = AsrOptions.build(
        backend=backend, model=model, initial_prompt=prompt,
        hotwords=tuple(hotword) if hotword else None, vad=False if no_vad else None, auto_swap=auto_swap or None,
    )
    calls = read_calls(input, agent, agent_pattern)
    if out.name == TRANSCRIPTS_DIR:  # --out out/transcripts means that folder, not out/transcripts/transcripts
        out = out.parent
    output_folder(out)
    with sigterm_as_interrupt():
        results = engine_for(engine_options).run(BatchSpec(calls, options, out, use_cache=not no_cache,
                                                           progress=not quiet)).results

    failed = [r for r in results if r.transcript is None]
    cached = [r for r in results if r.transcript is not None and r.transcript.info and r.transcript.info.cached]
    new = len(results) - len(failed) - len(cached)
    console.print(
        f"{len(results)} calls: {new} transcribed, {len(cached)} cached, {len(failed)} failed. "
        f"Transcripts in {out / 'transcripts'}",
        highlight=False, markup=False, soft_wrap=True,
    )
    for r in results:
        for note in (r.transcript.info.notes if r.transcript and r.transcript.info else []):
            console.print(f"  note {r.call.file}: {note}", highlight=False, markup=False, soft_wrap=True)
    for r in failed:
        console.print(f"  failed {r.call.file}: {r.error}", highlight=False, markup=False, soft_wrap=True)
    if results and len(failed) == len(results):
        raise typer.Exit(EXIT_FAILED)
