"""normalize_text: table-driven cases in tests/data/asr_normalize_cases.yaml."""

from pathlib import Path

import pytest
import yaml

from callqa.text import digits_to_arabic, normalize_text, to_half_width

CASES = yaml.safe_load((Path(__file__).parent / "data" / "asr_normalize_cases.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["raw"] or "<empty>" for c in CASES])
def test_normalize_text(case):
    assert normalize_text(case["raw"]) == case["expected"], case["why"]


@pytest.mark.parametrize("case", CASES, ids=[c["raw"] or "<empty>" for c in CASES])
def test_normalize_is_idempotent(case):
    once = normalize_text(case["raw"])
    assert normalize_text(once) == once


def test_chinese_punctuation_stays_full_width():
    assert to_half_width("８，。？！：Ａ") == "8，。？！：A"


def test_digit_rule_does_not_touch_place_value_runs():
    assert digits_to_arabic("一百二十三") == "一百二十三"
    assert digits_to_arabic("二三四五万") == "二三四五万"
