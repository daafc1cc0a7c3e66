"""Types every check shares: the call's context, findings and results."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from ..asr.transcript import Transcript


@dataclass(frozen=True)
class VerificationSettings:
    """The scorecard's ``[verification]`` section."""

    enabled: bool = True
    accept_margin: float = 1.0  # nats by which the expected words must beat the heard ones to count as said
    reject_margin: float = 2.0  # nats by which the heard words must beat every candidate to count as not said
    convict_margin: float = 2.0  # nats by which a convicting phrase must beat each of its rivals
    id_margin: float = 2.0  # nats by which one employee ID must beat every other
    # ... and by which another ID must beat the roster's to convict a mismatch: Whisper's own reading beats any
    # other put in its place by a few nats, so a misheard ID (88020 written 80020: 3.2 on the corpus dev split)
    # would convict at id_margin; the IDs really said one digit off the roster's won by 6.5-16 there, one by 3.9.
    mismatch_margin: float = 4.0
    # An ID Whisper did not write (资料爱衣 for 四六二一): what the roster's ID may cost, per digit, against the
    # heard words in its place and still count as said (twice as much: not said).
    id_slot_cost: float = 2.5
    # ... and by how much it must beat the IDs a line confuses it with, put in the same place. Less than id_margin:
    # an agent states their own ID far more often than one a sound-alike digit off it, so a smaller lead decides.
    # On the corpus dev split the roster's ID led them by 1.0-1.6 on 5 IDs said right (left to listening at 2.0);
    # the IDs said wrong that cost as little led by -10.6 or less.
    id_slot_margin: float = 1.0
    # Mean log-probability per token of the best reading: below it, the words are unreadable.
    unintelligible_below: float = field(default=-1.5, metadata={"signed": True})
    speaker_doubt_below: float = 0.8  # mono: evidence on an utterance whose role confidence is lower needs listening
    # A phrase judged not said, read again opening with it (checks/verification.py, _doubt_open_reading): within
    # this many nats of the audio's best reading it may have been said and garbled, so it needs listening.
    opening_doubt_margin: float = 8.0
    # Words one or a few syllables off the expected phrase (请您在稀消候 for 请您再稍稍候): the phrase put in their
    # place counts as said when it costs at most this many nats per syllable it changes (checks/verification.py,
    # _accept_close_likeness). On the corpus dev split such phrases said cost 0.6-5.0 a syllable, other words 3.2-25
    # (功耗 read as 你好 3.2: a greeting not said), so only the cheapest are taken; between this and reject_margin
    # a one-syllable likeness needs listening.
    likeness_cost: float = 1.5
    max_candidates: int = 4  # texts compared per question besides the heard one (each costs decoder time)
    # Encode only the audio a question needs (from just before its utterance to 2 s after it), not Whisper's
    # padded 30 s: the cost of verification, measured in bench/throughput.py against its accuracy.
    fitted_windows: bool = True


@dataclass
class CallContext:
    """What a check may know about the call beyond its words."""

    call_id: str
    agent_id: str | None = None
    expected_employee_id: str | None = None  # from the roster; digits
    # Asks the audio how well given texts fit an utterance (checks/verification.py); None: text only.
    verifier: Any = None


@dataclass
class Finding:
    """One piece of evidence, anchored to an utterance and a time, quoting the words.

    ``deduction`` is this finding's share of its check's deduction, so that a
    reviewer dismissing it as a false hit gives exactly that share back.
    """

    start: float
    end: float
    role: str
    text: str  # the words as heard (raw ASR text of the utterance or excerpt)
    detail: str  # why this is evidence, in a sentence
    utterance: int | None = None  # index into Transcript.utterances; None for "absent" findings
    deduction: float = 0.0
    low_confidence: bool = False  # matched on ASR the recognizer was unsure of
    fingerprint: str = ""  # set by scoring (finding_fingerprint); reviewers' decisions attach to it
    extra: dict[str, Any] = field(default_factory=dict)  # check-specific, e.g. {"phrase": "不行"}

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        extra = d.pop("extra")
        d.update(extra)  # extra fields sit beside the standard ones in calls.jsonl
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Finding":
        known = {f.name for f in fields(cls)} - {"extra"}
        return cls(
            **{k: v for k, v in data.items() if k in known},
            extra={k: v for k, v in data.items() if k not in known},
        )


@dataclass
class CheckResult:
    check_id: str
    passed: bool | None  # None: not applicable (e.g. no wait happened)
    deduction: float
    findings: list[Finding] = field(default_factory=list)
    critical: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. employee_id's status/heard_id/expected_id

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "passed": self.passed,
            "deduction": self.deduction,
            "critical": self.critical,
            "findings": [f.to_dict() for f in self.findings],
        }
        d.update(self.extra)
        return d

    @classmethod
    def not_applicable(cls, check_id: str, reason: str, **extra: Any) -> "CheckResult":
        """Nothing to judge (``passed`` null, no deduction), and why."""
        return cls(check_id, None, 0.0, extra={**extra, "reason": reason})

    @classmethod
    def needs_listening(cls, check_id: str, reason: str, findings: list["Finding"], **extra: Any) -> "CheckResult":
        """The audio can't decide (``passed`` null, no deduction): a person must listen. Each finding
        says where, with ``would_deduct``: what a reviewer confirming it takes off."""
        for f in findings:
            f.extra.setdefault("would_deduct", f.deduction)
            f.extra["needs_listening"] = True
            f.deduction = 0.0
        return cls(check_id, None, 0.0, findings, extra={**extra, "needs_listening": True, "reason": reason})

    @property
    def is_needs_listening(self) -> bool:
        return self.passed is None and bool(self.extra.get("needs_listening"))

    @classmethod
    def from_dict(cls, check_id: str, data: dict[str, Any]) -> "CheckResult":
        """Rebuild from the calls.jsonl / database form (the inverse of to_dict)."""
        standard = {"passed", "deduction", "findings", "critical"}
        return cls(
            check_id=check_id,
            passed=data.get("passed"),
            deduction=float(data.get("deduction", 0.0)),
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
            critical=bool(data.get("critical", False)),
            extra={k: v for k, v in data.items() if k not in standard},
        )


@dataclass
class CheckConfig:
    """Settings every check has. Each check subclasses it with its own keys and
    defaults; scoring/scorecard.py builds it from the check's TOML section."""

    enabled: bool = True
    deduction: float = 0.0  # points off per failure (per occurrence where the check says so)
    critical: bool = False  # failing it flags the call for review
    # Filled by the scorecard from its [verification] section (not a key of the check's own section).
    verification: VerificationSettings = field(default_factory=VerificationSettings, metadata={"toml": False})


NO_AGENT_SPEECH = "the agent does not speak in this call"


class Check:
    """Base class. Subclasses set the metadata and implement ``run``.

    The class docstring of each check carries an anti-pattern (a failing
    transcript excerpt) and a best practice (a passing one), as sqlfluff rules do.
    """

    id: ClassVar[str]
    name: ClassVar[str]  # in English
    name_zh: ClassVar[str]  # the name QA staff use (报工号)
    description: ClassVar[str]
    config_class: ClassVar[type[CheckConfig]] = CheckConfig

    def run(self, transcript: Transcript, config: CheckConfig, context: CallContext) -> CheckResult:
        raise NotImplementedError


def finding_fingerprint(call_id: str, check_id: str, finding: Finding) -> str:
    """An id for a finding that survives re-scoring and re-transcription.

    Times shift slightly between runs, so the id is built from what the
    finding is about (check, role, the quoted words, the matched phrase), not
    from when. Repeats of the same words in one call are told apart by the
    caller appending an occurrence number.
    """
    import hashlib

    key = "\x1f".join(
        [call_id, check_id, finding.role, finding.text.strip(), str(finding.extra.get("phrase", "")), finding.detail]
    )
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
