"""Per-call scoring: a transcript and a scorecard in, a :class:`CallScore` out.

A :class:`CallScore` is one line of ``calls.jsonl`` (see docs/output-format.md)
and one row of the results database. A call whose recording could not be
transcribed is scored too: it keeps its error, has no score, and is flagged so
that nobody mistakes a missing call for a good one.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..asr.transcript import PromptEcho, Transcript, TranscriptionResult, Utterance
from ..checks.base import CallContext, CheckResult, finding_fingerprint
from ..checks.registry import run_checks
from .outcome import compute_outcome
from .roster import Roster

log = logging.getLogger(__name__)

# Utterance fields written to calls.jsonl: the contract's four, then the evidence behind them.
TRANSCRIPT_FIELDS = ("role", "start", "end", "text", "raw_text", "confidence", "role_confidence")


@dataclass
class CallScore:
    call_id: str
    file: str
    agent_id: str | None
    agent_name: str | None
    duration_s: float | None
    score: float | None  # 0-100; None when the call could not be scored
    flagged: bool
    flag_reasons: list[str] = field(default_factory=list)
    error: str | None = None
    transcript: list[Utterance] = field(default_factory=list)
    checks: dict[str, CheckResult] = field(default_factory=dict)
    # The recording, only when it decoded as audio (a file that did not is never served for
    # review), and the digest of the bytes that were transcribed; both kept in the database,
    # not in calls.jsonl.
    audio_path: Path | None = None
    audio_sha256: str | None = None
    # Where Whisper wrote its prompt back instead of the speech (asr/echoes.py): the review page marks these
    # stretches, whose words may be missing or wrong, for a listener. Database only, like the recording.
    prompt_echoes: list[PromptEcho] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The calls.jsonl object (validated by reports/calls.schema.json)."""
        return {
            "call_id": self.call_id,
            "file": self.file,
            "agent_id": self.agent_id,
            "agent_name": self.agent_name,
            "duration_s": self.duration_s,
            "score": self.score,
            "flagged": self.flagged,
            "flag_reasons": list(self.flag_reasons),
            "error": self.error,
            "transcript": [utterance_json(u) for u in self.transcript],
            "checks": {check_id: result.to_dict() for check_id, result in self.checks.items()},
        }


def utterance_json(utterance: Utterance) -> dict[str, Any]:
    data = asdict(utterance)
    return {key: data[key] for key in TRANSCRIPT_FIELDS}


def assign_fingerprints(call_id: str, results: Mapping[str, CheckResult]) -> None:
    """Give every finding its stable id; the n-th repeat of the same evidence gets ``-n``."""
    seen: Counter[str] = Counter()
    for check_id, result in results.items():
        for finding in result.findings:
            base = finding_fingerprint(call_id, check_id, finding)
            seen[base] += 1
            finding.fingerprint = base if seen[base] == 1 else f"{base}-{seen[base]}"


def agent_speech_s(transcript: Transcript) -> float:
    """Seconds the agent's utterances last (overlaps within the agent's own speech counted once)."""
    spans = sorted((u.start, u.end) for u in transcript.utterances if u.role == "agent")
    total, reach = 0.0, float("-inf")
    for start, end in spans:
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def too_little_speech(transcript: Transcript, minimum_s: float) -> str | None:
    """Why a call can't be scored for want of speech, or None when the agent speaks enough."""
    speech = agent_speech_s(transcript)
    if speech >= minimum_s and speech > 0:
        return None
    if not transcript.utterances:
        return (f"no speech in the recording ({transcript.duration_s:.0f} s of silence, noise or tones): "
                "nothing to score; listen to it")
    if speech == 0:
        return ("the agent never speaks (only the customer is heard): check the recording and its channel layout")
    return f"the agent speaks for only {speech:.1f} s (a call needs {minimum_s:g} s to be scored)"


def score_call(result: TranscriptionResult, scorecard: Any, roster: Roster | None, verifier: Any = None) -> CallScore:
    """Run the scorecard's checks on one transcribed call and score it.

    ``scorecard`` is a :class:`callqa.scoring.scorecard.Scorecard`; ``roster``
    supplies the agent's name and the employee ID they must state; ``verifier``
    (a CallRescorer) lets the checks ask the audio (checks/verification.py).
    """
    call = result.call
    transcript = result.transcript
    agent_id = call.agent_id or (transcript.agent_id if transcript else None)
    entry = roster.get(agent_id) if roster is not None else None
    base = CallScore(
        call_id=call.call_id,
        file=call.file,
        agent_id=agent_id,
        agent_name=entry.name if entry else None,
        duration_s=transcript.duration_s if transcript else None,
        score=None,
        flagged=True,
        audio_path=call.path if transcript is not None else None,
        audio_sha256=transcript.info.audio_sha256 if transcript is not None and transcript.info else None,
        prompt_echoes=list(transcript.prompt_echoes) if transcript is not None else [],
    )
    error = result.error
    if error is None and transcript is None:
        error = "no transcript was produced"
    if error is None:
        error = too_little_speech(transcript, scorecard.min_agent_speech_s)
    if error is None:
        context = CallContext(
            call_id=call.call_id,
            agent_id=agent_id,
            expected_employee_id=entry.employee_id if entry else None,
            verifier=verifier,
        )
        try:
            results = run_checks(transcript, scorecard.checks, context)
        except Exception as e:  # one bad call must not sink the batch; it is listed with why
            log.exception("checks failed on call %s", call.call_id)
            error = f"checks failed: {type(e).__name__}: {e}"
    if error is not None:
        outcome = compute_outcome({}, scorecard.flag_below, error=error)
        base.error = error
        base.flag_reasons = outcome.flag_reasons
        base.transcript = list(transcript.utterances) if transcript else []
        return base

    assign_fingerprints(call.call_id, results)
    outcome = compute_outcome(results, scorecard.flag_below)
    base.score = outcome.score
    base.flagged = outcome.flagged
    base.flag_reasons = outcome.flag_reasons
    base.transcript = list(transcript.utterances)
    base.checks = dict(results)
    return base


def score_batch(results: list[TranscriptionResult], scorecard: Any, roster: Roster | None,
                rescorers: Any = None, on_call: Any = None) -> list[CallScore]:
    """Score every transcribed call of a batch, in order. ``rescorers`` (a scoring.verifiers.RescorerFactory)
    gives each call's checks the audio to verify against; ``on_call(score)`` is told of each scored call."""
    scores = []
    for result in results:
        rescorer = rescorers(result) if rescorers is not None and scorecard.verification.enabled else None
        try:
            scores.append(score_call(result, scorecard, roster, rescorer))
        finally:
            if rescorers is not None:
                rescorers.done(rescorer)
        if on_call is not None:
            on_call(scores[-1])
    return scores
