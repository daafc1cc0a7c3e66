"""interruptions: the agent does not talk over the customer."""

from __future__ import annotations

from dataclasses import dataclass

from ...asr.transcript import Transcript
from ..base import NO_AGENT_SPEECH, CallContext, Check, CheckConfig, CheckResult, Finding
from ..timing import measured, overlap, spans_of


@dataclass
class InterruptionsConfig(CheckConfig):
    deduction: float = 2.0  # our choice, per interruption: seed 004 asks not to 打断客户的陈说, with no penalty
    critical: bool = False
    grace_ms: float = 1000.0  # overlap after the agent starts that still counts as taking turns (嗯, 好的)
    mono: bool = False  # judge mono calls too (one channel: overlap can't be measured reliably)


class InterruptionsCheck(Check):
    """The agent does not cut into the customer: starting to speak while the customer is speaking, and
    talking over them for more than ``grace_ms``, is an interruption.

    Measured on each channel's voice activity, so stereo calls only: on a
    mono recording two voices at once are one signal, and the check is not
    applicable (``mono = true`` judges them anyway, on utterance times). The
    customer talking over the agent is not the agent's fault and never counts.

    **Anti-pattern**: the agent takes the word mid-sentence.

    .. code-block:: text

        customer: 我上个月的账单多扣了五十块钱，我想问一下是怎么回事
        agent:    (2 s overlap) 这个是正常扣费。

    **Best practice**: the agent waits for the customer to finish.

    .. code-block:: text

        customer: 我上个月的账单多扣了五十块钱，我想问一下是怎么回事
        agent:    好的，我帮您查一下这笔扣费。
    """

    id = "interruptions"
    name_zh = "抢话"
    name = "Interrupting the customer"
    description = "The agent never starts speaking over the customer for more than the grace delay (1 s)."
    config_class = InterruptionsConfig

    def run(self, transcript: Transcript, config: InterruptionsConfig, context: CallContext) -> CheckResult:
        if not transcript.by_role("agent"):
            return CheckResult.not_applicable(self.id, NO_AGENT_SPEECH)
        if transcript.channels == "mono" and not config.mono:
            return CheckResult.not_applicable(
                self.id, "a mono recording: two voices at once can't be told apart reliably", count=0)
        agent, customer = spans_of(transcript, "agent"), spans_of(transcript, "customer")
        findings, total = [], 0.0
        for span in agent:
            talking = next((c for c in customer if c[0] < span[0] < c[1]), None)
            if talking is None:
                continue  # the agent started in a pause: taking turns
            over = overlap(span, talking)
            if over * 1000.0 <= config.grace_ms:
                continue
            total += over
            findings.append(self._finding(transcript, span, talking, over, config))
        extra = {"count": len(findings), "overlap_s": round(total, 1), "measured": measured(transcript)}
        if not findings:
            return CheckResult(self.id, True, 0.0, extra=extra)
        return CheckResult(self.id, False, round(sum(f.deduction for f in findings), 2), findings, extra=extra)

    @staticmethod
    def _finding(transcript: Transcript, span, talking, over: float, config: InterruptionsConfig) -> Finding:
        def at(role: str, t: float) -> int | None:
            hits = [i for i, u in enumerate(transcript.utterances) if u.role == role and u.start - 0.3 <= t <= u.end + 0.3]
            return hits[0] if hits else None

        agent_index, customer_index = at("agent", span[0]), at("customer", span[0])
        words = transcript.utterances[agent_index].raw_text if agent_index is not None else ""
        cut_off = transcript.utterances[customer_index].raw_text if customer_index is not None else ""
        return Finding(
            start=round(span[0], 2), end=round(span[0] + over, 2), role="agent", text=words,
            detail="the agent started speaking while the customer was still speaking",
            utterance=agent_index, deduction=config.deduction,
            extra={"overlap_s": round(over, 1), "customer_words": cut_off, "customer_utterance": customer_index},
        )
