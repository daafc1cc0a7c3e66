"""standard_phrasing: the standard words around a wait and after a complaint."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from ...asr.transcript import Transcript
from ..base import NO_AGENT_SPEECH, CallContext, Check, CheckResult
from ..lexicon_cues import complaint_word, lexicon_model, rebuke_word
from ..matching import PhraseCheckConfig, PhraseList, compile_phrases, find_phrases, match_utterance
from ..verification import (SAID, UNCERTAIN, MissingPiece, Verification, expected_words, said_by_doubtful_speaker,
                            settle_pieces, speaker_doubtful)
from ..waits import Wait, agent_turns, find_waits


@dataclass
class StandardPhrasingConfig(PhraseCheckConfig):
    deduction: float = 10.0  # shared by the findings of one call
    # A wait: the agent announces a lookup (a cue below), or nobody speaks
    # for wait_silence_s and then the agent does.
    wait_silence_s: float = 3.0
    # An announced lookup is a wait only if the line then goes quiet this long:
    # one the agent answers at once (我给您登记加急，您拍个照片上传…) asked nothing
    # of the customer. Utterances are cut at pauses of 1.5 s (asr/roles/pauses.py).
    wait_min_s: float = 1.5
    wait_cues: list[str] = field(
        default_factory=lambda: [
            "查一下",
            "(我|帮您|给您|为您|这边)(看|核实|核查|确认|查询|查看)一下",
            "(正在|帮您|为您|给您|我)查询",
            "(帮您|为您|给您)(查看|核实|核查|确认)",  # 我马上帮您查看: announced without 一下
            "(帮您|为您|给您|我)登记",
            "核实一下",
            "(我|帮您|给您|为您|这边)(看看|查查)",
            "查一查",
            "(帮您|给您|为您|我)调(一下|取|出)",  # 我这就帮您调一下记录
        ],
        metadata={"phrases": True, "optional": True},
    )
    ask_phrases: list[str] = field(
        default_factory=lambda: ["稍等", "稍候", "请[您]耐心等待", "[请](不要|别)挂", "等我一下", "等一会", "保持通话", "稍作等待"],
        metadata={"phrases": True},
    )
    thanks_phrases: list[str] = field(
        default_factory=lambda: [
            "(感谢|谢谢)[您的|您](耐心|等待|等候)",
            "(感谢|谢谢|多谢)(您|你)(稍等|稍候|等我)",  # 谢谢您稍等，结果出来了; 多谢您等我
            "[让您|让你]久等(了|啦)",
            "让(您|你)等[候|待][了](这么久|那么久|很久|多时)",
            "耽误(您|你)[的]时间",  # 不好意思耽误您时间了: the thanks said as an apology for the wait
            "辛苦(您|你)[久]等(待|候|了)",  # 辛苦您等待了, 辛苦您久等了
        ],
        metadata={"phrases": True},
    )
    thanks_window_turns: int = 1  # the agent's first turn(s) after a wait: its words before the customer speaks again
    # Closing words: a thanks said with them (感谢您的耐心，还有其他可以帮您的吗？) is the
    # closing's, not thanks for the wait, even when the customer's reply between
    # them was lost to line noise and the two fall in one turn.
    closing_cues: list[str] = field(
        default_factory=lambda: ["还有(其他|什么|别的)", "还需要(其他|什么|别的)", "再见", "(感谢|谢谢)[您的]来电", "祝您"],
        metadata={"phrases": True, "optional": True},
    )
    # A complaint: the customer says one of these.
    complaint_cues: list[str] = field(
        default_factory=lambda: [
            "投诉",
            "太差",
            # Asking about the problem (为什么还没送到, 怎么还没到账) is not a complaint (README's QA standard);
            # neglect and repetition are (还没人管, 怎么又要等, 都第二次了).
            "没人管",
            "没人理",
            "怎么又",
            "第(二|三|四|五|几)次了",
            "(打|来)[了](两|三|四|五|几|好几)(次|回|趟)",
            "怎么办事",
            "生气",
            "什么服务",
            "什么态度",
            "离谱",
            "太慢",
            "受不了",
            "气死",
            "搞什么",
            "差评",
            "垃圾",
            "有没有搞错",
            "太过分",
            "骗人",
            "不满意",
            "烦死",
            # Dissatisfaction in other words than the corpus's scripts (a probe of held-out wordings found them
            # missing): disappointment, contempt, negligence, incompetence, escalation. 失望 only intensified:
            # shi wang alone is also 十万 and 是王.
            "(很|太|非常|真|好|特别)失望",
            "破(服务|玩意|东西|公司|系统)",
            "不负责任",
            "敷衍",
            "效率(太|也太|真|这么|很)低",
            "一问三不知",
            "到底能不能(解决|处理|办)",
            "踢皮球",
            "推来推去",
            "(态度|服务)(很|真|这么|也太|特别)差",
            "态度差",  # 快递员态度差得要命: the agent's or courier's manner is the service
            "差劲",
            "恶劣",
            "不像话",
            "凭什么",
            "找你们(领导|经理|主管)",
            "12315",
            "(怎么|为什么)(总是|老是|每次都)这样",
            "负点责任",
            "了(两|三|四|五|六|七|八|九|十|几|好几|多少|八百)遍",  # 我都说了八遍了
            "会不会办事",
            "(这样|这么)对待(客户|顾客|消费者|我)",
            "还有没有人管",  # 你们还有没有人管啊 (没人管 with 有 between; 有没有人管理 asks)
        ],
        metadata={"phrases": True, "optional": True},
    )
    # ... or words of the sentiment lexicon (checks/data/sentiment_lexicon.yaml, or ``lexicon``) at least this
    # negative as said, in an utterance it scores negative: its escalation, anger and strong-negative tiers (投诉,
    # 气死, 失望, 敷衍, 没人接), and a milder word intensified (太烂), name dissatisfaction in far more words than a
    # cue list; milder words alone (太贵, 打不通, 真麻烦) are problems or resignation. 0 turns it off.
    complaint_lexicon_weight: float = field(default=-0.8, metadata={"signed": True})
    # A hold request said with a word of this lexicon tier, the rebukes said at the other party (稍等，烦不烦; 等一下，
    # 急什么), is no courteous request. Empty turns it off.
    rebuke_tier: str = field(default="rebuke", metadata={"optional": True})
    # A lexicon YAML replacing the packaged one. Empty: the scorecard's sentiment.lexicon, so a centre's own
    # lexicon names both negative sentiment and complaints (the scorecard loader fills it in).
    lexicon: str = field(default="", metadata={"optional": True, "same_as": "sentiment.lexicon"})
    apology_phrases: list[str] = field(
        default_factory=lambda: ["抱歉", "对不起", "对不住", "不好意思", "道歉", "道个歉", "赔个不是", "赔不是", "歉意", "给您带来[了](不便|麻烦|困扰)"],
        metadata={"phrases": True},
    )
    apology_window_turns: int = 1  # the agent's first turn(s) after the complaint


class StandardPhrasingCheck(Check):
    """Around a wait the agent asks the customer to hold and thanks them
    afterwards; after a complaint the agent apologizes before resolving.

    A wait is a lookup or hold the agent announces (我帮您查一下, 登记, 核实,
    请您稍等) after which the line goes quiet for ``wait_min_s`` (one
    answered at once kept nobody waiting), or a silence of ``wait_silence_s``
    that the agent breaks (not one right after the agent's own question: that
    is the customer's turn).
    The ask (请您稍等) may come from the agent utterance before the lookup up
    to the wait itself. The thanks (感谢您的耐心等待, 让您久等了) must come in
    the agent's first turn after the wait (its words before the customer
    speaks again), and only when the agent was silent for ``wait_silence_s``
    or more: a short lookup needs no thanks. A thanks in the
    agent's final utterance is a sign-off, not thanks for a wait, unless the
    wait ended right there.
    Not applicable (``passed`` null) when nobody waited and nobody complained.

    **Anti-pattern**: silent hold, no apology.

    .. code-block:: text

        agent:    我查一下。
                  (12 s silence)
        agent:    您的快递在转运中心。
        customer: 你们这什么服务，太差了！
        agent:    那您再等两天吧。

    **Best practice**:

    .. code-block:: text

        agent:    我帮您查一下，请您稍等。
                  (12 s silence)
        agent:    感谢您的耐心等待，您的快递在转运中心。
        customer: 你们这什么服务，太差了！
        agent:    非常抱歉给您带来不便，我马上帮您催件。
    """

    id = "standard_phrasing"
    name_zh = "规范用语"
    name = "Standard phrasing"
    description = (
        "The agent asks before a wait and thanks after it (请您稍等 / 感谢您的耐心等待), and apologizes after a complaint."
    )
    config_class = StandardPhrasingConfig

    def run(self, transcript: Transcript, config: StandardPhrasingConfig, context: CallContext) -> CheckResult:
        agent = [i for i, _ in transcript.by_role("agent")]
        if not agent:
            return CheckResult.not_applicable(self.id, NO_AGENT_SPEECH)
        waits = self._waits(transcript, config, agent)
        complaints = self._complaints(transcript, config, agent)
        extra = {"waits": len(waits), "complaints": len(complaints)}
        if not waits and not complaints:
            return CheckResult(self.id, None, 0.0, extra=extra)

        hold = self._hold_pieces(transcript, config, context, agent, waits)
        apology = self._apology_pieces(transcript, config, context, agent, complaints)
        extra["hold"] = _sub_verdict(waits, hold)
        extra["apology"] = _sub_verdict(complaints, apology)
        return settle_pieces(self.id, transcript, hold + apology, config.deduction, config.matching, extra)

    @staticmethod
    def _hold_pieces(transcript: Transcript, config: StandardPhrasingConfig, context: CallContext,
                     agent: list[int], waits: list[Wait]) -> list[MissingPiece]:
        """The hold etiquette: before every wait the ask, after one of wait_silence_s or more the thanks."""
        utts = transcript.utterances
        ask = compile_phrases(config.ask_phrases, config.matching)
        thanks = compile_phrases(config.thanks_phrases, config.matching)
        closing = compile_phrases(config.closing_cues, config.matching, fuzzy=False)
        missing: list[MissingPiece] = []
        for wait in waits:
            before = [i for i in agent if i < wait.begin][-1:]
            ask_window = before + [i for i in agent if wait.begin <= i < wait.resume]
            matches = [m for i in ask_window for m in match_utterance(utts[i], ask)]
            question = "did the agent ask the customer to wait?"
            outcome, verified = expected_words(transcript, ask_window, config.ask_phrases, matches, context.verifier,
                                               config.verification, question, reread=True)
            stretch = range(before[0] if before else 0, wait.resume)
            outcome, verified = _or_doubtful(outcome, verified, transcript, stretch, ask, config, question)
            if outcome != SAID:
                # Times stay out of details: a finding's fingerprint must survive re-transcription.
                detail = "the agent made the customer wait without asking them to (请您稍等)"
                missing.append(MissingPiece(wait.begin, detail, {"missing": "ask_to_wait", "trigger": wait.trigger},
                                            outcome, verified))
            elif rebuke := _rebuked(transcript, ask_window, config):
                missing.append(rebuke)
            if wait.waited_s < config.wait_silence_s:
                continue
            after = agent_turns(transcript, wait.resume, config.thanks_window_turns)
            resumed_as_customer = utts[wait.resume].role != "agent"  # mono: the words after the silence (_waits)
            if resumed_as_customer:
                after = [wait.resume] + after
            # The sign-off is no thanks for a wait, nor is a thanks said with closing words.
            after = [
                i for i in after if i == wait.resume or (i != agent[-1] and not match_utterance(utts[i], closing))
            ]
            matches = [m for i in after for m in match_utterance(utts[i], thanks)]
            question = "did the agent thank the customer for waiting?"
            outcome, verified = expected_words(transcript, after, config.thanks_phrases, matches, context.verifier,
                                               config.verification, question)
            stretch = range(wait.resume, _through_doubtful(transcript, max(after), config) + 1)
            outcome, verified = _or_doubtful(outcome, verified, transcript, stretch, thanks, config, question)
            if outcome != SAID:
                detail = "after the wait the agent did not thank the customer (感谢您的耐心等待)"
                fextra = {"missing": "thanks_for_waiting", "waited_s": round(wait.waited_s, 1)}
                if resumed_as_customer:  # words the customer was given never take the agent's points
                    outcome = UNCERTAIN
                missing.append(MissingPiece(wait.resume, detail, fextra, outcome, verified))
        return missing

    @staticmethod
    def _apology_pieces(transcript: Transcript, config: StandardPhrasingConfig, context: CallContext,
                        agent: list[int], complaints: list[tuple[int, dict]]) -> list[MissingPiece]:
        """An apology once per complaint episode: a complaint after the agent has apologized owes none."""
        utts = transcript.utterances
        apology = compile_phrases(config.apology_phrases, config.matching)
        # Only a thanks heard as written voids an apology (不好意思，耽误您的事了 is none, a syllable off 耽误您的时间).
        thanks = compile_phrases(config.thanks_phrases, config.matching, fuzzy=False)
        answers = partial(_apologizes, apology=apology, thanks=thanks)
        missing: list[MissingPiece] = []
        apologized_at = None  # utterance where the agent apologized for this episode
        for complaint_index, cue in complaints:
            if apologized_at is not None and apologized_at < complaint_index:
                continue  # the same episode, already apologized for (a parting threat)
            first_reply = next(i for i in agent if i > complaint_index)
            replies = agent_turns(transcript, first_reply, config.apology_window_turns)
            matches = [m for i in replies for m in match_utterance(utts[i], apology)
                       if not _for_the_wait(getattr(utts[i], m.source), m.end, thanks)]
            question = "did the agent apologize for the complaint?"
            outcome, verified = expected_words(transcript, replies, config.apology_phrases, matches, context.verifier,
                                               config.verification, question, accepts=answers)
            stretch = range(complaint_index + 1, replies[-1] + 1)
            outcome, verified = _or_doubtful(outcome, verified, transcript, stretch, apology, config, question)
            if outcome == SAID:
                apologized_at = first_reply
                continue
            detail = f"the customer complained ({cue['complaint']}) and the agent did not apologize (抱歉, 对不起)"
            fextra = {"missing": "apology", "complaint_utterance": complaint_index, **cue}
            missing.append(MissingPiece(replies[0], detail, fextra, outcome, verified))
        return missing

    @staticmethod
    def _waits(transcript: Transcript, config: StandardPhrasingConfig, agent: list[int]) -> list[Wait]:
        return find_waits(transcript, agent, compile_phrases(config.ask_phrases, config.matching),
                          compile_phrases(config.wait_cues + config.ask_phrases, config.matching),
                          config.wait_silence_s, config.wait_min_s)

    @staticmethod
    def _complaints(transcript: Transcript, config: StandardPhrasingConfig, agent: list[int]) -> list[tuple[int, dict]]:
        """(customer utterance, cue) per complaint the agent could answer;
        complaints before the same agent reply count once."""
        cues = compile_phrases(config.complaint_cues, config.matching, fuzzy=False)
        model = lexicon_model(config.lexicon) if config.complaint_lexicon_weight < 0 else None
        complaints: list[tuple[int, dict]] = []
        answered_by: set[int] = set()
        for k, u in transcript.by_role("customer"):
            reply = next((i for i in agent if i > k), None)
            if reply is None or reply in answered_by:
                continue  # a complaint as the call's last words cannot be answered
            hits = match_utterance(u, cues)
            # The complaint is another utterance than the finding's: no span into the finding's text.
            if hits:
                cue = {"cue": hits[0].phrase, "complaint": hits[0].quote}
            elif model and (word := complaint_word(model, u.text or u.raw_text, config.complaint_lexicon_weight)):
                cue = {"cue": f"lexicon: {word}", "complaint": word}
            else:
                continue
            answered_by.add(reply)
            complaints.append((k, cue))
        return complaints


def _rebuked(transcript: Transcript, indices: list[int], config: StandardPhrasingConfig) -> MissingPiece | None:
    """The first rebuke (烦不烦, 急什么) in the agent's words around a hold request, as a missing courteous ask:
    left to listening where a mono call's role model doubts who said it."""
    if not config.rebuke_tier:
        return None
    model = lexicon_model(config.lexicon)
    for index in indices:
        u = transcript.utterances[index]
        if word := rebuke_word(model, u.text or u.raw_text, config.rebuke_tier):
            detail = f"the agent asked the customer to wait with a rebuke ({word})"
            extra = {"missing": "courteous_ask", "rebuke": word}
            if not speaker_doubtful(transcript, index, config.verification):
                return MissingPiece(index, detail, extra)
            doubt = Verification("who said the rebuke?", index, u.raw_text or u.text, 0.0, outcome=UNCERTAIN,
                                 reason=f"on this mono call it is uncertain who said it (role confidence "
                                        f"{u.role_confidence:.2f})")
            return MissingPiece(index, detail, extra, UNCERTAIN, doubt)
    return None


def _for_the_wait(text: str, end: int, thanks: PhraseList) -> bool:
    """Whether the apology ending at ``end`` is the thanks for holding (不好意思，让您久等了; 抱歉耽误您时间了): it
    answers the wait, not the complaint (dev c157: a complaint no one apologized for, then a hold)."""
    return any(end <= m.start <= end + 1 for m in find_phrases(text, thanks))


def _apologizes(text: str, apology: PhraseList, thanks: PhraseList) -> bool:
    """Whether a text the audio is asked about holds an apology that is not the thanks for holding."""
    return any(not _for_the_wait(text, m.end, thanks) for m in find_phrases(text, apology))


def _or_doubtful(outcome: str, verified, transcript: Transcript, indices: range, phrases,
                 config: StandardPhrasingConfig, question: str):
    """The outcome, or uncertain when on a mono call the words were heard in that stretch from a speaker the
    role model gave the customer with doubt (verification.said_by_doubtful_speaker)."""
    if outcome == SAID:
        return outcome, verified
    doubt = said_by_doubtful_speaker(transcript, list(indices), lambda u: match_utterance(u, phrases),
                                     config.verification, question)
    return (UNCERTAIN, doubt) if doubt is not None else (outcome, verified)


def _through_doubtful(transcript: Transcript, last: int, config: StandardPhrasingConfig) -> int:
    """``last``, or on a mono call the last of the customer utterances right after it whose speaker the role
    model doubted: the agent's turn may go on in them (dev c052: 不好意思， then 向您久等了 given to the customer
    at role confidence 0.60, and the thanks after a hold was charged as missing)."""
    utts = transcript.utterances
    while (last + 1 < len(utts) and utts[last + 1].role == "customer"
           and speaker_doubtful(transcript, last + 1, config.verification)):
        last += 1
    return last


def _sub_verdict(occasions: list, missing: list[MissingPiece]) -> str:
    """One part of the check: na (nothing happened), pass, fail, or listen (only uncertain pieces)."""
    if not occasions:
        return "na"
    if not missing:
        return "pass"
    return "listen" if all(p.outcome == UNCERTAIN for p in missing) else "fail"
