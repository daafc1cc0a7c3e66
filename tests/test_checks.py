"""Every check against its table of cases in tests/data/checks/<check_id>.yaml.

A case is a transcript excerpt (rows of [role, start, end, raw text], then
optionally the ASR confidence, the role confidence and a mapping of measures:
speech_s, loudness_db), optionally the call's ``channels`` (default
agent,customer) and measured ``speech`` spans per role, an optional context
(expected_id) and config overrides, and what must come out: ``expect`` pass / fail / none (passed
null), and optionally ``expected`` fields:

    findings: 2                  number of findings
    deduction: 10                the check's total deduction
    status / heard_id / expected_id / ...   keys of CheckResult.extra
    phrases: [不行]              Finding.extra["phrase"] of each finding, in order
    quotes: [不行]               Finding.extra["quote"] of each finding
    missing: [ask_to_wait]       Finding.extra["missing"] of each finding
    utterances: [2]              Finding.utterance of each finding
    low_confidence: [true]       Finding.low_confidence of each finding
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from callqa.text import normalize_text
from callqa.asr.transcript import PromptEcho, Transcript, Utterance
from callqa.checks.base import CallContext
from callqa.checks.registry import CHECKS, get_check
from callqa.scoring.scorecard import load_scorecard

DATA = Path(__file__).parent / "data" / "checks"
FINDING_LISTS = {
    "phrases": lambda f: f.extra.get("phrase"),
    "quotes": lambda f: f.extra.get("quote"),
    "missing": lambda f: f.extra.get("missing"),
    "utterances": lambda f: f.utterance,
    "low_confidence": lambda f: f.low_confidence,
}


def _cases():
    for path in sorted(DATA.glob("*.yaml")):
        table = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in table["cases"]:
            yield pytest.param(table["check"], case, id=f"{table['check']}: {case['name']}")


def _transcript(rows: list[list], channels: str = "agent,customer", speech: dict | None = None,
                echoes: list[list] | None = None) -> Transcript:
    """Rows [role, start, end, raw text, confidence?, role confidence?, {speech_s, loudness_db}?]; ``echoes``
    [role, start, end, the prompt's words] where Whisper wrote its prompt back."""
    utterances = []
    for row in rows:
        role, start, end, raw, *rest = row
        measures = rest.pop() if rest and isinstance(rest[-1], dict) else {}
        confidence, role_confidence = (rest + [0.9, 1.0][len(rest) :])[:2]
        text = normalize_text(raw)
        channel = None if channels == "mono" else channels.split(",").index(role)
        utterances.append(Utterance(role, float(start), float(end), text, raw, confidence, role_confidence, channel,
                                    **measures))
    duration = max((u.end for u in utterances), default=0.0)
    return Transcript("case", "case.wav", "A1", channels, duration, utterances, speech=speech or {},
                      prompt_echoes=[PromptEcho(*echo) for echo in echoes or []])


@pytest.fixture(scope="module")
def scorecard():
    return load_scorecard(None)


def test_every_registered_check_has_a_table():
    assert {p.stem for p in DATA.glob("*.yaml")} == set(CHECKS)


@pytest.mark.parametrize("check_id,case", list(_cases()))
def test_check_case(check_id, case, scorecard):
    config = dataclasses.replace(scorecard.checks[check_id], **case.get("config", {}))
    context = CallContext("case", "A1", (case.get("context") or {}).get("expected_id"))
    transcript = _transcript(case["transcript"], case.get("channels", "agent,customer"), case.get("speech"),
                             case.get("prompt_echoes"))
    result = get_check(check_id)().run(transcript, config, context)

    expect = {"pass": True, "fail": False, "none": None}[case["expect"]]
    assert result.passed is expect, [f.detail for f in result.findings] or result.extra
    if result.passed is False:
        assert result.findings, "a failing check must give evidence"
        assert result.deduction == pytest.approx(sum(f.deduction for f in result.findings))
        for f in result.findings:
            assert f.role == "agent" or not f.deduction, "a finding that takes points quotes the agent"
            assert f.text and f.detail
    else:
        assert result.deduction == 0 and not any(f.deduction for f in result.findings)
        if "findings" not in (case.get("expected") or {}):
            assert not result.findings, "a passing check gives no evidence unless the case says how much"

    expected = dict(case.get("expected") or {})
    if "findings" in expected:
        assert len(result.findings) == expected.pop("findings")
    if "deduction" in expected:
        assert result.deduction == pytest.approx(expected.pop("deduction"))
    for key, get in FINDING_LISTS.items():
        if key in expected:
            assert [get(f) for f in result.findings] == expected.pop(key), key
    for key, value in expected.items():
        assert result.extra.get(key) == value, key
