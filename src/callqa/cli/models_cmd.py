"""`callqa models`: which Whisper models are available, from where, for which backend."""

from __future__ import annotations

import typer

from ..errors import EXIT_FAILED
from .app import command


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:,.1f} MB"


@command("models")
def models_command(
    verify: bool = typer.Option(False, "--verify", help="Re-hash every model's weights (sha256) and check recorded ones."),
) -> None:
    """List Whisper models in lookup order: embedded default, models/ directory, cache.

    A name listed twice is served by its first (upper) entry.
    """
    from rich.console import Console
    from rich.table import Table

    from ..asr.models import SOURCE_CACHE, cache_dir, list_models, models_dir, verify_model

    console = Console()
    refs = list_models()  # ModelUnavailableError when the embedded model's packages are missing or damaged

    table = Table(title="Whisper models (first match wins)")
    for column in ("name", "kind", "backends", "size", "source", "path"):
        table.add_column(column, overflow="fold")
    if verify:
        table.add_column("sha256", overflow="fold")
    failed = False
    seen: dict[str, str] = {}  # name -> kind of the entry that serves it
    for ref in refs:
        name = ref.name
        if name in seen:
            # The cache's conversion of a CTranslate2 model is that model's openai-whisper form, not a rival.
            converted = ref.source == SOURCE_CACHE and seen[name] == "ctranslate2"
            name = f"{name} (openai-whisper form)" if converted else f"{name} (shadowed)"
        seen.setdefault(ref.name, ref.kind)
        row = [name, ref.kind, ", ".join(ref.backends), _size(ref.size_bytes()), ref.source, str(ref.path)]
        if verify:
            sha, ok = verify_model(ref)
            failed |= ok is False
            mark = {True: "[green]ok[/green]", False: "[red]MISMATCH[/red]", None: "(not recorded)"}[ok]
            row.append(f"{sha[:16]}… {mark}")
        table.add_row(*row)
    console.print(table)
    console.print(f"models directory: {models_dir().resolve()}   cache: {cache_dir()}")
    if failed:
        console.print("[red]a model does not match its recorded sha256; delete it from the cache to re-assemble[/red]")
        raise typer.Exit(EXIT_FAILED)
