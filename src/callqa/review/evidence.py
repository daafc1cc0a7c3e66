"""A call's transcript and findings shaped for the call page: which words to mark, and why.

Findings point at an utterance (by index) and quote the words as heard. The
page shows the normalized text, so the quoted words are looked up there
directly, as the listed phrase that matched, or after the same normalization
the transcript went through (Traditional -> Simplified, numerals).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..text import normalize_text
from ..checks.base import CheckResult, Finding
from .store import Decision

# Extra finding fields that quote the words matched, most precise first: the checks write
# "quote" (the words as heard) and "phrase" (the listed phrase); sentiment writes "words" (a list).
_QUOTE_KEYS = ("quote", "phrase", "words")


@dataclass
class FindingView:
    key: str  # DOM id: "f-<fingerprint>"
    check_id: str
    fingerprint: str
    start: float
    end: float
    role: str
    text: str
    detail: str
    deduction: float
    low_confidence: bool
    utterance: int | None
    extra: dict[str, Any]
    decision: Decision | None  # the decision in force
    appeal: Any = None  # the latest appeals row on it (review/appeals.py), if any

    @property
    def state(self) -> str:
        return self.decision.decision if self.decision else "open"

    @property
    def needs_listening(self) -> bool:
        """Left to a person by the checks: no points until confirmed, then ``would_deduct``."""
        return bool(self.extra.get("needs_listening"))

    @property
    def would_deduct(self) -> float:
        return float(self.extra.get("would_deduct") or 0.0)

    @property
    def decidable(self) -> bool:
        """Worth a decision (changes the score); 0-point findings are shown for information only."""
        return bool(self.deduction) or self.needs_listening

    @property
    def verification(self) -> "VerificationView | None":
        return verification_view(self.extra.get("verification"))


@dataclass
class Segment:
    text: str
    findings: list[str] = field(default_factory=list)  # DOM ids of the findings marking these words


@dataclass
class UtteranceView:
    index: int
    role: str
    start: float
    end: float
    segments: list[Segment]
    raw_text: str | None  # shown when it differs from the normalized text
    confidence: float | None
    role_confidence: float | None
    findings: list[FindingView]

    @property
    def flagged(self) -> bool:
        return any(f.state != "dismiss" for f in self.findings)

    @property
    def all_dismissed(self) -> bool:
        return bool(self.findings) and all(f.state == "dismiss" for f in self.findings)


@dataclass
class CheckView:
    check_id: str
    passed_machine: bool | None
    passed_now: bool | None
    deduction_machine: float
    deduction_now: float
    critical: bool
    extra: dict[str, Any]
    findings: list[FindingView]

    @property
    def needs_listening(self) -> bool:
        return self.passed_machine is None and bool(self.extra.get("needs_listening"))

    @property
    def to_decide(self) -> list[FindingView]:
        return [f for f in self.findings if f.decidable]

    @property
    def info_only(self) -> list[FindingView]:
        return [f for f in self.findings if not f.decidable]

    @property
    def verification(self) -> "VerificationView | None":
        found = verification_view(self.extra.get("verification"))
        heard, transcribed = self.extra.get("heard_id"), self.extra.get("transcribed_id")
        if found is None and heard and transcribed and heard != transcribed:
            # employee_id after verification: what Whisper wrote, and the ID the audio bore out
            return VerificationView(str(transcribed), str(heard), "said", None, None)
        return found


@dataclass
class VerificationView:
    """One line on the page: what was heard, what the audio bore out, by how much."""

    heard: str
    best: str  # the reading the audio preferred
    outcome: str  # "said" | "not said" | "uncertain"
    margin: float | None
    reason: str | None


def verification_view(data: Any) -> VerificationView | None:
    if not isinstance(data, dict):
        return None
    heard = data.get("heard") or {}
    heard_text = heard.get("text", "") if isinstance(heard, dict) else str(heard)
    readings = [c for c in data.get("candidates") or [] if isinstance(c, dict) and "text" in c]
    if isinstance(heard, dict) and heard_text:
        readings.append({"text": heard_text, "logprob": heard.get("logprob", float("-inf"))})
    best = max(readings, key=lambda c: c.get("logprob") if isinstance(c.get("logprob"), (int, float))
               else float("-inf"))["text"] if readings else heard_text
    margin = data.get("margin")
    return VerificationView(heard_text, str(best), str(data.get("outcome", "uncertain")),
                            float(margin) if isinstance(margin, (int, float)) else None, data.get("reason"))


def finding_views(
    checks: dict[str, CheckResult], decisions: dict[str, Decision], mask: Callable[[str], str]
) -> dict[str, list[FindingView]]:
    views: dict[str, list[FindingView]] = {}
    for check_id, result in checks.items():
        views[check_id] = [_finding_view(check_id, f, decisions.get(f.fingerprint), mask) for f in result.findings]
    return views


def attach_appeals(findings: dict[str, list[FindingView]], appeals: dict[str, Any]) -> None:
    """Give each finding view its latest appeal (by fingerprint)."""
    for views in findings.values():
        for view in views:
            view.appeal = appeals.get(view.fingerprint)


def _finding_view(check_id: str, f: Finding, decision: Decision | None, mask: Callable[[str], str]) -> FindingView:
    return FindingView(
        key=f"f-{f.fingerprint}",
        check_id=check_id,
        fingerprint=f.fingerprint,
        start=f.start,
        end=f.end,
        role=f.role,
        text=mask(f.text),
        detail=mask(f.detail),
        deduction=f.deduction,
        low_confidence=f.low_confidence,
        utterance=f.utterance,
        extra={k: mask(v) if isinstance(v, str) else v for k, v in f.extra.items()},
        decision=decision,
    )


def _quote_groups(finding: FindingView) -> list[list[str]]:
    """Candidate words to mark, in order of precision; each group is tried as a whole."""
    groups = []
    for key in _QUOTE_KEYS:
        value = finding.extra.get(key)
        words = [value] if isinstance(value, str) else [w for w in value if isinstance(w, str)] \
            if isinstance(value, list) else []
        words = [w.strip() for w in words if w and w.strip()]
        if words:
            groups.append(words)
            groups.append([normalize_text(w) for w in words])  # the page shows normalized text
    return groups


def _find_all(text: str, word: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    while word and (at := text.find(word, start)) >= 0:
        spans.append((at, at + len(word)))
        start = at + len(word)
    return spans


def _spans(text: str, finding: FindingView) -> list[tuple[int, int]]:
    for words in _quote_groups(finding):
        spans = [span for word in words for span in _find_all(text, word)]
        if spans:
            return spans
    # Nothing to quote (an absence: no greeting, no closing) or the words could not be placed:
    # the utterance itself is flagged on the page, and marking all of it would drown the quotes.
    return []


def _segments(text: str, marks: list[tuple[int, int, str]]) -> list[Segment]:
    """Split ``text`` at every mark boundary; each piece lists the findings covering it."""
    cuts = sorted({0, len(text), *(a for a, _, _ in marks), *(b for _, b, _ in marks)})
    segments = []
    for a, b in zip(cuts, cuts[1:]):
        covering = [key for lo, hi, key in marks if lo <= a and b <= hi]
        if segments and segments[-1].findings == covering:
            segments[-1].text += text[a:b]
        else:
            segments.append(Segment(text[a:b], covering))
    return segments or [Segment(text)]


def utterance_views(
    transcript: list[dict[str, Any]], findings: dict[str, list[FindingView]], mask: Callable[[str], str]
) -> list[UtteranceView]:
    by_utterance: dict[int, list[FindingView]] = {}
    for views in findings.values():
        for view in views:
            if view.utterance is not None:
                by_utterance.setdefault(view.utterance, []).append(view)
    out = []
    for index, u in enumerate(transcript):
        text = mask(u.get("text") or u.get("raw_text") or "")
        raw = mask(u.get("raw_text") or "")
        attached = by_utterance.get(index, [])
        marks = [(a, b, f.key) for f in attached for a, b in _spans(text, f)]
        out.append(
            UtteranceView(
                index=index,
                role=u.get("role", ""),
                start=float(u.get("start", 0.0)),
                end=float(u.get("end", 0.0)),
                segments=_segments(text, marks),
                raw_text=raw if raw and raw != text else None,
                confidence=u.get("confidence"),
                role_confidence=u.get("role_confidence"),
                findings=attached,
            )
        )
    return out


def utterance_moods(sentiment_extra: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """Per-utterance sentiment labels the sentiment check wrote (``utterances``), by index;
    neutral ones are left out so the page only points at feelings."""
    moods = {}
    for item in sentiment_extra.get("utterances") or []:
        if not isinstance(item, dict) or not isinstance(item.get("index"), int):
            continue
        if item.get("label") in ("negative", "positive"):
            moods[item["index"]] = item
    return moods
