"""Held-out wordings: the checks on words none of the corpus's scripts uses (tests/data/wordings.yaml).

The corpus (corpus/README.md) speaks in its generator's paraphrases; calls from other centres word the same
acts otherwise (您好，顺达快递热线; 我是客服八零二三; 您先别挂; 我对你们的服务太失望了). Each wording here is put
into one clean call in its act's place, and the check it concerns must come to the verdict given, so a
rule tuned to the corpus's words alone shows up here. Clean text: how Whisper garbles words is the corpus's
part; Traditional script, missing punctuation and Arabic digits, which Whisper writes, are here too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_checks import _transcript

from callqa.checks.base import CallContext
from callqa.checks.registry import get_check
from callqa.scoring.scorecard import load_scorecard

TABLE = Path(__file__).parent / "data" / "wordings.yaml"
_RESUME = "您的快递已经到达本地网点，今天下午会派送。"
_HOLD_S = 8.0  # the silence of the lookup: a wait the hold etiquette applies to


def clean_call(**acts) -> list[list]:
    """Transcript rows of a courier call every check passes; ``acts`` replace its parts."""
    a = {"greeting": "您好，欢迎致电顺达快递，工号八零二三为您服务，请问有什么可以帮您？", "request": "你好，我想查一下我的快递到哪了。",
         "exchange": [], "ask_to_wait": "好的，请您稍等，我帮您查询一下。", "after_wait": "感谢您的耐心等待，" + _RESUME,
         "reply": "好的，谢谢。", "later": [], "anything_else": "请问还有其他可以帮您的吗？", "no_more": "没有了。",
         "farewell": "感谢您的来电，祝您生活愉快，再见。", **acts}
    turns = [("agent", a["greeting"], 0.6), ("customer", a["request"], 0.6)]
    turns += [(role, text, 0.6) for role, text in a["exchange"]]
    turns += [("agent", a["ask_to_wait"], 0.6), ("agent", a["after_wait"], _HOLD_S), ("customer", a["reply"], 0.6)]
    turns += [(role, text, 0.6) for role, text in a["later"]]
    turns += [("agent", a["anything_else"], 0.6), ("customer", a["no_more"], 0.6), ("agent", a["farewell"], 0.6)]
    rows, t = [], 0.0
    for role, text, gap in turns:
        if text:
            start = t + gap
            t = start + 0.22 * len(text)  # a brisk 4.5 characters a second
            rows.append([role, round(start, 2), round(t, 2), text])
    return rows


# Where a group's wording goes: a function of the wording giving clean_call's acts.
SLOTS = {
    "greeting": lambda w: {"greeting": f"{w}，工号八零二三为您服务，请问有什么可以帮您？"},
    "greeting_line": lambda w: {"greeting": w},  # the whole opening as written
    "id": lambda w: {"greeting": f"您好，欢迎致电顺达快递，{w}，请问有什么可以帮您？"},
    "ask_to_wait": lambda w: {"ask_to_wait": w},
    "thanks_after_wait": lambda w: {"after_wait": w + _RESUME},
    "complaint_then_apology": lambda w: {"exchange": [("customer", w), ("agent", "非常抱歉，我马上帮您处理。")]},
    "complaint_unanswered": lambda w: {"exchange": [("customer", w), ("agent", "我马上帮您处理。")]},
    "apology_to_complaint": lambda w: {"exchange": [("customer", "你们这服务太差了，我要投诉！"), ("agent", w + "我马上帮您处理。")]},
    "complaint_at_the_end": lambda w: {"exchange": [("customer", w), ("agent", "非常抱歉，我马上帮您处理。")], "reply": w},
    "request": lambda w: {"request": w},
    "agent_answer": lambda w: {"later": [("customer", "能不能今天送到？"), ("agent", w)]},
    "customer_words": lambda w: {"later": [("customer", w), ("agent", "好的。")]},
    "closing": lambda w: dict(zip(("anything_else", "farewell"), w.split(" / "))),
    "last_words": lambda w: {"no_more": w},
}


def _cases():
    for group in yaml.safe_load(TABLE.read_text(encoding="utf-8"))["groups"]:
        for wording in group["wordings"]:
            text, expected_id = (wording, group.get("expected_id", "8023")) if isinstance(wording, str) else wording
            yield pytest.param(group["check"], group["slot"], text, str(expected_id), group["expect"],
                               id=f"{group['check']} {group['expect']} ({group['slot']}): {text}")


@pytest.fixture(scope="module")
def scorecard():
    return load_scorecard(None)


def test_the_clean_call_passes_every_check_it_concerns(scorecard):
    transcript = _transcript(clean_call())
    for check_id in {g["check"] for g in yaml.safe_load(TABLE.read_text(encoding="utf-8"))["groups"]}:
        result = get_check(check_id)().run(transcript, scorecard.checks[check_id], CallContext("w", "A1", "8023"))
        assert result.passed is True, (check_id, [f.detail for f in result.findings])


@pytest.mark.parametrize("script", ["simplified", "traditional"])
@pytest.mark.parametrize("check_id,slot,wording,expected_id,expect", list(_cases()))
def test_a_held_out_wording(check_id, slot, wording, expected_id, expect, script, scorecard):
    rows = clean_call(**SLOTS[slot](wording))
    if script == "traditional":  # as Whisper often writes a whole call (萬一明天不行，您再打給我們)
        rows = [[*row[:3], _to_traditional(row[3])] for row in rows]
    transcript = _transcript(rows)
    result = get_check(check_id)().run(transcript, scorecard.checks[check_id], CallContext("w", "A1", expected_id))
    verdict = {True: "pass", False: "fail", None: "none"}[result.passed]
    assert verdict == expect, [f.detail for f in result.findings] or result.extra


def _to_traditional(text: str) -> str:
    import opencc

    global _S2T
    _S2T = _S2T or opencc.OpenCC("s2t")
    return _S2T.convert(text)


_S2T = None
