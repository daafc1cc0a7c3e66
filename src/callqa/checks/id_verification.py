"""The employee ID, put to the audio: which ID did the agent say, if any?

The opening is rescored with the roster's ID, the ID Whisper heard, and the
IDs a phone line confuses them with (one digit replaced by its sound-alike:
一/七, 六/九, ...); ``ok`` only when the roster's ID wins clearly, ``mismatch``
only when another ID wins by ``mismatch_margin`` (which one is recorded) and is
not the roster's own with digits lost, otherwise the check needs listening.
Where no ID was heard at all (资料爱衣 for 四六二一), the roster's ID put in the
place the words most resemble an ID statement
must beat its sound-alikes there and cost little against the heard words
(``verify_missing_id``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import LCSseq

from ..asr.transcript import Transcript
from ..text import SPOKEN_DIGITS
from .base import VerificationSettings
from .spoken_ids import StatedId
from .verification import NOT_SAID, SAID, UNCERTAIN, Verification, Verifier, phrase_candidates, replace_span

__all__ = ["IdVerdict", "verify_stated_id", "verify_missing_id", "CONFUSABLE_DIGITS"]

# Digits a phone line and Whisper base confuse (toneless readings that differ in one sound).
CONFUSABLE_DIGITS: dict[str, str] = {"1": "7", "7": "1", "6": "9", "9": "6", "4": "0", "0": "4", "3": "8", "8": "3",
                                     "2": "5", "5": "2"}
_CHINESE = {v: k for k, v in SPOKEN_DIGITS.items() if k not in "〇幺"}


@dataclass
class IdVerdict:
    status: str  # ok | mismatch | missing | uncertain
    heard_id: str | None  # the ID the audio supports (or the heard one, when uncertain)
    verification: Verification


def _written_like(digits: str, example: str) -> str:
    """``digits`` in the script the heard ID was written in: 8023, or 八零二三 (幺 for 1, 两 for 2 kept if heard)."""
    if any(ch.isascii() and ch.isdigit() for ch in example):
        return digits
    one = "幺" if "幺" in example or "要" in example else "一"
    two = "两" if "两" in example else "二"
    return "".join(one if d == "1" else two if d == "2" else _CHINESE.get(d, d) for d in digits)


def _confusions(digits: str, limit: int) -> list[str]:
    out = []
    for k, d in enumerate(digits):
        if d in CONFUSABLE_DIGITS:
            out.append(digits[:k] + CONFUSABLE_DIGITS[d] + digits[k + 1 :])
    return out[:limit]


# What may follow an ID's digits and is not part of them: its measure word, 为您服务, punctuation.
_ID_END = re.compile(r"[号为\W\s]")


def _placements(heard_text: str, stated: StatedId, candidate: str, written: str) -> list[str]:
    """The heard utterance with ``candidate`` in the stated ID's place. When the candidate is longer than the
    digits Whisper wrote, its place may also take in the characters Whisper wrote for the digits it could not
    read (我是三三四季7号 for 三三四七七号; 工号128元里 for 一二八五五): up to one more character for each digit
    missing, never past the ID's end (号, 为您服务, punctuation)."""
    start, end = stated.digits_start, stated.digits_end
    texts = [replace_span(heard_text, start, end, written)]
    for extra in range(1, len(candidate) - len(stated.digits) + 1):
        if end + extra > len(heard_text) or _ID_END.match(heard_text[end + extra - 1]):
            break
        texts.append(replace_span(heard_text, start, end + extra, written))
    return texts


def verify_stated_id(transcript: Transcript, index: int, heard_text: str, stated: StatedId, expected: str,
                     verifier: Verifier, settings: VerificationSettings) -> IdVerdict:
    """Rescore the utterance with each candidate ID in the stated ID's place."""
    span = heard_text[stated.digits_start : stated.digits_end]
    ids = list(dict.fromkeys([expected, stated.digits, *_confusions(expected, 2), *_confusions(stated.digits, 2)]))
    ids = ids[: settings.max_candidates + 1]
    placed = [(i, text) for i in ids for text in _placements(heard_text, stated, i, _written_like(i, span))]
    scores = verifier.score_utterance(transcript, index, [text for _, text in placed])
    by_id: dict[str, Any] = {}  # each ID's best placement
    for (i, _), score in zip(placed, scores):
        if i not in by_id or score.logprob > by_id[i].logprob:
            by_id[i] = score
    roster = by_id[expected].logprob
    best_other_id = max((i for i in ids if i != expected), key=lambda i: by_id[i].logprob, default=None)
    other = by_id[best_other_id].logprob if best_other_id else float("-inf")
    record = Verification("which employee ID did the agent state?", index, heard_text, by_id[stated.digits].logprob,
                          [(s.text, s.logprob) for s in scores], margin=roster - other)
    # Whisper's own reading fits its audio best by a few nats (mismatch_margin), so a sound-alike that merely ties
    # with it is no evidence: when Whisper wrote the roster's ID, only a rival that beats it clearly overturns it.
    # On the corpus dev split 2 of 34 IDs heard exactly as the roster's were left to listening by a tie.
    if roster - other >= settings.id_margin or (stated.digits == expected and other - roster < settings.mismatch_margin):
        record.outcome = SAID
        return IdVerdict("ok", expected, record)
    if other - roster >= settings.mismatch_margin:
        if _roster_id_cut_short(best_other_id, expected):
            record.reason = (f"the audio fits {best_other_id} best, which reads like the roster's {expected} with "
                             "digits lost: listen to the ID")
            return IdVerdict("uncertain", stated.digits, record)
        record.outcome = NOT_SAID
        record.reason = f"the audio holds {best_other_id}, not the roster's {expected}"
        return IdVerdict("mismatch", best_other_id, record)
    record.outcome = UNCERTAIN
    record.reason = (f"the audio fits {expected} and {best_other_id} about equally "
                     f"(margin {roster - other:+.1f}): listen to the ID")
    return IdVerdict("uncertain", stated.digits, record)


def _roster_id_cut_short(heard: str, expected: str) -> bool:
    """Whether ``heard`` could be the roster's ID with digits lost: shorter, and all of its digits but one found
    in the roster's, in order. Whisper loses digits of an ID it mishears (最后510号 for 四五五幺号), and then its
    own short reading fits best, which is no evidence of another ID: on corpus dev both IDs convicted that way
    (880 for 88020, 510 for 4551) were the roster's, while other agents' IDs (852 or 620 for 8901, 8630 for
    88020) share at most two digits in order with it."""
    return len(heard) < len(expected) and LCSseq.similarity(heard, expected) >= len(heard) - 1


def verify_missing_id(transcript: Transcript, indices: list[int], expected: str, verifier: Verifier,
                      settings: VerificationSettings) -> IdVerdict:
    """No ID was heard: did the agent say the roster's ID where Whisper wrote other words (资料爱衣 for 四六二一)?

    Whisper's own words are its best guess, so any other text in their place scores lower; what tells an
    ID said and misheard from none said is which ID fits that place. The roster's ID, put where the heard
    words most resemble an ID statement, must beat the IDs a line confuses it with, in the same place, by
    ``id_slot_margin``, and cost at most ``id_slot_cost`` nats a digit against the heard words; a cost of more
    than twice that, or nothing resembling an ID statement, is ``missing``; anything else needs listening.
    """
    best: Verification | None = None
    for index in indices[:2]:
        record = _ask_slot(transcript, index, expected, verifier, settings)
        if record is None:
            continue
        if record.outcome == SAID:
            return IdVerdict("ok", expected, record)
        if best is None or _rank(record) > _rank(best):
            best = record
    if best is None:
        best = Verification("did the agent state the roster's employee ID?", indices[0] if indices else -1, "", 0.0,
                            outcome=NOT_SAID, reason="nothing in the opening resembles an ID")
    return IdVerdict("uncertain" if best.outcome == UNCERTAIN else "missing", None, best)


def _rank(record: Verification) -> tuple[bool, float]:
    return record.outcome == UNCERTAIN, record.margin


def _ask_slot(transcript: Transcript, index: int, expected: str, verifier: Verifier,
              settings: VerificationSettings) -> Verification | None:
    """The roster's ID in the heard words' place, against the heard words and the sound-alike IDs there."""
    heard = transcript.utterances[index].raw_text
    spoken = _written_like(expected, "")  # 四六二一: what Whisper writes for digits it hears as words
    # 工号是 as well as 工号: placed over 我的工号是自私爱灾, 工号四四二三 leaves a garbled digit behind (工号四四二三灾).
    forms = [f"工号[是]{spoken}", f"{spoken}号", f"工号[是]{expected}", f"{expected}号"]
    placed = phrase_candidates(heard, forms, "in place", settings.max_candidates)
    if not placed:
        return None
    scores = verifier.score_utterance(transcript, index, [heard, *placed])
    heard_score, top = scores[0], max(scores[1:], key=lambda s: s.logprob)
    written = spoken if spoken in top.text else expected
    rivals = [top.text.replace(written, _written_like(c, written)) for c in _confusions(expected, 3)]
    rival = max(verifier.score_utterance(transcript, index, rivals), key=lambda s: s.logprob, default=None)
    cost = (heard_score.logprob - top.logprob) / len(expected)
    record = Verification("did the agent state the roster's employee ID?", index, heard, heard_score.logprob,
                          [(s.text, s.logprob) for s in scores[1:]] + ([(rival.text, rival.logprob)] if rival else []),
                          margin=top.logprob - heard_score.logprob)
    gap = top.logprob - rival.logprob if rival is not None else float("inf")
    if gap >= settings.id_slot_margin and cost <= settings.id_slot_cost:
        record.outcome = SAID
    elif cost > 2 * settings.id_slot_cost:
        record.outcome = NOT_SAID
    else:
        record.outcome = UNCERTAIN
        record.reason = (f"the audio may hold the ID ({cost:.1f} nats a digit against the heard words, "
                         f"{gap:+.1f} against {rival.text if rival else '-'!r}): listen to the opening")
    return record
