"""What to process: a directory of recordings, a manifest CSV, or one recording.

Manifest columns (header names are matched case-insensitively):

    file       required; the recording, relative to the manifest's folder (or absolute)
    agent_id   the agent who took the call (empty: unknown)
    call_id    default: the file name without its extension
    channels   who is on which channel: agent,customer (default) | customer,agent | mono

Other columns are ignored, except near-misses of these names (``channel``,
``agentid``...), which are errors: a misspelt ``channels`` column would
otherwise silently give every call the default layout.

A listed file that does not exist is not a manifest error: that call gets its
own error when it is decoded, and the rest of the batch goes on.
"""

from __future__ import annotations

import csv
import difflib
import re
from pathlib import Path

from ..errors import UsageError
from .call import CHANNEL_LAYOUTS, DEFAULT_CHANNEL_LAYOUT, CallInput

# Formats PyAV decodes that call recorders write. Matched case-insensitively.
AUDIO_EXTENSIONS: tuple[str, ...] = (
    ".wav", ".mp3", ".flac", ".m4a", ".ogg", ".oga", ".opus", ".aac", ".amr", ".wma", ".aif", ".aiff", ".gsm",
)
MANIFEST_EXTENSIONS: tuple[str, ...] = (".csv",)
MANIFEST_COLUMNS: tuple[str, ...] = ("file", "agent_id", "call_id", "channels")

# call_id names the output file (<call_id>.json), so it must be a plain file name.
_CALL_ID = re.compile(r"^[^/\\\x00-\x1f]+$")


class InputError(UsageError):
    """The input as a whole is unusable (bad manifest, no recordings); the message says where."""


def input_root(path: Path | str) -> Path:
    """The folder a batch's recordings are read from: the input directory, the
    manifest's folder, or a single recording's folder (resolved).

    The review app serves a call's audio only from inside it, so a manifest
    row or a symlink pointing elsewhere (/etc/passwd) is never served.
    """
    path = Path(path).resolve()
    return path if path.is_dir() else path.parent


def read_inputs(path: Path | str) -> list[CallInput]:
    """The calls to process, in a stable order (manifest order, or sorted file names)."""
    path = Path(path)
    if path.is_dir():
        return _read_directory(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.suffix.lower() in MANIFEST_EXTENSIONS:
        return read_manifest(path)
    if path.suffix.lower() in AUDIO_EXTENSIONS:
        return [CallInput(call_id=_checked_call_id(path.stem, path.name), path=path.resolve(), file=path.name)]
    raise InputError(
        f"{path}: expected a directory of recordings, a manifest .csv, or a recording "
        f"({', '.join(AUDIO_EXTENSIONS)})"
    )


def _checked_call_id(call_id: str, where: str) -> str:
    # "<id>.error" would collide with the error file of call "<id>".
    if not _CALL_ID.match(call_id) or call_id.startswith(".") or call_id.endswith(".error"):
        raise InputError(
            f"{where}: call_id {call_id!r} can't name an output file "
            "(no '/', '\\', control characters, leading '.' or trailing '.error')"
        )
    return call_id


def _read_directory(directory: Path) -> list[CallInput]:
    recordings = sorted(
        p for p in directory.iterdir()
        if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS and not p.name.startswith(".")
    )
    if not recordings:
        raise InputError(f"{directory}: no recordings found (looked for {', '.join(AUDIO_EXTENSIONS)})")
    calls: list[CallInput] = []
    seen: dict[str, str] = {}
    for p in recordings:
        call_id = _checked_call_id(p.stem, str(directory / p.name))
        # casefold: on case-insensitive disks A.json and a.json are one file.
        if (key := call_id.casefold()) in seen:
            raise InputError(
                f"{directory}: {seen[key]} and {p.name} would both be call_id {call_id!r}; "
                "rename one, or list them in a manifest with distinct call_id values"
            )
        seen[key] = p.name
        calls.append(CallInput(call_id=call_id, path=p.resolve(), file=p.name))
    return calls


def _normalize_layout(value: str) -> str:
    return ",".join(part.strip() for part in value.lower().split(","))


def read_manifest(manifest: Path | str) -> list[CallInput]:
    manifest = Path(manifest)
    name = manifest.name
    try:
        text = manifest.read_text(encoding="utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError as e:
        raise InputError(f"{name}: not UTF-8 text ({e.reason} at byte {e.start}); save it as CSV UTF-8") from e
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{name}: empty manifest; expected a header row with at least a 'file' column") from None
    columns = [h.strip().lower() for h in header]
    _check_header(name, columns)
    index = {c: i for i, c in enumerate(columns)}

    calls: list[CallInput] = []
    seen: dict[str, int] = {}
    base = manifest.parent
    for row in reader:
        line = reader.line_num  # the spreadsheet row number; the header is row 1
        if not any(cell.strip() for cell in row):
            continue

        def cell(column: str) -> str:
            i = index.get(column)
            return row[i].strip() if i is not None and i < len(row) else ""

        where = f"{name} row {line}"
        file = cell("file")
        if not file:
            raise InputError(f"{where}: file is empty")
        layout = _normalize_layout(cell("channels")) if cell("channels") else DEFAULT_CHANNEL_LAYOUT
        if layout not in CHANNEL_LAYOUTS:
            # An unquoted agent,customer splits into two cells: say so rather than only "not one of".
            hint = ' (a value with a comma must be quoted: "agent,customer")' if len(row) > len(columns) else ""
            raise InputError(
                f"{where}: channels {cell('channels')!r} is not one of "
                f"{', '.join(repr(c) for c in CHANNEL_LAYOUTS)}{hint}"
            )
        call_id = cell("call_id") or Path(file).stem
        call_id = _checked_call_id(call_id, where)
        if (key := call_id.casefold()) in seen:
            origin = "call_id" if cell("call_id") else f"call_id (from file {file!r})"
            raise InputError(f"{where}: {origin} {call_id!r} is already used on row {seen[key]}")
        seen[key] = line
        recording = Path(file).expanduser()
        calls.append(
            CallInput(
                call_id=call_id,
                path=(recording if recording.is_absolute() else base / recording).resolve(),
                file=file,
                agent_id=cell("agent_id") or None,
                channels=layout,
            )
        )
    if not calls:
        raise InputError(f"{name}: no rows after the header")
    return calls


def _check_header(name: str, columns: list[str]) -> None:
    for i, column in enumerate(columns):
        if column in MANIFEST_COLUMNS:
            if column in columns[:i]:
                raise InputError(f"{name}: column {column!r} appears twice in the header")
            continue
        close = difflib.get_close_matches(column.replace(" ", "_").replace("-", "_"), MANIFEST_COLUMNS, n=1, cutoff=0.75)
        if close and close[0] not in columns:
            raise InputError(f"{name}: unknown column {column!r}; did you mean {close[0]!r}?")
    if "file" not in columns:
        found = ", ".join(repr(c) for c in columns if c) or "none"
        raise InputError(f"{name}: no 'file' column (found {found}); columns: {', '.join(MANIFEST_COLUMNS)}")
