"""closing: the agent offers more help and signs off courteously."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial

from ...asr.transcript import Transcript, Utterance
from ..base import NO_AGENT_SPEECH, CallContext, Check, CheckResult
from ..matching import PhraseCheckConfig, PhraseList, PhraseMatch, compile_phrases, find_phrases, match_utterance
from ..verification import SAID, UNCERTAIN, MissingPiece, expected_words, said_by_doubtful_speaker, settle_pieces


@dataclass
class ClosingConfig(PhraseCheckConfig):
    deduction: float = 5.0
    # The closing: the agent's last utterances, and any agent utterance
    # starting in the call's last seconds (Whisper may split a sign-off in many).
    window_utterances: int = 3
    window_s: float = 20.0
    anything_else_phrases: list[str] = field(
        default_factory=lambda: [
            "还有(其他|什么|别的)(问题|需要|事情|业务)",
            "还有(其他|什么|别的)[地方]可以(帮|为)(您|你)",
            "还有(其他|什么|别的)(要|需要)(咨询|办理|帮忙)",
            "还需要(其他|什么|别的)(帮助|服务)",
            "还有(其他|什么|别的)吗",
            # Callback and survey forms of the same question (请问您还有其他意见或建议吗, 还有其他想了解的吗).
            "还有(其他|什么|别的)(意见|建议|想了解|想咨询|想问)",
            "还有(其他|什么|别的)(事|疑问|要问)",
            "(其他|什么|别的)需要帮助",
            # 请问还需要我为您做点什么吗; 其他方面还有疑问吗; 请问还有需要帮忙的地方吗 (an unseen script's forms).
            "还需要我(为|帮|给)(您|你)做(点|些)?什么",
            "(其他|别的)(方面|地方)[还]有(什么)?(疑问|问题|需要)",
            "还有需要(帮忙|帮助|我)",
        ],
        metadata={"phrases": True},
    )
    farewell_phrases: list[str] = field(
        default_factory=lambda: [
            "再见",
            "(感谢|谢谢)[您的|您](来电|致电|支持|配合|理解|耐心)",
            "祝您",  # 祝您生活愉快 / 开车愉快 / 节日快乐
            "欢迎[您]再次来电",
            "(感谢|谢谢)(您|你)拜拜",  # 谢谢您，拜拜: a bare 拜拜 after a curt question is no courteous farewell
        ],
        metadata={"phrases": True},
    )
    # Entries of farewell_phrases that customers say too: heard in words given to the customer they prove
    # nothing. The others (感谢您的支持, 祝您…), heard there with the speaker in doubt, may be the agent's.
    customers_say_too: list[str] = field(default_factory=lambda: ["再见", "(感谢|谢谢)(您|你)拜拜"])

    def __post_init__(self) -> None:
        unknown = [e for e in self.customers_say_too if e not in self.farewell_phrases]
        if unknown:
            raise ValueError(f"checks.closing.customers_say_too: {unknown[0]!r} is not one of farewell_phrases "
                             f"({', '.join(self.farewell_phrases)})")


# A thanks that goes on with 等待 / 等候 (感谢您的耐心等待) thanks the customer for holding, mid-call: it is no
# farewell, though it matches one (感谢您的耐心) and often falls in the closing's last utterances.
_WAITING = re.compile(r"[\W\s]?(等待|等候|久等)")


# The question's own shape, 还有/还需要 … 吗 (or ？) in a few words: Whisper garbles the words between and the phrase
# list no longer matches, but the frame survives (请问您还有去拍一件货建议吗 for 请问您还有其他意见或建议吗, dev c014).
_ASKS_FOR_MORE = re.compile(r"还(?:有|需要)[^。，,！!；;]{0,8}(?:[吗嗎]|[？?])")


def _asks_for_more(window: list[tuple[int, Utterance]]) -> bool:
    return any(_ASKS_FOR_MORE.search(u.text) for _, u in window)


def _agents_words(u: Utterance, phrases: PhraseList, customers_say_too: list[str]) -> list[PhraseMatch]:
    """Matches an agent's closing piece would give, less what customers say too (再见) and thanks for waiting."""
    return [m for m in match_utterance(u, phrases)
            if m.phrase not in customers_say_too and not _thanks_for_waiting(u, m)]


def _thanks_for_waiting(u: Utterance, match: PhraseMatch) -> bool:
    return bool(_WAITING.match(getattr(u, match.source), match.end))


def _farewell_in(text: str, phrases: PhraseList) -> bool:
    """Whether a text the audio is asked about holds a farewell, not a thanks for holding: 感谢您的耐心 put in
    place of 感谢您的爱心 before 等待 would otherwise count as the closing (dev c127, a call with no farewell)."""
    return any(not _WAITING.match(text, m.end) for m in find_phrases(text, phrases))


class ClosingCheck(Check):
    """Before the call ends the agent asks whether there is anything else,
    and closes courteously.

    **Anti-pattern**: the agent just hangs up.

    .. code-block:: text

        agent:    好了，就这样吧。
        agent:    行了，挂了。

    **Best practice**: offer more help, thank, wish well.

    .. code-block:: text

        agent:    请问还有其他可以帮您的吗？
        customer: 没有了，谢谢。
        agent:    感谢您的来电，祝您生活愉快，再见！

    A finding per missing piece, each anchored at the agent's last utterance. On a mono call, a question
    for anything else, or a farewell customers don't say (not ``customers_say_too``), heard in the call's
    last ``window_s`` in an utterance given to the customer with a doubtful role (``speaker_doubt_below``)
    needs listening: it may be the agent's. A thanks for holding
    (感谢您的耐心等待) is not a farewell. A question shaped 还有/还需要 … 吗 asks for anything else whatever
    Whisper made of the words between.
    """

    id = "closing"
    name_zh = "结束语"
    name = "Courteous closing"
    description = "Before the call ends the agent asks if anything else is needed and closes courteously (感谢您的来电, 再见)."
    config_class = ClosingConfig

    def run(self, transcript: Transcript, config: ClosingConfig, context: CallContext) -> CheckResult:
        agent = transcript.by_role("agent")
        if not agent:
            return CheckResult.not_applicable(self.id, NO_AGENT_SPEECH)
        call_end = max([transcript.duration_s] + [u.end for u in transcript.utterances])
        last_n = {i for i, _ in agent[-max(1, config.window_utterances) :]}
        window = [(i, u) for i, u in agent if i in last_n or u.start >= call_end - config.window_s]

        pieces = {
            "anything_else": (
                config.anything_else_phrases,
                "the agent did not ask whether there is anything else (还有其他可以帮您的吗)",
            ),
            "farewell": (config.farewell_phrases, "the agent did not close courteously (感谢您的来电, 再见)"),
        }
        missing = []
        for piece, (entries, detail) in pieces.items():
            phrases = compile_phrases(entries, config.matching)
            matches = [m for _, u in window for m in match_utterance(u, phrases)
                       if piece != "farewell" or not _thanks_for_waiting(u, m)]
            question = f"did the agent close with {entries[0]}?"
            if piece == "anything_else" and not matches and _asks_for_more(window):
                continue
            outcome, verified = expected_words(
                transcript, [i for i, _ in window], entries, matches, context.verifier, config.verification,
                question, where="end",
                accepts=partial(_farewell_in, phrases=phrases) if piece == "farewell" else None,
            )
            if outcome != SAID:
                # Words only an agent says, heard where the customer's turns may hold the agent's (mono).
                common = config.customers_say_too if piece == "farewell" else []
                near = [k for k, u in enumerate(transcript.utterances) if u.start >= call_end - config.window_s]
                doubt = said_by_doubtful_speaker(transcript, near, lambda u: _agents_words(u, phrases, common),
                                                 config.verification, question)
                if doubt is not None:
                    outcome, verified = UNCERTAIN, doubt
            if outcome != SAID:
                missing.append(MissingPiece(agent[-1][0], detail, {"missing": piece}, outcome, verified))
        return settle_pieces(self.id, transcript, missing, config.deduction, config.matching)
