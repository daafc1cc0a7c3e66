"""channel_layout: on a stereo call, the agent is on the channel the manifest says."""

from __future__ import annotations

from dataclasses import dataclass

from ...asr.roles import text_role_evidence
from ...asr.transcript import Transcript
from ..base import CallContext, Check, CheckConfig, CheckResult, Finding


@dataclass
class ChannelLayoutConfig(CheckConfig):
    deduction: float = 0.0  # the agent did nothing wrong: flag the call, take no points
    critical: bool = True  # every other verdict on a swapped call is about the wrong person
    # Service-phrasing points (asr/roles/phrases.yaml) by which the customer's channel must out-serve the
    # agent's before the layout is doubted: several service formulas, not one 您好.
    swap_margin: float = 10.0


class ChannelLayoutCheck(Check):
    """The words agree with the channel layout: the agent's channel is the one that serves.

    A manifest that names the channels the wrong way round (or a folder of
    calls recorded customer-left) would charge the agent's 不知道 to the
    customer and the customer's silence to the agent. The words rarely lie
    about who serves whom: when the customer's channel uses far more service
    formulas (欢迎致电, 为您服务, 请您稍等 ...) than the agent's, the call is
    flagged and its verdicts are not to be trusted until someone listens.
    ``callqa score --auto-swap`` swaps such calls instead and says so here.
    Not applicable to mono calls.

    **Anti-pattern**: the customer's side greets and serves.

    .. code-block:: text

        customer: 您好，欢迎致电客服中心，工号八零二三为您服务，请问有什么可以帮您？
        agent:    你好，我想查一下我的快递到哪里了。
        customer: 好的，请您稍等，我帮您查询一下。
        customer: 感谢您的来电，祝您生活愉快，再见。

    **Best practice**: the agent's side serves.

    .. code-block:: text

        agent:    您好，欢迎致电客服中心，工号八零二三为您服务，请问有什么可以帮您？
        customer: 你好，我想查一下我的快递到哪里了。
        agent:    好的，请您稍等，我帮您查询一下。
        agent:    感谢您的来电，祝您生活愉快，再见。
    """

    id = "channel_layout"
    name_zh = "声道"
    name = "Channel layout"
    description = "On a stereo call the agent's channel is the one using the service formulas (else the call is flagged)."
    config_class = ChannelLayoutConfig

    def run(self, transcript: Transcript, config: ChannelLayoutConfig, context: CallContext) -> CheckResult:
        if transcript.channels == "mono":
            return CheckResult.not_applicable(self.id, "a mono recording: roles come from voices, not channels")
        notes = transcript.info.notes if transcript.info else []
        swapped = next((n for n in notes if "(--auto-swap)" in n), None)
        evidence = [text_role_evidence(u.text) for u in transcript.utterances]
        totals = {role: sum(e for e, u in zip(evidence, transcript.utterances) if u.role == role)
                  for role in ("agent", "customer")}
        extra = {"agent_evidence": round(totals["agent"], 1), "customer_evidence": round(totals["customer"], 1)}
        if swapped:
            return CheckResult(self.id, True, 0.0, extra={**extra, "swapped": True, "note": swapped})
        if totals["customer"] - totals["agent"] < config.swap_margin:
            return CheckResult(self.id, True, 0.0, extra=extra)
        index = max((i for i, u in enumerate(transcript.utterances) if u.role == "customer"), key=lambda i: evidence[i])
        u = transcript.utterances[index]
        detail = (f"the customer's channel speaks like the agent (service phrasing {totals['customer']:.0f} vs "
                  f"{totals['agent']:.0f}): the channels may be swapped, so this call's verdicts are in doubt")
        finding = Finding(u.start, u.end, u.role, u.raw_text or u.text, detail, index, 0.0, extra={"missing": "layout"})
        return CheckResult(self.id, False, 0.0, [finding], extra={**extra, "reason": detail})
