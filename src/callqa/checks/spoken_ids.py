"""Employee IDs as spoken and as Whisper writes them.

Call centres read IDs digit by digit (八零二三), say 幺 for 1 (some 两 for 2), and sometimes
use place values (八千零二十三). Whisper on phone audio writes some digits as
characters that sound the same (要 for 幺, 期 for 七): those are read as
digits only next to real ones and only to complete an ID to the expected length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text import DIGIT_CHARS as _DIGITS
from ..text import SPOKEN_DIGITS, SYLLABLE_DIGITS, digit_sounding_like, is_han, near_sound, simplify, syllable, syllables
from .matching import PhraseList, find_phrases

_PLACE_VALUES = "十百千"
# A run of digits; single spaces, 、 or - may separate them (八 零 二 三, 80-23).
_DIGIT_RUN = re.compile(f"[{_DIGITS}{_PLACE_VALUES}两](?:[ 、\\-]?[{_DIGITS}{_PLACE_VALUES}两])*")
# Between 工号 and the digits: 是/为, a colon, a space (我的工号是：8023).
_AFTER_MARKER = re.compile(r"[\s:：是为]{0,3}")


def parse_id(run: str) -> str | None:
    """Digits of a spoken ID: 八零二三 / 8023 / 八 零 二 三 / 幺零零八 -> '8023' / '1008'.

    A run with place values (八千零二十三) is read as a number with cn2an;
    characters that only sound like digits (要, 期) are read as those digits.
    """
    run = re.sub(r"[ 、\-]", "", run)
    if not run:
        return None
    if any(ch in _PLACE_VALUES for ch in run):
        try:
            import cn2an

            return str(int(cn2an.cn2an(run.replace("幺", "一"), "smart")))
        except (ValueError, KeyError):
            return None
    if "两" in run:
        # Read digit by digit, some agents say 两 for 2 as they say 幺 for 1 (工号两零幺八); alone, 两 is a quantity.
        if not any(ch in _DIGITS for ch in run):
            return None
        run = run.replace("两", "二")
    digits = [SPOKEN_DIGITS.get(ch, ch) if ch in _DIGITS else digit_sounding_like(ch) for ch in run]
    return None if None in digits else "".join(digits)


def _leading_yao(simple: str, start: int) -> int:
    """幺 is how call centres say 1, and Whisper writes it 要/药/腰: a sound-alike
    of 幺 right before a digit run is its first digit, whatever the roster says."""
    if start > 0 and digit_sounding_like(simple[start - 1]) == "1" and syllable(simple[start - 1]) == "yao":
        return start - 1
    return start


def _grow(simple: str, start: int, end: int, want: int | None, floor: int = 0) -> tuple[int, int]:
    """Take sound-alike characters on either side of a digit run, first after it,
    then before it (not before ``floor``), until it reads as ``want`` digits."""
    if not want:
        return start, end
    while len(parse_id(simple[start:end]) or "") < want:
        if end < len(simple) and digit_sounding_like(simple[end]):
            end += 1
        elif start > floor and digit_sounding_like(simple[start - 1]):
            start -= 1
        else:
            break
    return start, end


@dataclass
class StatedId:
    digits: str
    start: int  # span in the text searched: the marker or the suffix included
    end: int
    digits_start: int = -1  # the span of the digits alone (as written: 八零二三, 8023, 要三五期)
    digits_end: int = -1


# Digits right after these name another number (您尾号8023的包裹, 手机号是…, 合同号后四位是…, 房源编号是…), not the
# agent's ID (我是编号八零二三的客服 is theirs).
_OTHER_NUMBER_BEFORE = re.compile(
    r"(尾号|单号|手机[号]?|电话[号码]?|号码|订单[号]?|账号|卡号|房号|车牌[号]?|合同[号]?|保单[号]?|热线|尾数"
    r"|后[两二三四五六七八]位|(房源|合同|订单|商品|产品|设备|工单|快递|包裹|车辆|报案|案件|会员)编号)[是为：:]?\s*$"
)
# ... or right before these: 8023号房源, 8023号楼.
_OTHER_NUMBER_AFTER = re.compile(r"^号?(房源|房间|楼|单元|室|线|柜|车厢|航班|车次|订单|包裹)")
_SEPARATORS = " 、-"  # inside one number read out in groups (400 820 8023)


def find_ids(
    text: str,
    markers: PhraseList,
    suffixes: PhraseList | list[PhraseList],
    min_digits: int,
    max_digits: int,
    want: int | None = None,
) -> list[StatedId]:
    """Employee IDs stated in one utterance's text, in order.

    Two forms: a marker then digits (工号八零二三, 我的工号是8023, 公号 by
    homophone), or digits then a suffix (八零二三号客服为您服务). ``want``, the
    expected ID's length, lets sound-alike characters complete a digit run.
    """
    simple = simplify(text)
    lists = suffixes if isinstance(suffixes, list) else [suffixes]

    def suffix_at(pos: int) -> int | None:
        """Where a suffix ends when one starts at ``pos`` (after spaces); None otherwise.
        Lists are searched one by one: a short exact match (为您服务) must not hide
        a longer fuzzy one (号特服为您服务)."""
        rest = simple[pos : pos + 12]
        lead = len(rest) - len(rest.lstrip())
        return next((pos + lead + 1 for phrases in lists for m in find_phrases(rest, phrases) if m.start == lead), None)

    def fits(digits: str | None) -> bool:
        return bool(digits) and min_digits <= len(digits) <= max_digits

    found: list[StatedId] = []
    for marker in find_phrases(text, markers):
        begin = _AFTER_MARKER.match(simple, marker.end).end()
        other = _OTHER_NUMBER_BEFORE.search(simple[:begin])
        if other and other.start() < marker.start:
            continue  # a marker heard inside another number's name (员工编号 fuzzily in 房源编号是8023)
        first_real = begin
        while first_real < min(begin + 2, len(simple)) and digit_sounding_like(simple[first_real]):
            first_real += 1  # 工号要三五七: the run may open with sound-alikes
        run = _DIGIT_RUN.match(simple, first_real)
        if not run:
            continue
        start = begin if first_real > begin and (want or _leading_yao(simple, first_real) == begin) else run.start()
        start, end = _grow(simple, start, run.end(), want, floor=begin)
        digits = parse_id(simple[start:end])
        if fits(digits):
            found.append(StatedId(digits, marker.start, end, start, end))
    for run in _DIGIT_RUN.finditer(simple):
        if any(s.start <= run.start() < s.end for s in found):
            continue  # already read after a marker
        start = _leading_yao(simple, run.start())
        for a, b in dict.fromkeys([(start, run.end()), _grow(simple, start, run.end(), want)]):
            digits, suffix_end = parse_id(simple[a:b]), suffix_at(b)
            if fits(digits) and suffix_end is not None:
                found.append(StatedId(digits, a, suffix_end, a, b))
                break
    return sorted(found, key=lambda s: s.start)


# Each digit's readings (幺 for 1 included) as a phone line blurs them: no two digits share one.
_BLURRED_DIGITS = {near_sound(reading): digit for reading, digit in SYLLABLE_DIGITS.items()}


def _is_digit_at(text: str, k: int, step: int = 0) -> bool:
    """A digit at ``k``, or (``step`` -1 or +1) past one separator there, as in a number read in groups."""
    if step and 0 <= k < len(text) and text[k] in _SEPARATORS:
        k += step
    return 0 <= k < len(text) and text[k] in _DIGITS


def roster_id_by_sound(text: str, expected: str) -> tuple[int, int] | None:
    """Where ``text`` reads as the roster's ID by sound, or None: every character of a stretch the ID's length is
    its digit, a character that sounds exactly like it (其 for 七, 腰 for 幺, 领 for 零) or, once and inside the
    stretch, one a phone line blurs with it (次 ci for 四 si: 其五次腰领 for 七五四幺零), not inside a longer run of
    digits, and not right after words that name another number (尾号, 手机号...).

    Only the roster's own ID is read this way: no two digits sound alike by these rules, so another agent's ID
    never reads as it, while a stretch that is no ID at all would need every one of its syllables to."""
    simple, n = simplify(text), len(expected)
    readings = syllables(simple)
    for i in range(len(simple) - n + 1):
        if (_OTHER_NUMBER_BEFORE.search(simple[:i]) or _OTHER_NUMBER_AFTER.match(simple[i + n :])
                or _is_digit_at(simple, i - 1, -1) or _is_digit_at(simple, i + n, +1)):
            continue  # another number's digits, or a longer number's (热线4000802366, 400 820 8023)
        blurred = []
        for k, (ch, digit) in enumerate(zip(simple[i : i + n], expected)):
            if ch in _DIGITS:
                if SPOKEN_DIGITS.get(ch, ch) != digit:
                    break
            elif not is_han(ch) or ch in _PLACE_VALUES or ch in "两万":
                break
            elif SYLLABLE_DIGITS.get(readings[i + k]) != digit:
                if _BLURRED_DIGITS.get(near_sound(readings[i + k])) != digit:
                    break
                blurred.append(k)
        else:
            if len(blurred) <= 1 and all(0 < k < n - 1 for k in blurred):
                return i, i + n
    return None
