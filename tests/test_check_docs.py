"""Every registered check's docstring: its anti-pattern fails and its best practice passes, as sqlfluff runs its rules' examples.

A docstring's examples are ``.. code-block:: text`` blocks after an
``**Anti-pattern**`` and a ``**Best practice**`` label: lines ``role: words``,
``(12 s silence)`` for a pause, and after a line ``(roster: 8023)`` for the
agent's roster ID or ``(-20 dB)`` for its level; before the words,
``(2 s overlap)`` starts the line that long before the previous one ends and
``(fast)`` says it was spoken at 450 characters a minute. Each block is run
as a transcript with the default scorecard.
"""

from __future__ import annotations

import re

import pytest

from callqa.asr.transcript import Transcript, Utterance
from callqa.checks.base import CallContext
from callqa.checks.registry import CHECKS
from callqa.scoring.scorecard import load_scorecard
from callqa.text import normalize_text

_LINE = re.compile(r"^(agent|customer):\s*(.+?)\s*(?:\(roster:\s*(\d+)\))?\s*(?:\((-?\d+(?:\.\d+)?) dB\))?$")
_OVERLAP = re.compile(r"^\((\d+(?:\.\d+)?) s overlap\)\s*")
_FAST = re.compile(r"^\(fast\)\s*")
_SILENCE = re.compile(r"^\((\d+(?:\.\d+)?) s silence\)$")


def examples(doc: str) -> tuple[dict[str, list[str]], str | None]:
    """{'anti': [lines], 'best': [lines]} and the roster ID the examples name."""
    blocks: dict[str, list[str]] = {}
    label, current, roster = None, None, None
    for raw in doc.splitlines():
        line = raw.strip()
        if "**Anti-pattern**" in line:
            label = "anti"
        elif "**Best practice**" in line:
            label = "best"
        elif line.startswith(".. code-block::") and label:
            current = blocks.setdefault(label, [])
        elif current is not None and line and not raw.startswith(" " * 8):
            current = None  # the block ended
        elif current is not None and line:
            current.append(line)
            if m := _LINE.match(line):
                roster = m.group(3) or roster
    return blocks, roster


def transcript(lines: list[str]) -> Transcript:
    utterances, t = [], 0.5
    for line in lines:
        if m := _SILENCE.match(line):
            t += float(m.group(1))
            continue
        m = _LINE.match(line)
        assert m, f"not an example line: {line!r}"
        role, words, level = m.group(1), m.group(2), m.group(4)
        if (o := _OVERLAP.match(words)) and utterances:
            t, words = utterances[-1].end - float(o.group(1)), words[o.end():]
        fast, words = bool(_FAST.match(words)), _FAST.sub("", words)
        seconds = len(words) * 60 / 450 if fast else max(1.0, 0.25 * len(words))
        u = Utterance(role, t, t + seconds, normalize_text(words), words, 0.9, channel=0 if role == "agent" else 1,
                      speech_s=seconds, loudness_db=float(level) if level else None)
        utterances.append(u)
        t = max(t + seconds, max(x.end for x in utterances)) + 0.5
    return Transcript("doc", "doc.wav", "A1", "agent,customer", t, utterances)


@pytest.mark.parametrize("check_id", list(CHECKS))
def test_anti_pattern_fails_and_best_practice_passes(check_id):
    cls = CHECKS[check_id]
    blocks, roster = examples(cls.__doc__ or "")
    assert set(blocks) == {"anti", "best"}, f"{cls.__name__}'s docstring needs both examples"
    config = load_scorecard(None).checks[check_id]
    context = CallContext("doc", "A1", roster)
    assert cls().run(transcript(blocks["anti"]), config, context).passed is False
    assert cls().run(transcript(blocks["best"]), config, context).passed is True


@pytest.mark.parametrize("check_id", list(CHECKS))
def test_metadata_is_filled(check_id):
    cls = CHECKS[check_id]
    assert cls.id == check_id and cls.name and cls.name_zh and cls.description
    assert cls.__module__ == f"callqa.checks.rules.{check_id}", "one check per module, named after its id"
