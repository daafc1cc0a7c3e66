"""The types passed between the corpus steps: spec -> timeline -> labels / audio.

A call spec says who says what (turns made of sentences, each sentence made of
dialogue-act fragments) and how the line sounds; the timeline places every turn in
samples at 8 kHz once the clip durations are known; labels and audio are derived from
both. Plain dataclasses so every step can be read and tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RATE = 8000  # narrow-band telephony: every clip, timeline and call is at this rate
AGENT, CUSTOMER = "agent", "customer"


@dataclass(frozen=True)
class Fragment:
    """One dialogue act said in one paraphrase, e.g. act="hold_request", paraphrase="hold_request.3"."""

    act: str
    paraphrase: str
    text: str


@dataclass(frozen=True)
class Sentence:
    """What the TTS speaks in one go (one clip): fragments joined, ending in 。！？."""

    fragments: tuple[Fragment, ...]
    take: int = 0  # another seeded rendition of the same text, where the first garbled something

    @property
    def text(self) -> str:
        return "".join(f.text for f in self.fragments)

    @property
    def acts(self) -> list[str]:
        return [f.act for f in self.fragments]


@dataclass
class Turn:
    """One utterance by one party, and how it is placed against the turn before it."""

    role: str
    sentences: list[Sentence]
    gap: float = 0.6  # seconds of silence after the previous turn ends (negative: overlap)
    overlap_kind: str = ""  # "" | "customer_over_agent" | "cut_in_long" | "cut_in_short"
    pause_kind: str = ""  # the silence before this turn: hold | lookup | unannounced | customer_pause
    id_said: str = ""  # digits of the employee ID stated in this turn, if any
    fast_cpm: int = 0  # > 0: the clip is time-stretched to about this many characters per minute
    gain_db: float = 0.0  # > 0: this agent turn is made louder than the agent's other speech
    banned: tuple[str, ...] = ()  # banned words this turn says flatly (agent turns only)

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.sentences)

    @property
    def acts(self) -> list[str]:
        return [a for s in self.sentences for a in s.acts]


@dataclass(frozen=True)
class Agent:
    agent_id: str
    name: str
    employee_id: str
    voice: str  # the same person sounds the same in every call
    company: str
    business: str


@dataclass(frozen=True)
class Line:
    """How the call sounds and is stored."""

    layout: str  # manifest channels: "agent,customer" | "customer,agent" | "mono"
    codec: str  # key of codecs.CODECS
    bitrate: int  # bits per second for the lossy codecs, 0 otherwise
    snr_db: int  # 0 means no added line noise
    ringback_rings: int  # 0: the call starts with speech; n: n rings of 450 Hz before the first word


@dataclass
class CallSpec:
    call_id: str
    seed: int
    direction: str  # inbound | outbound
    business: str
    company: str
    agent: Agent
    customer_voice: str
    line: Line
    turns: list[Turn]
    features: dict[str, str] = field(default_factory=dict)  # what the generator chose, for the README counts
    split: str = ""


@dataclass(frozen=True)
class Placed:
    """A turn on the timeline: exact sample positions at RATE."""

    index: int
    role: str
    start: int
    end: int
    turn: Turn
    clip_keys: tuple[str, ...]

    @property
    def start_s(self) -> float:
        return self.start / RATE

    @property
    def end_s(self) -> float:
        return self.end / RATE


@dataclass
class Timeline:
    call_id: str
    placed: list[Placed]
    total: int  # samples in the call
    ringback_end: int  # samples of ringback lead-in (0 when none)
    holds: list[tuple[int, int, str]]  # (start, end, kind) of every silence the script asked for
