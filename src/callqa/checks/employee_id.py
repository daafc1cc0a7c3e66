"""employee_id: the agent states their employee ID at the start of the call."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..asr.normalize import DIGIT_VALUES
from ..asr.transcript import Transcript
from .base import CallContext, Check, CheckResult
from .matching import (
    MatchSettings,
    PhraseCheckConfig,
    PhraseList,
    compile_phrases,
    find_phrases,
    simplify,
    utterance_finding,
)
from .registry import register

# Digit characters as read aloud: 幺 is how call centres say 1, 〇 is written for 0.
_DIGITS = "".join(DIGIT_VALUES) + "0123456789"
_PLACE_VALUES = "十百千"
# A run of digits; single spaces, 、 or - may separate them (八 零 二 三, 80-23).
_DIGIT_RUN = re.compile(f"[{_DIGITS}{_PLACE_VALUES}两](?:[ 、\\-]?[{_DIGITS}{_PLACE_VALUES}两])*")
# Between 工号 and the digits: 是/为, a colon, a space (我的工号是：8023).
_AFTER_MARKER = re.compile(r"[\s:：是为]{0,3}")
# A character directly before a digit run: Whisper writes 幺 (yāo, 1) as 要, 药, 腰 ...
_LED_RUN = re.compile(f"([\u4e00-\u9fff])({_DIGIT_RUN.pattern})")


def _read_as_yao(ch: str) -> bool:
    """Does ``ch`` sound like 幺? Then, leading a stated ID, it is the digit 1."""
    from pypinyin import lazy_pinyin

    return ch not in _DIGITS and lazy_pinyin(ch) == ["yao"]


def _id_run(simple: str, pos: int) -> re.Match[str] | None:
    """The ID's digit run at ``pos``; a homophone of 幺 right before the
    digits is their first digit (要三五七号客服 is 幺三五七 misheard)."""
    led = _LED_RUN.match(simple, pos)
    if led and _read_as_yao(led.group(1)):
        return led
    return _DIGIT_RUN.match(simple, pos)


def parse_id(run: str) -> str | None:
    """Digits of a spoken ID: 八零二三 / 8023 / 八 零 二 三 / 幺零零八 -> '8023' / '1008'.

    A run with place values (八千零二十三) is read as a number with cn2an.
    """
    run = re.sub(r"[ 、\-]", "", run)
    if run[:1] and run[0] not in _DIGITS and _read_as_yao(run[0]):
        run = "1" + run[1:]  # 要三五七 is 幺三五七 misheard
    if not run:
        return None
    if any(ch in _PLACE_VALUES for ch in run):
        try:
            import cn2an

            return str(int(cn2an.cn2an(run.replace("幺", "一"), "smart")))
        except (ValueError, KeyError):
            return None
    if "两" in run:
        return None  # 两 is a quantity word, never a digit read out one by one
    return "".join(DIGIT_VALUES.get(ch, ch) for ch in run)


@dataclass
class StatedId:
    digits: str
    start: int  # span in the text searched
    end: int


def find_ids(
    text: str, markers: PhraseList, suffixes: PhraseList | list[PhraseList], min_digits: int, max_digits: int
) -> list[StatedId]:
    """Employee IDs stated in one utterance's text, in order.

    Two forms: a marker then digits (工号八零二三, 我的工号是8023, 公号 by
    homophone), or digits then a suffix (八零二三号客服为您服务).
    """
    simple = simplify(text)
    found: list[StatedId] = []
    for marker in find_phrases(text, markers):
        gap = _AFTER_MARKER.match(simple, marker.end)
        run = _id_run(simple, gap.end())
        digits = parse_id(run.group(0)) if run else None
        if digits and min_digits <= len(digits) <= max_digits:
            found.append(StatedId(digits, marker.start, run.end()))
    for plain in _DIGIT_RUN.finditer(simple):
        run = (plain.start() > 0 and _id_run(simple, plain.start() - 1)) or plain
        digits = parse_id(run.group(0))
        if not digits or not (min_digits <= len(digits) <= max_digits):
            continue
        if any(s.start <= run.start() < s.end for s in found):
            continue  # already read after a marker
        rest = simple[run.end() : run.end() + 12]
        lead = len(rest) - len(rest.lstrip())
        # Suffix lists in order of preference, each searched on its own: a short
        # exact match (为您服务) must not hide a longer fuzzy one (号特服为您服务).
        lists = suffixes if isinstance(suffixes, list) else [suffixes]
        if any(m.start == lead for phrases in lists for m in find_phrases(rest, phrases)):
            found.append(StatedId(digits, run.start(), run.end() + lead + 1))
    return sorted(found, key=lambda s: s.start)


@dataclass
class EmployeeIdConfig(PhraseCheckConfig):
    deduction: float = 5.0
    critical: bool = True
    window_s: float = 30.0  # the opening: agent speech starting this soon after the agent's first words
    markers: list[str] = field(default_factory=lambda: ["工号", "员工[编]号", "我是"], metadata={"phrases": True})
    suffixes: list[str] = field(
        # The longer forms let fuzzy matching forgive a misheard word (特服 for 客服).
        default_factory=lambda: [
            "号(客服|话务员|坐席|专员)",
            "号为您服务",
            "号很高兴为您服务",
            "号(客服|话务员|坐席|专员)(为您服务|很高兴为您服务)",
        ],
        metadata={"phrases": True},
    )
    # Tried after ``suffixes``: the digits right before 为您服务 state the ID
    # even when the 工号 before them was misheard (封号8023为您服务).
    service_suffixes: list[str] = field(default_factory=lambda: ["为您服务", "很高兴为您服务"], metadata={"phrases": True})
    min_digits: int = 3
    max_digits: int = 8
    # IDs have a fixed length, so a stated ID one digit longer or shorter than
    # the roster's and otherwise equal (802 for 8023) is Whisper losing or
    # doubling a digit on a noisy line, not another agent's ID.
    tolerate_lost_digit: bool = True


def _one_digit_lost_or_added(heard: str, expected: str) -> bool:
    from rapidfuzz.distance import Levenshtein

    return abs(len(heard) - len(expected)) == 1 and Levenshtein.distance(heard, expected) == 1


@register
class EmployeeIdCheck(Check):
    """In the opening the agent states an employee ID, and it is their own.

    ``status`` is ``ok`` (stated, and equal to the roster's ID, or stated
    with no roster ID to compare), ``mismatch`` (another ID stated) or
    ``missing`` (none in the opening). IDs are read digit by digit (八零二三,
    幺 for 1); 工号 matches its homophones (公号, 攻号, 宫号) by pinyin.

    **Anti-pattern**: no ID, or someone else's.

    .. code-block:: text

        agent:    您好，请问有什么可以帮您？
        agent:    您好，工号八零二四，很高兴为您服务。   (roster: 8023)

    **Best practice**: the ID in the first sentence.

    .. code-block:: text

        agent:    您好，欢迎致电，工号八零二三，很高兴为您服务。
        agent:    您好，八零二三号客服为您服务。
    """

    id = "employee_id"
    name = "Employee ID stated"
    description = "In the first seconds of the call the agent states their employee ID (工号八零二三)."
    config_class = EmployeeIdConfig

    def run(self, transcript: Transcript, config: EmployeeIdConfig, context: CallContext) -> CheckResult:
        expected = parse_id(str(context.expected_employee_id).strip()) if context.expected_employee_id else None
        extra: dict = {"status": "missing", "heard_id": None, "expected_id": expected}
        agent = transcript.by_role("agent")
        if not agent:
            extra["reason"] = "the agent does not speak in this call"
            return CheckResult(self.id, None, 0.0, extra=extra)

        settings: MatchSettings = config.matching
        markers = compile_phrases(config.markers, settings)
        suffixes = [compile_phrases(config.suffixes, settings), compile_phrases(config.service_suffixes, settings)]
        opening_ends = agent[0][1].start + config.window_s
        stated: list[tuple[int, str, StatedId]] = []  # (utterance, field searched, id)
        for index, u in agent:
            if u.start > opening_ends:
                break
            # The normalized text first: it has the numerals made consistent and
            # the stray full-width digit Whisper writes for a comma (工号五六七八２很高兴)
            # turned back into one; the raw words only when it says nothing.
            for source, text in (("text", u.text), ("raw_text", u.raw_text)):
                ids = find_ids(text, markers, suffixes, config.min_digits, config.max_digits)
                if ids:
                    stated += [(index, source, s) for s in ids]
                    break

        if not stated:
            finding = utterance_finding(
                transcript,
                agent[0][0],
                f"no employee ID stated in the first {config.window_s:g} s of the agent's speech",
                config.deduction,
                settings,
            )
            return CheckResult(self.id, False, config.deduction, [finding], extra=extra)

        chosen = next((s for s in stated if s[2].digits == expected), None)
        slipped = chosen is None and expected is not None and config.tolerate_lost_digit
        if slipped:
            chosen = next((s for s in stated if _one_digit_lost_or_added(s[2].digits, expected)), None)
        index, source, heard = chosen or stated[0]
        extra["heard_id"] = heard.digits
        if expected is None or heard.digits == expected or (slipped and chosen):
            extra["status"] = "ok"
            if expected is None:
                extra["note"] = f"ID {heard.digits} stated; no roster ID to compare it with"
            elif heard.digits != expected:
                extra["note"] = (
                    f"heard {heard.digits}, one digit off the roster's {expected} in length: "
                    "taken as a recognition slip, not another ID"
                )
            return CheckResult(self.id, True, 0.0, extra=extra)

        extra["status"] = "mismatch"
        u = transcript.utterances[index]
        quoted = getattr(u, source)
        finding = utterance_finding(
            transcript,
            index,
            f"the agent stated employee ID {heard.digits}, the roster says {expected}",
            config.deduction,
            settings,
            {"heard_id": heard.digits, "quote": quoted[heard.start : heard.end], "span": [heard.start, heard.end]},
        )
        return CheckResult(self.id, False, config.deduction, [finding], extra=extra)
