"""Mandarin clean-up of Whisper text: Simplified script, consistent numerals.

``normalize_text`` produces the ``Utterance.text`` that checks match on; the
raw Whisper text is kept beside it as evidence. It never fixes homophones
(公号 stays 公号): that is the fuzzy matchers' job, and guessing here would
put words in a speaker's mouth.

Numeral rule (digit-by-digit readings only; quantities are left as written):

* A *digit character* is 零〇一幺二三四五六七八九 or 0-9. 两 is not one:
  nobody reads IDs with it, and it is common in ordinary words (两天).
* A maximal run of digit characters becomes Arabic digits when it is
  - at least 3 characters long (八零二三 -> 8023, 二零二三年 -> 2023年), or
  - at least 2 long right after an ID word (工号/尾号/编号/号码/分机 ... 号/码,
    optionally followed by 是/为/: ), e.g. 尾号八九 -> 尾号89;
  and it does not touch a place-value character (十百千万亿). Spelled
  quantities such as 一千零一, 一五一十, 三十五 are therefore left alone.
* Runs of single digits separated by spaces or 、 (八 零 二 三, 8 0 2 3) are
  joined first: Whisper sometimes writes a slowly read ID that way.
* A lone full-width digit between Chinese characters (您好２工号) is a comma
  Whisper misspelt, not a digit (see _LONE_FULL_WIDTH_DIGIT).
* A run followed by a classifier (四五六个人) is an approximate count and
  stays, unless it follows an ID word; so does the idiom 七七八八.
* Shorter runs stay as words: 一下, 一些, 三天, 十分, 一个星期, 不一定,
  三四天 (an approximate count, not an ID).

Full-width ASCII letters and digits become half-width; punctuation is kept
as written (Chinese punctuation stays full-width), except that small-form
variants (﹐﹑﹒﹔﹕﹖﹗, U+FE50..) become the usual full-width marks and
ASCII , ? ! : ; right after a Chinese character become ，？！：；.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .cjk import is_content_char
from .digits import DIGIT_CHARS as _DIGIT_CHARS
from .digits import SPOKEN_DIGITS

__all__ = ["normalize_text", "to_simplified", "to_half_width", "digits_to_arabic", "content_key", "simplify"]

_PLACE_VALUE_CHARS = "十拾百佰千仟万萬亿億"

_DIGIT_RUN = re.compile(f"[{_DIGIT_CHARS}]+")
# Single digit characters separated by a space or 、, at least three of them.
_SPACED_DIGITS = re.compile(f"(?<![{_DIGIT_CHARS}])[{_DIGIT_CHARS}](?:[ 、][{_DIGIT_CHARS}]){{2,}}(?![{_DIGIT_CHARS}])")
# Words after which even two digit characters are an ID fragment (尾号八九).
# Ends in 号 or 码 so that homophones Whisper writes (公号) still count.
_ID_CONTEXT = re.compile(r"(?:[号码]|分机)(?:是|为|：|:|\s)?$")
# Counts end in a classifier; digit-by-digit readings do not (年 is left out:
# 二零二三年 is a year read digit by digit).
_CLASSIFIERS = frozenset("个位天次块元角分秒岁只件本张条家台部遍趟周层栋斤")
_IDIOMS = frozenset({"七七八八"})
_MIN_RUN = 3
_MIN_RUN_AFTER_ID_WORD = 2

# Full-width ASCII letters/digits (U+FF10..) to half-width; punctuation untouched.
_FULL_WIDTH_ALNUM = {
    **{0xFF10 + i: 0x30 + i for i in range(10)},
    **{0xFF21 + i: 0x41 + i for i in range(26)},
    **{0xFF41 + i: 0x61 + i for i in range(26)},
    0x3000: 0x20,  # ideographic space
    # Small form variants Whisper sometimes writes (﹐ for ，) to the usual full-width marks.
    **{ord(small): ord(full) for small, full in zip("﹐﹑﹒﹔﹕﹖﹗", "，、。；：？！")},
}
_WHITESPACE = re.compile(r"\s+")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@lru_cache(maxsize=1)
def _opencc_t2s():
    try:
        import opencc
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise RuntimeError("Simplified-Chinese conversion needs OpenCC: pip install opencc==1.4.2") from e
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional to Simplified characters (OpenCC 't2s')."""
    if not text:
        return text
    # A lone surrogate (from a mis-decoded file) can't be encoded for OpenCC: one U+FFFD each keeps the length.
    return _opencc_t2s().convert(_LONE_SURROGATE.sub("\ufffd", text))


@lru_cache(maxsize=1)
def _opencc_s2t():
    import opencc

    return opencc.OpenCC("s2t")


def in_script_of(model: str, text: str) -> str:
    """``text`` in the script ``model`` is written in: Traditional when ``model`` holds Traditional
    characters (Whisper writes either on phone audio), else as given. A candidate put into a heard
    utterance must be written as Whisper would have written it, or its score measures the script."""
    if not text or not model or not _is_traditional(model):
        return text
    return _opencc_s2t().convert(text)


@lru_cache(maxsize=256)
def _is_traditional(text: str) -> bool:
    # Asked once per heard utterance, however many candidates are written into it.
    return to_simplified(text) != text


def to_half_width(text: str) -> str:
    """Full-width ASCII letters, digits and the ideographic space to half-width;
    small-form punctuation (﹐) to its usual full-width form (，)."""
    return text.translate(_FULL_WIDTH_ALNUM)


def _join_spaced_digits(text: str) -> str:
    return _SPACED_DIGITS.sub(lambda m: re.sub(r"[ 、]", "", m.group(0)), text)


def digits_to_arabic(text: str) -> str:
    """Digit-by-digit Chinese numerals to Arabic digits, by the rule in the module doc."""
    text = _join_spaced_digits(text)

    def convert(m: re.Match[str]) -> str:
        run = m.group(0)
        before = text[m.start() - 1 : m.start()]
        after = text[m.end() : m.end() + 1]
        if (before and before in _PLACE_VALUE_CHARS) or (after and after in _PLACE_VALUE_CHARS):
            return run  # part of a spelled quantity: 一千零一, 一五一十
        if run.isascii():
            return run
        after_id_word = _ID_CONTEXT.search(text[max(0, m.start() - 4) : m.start()]) is not None
        needed = _MIN_RUN_AFTER_ID_WORD if after_id_word else _MIN_RUN
        if len(run) < needed or run in _IDIOMS:
            return run
        if not after_id_word and after in _CLASSIFIERS:
            return run  # 四五六个人: an approximate count, not an ID
        return "".join(SPOKEN_DIGITS.get(ch, ch) for ch in run)

    return _DIGIT_RUN.sub(convert, text)


# Whisper's Chinese output writes numbers as Chinese numerals or ASCII digits.
# On phone audio it sometimes writes a lone full-width digit where a comma
# belongs (您好２工号五六七八２很高兴为您服务): one such digit between two
# Chinese characters is read as that comma, never as a digit of an ID
# (except after 第, where a digit is what an ordinal needs).
_LONE_FULL_WIDTH_DIGIT = re.compile(r"(?<=[\u4e00-\u9fff])(?<!第)[０-９](?=[\u4e00-\u9fff]|$)")


# Whisper mixes ASCII and Chinese punctuation in one sentence (好的,请您稍等，…).
# After a Chinese character the ASCII marks become the Chinese ones, so that
# checks split sentences and quote text one way; 1,000 and Amara.org keep theirs.
_ASCII_TO_CHINESE_PUNCTUATION = {",": "，", "?": "？", "!": "！", ":": "：", ";": "；"}
_ASCII_PUNCTUATION_AFTER_CJK = re.compile(r"(?<=[\u4e00-\u9fff])[,?!:;]")
# ... and between a number and Chinese text (工号5678,很高兴), where 1,000 keeps its comma.
_ASCII_PUNCTUATION_AFTER_NUMBER = re.compile(r"(?<=[0-9])[,?!:;](?=[\u4e00-\u9fff])")


def normalize_text(raw: str) -> str:
    """Whisper's text as checks should read it: Simplified, half-width
    letters and digits, digit-by-digit numerals as Arabic digits, whitespace
    collapsed, punctuation kept. Homophones are not touched."""
    text = _LONE_FULL_WIDTH_DIGIT.sub("，", raw or "")
    text = to_half_width(text)
    text = to_simplified(text)
    text = _WHITESPACE.sub(" ", text).strip()
    text = _ASCII_PUNCTUATION_AFTER_CJK.sub(lambda m: _ASCII_TO_CHINESE_PUNCTUATION[m.group(0)], text)
    text = digits_to_arabic(text)
    return _ASCII_PUNCTUATION_AFTER_NUMBER.sub(lambda m: _ASCII_TO_CHINESE_PUNCTUATION[m.group(0)], text)


def content_key(text: str) -> str:
    """What a text says, for comparisons: Simplified, half-width, lower case,
    without punctuation or spaces."""
    return "".join(ch for ch in to_simplified(to_half_width(text)).lower() if is_content_char(ch))


def simplify(text: str) -> str:
    """Simplified, half-width text of the same length as ``text``, so spans carry over."""
    converted = to_simplified(to_half_width(text))
    if len(converted) == len(text):
        return converted
    # OpenCC occasionally changes length (phrase tables); fall back to one
    # character at a time so positions still line up with the original.
    return "".join((c if len(c := to_simplified(to_half_width(ch))) == 1 else ch) for ch in text)
