"""greeting: the agent opens the call courteously."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...asr.transcript import Transcript
from ..base import NO_AGENT_SPEECH, CallContext, Check, CheckResult
from ..matching import PhraseCheckConfig, compile_phrases, match_utterance, utterance_finding
from ..verification import SAID, UNCERTAIN, expected_words, said_by_doubtful_speaker


# First words shaped like a greeting, one or two syllables then 好 (也好, 大家好), are how Whisper base writes a
# 您好 it misheard: the audio can't overturn its own reading (the heard text beat 您好 in their place by 14-28
# nats on the corpus dev split, as much as a greeting never said), so they need listening, not a deduction. No
# rude opening in the corpus (喂，说吧 / 工号…，讲 / 请问您是…) has that shape.
_GREETING_SHAPED = re.compile(r"^\W*\w{1,2}好(?:\W|$)")
# On a mono call Whisper merges turns: a 您好 that ends the agent's first segment right after the agent asked
# something (工号…，说吧，什么事。您好，) is the customer's reply to the question as often as the agent's own, so it
# can't show the agent greeted, nor its absence that they did not.
_ASKED_BEFORE = re.compile(r"(?:[？?吗呢]|什么|怎么|哪)[^。？！?!]*[。？！?!，,\s]*$")
_REST_IS_PAUSE = re.compile(r"[\W\s]*$")


@dataclass
class GreetingConfig(PhraseCheckConfig):
    deduction: float = 5.0
    phrases: list[str] = field(
        default_factory=lambda: [
            "(您|你)好",
            "欢迎(致电|来电)",
            "[很]高兴为(您|你)服务",
            "(早上|上午|中午|下午|晚上|新年)好",
            "感谢[您的]来电",
        ],
        metadata={"phrases": True},
    )
    window_utterances: int = 1  # how many of the agent's first utterances may hold the greeting


class GreetingCheck(Check):
    """The agent's first utterance greets the caller courteously.

    **Anti-pattern**: the agent answers as if interrupted.

    .. code-block:: text

        agent:    喂，说吧。
        customer: 我的快递三天了还没到。

    **Best practice**: greet, name the line, offer help.

    .. code-block:: text

        agent:    您好，欢迎致电顺达客服，工号八零二三，很高兴为您服务。
        customer: 我的快递三天了还没到。

    Whisper splits speech where the speaker pauses; if the agent's first
    segment is a bare 喂 and the greeting follows a beat later, raise
    ``window_utterances``.
    """

    id = "greeting"
    name_zh = "开场问候"
    name = "Courteous greeting"
    description = "The agent's first utterance greets the customer (您好, 欢迎致电 ...)."
    config_class = GreetingConfig

    def run(self, transcript: Transcript, config: GreetingConfig, context: CallContext) -> CheckResult:
        agent = transcript.by_role("agent")
        if not agent:
            return CheckResult.not_applicable(self.id, NO_AGENT_SPEECH)
        phrases = compile_phrases(config.phrases, config.matching)
        opening = agent[: max(1, config.window_utterances)]
        matches, replies = [], []
        for _, u in opening:
            for m in match_utterance(u, phrases):
                reply = transcript.channels == "mono" and _reply_after_question(getattr(u, m.source), m.start, m.end)
                (replies if reply else matches).append(m)
        outcome, verified = expected_words(
            transcript, [i for i, _ in opening], config.phrases, matches, context.verifier, config.verification,
            "did the agent open with a greeting?", where="start",
        )
        if outcome != SAID and (doubt := _greeted_in_doubtful_words(transcript, opening[0][0], phrases, config)):
            outcome, verified = UNCERTAIN, doubt
        extra = {"verification": verified.to_dict()} if verified else {}
        if outcome == SAID:
            return CheckResult(self.id, True, 0.0, extra=extra)
        finding = utterance_finding(
            transcript,
            opening[0][0],
            "the agent's first words are not a greeting (您好, 欢迎致电 ...)",
            config.deduction,
            config.matching,
            extra,
        )
        reason = verified.reason if verified else None
        if outcome != UNCERTAIN and replies:
            outcome = UNCERTAIN
            reason = (f"the only greeting heard ({replies[0].quote}) ends the agent's segment after a question: on this "
                      "mono call it may be the customer's reply")
        if outcome != UNCERTAIN and (shaped := _GREETING_SHAPED.match(opening[0][1].text)):
            outcome = UNCERTAIN
            reason = f"{shaped.group(0).strip('，,。 ')} is shaped like a greeting Whisper misheard (您好?)"
        if outcome == UNCERTAIN:
            return CheckResult.needs_listening(self.id, reason or "the opening can't be read", [finding])
        return CheckResult(self.id, False, config.deduction, [finding], extra=extra)


def _greeted_in_doubtful_words(transcript: Transcript, first_agent: int, phrases, config: GreetingConfig):
    """On mono, a greeting heard in the words before the agent's first utterance that the role model gave the
    customer with doubt (您好。您好。 at 0.74: the customer's and the agent's, merged) may be the agent's."""
    return said_by_doubtful_speaker(transcript, list(range(first_agent)), lambda u: match_utterance(u, phrases),
                                    config.verification, "did the agent open with a greeting?")


def _reply_after_question(text: str, start: int, end: int) -> bool:
    """Whether the greeting ``text[start:end]`` ends its utterance right after a sentence that asks something."""
    return bool(_ASKED_BEFORE.search(text[:start])) and bool(_REST_IS_PAUSE.fullmatch(text[end:]))
