"""Who said each utterance, agent or customer.

    stereo_utterances(per_channel, layout) -> list[Utterance]   one party per channel (stereo.py)
    mono_utterances(segments, audio, rate) -> list[Utterance]   voices and words on one channel (mono.py)
    layout_doubt(per_channel, layout) -> str | None              why the words say the layout is swapped

Inside: pauses.py (the one pause splitter and its thresholds), voice.py (voice
features and clusters), refine.py (each role's voice modelled again from the
roles), text_cues.py with phrases.yaml (what agents and
customers say).
"""

from .mono import mono_utterances
from .pauses import TURN_PAUSE_S, UTTERANCE_PAUSE_S, split_at_pauses
from .stereo import channel_agent_evidence, layout_doubt, layout_roles, stereo_utterances, swapped, utterance_from_segment
from .text_cues import text_role_evidence

__all__ = [
    "TURN_PAUSE_S",
    "UTTERANCE_PAUSE_S",
    "channel_agent_evidence",
    "layout_doubt",
    "layout_roles",
    "mono_utterances",
    "split_at_pauses",
    "stereo_utterances",
    "swapped",
    "text_role_evidence",
    "utterance_from_segment",
]
