"""banned_phrases: the agent never answers with a flat 不行 / 不知道 / 不可以."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..asr.transcript import Transcript
from .base import CallContext, Check, CheckResult
from .matching import (
    PhraseCheckConfig,
    compile_phrases,
    find_phrases,
    match_extra,
    match_utterance,
    utterance_finding,
)
from .registry import register


@dataclass
class BannedPhrasesConfig(PhraseCheckConfig):
    deduction: float = 10.0  # per occurrence
    critical: bool = True
    phrases: list[str] = field(default_factory=lambda: ["不行", "不知道", "不可以"], metadata={"phrases": True})
    # Polite or conditional uses that contain a listed phrase. An occurrence
    # lying inside one of these is not a violation.
    exceptions: list[str] = field(
        default_factory=lambda: [
            "不知道您",  # 不知道您明天方不方便 / 不知道您是否 ...: a polite question
            "不知道(是否|能否|可否|方不方便|可不可以|能不能)",
            "[要是|如果](不行|不可以|不知道)的话",  # 如果不行的话，我们再给您换
            "(行不行|可不可以|可以不可以|知不知道|知道不知道)",  # 您看这样行不行: a question, not a refusal
        ],
        metadata={"phrases": True},
    )
    # Homophones of the listed phrases are real, innocent words (不幸 and
    # 步行 sound exactly like 不行), so by default only the characters count.
    homophones: bool = False


@register
class BannedPhrasesCheck(Check):
    """The agent does not use the wording the service standard bans.

    The source standard: 杜绝跟顾客说"不行、不知道、不可以"; 出现不当言词及语气，
    发现一次扣10分. Each occurrence in the agent's speech is a finding; the
    customer's words never count.

    **Anti-pattern**: a flat refusal.

    .. code-block:: text

        customer: 能不能今天就给我送到？
        agent:    不行，今天送不了。

    **Best practice**: say what can be done; polite questions are fine.

    .. code-block:: text

        customer: 能不能今天就给我送到？
        agent:    非常抱歉，今天的车已经出发了，不知道您明天上午方不方便收货？
    """

    id = "banned_phrases"
    name = "No banned phrases"
    description = "The agent never says a banned phrase (不行, 不知道, 不可以); polite forms are excepted."
    config_class = BannedPhrasesConfig

    def run(self, transcript: Transcript, config: BannedPhrasesConfig, context: CallContext) -> CheckResult:
        agent = transcript.by_role("agent")
        if not agent:
            return CheckResult(self.id, None, 0.0, extra={"reason": "the agent does not speak in this call"})
        # Convicting evidence: never fuzzy; homophones only when asked for.
        banned = compile_phrases(config.phrases, config.matching, pinyin=config.homophones, fuzzy=False)
        # Exceptions as strict as the phrases they excuse: fuzziness could
        # stretch 不知道您 over 不知道啊, homophones 行不行 over 幸，步行.
        exceptions = compile_phrases(config.exceptions, config.matching, pinyin=config.homophones, fuzzy=False)
        findings = []
        for index, u in agent:
            hits = match_utterance(u, banned)
            if not hits:
                continue
            text = u.raw_text if hits[0].source == "raw_text" else u.text
            excused = find_phrases(text, exceptions, hits[0].source)
            for hit in hits:
                if any(e.start <= hit.start and hit.end <= e.end for e in excused):
                    continue
                findings.append(
                    utterance_finding(
                        transcript,
                        index,
                        f"the agent said the banned phrase {hit.phrase} (heard: {hit.quote})",
                        config.deduction,
                        config.matching,
                        {"phrase": hit.phrase, **match_extra(hit)},
                    )
                )
        if not findings:
            return CheckResult(self.id, True, 0.0)
        return CheckResult(self.id, False, sum(f.deduction for f in findings), findings)
