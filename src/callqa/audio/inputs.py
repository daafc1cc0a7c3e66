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
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import UsageError
from .call import CHANNEL_LAYOUTS, DEFAULT_CHANNEL_LAYOUT, CallInput

# Formats PyAV decodes that call recorders write. Matched case-insensitively.
AUDIO_EXTENSIONS: tuple[str, ...] = (
    ".wav", ".mp3", ".flac", ".m4a", ".ogg", ".oga", ".opus", ".aac", ".amr", ".wma", ".aif", ".aiff", ".gsm",
    ".webm", ".mka", ".mp4", ".3gp", ".au", ".caf",  # browser/WebRTC, phone and Apple recorders
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


@dataclass
class InputScan:
    """What an input names: the calls, and the entries of a directory that were passed over, with why."""

    calls: list[CallInput]
    skipped: list[str] = field(default_factory=list)


def read_inputs(path: Path | str) -> list[CallInput]:
    """The calls to process, in a stable order (manifest order, or sorted file names)."""
    return scan_inputs(path).calls


def scan_inputs(path: Path | str) -> InputScan:
    """The calls to process, and (for a directory) what in it was not taken as a recording."""
    path = Path(path)
    if path.is_dir():
        return _read_directory(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.suffix.lower() in MANIFEST_EXTENSIONS:
        return InputScan(read_manifest(path))
    if path.suffix.lower() in AUDIO_EXTENSIONS:
        return InputScan([CallInput(call_id=_checked_call_id(path.stem, path.name), path=path.resolve(), file=path.name)])
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


def _read_directory(directory: Path) -> InputScan:
    recordings, skipped, other = [], [], Counter()
    for p in sorted(directory.iterdir()):
        if p.name.startswith("."):
            continue
        if p.suffix.lower() not in AUDIO_EXTENSIONS:
            other[p.suffix.lower() or "(no extension)"] += 1
        elif p.is_file():
            recordings.append(p)
        elif p.is_dir():
            skipped.append(f"{p.name}: a folder, not a recording (folders are not searched)")
        else:
            skipped.append(f"{p.name}: not a readable file (a broken link, a device or a pipe)")
    if other:
        kinds = ", ".join(f"{n} {ext}" for ext, n in sorted(other.items()))
        skipped.append(f"{sum(other.values())} file(s) that are not recordings by their name ({kinds})")
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
    return InputScan(calls, skipped)


def assign_agents(calls: list[CallInput], agent: str | None = None, pattern: str | None = None) -> list[CallInput]:
    """Give calls without an agent id one: read from the file name by ``pattern`` (a regular expression
    whose group ``agent``, or else its first group, is the id: ``^(?P<agent>A\\d+)_``), else ``agent``."""
    regex = None
    if pattern:
        try:
            regex = re.compile(pattern)
        except re.error as e:
            raise InputError(f"--agent-pattern {pattern!r}: not a regular expression ({e})") from None
        if regex.groups == 0:
            raise InputError(f"--agent-pattern {pattern!r}: needs a group for the agent id, e.g. ^(?P<agent>A\\d+)_")
    out = []
    for call in calls:
        agent_id = call.agent_id
        if agent_id is None and regex is not None and (m := regex.search(Path(call.file).name)):
            agent_id = (m.groupdict().get("agent") if "agent" in regex.groupindex else m.group(1)) or None
        out.append(replace(call, agent_id=agent_id or agent or None))
    return out


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
        if any(ord(ch) < 32 for ch in file):
            # A NUL can't be in a path at all, and a tab or newline in one is a spreadsheet accident.
            raise InputError(f"{where}: file {file!r} holds a control character")
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
        recording = _expand_home(Path(file))
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


def _expand_home(path: Path) -> Path:
    """``~/calls/a.wav`` as the user's; a ``~name`` that names no user is a plain file name."""
    try:
        return path.expanduser()
    except RuntimeError:
        return path


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
