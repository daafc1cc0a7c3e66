"""raised_voice: the agent does not raise their voice at the customer."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from ...asr.transcript import Transcript
from ..base import NO_AGENT_SPEECH, CallContext, Check, CheckConfig, CheckResult, Finding


@dataclass
class RaisedVoiceConfig(CheckConfig):
    deduction: float = 0.0  # our choice: measured, not charged, until a centre decides
    critical: bool = False
    raise_db: float = 8.0  # louder than the agent's own median level in the call by this much is raised
    min_utterances: int = 3  # the median needs this many of the agent's utterances with a level
    speaker_doubt_below: float = 0.8  # mono: an utterance whose speaker is less certain is never the raised one


class RaisedVoiceCheck(Check):
    """The agent keeps an even voice: no utterance ``raise_db`` or more above the agent's median level
    in the call.

    Levels are the RMS of the utterance's speech frames on the agent's own
    channel (asr/measures.py), relative to the agent's median, so a quiet line
    or a loud handset is the baseline, not a fault. On mono calls only
    utterances whose speaker is confident can be the raised one.

    **Anti-pattern**: one line shouted at the customer.

    .. code-block:: text

        agent:    您好，请问有什么可以帮您？            (-20 dB)
        agent:    好的，我帮您查一下。                  (-21 dB)
        agent:    我已经说了三遍了，你听清楚！          (-8 dB)

    **Best practice**:

    .. code-block:: text

        agent:    您好，请问有什么可以帮您？            (-20 dB)
        agent:    好的，我帮您查一下。                  (-21 dB)
        agent:    我再给您说一遍，您看这样可以吗？      (-19 dB)
    """

    id = "raised_voice"
    name_zh = "音量"
    name = "Raised voice"
    description = "No agent utterance 8 dB or more above the agent's own median level in the call."
    config_class = RaisedVoiceConfig

    def run(self, transcript: Transcript, config: RaisedVoiceConfig, context: CallContext) -> CheckResult:
        agent = transcript.by_role("agent")
        if not agent:
            return CheckResult.not_applicable(self.id, NO_AGENT_SPEECH)
        mono = transcript.channels == "mono"
        # The usual level is the median over every agent utterance; only a confident one can be the raised one.
        # Requiring confidence of the median too left 10 of dev's 50 mono calls unjudged (Whisper merges turns,
        # so few utterances are confident) and judged none of the rest differently.
        measured = [(i, u) for i, u in agent if u.loudness_db is not None]
        if len(measured) < config.min_utterances:
            return CheckResult.not_applicable(
                self.id, f"fewer than {config.min_utterances} agent utterances with a measured level", count=0)
        median = statistics.median(u.loudness_db for _, u in measured)
        candidates = [(i, u) for i, u in measured if not mono or u.role_confidence >= config.speaker_doubt_below]
        findings = [
            Finding(start=u.start, end=u.end, role="agent", text=u.raw_text,
                    detail=f"the agent raised their voice (more than {config.raise_db:g} dB over their usual level)",
                    utterance=i, deduction=config.deduction,
                    extra={"loudness_db": u.loudness_db, "above_median_db": round(u.loudness_db - median, 1)})
            for i, u in candidates
            if u.loudness_db - median >= config.raise_db
        ]
        extra = {"median_db": round(median, 1), "count": len(findings)}
        if not findings:
            return CheckResult(self.id, True, 0.0, extra=extra)
        return CheckResult(self.id, False, round(sum(f.deduction for f in findings), 2), findings, extra=extra)
