"""When each party speaks, for the checks of how a call sounds (silence, interruptions, speech rate).

The transcript carries the voice activity the asr stage measured on each
channel (``Transcript.speech``); when it has none (a transcript made before,
or a test's), the utterances' own spans stand in for it, which is coarser:
Whisper's segment times run a few tenths of a second loose.
"""

from __future__ import annotations

from ..asr.transcript import Transcript

__all__ = ["Span", "spans_of", "anyone_speaking", "measured", "merge", "overlap"]

Span = tuple[float, float]


def measured(transcript: Transcript) -> bool:
    """Whether the transcript carries measured voice activity (not only utterance spans)."""
    return bool(transcript.speech)


def merge(spans: list[Span], gap: float = 0.0) -> list[Span]:
    """Sorted spans with overlaps (and gaps up to ``gap``) joined."""
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + gap:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def spans_of(transcript: Transcript, role: str) -> list[Span]:
    """When ``role`` speaks: measured activity on its channel, else its utterances' spans."""
    if role in transcript.speech:
        return merge([(float(a), float(b)) for a, b in transcript.speech[role]])
    return merge([(u.start, u.end) for u in transcript.utterances if u.role == role])


def anyone_speaking(transcript: Transcript) -> list[Span]:
    """When anyone speaks: every channel's measured activity (or the mix's), else every utterance."""
    if transcript.speech:
        return merge([(float(a), float(b)) for spans in transcript.speech.values() for a, b in spans])
    return merge([(u.start, u.end) for u in transcript.utterances])


def overlap(a: Span, b: Span) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
