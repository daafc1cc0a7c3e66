"""Roles on a stereo recording: one party per channel, as the manifest's layout says.

``role_confidence`` is 1.0: the layout is the user's statement. The words can
still contradict it (``layout_doubt``), which a caller reports.
"""

from __future__ import annotations


from ...text import content_key, normalize_text
from ..backends.base import AsrSegment
from ..filters import confidence_from_logprob
from ..measures import CROSSTALK_GAP_DB, ChannelMeasures, attach_measures
from ..transcript import CHANNEL_LAYOUTS, ROLES, Utterance
from .crosstalk import drop_crosstalk
from .pauses import TURN_PAUSE_S, split_at_pauses
from .text_cues import text_role_evidence

__all__ = ["stereo_utterances", "layout_roles", "layout_doubt", "swapped", "channel_agent_evidence",
           "utterance_from_segment"]


# Text evidence (log-odds points) by which the customer's channel must out-serve
# the agent's before a layout is doubted: several service formulas, not one 您好.
_SWAPPED_LAYOUT_MARGIN = 10.0

# Line echo: the agent's voice leaking into the customer's channel (or back)
# is transcribed twice. Two utterances on different channels that overlap
# this much in time and say nearly the same words are one utterance.
_ECHO_MIN_OVERLAP = 0.5  # share of the shorter utterance
_ECHO_MIN_SIMILARITY = 80.0  # rapidfuzz ratio of their content
_ECHO_MIN_CHARS = 3  # two short 好的 at once are two people
# An echo is quieter than its source (CROSSTALK_GAP_DB): the copy that much quieter is the echo, however sure Whisper
# was of it (on corpus call c016 the agent's words leaked into the customer's channel 26 dB down, and Whisper's surer
# copy there took the agent's greeting and hold request away from the agent). Closer levels: the surer copy.


def layout_roles(layout: str) -> tuple[str, ...]:
    """Roles by channel index for a stereo layout: 'customer,agent' -> ('customer', 'agent')."""
    roles = tuple(part.strip() for part in layout.split(","))
    stereo = [x for x in CHANNEL_LAYOUTS if x != "mono"]
    if layout == "mono" or sorted(roles) != sorted(ROLES):
        raise ValueError(f"not a stereo channel layout: {layout!r}; valid: {', '.join(stereo)}")
    return roles


def utterance_from_segment(seg: AsrSegment, role: str, channel: int | None, role_confidence: float = 1.0) -> Utterance:
    raw = seg.text.strip()
    return Utterance(
        role=role,
        start=round(seg.start, 3),
        end=round(seg.end, 3),
        text=normalize_text(raw),
        raw_text=raw,
        confidence=confidence_from_logprob(seg.avg_logprob),
        role_confidence=role_confidence,
        channel=channel,
    )


def _overlap_share(a: Utterance, b: Utterance) -> float:
    shorter = min(a.end - a.start, b.end - b.start)
    if shorter <= 0:
        return 0.0
    return max(0.0, min(a.end, b.end) - max(a.start, b.start)) / shorter


def _source_first(a: Utterance, b: Utterance) -> bool:
    """Whether ``a`` rather than ``b`` is the words' source: the louder copy by a clear gap, else the surer."""
    if a.loudness_db is not None and b.loudness_db is not None \
            and abs(a.loudness_db - b.loudness_db) >= CROSSTALK_GAP_DB:
        return a.loudness_db > b.loudness_db
    return a.confidence >= b.confidence


def _drop_echoes(utterances: list[Utterance]) -> list[Utterance]:
    """Keep the source copy of words heard on both channels at once (_source_first)."""
    from rapidfuzz import fuzz

    dropped: set[int] = set()
    for i, a in enumerate(utterances):
        for j in range(i + 1, len(utterances)):
            b = utterances[j]
            if b.start >= a.end:
                break  # sorted by start: nothing later overlaps a
            if a.channel == b.channel or i in dropped or j in dropped:
                continue
            ka, kb = content_key(a.text), content_key(b.text)
            if min(len(ka), len(kb)) < _ECHO_MIN_CHARS or _overlap_share(a, b) < _ECHO_MIN_OVERLAP:
                continue
            if fuzz.ratio(ka, kb) >= _ECHO_MIN_SIMILARITY:
                dropped.add(j if _source_first(a, b) else i)
    return [u for k, u in enumerate(utterances) if k not in dropped]


def channel_agent_evidence(per_channel: dict[int, list[AsrSegment]]) -> dict[int, float]:
    """Per channel, how much its words sound like the agent's (summed text
    log-odds, role_phrases.yaml): a check on the manifest's layout."""
    return {
        channel: sum(text_role_evidence(normalize_text(seg.text)) for seg in segments)
        for channel, segments in per_channel.items()
    }


def swapped(layout: str) -> str:
    """The other stereo layout: 'agent,customer' <-> 'customer,agent'."""
    return ",".join(reversed(layout_roles(layout)))


def layout_doubt(per_channel: dict[int, list[AsrSegment]], layout: str) -> str | None:
    """A sentence saying why the layout looks swapped, or None when the words agree with it.

    Manifests get the channel order wrong; every agent line would then count
    as the customer's. The words rarely lie about who serves whom.
    """
    roles = layout_roles(layout)
    evidence = channel_agent_evidence(per_channel)
    if len(evidence) < 2:
        return None
    agent, customer = roles.index("agent"), roles.index("customer")
    margin = evidence.get(customer, 0.0) - evidence.get(agent, 0.0)
    if margin < _SWAPPED_LAYOUT_MARGIN:
        return None
    return (
        f"channels {layout!r} may be swapped: channel {customer} speaks like the agent "
        f"(service phrasing score {evidence.get(customer, 0.0):.0f} vs {evidence.get(agent, 0.0):.0f})"
    )


def stereo_utterances(per_channel: dict[int, list[AsrSegment]], layout: str,
                      measures: dict[int, ChannelMeasures] | None = None) -> list[Utterance]:
    """Utterances of a stereo call, merged across channels and sorted by start.

    ``per_channel`` maps a channel index to that channel's segments (after
    drop_hallucinations); ``layout`` says who is on which channel
    ('agent,customer': channel 0 is the agent). Channels the layout does not
    name are an error, not a guess. Segments with no words left after
    normalization are skipped, words that are a quieter copy of the other channel's are dropped
    (crosstalk.py, with ``measures``), a segment is cut where its words leave a
    silence of TURN_PAUSE_S or more (pauses.py), and an echo of one channel's speech on
    the other is kept once (the louder copy, or the one Whisper was surer of; ``measures``, each channel's
    levels, also give every utterance its speech time and loudness). The layout is
    followed even when the words say it is swapped (layout_doubt): it is the
    user's statement; the pipeline records the doubt, or swaps when asked.
    """
    roles = layout_roles(layout)
    extra = sorted(set(per_channel) - set(range(len(roles))))
    if extra:
        raise ValueError(f"layout {layout!r} names channels 0..{len(roles) - 1}; got segments for channel(s) {extra}")
    utterances = [
        utterance_from_segment(seg, roles[channel], channel)
        for channel, segments in drop_crosstalk(per_channel, measures).items()
        for seg in split_at_pauses(segments, TURN_PAUSE_S)
        if content_key(seg.text)
    ]
    utterances.sort(key=lambda u: (u.start, u.end, u.channel))
    return _drop_echoes(attach_measures(utterances, measures))
