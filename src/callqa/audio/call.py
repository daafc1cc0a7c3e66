"""One recording to process, as the user described it (manifest row or directory entry)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Manifest `channels` values: which channel carries whom, or mono.
CHANNEL_LAYOUTS: tuple[str, ...] = ("agent,customer", "customer,agent", "mono")
DEFAULT_CHANNEL_LAYOUT = "agent,customer"


@dataclass
class CallInput:
    """One recording to process, from a manifest row or a directory listing."""

    call_id: str
    path: Path  # resolved path to the audio file
    file: str  # the name as the user wrote it (manifest-relative)
    agent_id: str | None = None
    channels: str = DEFAULT_CHANNEL_LAYOUT
