"""speech_rate: the agent speaks at a pace the customer can follow."""

from __future__ import annotations

from dataclasses import dataclass

from ...asr.transcript import Transcript, Utterance
from ..base import NO_AGENT_SPEECH, CallContext, Check, CheckConfig, CheckResult, Finding


@dataclass
class SpeechRateConfig(CheckConfig):
    deduction: float = 0.0  # our choice: measured, not charged, until a centre decides (seed 000: 语速适中)
    critical: bool = False
    # Characters a minute of the agent's own speech time; faster is a finding. Speech time leaves out every
    # pause of 0.25 s or more, so a plain pace measures 15-20 % faster than over an utterance's span: plain
    # TTS lines measured 280-335 this way, lines played 1.6x fast 420-530. Whisper's characters, though, are
    # what is counted: it drops syllables of a rush and adds some to a plain line. On the corpus dev split
    # (bench/accuracy.py) 360 over 2 s of speech found 4 of its 13 fast lines with 3 false ones; 400 over 1.2 s
    # found 7 with 1 (F1 0.40 -> 0.67). A fast line is short: 2 s of speech left most of them unjudged.
    max_cpm: float = 400.0
    min_cpm: float = 0.0  # slower than this drags (0: not judged)
    min_chars: int = 8  # an utterance this short has no pace to speak of
    min_speech_s: float = 1.2  # nor one with less speech time


def _chars(u: Utterance) -> int:
    """Spoken characters: Chinese characters and digits (each read as a syllable), letters as one each."""
    return sum(1 for ch in u.text if ch.isalnum())


class SpeechRateCheck(Check):
    """The agent speaks clearly and not too fast: characters per minute of the agent's own speech time,
    per utterance and over the call (``agent_cpm``), under ``max_cpm`` (and over ``min_cpm`` when set).

    Speech time is the voice activity inside the utterance (asr/measures.py),
    not its wall span, so pauses do not make a fast speaker look slow; a
    transcript without measured activity is not judged (Whisper's segment
    times are too loose to time syllables by).

    **Anti-pattern**: a rush no customer can follow.

    .. code-block:: text

        agent:    (fast) 您好您的套餐已经变更成功下个月一号开始生效月租三十八元包含二十G流量和一百分钟通话。

    **Best practice**:

    .. code-block:: text

        agent:    您好，您的套餐已经变更成功，下个月一号开始生效。
    """

    id = "speech_rate"
    name_zh = "语速"
    name = "Speech rate"
    description = "The agent speaks under 400 characters a minute of their own speech time (pauses left out)."
    config_class = SpeechRateConfig

    def run(self, transcript: Transcript, config: SpeechRateConfig, context: CallContext) -> CheckResult:
        agent = transcript.by_role("agent")
        if not agent:
            return CheckResult.not_applicable(self.id, NO_AGENT_SPEECH)
        agent = [(i, u) for i, u in agent if u.speech_s]
        if not agent:
            return CheckResult.not_applicable(self.id, "the agent's speech time was not measured", agent_cpm=None)
        chars = sum(_chars(u) for _, u in agent)
        seconds = sum(u.speech_s for _, u in agent)
        extra = {"agent_cpm": round(60 * chars / seconds) if seconds else None}
        findings = []
        for index, u in agent:
            n, t = _chars(u), u.speech_s
            if n < config.min_chars or t < config.min_speech_s:
                continue
            cpm = 60 * n / t
            if cpm > config.max_cpm or (config.min_cpm and cpm < config.min_cpm):
                too = "fast" if cpm > config.max_cpm else "slow"
                findings.append(Finding(
                    start=u.start, end=u.end, role="agent", text=u.raw_text,
                    detail=f"the agent spoke too {too} ({'over' if too == 'fast' else 'under'} "
                           f"{config.max_cpm if too == 'fast' else config.min_cpm:g} characters a minute)",
                    utterance=index, deduction=config.deduction, extra={"cpm": round(cpm), "speech_s": round(t, 2)},
                ))
        if not findings:
            return CheckResult(self.id, True, 0.0, extra=extra)
        return CheckResult(self.id, False, round(sum(f.deduction for f in findings), 2), findings, extra=extra)
