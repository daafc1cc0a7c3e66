"""banned_phrases: the agent never answers with a flat 不行 / 不知道 / 不可以."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...asr.transcript import Transcript
from ...text import digit_sounding_like, in_script_of, simplify, syllable
from ..base import NO_AGENT_SPEECH, CallContext, Check, CheckResult, Finding
from ..matching import (
    PhraseCheckConfig,
    compile_phrases,
    find_phrases,
    match_extra,
    match_utterance,
    utterance_finding,
)
from ..verification import (NOT_SAID, SAID, Verification, leave_to_listening, replace_span, speaker_doubtful,
                            verify_rivals)


@dataclass
class BannedPhrasesConfig(PhraseCheckConfig):
    deduction: float = 10.0  # per occurrence
    critical: bool = True
    phrases: list[str] = field(default_factory=lambda: ["不行", "不知道", "不可以"], metadata={"phrases": True})
    # Polite or conditional uses that contain a listed phrase. An occurrence
    # lying inside one of these is not a violation.
    exceptions: list[str] = field(
        default_factory=lambda: [
            "不知道(是否|能否|可否|方不方便|可不可以|能不能)",
            "[要是|如果](不行|不可以|不知道)的话",  # 如果不行的话，我们再给您换
            "(行不行|可不可以|可以不可以|知不知道|知道不知道)",  # 您看这样行不行: a question, not a refusal
        ],
        metadata={"phrases": True, "optional": True},
    )
    # A phrase that ends a clause opened by one of these is the condition, not a refusal: 如果今天不行，明天也可以
    # (with 的话 right after it, ``exceptions`` says so). Only where it ends the clause: 如果您要退款我们不可以办理
    # refuses.
    conditional_openers: list[str] = field(
        default_factory=lambda: ["如果", "要是", "假如", "万一", "若是", "倘若"], metadata={"optional": True}
    )
    # Polite openings that are only polite as a question: 不知道您明天方不方便？
    # excuses, 不知道，您自己去查 (heard as 不知道您自己去查) does not. An
    # occurrence starting one of these is excused when its sentence asks
    # something (吗/呢/？, 是否, or an A-not-A form such as 方不方便).
    question_exceptions: list[str] = field(default_factory=lambda: ["不知道[您|你]"], metadata={"phrases": True, "optional": True})
    # ... or, when it is nobody's statement (not 我不知道您…), unless its sentence brushes the customer off:
    # Whisper garbles the tail of a polite question on a noisy line (方不方便 as 帮顾帮电) and drops its
    # question mark, but a brush-off keeps words like these (不知道，您自己去查 heard as 不知道您自己去查).
    dismissive_cues: list[str] = field(
        default_factory=lambda: ["自己", "去找", "去问", "别问", "问别人", "找别人", "不归", "不管", "没办法", "不清楚"],
        metadata={"phrases": True, "optional": True},
    )
    # Homophones of the short phrases are real, innocent words (不幸 and 步行
    # sound exactly like 不行), so by default only their characters count;
    # phrases of ``homophones_from`` characters or more also match by sound,
    # because Whisper writes 不知到 for 不知道 and nothing innocent sounds like it.
    homophones: bool = False
    homophones_from: int = 3
    # What else the audio may hold where a banned phrase was heard: PHRASE=RIVAL|RIVAL. With verification on,
    # a phrase convicts only when the audio prefers it to every rival by verification.convict_margin; a rival
    # the audio prefers excuses it; anything between is left to listening.
    rivals: list[str] = field(
        default_factory=lambda: ["不行=不幸|不醒|可行", "不可以=不刻意|不可惜|都可以", "不知道=我知道|不知道您"],
        metadata={"phrases": True, "optional": True, "rivals": True},
    )

    # Where the words right after a phrase, with no pause, are ones only an exact homophone of it takes:
    # PHRASE=HOMOPHONE:WORD|WORD. The audio can't tell two words that sound the same apart (不行 and 步行 are
    # both bù xíng), the words around them can: 不行大概十分钟 is 步行 (walking), how long; 不行过去, where to.
    # A number may stand between (不行五分钟).
    homophone_contexts: list[str] = field(
        default_factory=lambda: ["不行=步行:过去|过来|就到|就能到|大概|大约|差不多|分钟|米|公里|路程"],
        metadata={"phrases": True, "optional": True, "contexts": True},
    )

    def homophone_after(self, phrase: str, text: str, end: int) -> str | None:
        """The homophone the words after ``text[:end]`` (a hit of ``phrase``) say was meant, or None."""
        for entry in self.homophone_contexts:
            name, _, rest = entry.partition("=")
            homophone, _, words = rest.partition(":")
            if name.strip() != phrase:
                continue
            followers = "|".join(re.escape(w.strip()) for w in words.split("|") if w.strip())
            if followers and re.match(f"(?:{followers})", text[_past_number(text, end) :]):
                return homophone.strip()
        return None

    def rivals_of(self, phrase: str) -> list[str]:
        for entry in self.rivals:
            name, _, alternatives = entry.partition("=")
            if name.strip() == phrase:
                return [a.strip() for a in alternatives.split("|") if a.strip()]
        return []


_NUMERALS = "0-9０-９零〇一二两三四五六七八九十百几半"
_NUMERAL = re.compile(f"[{_NUMERALS}]")
_ROUGHLY = frozenset("来多个")  # 十来分钟, 二十多米, 五个路口


def _past_number(text: str, start: int, longest: int = 4) -> int:
    """Where the number at ``start`` ends (步行十来分钟): numerals, 来/多/个, and characters Whisper writes for a
    numeral's sound (时来分钟 for 十来分钟, 吴分钟 for 五分钟)."""
    k = start
    while k < min(len(text), start + longest) and (
        _NUMERAL.match(text[k]) or text[k] in _ROUGHLY or digit_sounding_like(text[k])
        or syllable(text[k]) == "shi"
    ):
        k += 1
    return k

# Sentence-final particles, a question mark, 否 asking (是否/能否/可否; 去否 is 是否 misheard, dev c175; not
# 否则/否认/否定), A-not-A (方不方便, 有没有, 清楚了没有), or what polite indirect questions ask about (方便,
# 需要, 满意 ...): Whisper on a noisy line drops the question mark and garbles 方不方便 into 防護方便.
_QUESTION = re.compile(
    r"[？?吗呢]|否(?![则认定决])|([\u4e00-\u9fff])[不没]\1|了没|方便|需要|愿意|满意|记得|考虑|什么时候|哪|多少|怎么样"
)
_SENTENCE_END = re.compile(r"[。！!？?；;]")


def _polite(text: str, start: int, end: int, dismissive) -> bool:
    """A 不知道 (``text[start:end]``) opening a question is polite unless it is someone's statement (我不知道…:
    a question mark Whisper added does not make it a question) or an answer on its own (不知道，系统里查不到:
    a pause or a particle right after it; the question after the pause is another one). 不知道您… is polite when its
    sentence asks something or has no brush-off in it (the tail of a polite question is what a bad line
    garbles); 不知道 before other words only when its sentence asks something."""
    if start > 0 and text[start - 1] in _STATEMENT_BEFORE:
        return False
    after = text[end : end + 1]
    if not after or after in _PAUSE or after in _PARTICLES or after.isspace():
        return False
    sentence = _sentence_from(text, start)
    if _QUESTION.search(sentence):
        return True
    return after in _ADDRESS and not find_phrases(sentence, dismissive)


# A pause written right after 不知道 ends it as an answer; 您 right after it opens a question to the customer.
_PAUSE = frozenset("，,。.！!？?；;、…：:")
# So does a modal particle: 不知道呢 / 不知道啊 is "I don't know" (呢 there is no question's).
_PARTICLES = frozenset("呢啊呀哦噢嘛吧哈啦")
_ADDRESS = frozenset("您你妳")


# A 不知道 right after these says what someone does not know: 我不知道, 也不知道, 真不知道.
_STATEMENT_BEFORE = frozenset("我俺咱他她它都也还就并真实又却")


def _stated(text: str, start: int, exception_start: int) -> bool:
    """An exception that opens with the phrase (不知道能不能…) excuses a question, not someone's statement of it:
    我不知道能不能到 disclaims."""
    return exception_start == start and start > 0 and text[start - 1] in _STATEMENT_BEFORE


def _conditional(text: str, start: int, end: int, openers: list[str]) -> bool:
    """``text[start:end]`` ends a clause that one of ``openers`` opened (如果今天不行，…), or sits in one that
    closes with 的话 (如果网点那边不可以今天派的话), follows it at once (要是不行我们就换货) or 说 in it, or the
    condition is the customer's (如果您不知道订单号，…)."""
    before = _clause_before(text, start)
    # Right after its opener the phrase is the condition itself, wherever Whisper left out the comma after it
    # (要是不行我们就换货); 如果您要退款我们不可以办理 refuses, the opener far before it.
    if any(before.endswith(opener + you) for opener in openers for you in ("", *_ADDRESS)):
        return True
    if not any(opener in before for opener in openers):
        return False
    if before.endswith("说"):  # what someone may say is the condition (如果网点说不可以加急，我第一时间告诉您)
        return True
    # It ends the clause (如果今天不行，…), or the clause goes on to close the condition with 的话 (如果网点那边不可以
    # 今天派的话，…).
    return end >= len(text) or text[end] in _PAUSE or text[end].isspace() or _clause_after(text, end).endswith("的话")


def _clause_before(text: str, start: int) -> str:
    """The words of ``start``'s clause before it (since the last pause mark)."""
    return text[max((i + 1 for i in range(start) if text[i] in _PAUSE), default=0) : start]


def _clause_after(text: str, end: int) -> str:
    """The words of ``end``'s clause after it (up to the next pause mark or space)."""
    stop = next((i for i in range(end, len(text)) if text[i] in _PAUSE or text[i].isspace()), len(text))
    return text[end:stop]


# 您说不行是吧: the agent repeating the customer's words back; or a clause the agent opens by reporting them
# (您是说明天送就不行，对吗; 您是觉得放快递柜不可以; 您说的是今天不行就放门卫): 您说的这个不行 is the agent's own
# verdict on them.
_REPORTED = re.compile(r"[您你妳](刚才|刚刚|是)?说$")
_REPORTING_CLAUSE = re.compile(r"^[您你妳](刚才|刚刚|是)?(说的是|说(?!的)|觉得|认为|的意思是)")


def _reporting(text: str, start: int) -> bool:
    """Whether the clause holding ``start`` opens by reporting the customer's words (您是说…, 您觉得…)."""
    return bool(_REPORTING_CLAUSE.match(_clause_before(text, start).lstrip()))


def _sentence_from(text: str, start: int) -> str:
    end = _SENTENCE_END.search(text, start)
    return text[start : end.end() if end else len(text)]


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
    name_zh = "禁用语"
    name = "No banned phrases"
    description = "The agent never says a banned phrase (不行, 不知道, 不可以); polite forms are excepted."
    config_class = BannedPhrasesConfig

    def run(self, transcript: Transcript, config: BannedPhrasesConfig, context: CallContext) -> CheckResult:
        agent = transcript.by_role("agent")
        if not agent:
            return CheckResult.not_applicable(self.id, NO_AGENT_SPEECH)
        # Convicting evidence: never fuzzy; homophones only for phrases long enough to have no innocent twin.
        long_phrases = [p for p in config.phrases if len(p) >= config.homophones_from]
        short_phrases = [p for p in config.phrases if len(p) < config.homophones_from]
        banned = [
            compile_phrases(short_phrases, config.matching, pinyin=config.homophones, fuzzy=False),
            compile_phrases(long_phrases, config.matching, pinyin=True, fuzzy=False),
        ]
        # Exceptions as strict as the phrases they excuse: fuzziness could
        # stretch 不知道您 over 不知道啊, homophones 行不行 over 幸，步行. The
        # question openings match by sound (不知到您 is 不知道您) since the
        # question test on their sentence guards them.
        exceptions = compile_phrases(config.exceptions, config.matching, pinyin=config.homophones, fuzzy=False)
        questions = compile_phrases(config.question_exceptions, config.matching, pinyin=True, fuzzy=False)
        dismissive = compile_phrases(config.dismissive_cues, config.matching, pinyin=False, fuzzy=False)
        findings, homophones = [], []
        for index, u in agent:
            for hit in sorted((h for phrases in banned for h in match_utterance(u, phrases)), key=lambda h: h.start):
                text = u.raw_text if hit.source == "raw_text" else u.text
                # The words around it read in Simplified script (same length, so spans carry over): Whisper writes
                # Traditional (萬一明天不行, 您滿意嗎), and the openers, question marks and cues are Simplified.
                plain = simplify(text)
                if any(e.start <= hit.start and hit.end <= e.end and not _stated(plain, hit.start, e.start)
                       for e in find_phrases(text, exceptions, hit.source)):
                    continue
                if (_conditional(plain, hit.start, hit.end, config.conditional_openers)
                        or _REPORTED.search(plain[: hit.start]) or _reporting(plain, hit.start)):
                    continue
                if any(q.start == hit.start and _polite(plain, hit.start, hit.end, dismissive)
                       for q in find_phrases(text, questions, hit.source)):
                    continue
                if homophone := config.homophone_after(hit.phrase, plain, hit.end):
                    homophones.append({"phrase": hit.phrase, "utterance": index, "quote": hit.quote,
                                       "reason": f"read as {homophone}: the words after it go with {homophone}"})
                    continue
                finding = utterance_finding(
                    transcript,
                    index,
                    f"the agent said the banned phrase {hit.phrase} (heard: {hit.quote})",
                    config.deduction,
                    config.matching,
                    {"phrase": hit.phrase, **match_extra(hit)},
                )
                findings.append((finding, self._doubt(transcript, index, text, hit, config, context)))
        return _settle(self.id, findings, homophones)

    @staticmethod
    def _doubt(transcript: Transcript, index: int, text: str, hit, config: BannedPhrasesConfig,
               context: CallContext) -> Verification | str | None:
        """Why this hit can't convict (a reason, or the verification that excused it), or None when it stands."""
        u = transcript.utterances[index]
        settings = config.verification
        if speaker_doubtful(transcript, index, settings):
            return f"on this mono call it is uncertain who said it (role confidence {u.role_confidence:.2f})"
        if context.verifier is None or not settings.enabled:
            return None
        # Rivals in the script Whisper wrote (Traditional in a Traditional line), or the script, not the sound, decides.
        rivals = [replace_span(text, hit.start, hit.end, in_script_of(text, r)) for r in config.rivals_of(hit.phrase)]
        rivals = [r for r in rivals if r != text][: settings.max_candidates]
        if not rivals:
            return None
        verified = verify_rivals(transcript, index, text, rivals, context.verifier, settings,
                                 f"did the agent say {hit.phrase}?", settings.convict_margin)
        return None if verified.outcome == SAID else verified


def _settle(check_id: str, findings: list[tuple[Finding, Verification | str | None]],
            excused: list[dict]) -> CheckResult:
    """Convicted hits deduct; hits a rival reading excuses are dropped (and listed, after ``excused``, the
    hits read as a homophone); doubtful ones wait for a listener."""
    convicted, doubtful, excused = [], [], list(excused)
    for finding, doubt in findings:
        if isinstance(doubt, Verification):
            finding.extra["verification"] = doubt.to_dict()
        if doubt is None or (isinstance(doubt, Verification) and doubt.outcome == SAID):
            convicted.append(finding)
        elif isinstance(doubt, Verification) and doubt.outcome == NOT_SAID:
            excused.append({"phrase": finding.extra["phrase"], "utterance": finding.utterance, "reason": doubt.reason,
                            "verification": doubt.to_dict()})
        else:
            finding.extra["reason"] = doubt if isinstance(doubt, str) else doubt.reason
            doubtful.append(finding)
    extra = {"excused": excused} if excused else {}
    for finding in doubtful:
        leave_to_listening(finding)
    if convicted:
        return CheckResult(check_id, False, sum(f.deduction for f in convicted), convicted + doubtful, extra=extra)
    if doubtful:
        reason = "; ".join(dict.fromkeys(f.extra["reason"] for f in doubtful))
        return CheckResult.needs_listening(check_id, reason, doubtful, **extra)
    return CheckResult(check_id, True, 0.0, extra=extra)
