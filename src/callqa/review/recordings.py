"""Which file the review app may play for a call: the recording that was scored, and nothing else.

A batch row can point anywhere: a manifest may say ``file=/etc/passwd`` or
``../../other-batch/.callqa-review-secret``, and a recording in an input
folder may be a symlink out of it. The app therefore plays a call's audio only
when every one of these holds:

- the call decoded as audio when it was scored (its database row has an audio
  path only then);
- the file, with every symlink resolved, lies inside the folder the batch's
  recordings were read from (or a folder the operator named with
  ``callqa serve --audio-root``);
- it does not lie in the results folder (the database, the session key), unless
  that folder is where the recordings themselves were read from;
- its bytes are still the ones that were transcribed (sha256 recorded at scoring).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from ..files import file_sha256

__all__ = ["servable_recording"]


def _within(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder


@lru_cache(maxsize=256)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    """sha256 of a file, remembered while its size and mtime stay (the player asks for many ranges)."""
    return file_sha256(Path(path))


def servable_recording(
    audio_path: str | None,
    audio_sha256: str | None,
    input_root: str | None,
    results_dir: Path,
    extra_roots: tuple[Path, ...] = (),
) -> Path | None:
    """The real path to serve for a call, or None when it must not be served (see the module doc)."""
    if not audio_path or not audio_sha256:
        return None
    roots = [r for r in ([input_root] if input_root else []) + [str(r) for r in extra_roots]]
    if not roots:
        return None  # a batch scored before input roots were recorded: re-score it to hear its calls
    real = os.path.realpath(audio_path)
    results = os.path.realpath(results_dir)
    allowed = [os.path.realpath(r) for r in roots]
    inside = [root for root in allowed if _within(real, root)]
    if not inside:
        return None
    if _within(real, results) and not any(_within(root, results) for root in inside):
        return None
    try:
        stat = os.stat(real)
    except OSError:
        return None
    if not os.path.isfile(real) or _digest(real, stat.st_size, stat.st_mtime_ns) != audio_sha256:
        return None
    return Path(real)
