"""response_time: the agent answers a customer's question without a long silence."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...asr.transcript import Transcript
from ..base import NO_AGENT_SPEECH, CallContext, Check, CheckConfig, CheckResult, Finding

_QUESTION = re.compile(r"(?:[？?]|[吗呢吧][\W_]*)$")


@dataclass
class ResponseTimeConfig(CheckConfig):
    # Off by default: a slow answer is usually a lookup, which standard_phrasing and silence already judge;
    # a centre that wants answer latency on its own turns it on.
    enabled: bool = False
    deduction: float = 0.0
    critical: bool = False
    max_response_s: float = 4.0  # from the end of the customer's question to the agent's first word


class ResponseTimeCheck(Check):
    """The agent answers the customer's question within ``max_response_s``.

    **Anti-pattern**: the question hangs in the air.

    .. code-block:: text

        customer: 我的退款什么时候能到？
                  (6 s silence)
        agent:    三到五个工作日。

    **Best practice**:

    .. code-block:: text

        customer: 我的退款什么时候能到？
        agent:    三到五个工作日就能到账。
    """

    id = "response_time"
    name_zh = "响应时长"
    name = "Response time"
    description = "The agent answers a customer's question within 4 s (off by default)."
    config_class = ResponseTimeConfig

    def run(self, transcript: Transcript, config: ResponseTimeConfig, context: CallContext) -> CheckResult:
        utts = transcript.utterances
        if not transcript.by_role("agent"):
            return CheckResult.not_applicable(self.id, NO_AGENT_SPEECH)
        findings = []
        for k, u in enumerate(utts):
            if u.role != "customer" or not _QUESTION.search(u.text.strip()):
                continue
            reply = next((j for j in range(k + 1, len(utts)) if utts[j].role == "agent"), None)
            if reply is None or any(utts[j].role == "customer" for j in range(k + 1, reply)):
                continue  # the customer went on: not a question left hanging
            wait = utts[reply].start - u.end
            if wait > config.max_response_s:
                findings.append(Finding(
                    start=u.end, end=utts[reply].start, role="agent", text=utts[reply].raw_text,
                    detail=f"the agent took over {config.max_response_s:g} s to answer the customer's question",
                    utterance=reply, deduction=config.deduction,
                    extra={"response_s": round(wait, 1), "question": u.raw_text},
                ))
        if not findings:
            return CheckResult(self.id, True, 0.0, extra={"count": 0})
        return CheckResult(self.id, False, round(sum(f.deduction for f in findings), 2), findings,
                           extra={"count": len(findings)})
