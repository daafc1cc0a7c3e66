"""The transcript stage's output types, and their JSON form.

A transcript is the contract between ASR and everything downstream: the
checks read ``text`` (normalized) and quote ``raw_text`` as evidence.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# The recording's description belongs to the audio stage; re-exported here for the stages downstream.
from ..audio.call import CHANNEL_LAYOUTS, DEFAULT_CHANNEL_LAYOUT, CallInput  # noqa: F401
from ..files import atomic_write

__all__ = ["ROLES", "CHANNEL_LAYOUTS", "DEFAULT_CHANNEL_LAYOUT", "CallInput", "Utterance", "PromptEcho",
           "TranscriptionInfo", "Transcript", "TranscriptionResult"]

ROLES: tuple[str, ...] = ("agent", "customer")



@dataclass
class Utterance:
    """One stretch of speech by one party."""

    role: str
    start: float
    end: float
    text: str  # normalized: Simplified, consistent numerals, punctuation kept
    raw_text: str  # exactly what Whisper wrote
    confidence: float  # ASR confidence in [0, 1] (exp of mean token log-prob)
    role_confidence: float = 1.0  # 1.0 for stereo channels; estimated for mono
    channel: int | None = None  # source channel index, None when mono
    speech_s: float | None = None  # seconds of voice activity within start..end (asr/measures.py)
    loudness_db: float | None = None  # level of that speech on its channel (dBFS)


@dataclass
class PromptEcho:
    """A stretch where Whisper wrote its initial prompt back instead of the speech (asr/echoes.py): what was
    said there is unknown, whether the filters cut the echoed words out or left them in the text, or the stretch
    was read again without the prompt (asr/second_look.py: the new words show what was said, not what wasn't)."""

    role: str  # "agent" or "customer" by the channel, "any" on a mono call
    start: float
    end: float
    text: str  # the prompt's words Whisper wrote


@dataclass
class TranscriptionInfo:
    """How a transcript was produced, so a result can be explained and cached."""

    backend: str
    model: str
    model_sha256: str | None
    audio_sha256: str
    options: dict[str, Any] = field(default_factory=dict)
    language: str = "zh"
    elapsed_s: float = 0.0  # wall time of ASR; 0 when served from the cache
    cached: bool = False
    # What the pipeline decided on its own, e.g. a stereo layout on a mono file processed as mono.
    notes: list[str] = field(default_factory=list)


@dataclass
class Transcript:
    call_id: str
    file: str  # as given in the manifest / input directory (relative where possible)
    agent_id: str | None
    channels: str  # one of CHANNEL_LAYOUTS
    duration_s: float
    utterances: list[Utterance] = field(default_factory=list)
    info: TranscriptionInfo | None = None
    # When each party's channel holds speech by the VAD: {"agent": [[s, e]...], "customer": [...]}, or
    # {"any": [...]} on a mono call. Empty when it was not measured.
    speech: dict[str, list[list[float]]] = field(default_factory=dict)
    prompt_echoes: list[PromptEcho] = field(default_factory=list)

    def by_role(self, role: str) -> list[tuple[int, Utterance]]:
        """(index, utterance) pairs of one party, in time order."""
        return [(i, u) for i, u in enumerate(self.utterances) if u.role == role]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Transcript":
        info = data.get("info")
        return cls(
            call_id=data["call_id"],
            file=data["file"],
            agent_id=data.get("agent_id"),
            channels=data.get("channels", DEFAULT_CHANNEL_LAYOUT),
            duration_s=float(data.get("duration_s", 0.0)),
            utterances=[Utterance(**u) for u in data.get("utterances", [])],
            info=TranscriptionInfo(**info) if info else None,
            speech={k: [list(span) for span in v] for k, v in (data.get("speech") or {}).items()},
            prompt_echoes=[PromptEcho(**e) for e in data.get("prompt_echoes") or []],
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Atomic: an interrupted batch never leaves half a transcript.
        atomic_write(path, json.dumps(self.to_dict(), ensure_ascii=False, indent=1))

    @classmethod
    def load(cls, path: Path) -> "Transcript":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


@dataclass
class TranscriptionResult:
    """Outcome for one call in a batch: a transcript, or why there is none."""

    call: CallInput
    transcript: Transcript | None
    error: str | None = None
