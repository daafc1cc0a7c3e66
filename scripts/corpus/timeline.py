"""Placing a call's turns in time, in samples at 8 kHz, from the clip store's exact lengths.

The timeline is the truth: start and end of every turn are where its audio was put,
holds are the exact silences the script asked for, and overlaps come from negative
gaps. Both the labels and the audio are made from the same Timeline.
"""

from __future__ import annotations

import numpy as np

from .clips import ClipEntry, ClipRequest
from .model import AGENT, RATE, CallSpec, Placed, Timeline, Turn

SENTENCE_PAUSE = int(0.25 * RATE)  # between the sentences of one turn, as in make_samples
RING_PERIOD, RING_ON = 5 * RATE, 1 * RATE  # Chinese ringback: 450 Hz, 1 s on, 4 s off
MIN_LEAD_OVER_PREVIOUS = int(0.5 * RATE)  # an overlapping turn never starts in the first 0.5 s of the one before


def voice_of(spec: CallSpec, turn: Turn) -> str:
    return spec.agent.voice if turn.role == AGENT else spec.customer_voice


# Agents' plain speech stays below 300 characters a minute, so that only the time-stretched
# turns are fast and a fast-speech check can be scored against the labels (render.py slows
# a faster clip down by resampling, which keeps it as intelligible as it was).
AGENT_MAX_CPM = 290


def clip_requests(spec: CallSpec, turn: Turn) -> list[ClipRequest]:
    voice = voice_of(spec, turn)
    cap = AGENT_MAX_CPM if turn.role == AGENT and not turn.fast_cpm else 0
    return [ClipRequest(voice, s.text, s.take, turn.fast_cpm, cap) for s in turn.sentences]


def all_requests(specs: list[CallSpec]) -> list[ClipRequest]:
    return [r for spec in specs for turn in spec.turns for r in clip_requests(spec, turn)]


def turn_samples(keys: list[str], index: dict[str, ClipEntry]) -> int:
    return sum(index[k].samples for k in keys) + SENTENCE_PAUSE * (len(keys) - 1)


def lead_in(spec: CallSpec, rng: np.random.Generator) -> tuple[int, int]:
    """(samples of ringback tone region, sample of the first word)."""
    rings = spec.line.ringback_rings
    if not rings:
        return 0, int(rng.uniform(0.3, 0.9) * RATE)
    tone_end = (rings - 1) * RING_PERIOD + RING_ON
    return tone_end, tone_end + int(rng.uniform(0.6, 2.5) * RATE)  # answered during the silence after a ring


def build_timeline(spec: CallSpec, index: dict[str, ClipEntry]) -> Timeline:
    rng = np.random.default_rng([spec.seed, 11])
    _, first = lead_in(spec, rng)
    placed: list[Placed] = []
    holds: list[tuple[int, int, str]] = []
    latest_end = first
    for i, turn in enumerate(spec.turns):
        keys = [r.key for r in clip_requests(spec, turn)]
        missing = [k for k in keys if k not in index]
        if missing:
            raise KeyError(f"{spec.call_id}: clips not rendered yet: {missing[:3]} (run render)")
        length = turn_samples(keys, index)
        if not placed:
            start = first
        else:
            start = latest_end + int(round(turn.gap * RATE))
            start = max(start, placed[-1].start + MIN_LEAD_OVER_PREVIOUS)
        if turn.pause_kind:
            holds.append((latest_end, start, turn.pause_kind))
        placed.append(Placed(i, turn.role, start, start + length, turn, tuple(keys)))
        latest_end = max(latest_end, start + length)
    total = latest_end + int(rng.uniform(0.4, 1.0) * RATE)
    return Timeline(spec.call_id, placed, total, first if spec.line.ringback_rings else 0, holds)


def ring_segments(spec: CallSpec) -> list[tuple[int, int]]:
    """Where the ringback tone sounds (samples)."""
    return [(k * RING_PERIOD, k * RING_PERIOD + RING_ON) for k in range(spec.line.ringback_rings)]
