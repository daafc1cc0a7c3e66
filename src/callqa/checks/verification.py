"""Verification: a check's question put to the audio, not to one transcript.

Whisper base mishears exactly the words checks look for (工号4506 as
450又号, 请您稍等 as 请移稍等). When a check's verdict rests on words it could
not match cleanly, it asks the audio: the heard utterance and the same
utterance with the expected (or rival) words in their place are scored by
Whisper's decoder (asr/rescoring.py), and the difference of their
log-probabilities (nats) decides:

- *said*: a candidate beats the heard text by ``accept_margin`` or more;
- *not said*: the heard text beats every candidate by ``reject_margin``, or by
  three times that when the heard words sound like the expected phrase
  (Whisper's own words fit best, by a few nats a changed syllable);
- *uncertain*: anything between, or words nobody could read (a best reading
  under ``unintelligible_below`` per token, or Latin/Cyrillic letters in a
  Mandarin call). An uncertain verdict is never a deduction: the check says
  "needs listening". Words Whisper wrote that beat each of their rivals
  (verify_rivals: 不行 against 不幸) are judged by that margin alone, since the
  mean per token measures the rest of the utterance.

Every comparison is recorded (:class:`Verification`) so a reviewer sees what
was compared and by how much. Without a verifier (unit tests, a scorecard
with verification off) checks decide on the text alone, as before.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from ..asr.transcript import Transcript
from ..text import in_script_of
from .base import VerificationSettings
from .matching import expand_phrase, prepare

__all__ = [
    "Verifier",
    "VerificationSettings",
    "Verification",
    "SAID",
    "NOT_SAID",
    "UNCERTAIN",
    "verify_phrases",
    "verify_rivals",
    "said_by_doubtful_speaker",
    "speaker_doubtful",
    "replace_span",
    "foreign_script",
    "unreadable",
    "leave_to_listening",
    "prompt_echo_in",
]

SAID, NOT_SAID, UNCERTAIN = "said", "not said", "uncertain"
# A Mandarin call's transcript with these letters is Whisper guessing at noise or a bad line.
_FOREIGN_SCRIPT = re.compile(r"[A-Za-z\u0400-\u04FF]{2,}")


class Verifier(Protocol):
    """What a check may ask of the audio (asr.rescoring.CallRescorer implements it)."""

    def score_utterance(self, transcript: Transcript, index: int, candidates: list[str]) -> list[Any]: ...


@dataclass
class Verification:
    """One question put to the audio: the texts compared, their scores, and the outcome."""

    question: str
    utterance: int
    heard: str
    heard_logprob: float
    candidates: list[tuple[str, float]] = field(default_factory=list)  # (text, log-probability)
    outcome: str = UNCERTAIN
    margin: float = 0.0  # best candidate minus heard (positive: the audio prefers the candidate)
    reason: str = ""

    @property
    def best(self) -> tuple[str, float] | None:
        return max(self.candidates, key=lambda c: c[1]) if self.candidates else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "utterance": self.utterance,
            "heard": {"text": self.heard, "logprob": round(self.heard_logprob, 2)},
            "candidates": [{"text": t, "logprob": round(lp, 2)} for t, lp in self.candidates],
            "outcome": self.outcome,
            "margin": round(self.margin, 2),
            **({"reason": self.reason} if self.reason else {}),
        }


def unreadable(text: str, best: Any, settings: VerificationSettings) -> str | None:
    """Why nobody could judge these words (``best``: the best-scoring reading, a TextScore), or None."""
    if why := foreign_script(text):
        return why
    if best.mean_logprob < settings.unintelligible_below:
        return f"the audio fits no reading well ({best.mean_logprob:.2f} per token)"
    return None


def foreign_script(text: str) -> str | None:
    """Latin or Cyrillic letters in a Mandarin line: Whisper's sign of a line too bad to read."""
    if _FOREIGN_SCRIPT.search(text):
        return "Whisper wrote Latin or Cyrillic letters here: the line is too bad to read"
    return None


def leave_to_listening(finding: Any, reason: str | None = None) -> None:
    """The finding takes no points until a reviewer confirms it: its deduction is kept as ``would_deduct``."""
    finding.extra.update(needs_listening=True, would_deduct=finding.deduction)
    if reason:
        finding.extra["reason"] = reason
    finding.deduction = 0.0


def prompt_echo_in(transcript: Transcript, start: float, end: float, what: str) -> str | None:
    """Why the agent's words between ``start`` and ``end`` can't prove ``what`` was never said: Whisper wrote its
    prompt back there (工号、致电、客服…) instead of what the agent said. None when it did not."""
    for echo in transcript.prompt_echoes:
        if echo.role in ("agent", "any") and echo.end > start and echo.start < end:
            return (f"Whisper wrote its prompt's words ({echo.text}) at {echo.start:.1f} s, not what the agent "
                    f"said there: {what} may be under them")
    return None


def replace_span(text: str, start: int, end: int, replacement: str) -> str:
    return text[:start] + replacement + text[end:]


def _best_span(heard: str, variant: str) -> tuple[int, int, float] | None:
    """Where in ``heard`` the variant most likely stands (by toneless syllables), and how far it is
    from it (edits per syllable); None when nothing there resembles it."""
    from rapidfuzz.distance import Levenshtein

    target, prep = prepare(variant), prepare(heard)
    n, hay = len(target.blurred), prep.blurred
    if not n or not hay:
        return None
    best, best_key = None, None
    for length in range(max(1, n - 2), n + 3):
        for i in range(0, max(1, len(hay) - length + 1)):
            d = Levenshtein.distance(target.blurred, hay[i : i + length]) / n
            # Equally close, the span as long as the phrase wins: Whisper mishears syllables more often than it
            # drops them (准伤等 is 请稍等 with 伤 for 稍, not 稍 missing before 等).
            key = (d, abs(length - n))
            if best_key is None or key < best_key:
                best, best_key = (i, i + length, d), key
    if best is None or best[2] > 0.6:
        return None
    a, b = prep.span(best[0], min(best[1], len(prep.positions)))
    return a, b, best[2]


# A placement whose syllables are this close to the phrase is a likely mishearing of it (edits per syllable).
_CLOSE_LIKENESS = 0.34
# Words that can't be read, or that sound like the phrase, are judged "not said" only by this many times
# reject_margin: their own lead over the phrase is what Whisper's mishearing costs, not evidence.
_FAR_REJECT = 3


def phrase_candidates(heard: str, entries: list[str], where: str, limit: int) -> list[str]:
    """The heard utterance with the expected words in it: put where their best likeness stands (close
    likenesses first), and each entry's first form added at the start or end (``where``: "start", "end",
    "any", or "in place" for neither), since Whisper drops an utterance's first or last words outright.
    At most ``limit`` placements and ``limit`` additions."""
    variants = [in_script_of(heard, v) for entry in entries for v in expand_phrase(entry)]
    placed = []
    for variant in variants:
        span = _best_span(heard, variant)
        if span is not None:
            placed.append((span[2], replace_span(heard, span[0], span[1], variant)))
    placed.sort(key=lambda p: p[0])
    close = [text for d, text in placed if d <= _CLOSE_LIKENESS]
    far = [text for d, text in placed if d > _CLOSE_LIKENESS]
    firsts = list(dict.fromkeys(in_script_of(heard, expand_phrase(entry)[0]) for entry in entries))
    body = heard.strip()
    added = []
    if where in ("start", "any"):
        added += [f"{first}，{body}" for first in firsts]
    if where in ("end", "any"):
        added += [f"{body.rstrip('。.！!')}，{first}。" for first in firsts]
    candidates = close[:limit] + added[:limit] + far[: max(0, limit - len(close))]
    return list(dict.fromkeys(c for c in candidates if c != heard))


def verify_phrases(
    transcript: Transcript,
    indices: list[int],
    entries: list[str],
    verifier: Verifier,
    settings: VerificationSettings,
    question: str,
    where: str = "any",
    reread: bool = False,
    accepts: Callable[[str], bool] | None = None,
) -> Verification:
    """Did the agent say one of ``entries`` in one of these utterances? Said if any utterance says it;
    not said only if every one clearly does not (and, with ``reread``, no reading of its audio that opens with
    the phrase comes close: _doubt_open_reading); else uncertain. The utterances whose words most
    resemble the phrase are asked first, at most two. ``accepts``, when given, is the check's own reading of a
    candidate text: one it would not count (a farewell placed before 等待 thanks for holding) is not asked."""
    ranked = sorted(indices, key=lambda i: _closeness(transcript.utterances[i].raw_text, entries))[:2]
    outcomes: list[Verification] = []
    for index in ranked:
        heard = transcript.utterances[index].raw_text or transcript.utterances[index].text
        candidates = phrase_candidates(heard, entries, where, settings.max_candidates)
        if accepts is not None:
            candidates = [c for c in candidates if accepts(c)]
        outcome = _compare(transcript, index, heard, candidates, verifier, settings, question)
        _accept_close_likeness(outcome, heard, settings)
        _doubt_close_likeness(outcome, heard, entries, settings)
        if outcome.outcome == NOT_SAID and reread:
            _doubt_open_reading(outcome, transcript, index, entries, verifier, settings)
        outcomes.append(outcome)
        if outcome.outcome == SAID:
            return outcome
    if outcomes and all(o.outcome == NOT_SAID for o in outcomes):
        return max(outcomes, key=lambda o: o.margin)
    return next((o for o in outcomes if o.outcome == UNCERTAIN), outcomes[0]) if outcomes else Verification(
        question, -1, "", 0.0, outcome=UNCERTAIN, reason="no utterance to ask")


def _accept_close_likeness(outcome: Verification, heard: str, settings: VerificationSettings) -> None:
    """Words a few syllables off the phrase, where the phrase in their place fits the audio almost as well, are
    the phrase misheard: SAID. Whisper's own words always fit best, by what each syllable it changed costs; a
    phrase not said costs more in the same place (dev: phrases said and heard as 消候/伤后 cost 0.6-5.0 nats a
    changed syllable, other words in their place 3.2-25; hence ``likeness_cost``). Only a same-length reading is
    judged so: an added phrase fills a gap, and there said and not said cost alike (3-13 against 3-22 nats a
    character)."""
    if outcome.outcome == SAID or not outcome.candidates:
        return
    best_text, best_logprob = max(outcome.candidates, key=lambda c: c[1])
    heard_units, best_units = prepare(heard), prepare(best_text)
    if len(heard_units.chars) != len(best_units.chars):
        return
    changed = max(1, sum(a != b for a, b in zip(heard_units.syllables, best_units.syllables)))
    if best_logprob - outcome.heard_logprob >= -settings.likeness_cost * changed:
        outcome.outcome = SAID
        outcome.reason = (f"the words heard are {changed} syllable(s) off the phrase, which fits the audio nearly as "
                          f"well (margin {outcome.margin:+.1f})")


def _doubt_close_likeness(outcome: Verification, heard: str, entries: list[str],
                          settings: VerificationSettings) -> None:
    """Words that sound like the phrase (a close likeness: 请您耐心伤后 for 请您耐心稍候) are not proof it was
    not said: Whisper's own words fit the audio best, by a few nats per syllable it changed (on dev, hold
    requests heard as 伤后/上后 lost to them by 4.5-5 nats). Only a far margin rejects them."""
    if (outcome.outcome == NOT_SAID and outcome.margin > -_FAR_REJECT * settings.reject_margin
            and _closeness(heard, entries) <= _CLOSE_LIKENESS):
        outcome.outcome = UNCERTAIN
        outcome.reason = ("the words heard sound like the phrase and the audio can't tell them apart "
                          f"(margin {outcome.margin:+.1f})")


def _doubt_open_reading(outcome: Verification, transcript: Transcript, index: int, entries: list[str],
                        verifier: Verifier, settings: VerificationSettings) -> None:
    """Garbled words (拿来你跳得以后了 for 麻烦您稍等一会儿) lose to any phrase put in their place, so "not said" is
    also asked without them: Whisper reads the utterance's audio again, free and made to open with each of the
    phrase's forms, choosing the rest itself. A phrase said and garbled reads that way at little cost; one not
    said costs much more (corpus dev hold requests: said 0.5-15 nats below the best reading, not said 9-30, most
    over 12). Within ``opening_doubt_margin`` of the best, the question needs listening."""
    read = getattr(verifier, "score_openings", None)
    if read is None:
        return
    forms = list(dict.fromkeys(v for entry in entries for v in expand_phrase(entry)))[: _MAX_OPENINGS]
    scores = read(transcript, index, forms)
    if not scores:
        return
    best = max(scores[:2], key=lambda s: s.logprob)
    # A reading that stops early leaves audio unread and scores high for it (别挂了 for a 5 s opening): only
    # readings of about the heard length are compared.
    whole = [s for s in scores[2:] if _spoken_length(s.text) >= _WHOLE_READING * _spoken_length(scores[0].text)]
    if not whole:
        return
    opened = max(whole, key=lambda s: s.logprob)
    if opened.logprob - best.logprob > -settings.opening_doubt_margin:
        outcome.outcome = UNCERTAIN
        gap = best.logprob - opened.logprob
        where = f"{gap:.1f} nats below its best reading" if gap > 0 else "as well as any other reading"
        outcome.reason = f"the audio also reads as {opened.text!r}, {where}: listen"


# Forms of a phrase an utterance is read again with (each costs a beam search over the utterance).
_MAX_OPENINGS = 8
_WHOLE_READING = 0.7  # share of the heard characters a reading must have to count as reading the utterance


def _spoken_length(text: str) -> int:
    return sum(1 for ch in text if ch.isalnum())


def _closeness(heard: str, entries: list[str]) -> float:
    spans = [_best_span(heard, v) for entry in entries for v in expand_phrase(entry)[:3]]
    return min((s[2] for s in spans if s is not None), default=math.inf)


def _compare(transcript: Transcript, index: int, heard: str, candidates: list[str], verifier: Verifier,
             settings: VerificationSettings, question: str) -> Verification:
    scores = verifier.score_utterance(transcript, index, [heard, *candidates])
    heard_score, rest = scores[0], scores[1:]
    result = Verification(question, index, heard, heard_score.logprob, [(s.text, s.logprob) for s in rest])
    if not rest:
        result.outcome, result.reason = NOT_SAID, "nothing in the words resembles it"
        return result
    best = max(rest, key=lambda s: s.logprob)
    result.margin = best.logprob - heard_score.logprob
    top = max(heard_score, best, key=lambda s: s.logprob)
    if result.margin >= settings.accept_margin:
        result.outcome = SAID
    elif result.margin <= -settings.reject_margin:
        result.outcome = NOT_SAID
    else:
        result.reason = f"the audio fits both readings (margin {result.margin:+.1f})"
    # Words nobody can read leave the question open, unless the audio rejects the phrase by far.
    if result.outcome != SAID and result.margin > -_FAR_REJECT * settings.reject_margin and (
            why := unreadable(heard, top, settings)):
        result.outcome, result.reason = UNCERTAIN, why
    return result


def verify_rivals(
    transcript: Transcript,
    index: int,
    heard: str,
    rivals: list[str],
    verifier: Verifier,
    settings: VerificationSettings,
    question: str,
    margin: float,
) -> Verification:
    """Is ``heard`` what was said, rather than any of ``rivals`` (whole-utterance texts)? The outcome is
    SAID when the heard text beats every rival by ``margin``, NOT_SAID when a rival beats it by
    ``accept_margin``, else uncertain. ``margin`` in the record is heard minus the best rival."""
    scores = verifier.score_utterance(transcript, index, [heard, *rivals])
    heard_score, rest = scores[0], scores[1:]
    result = Verification(question, index, heard, heard_score.logprob, [(s.text, s.logprob) for s in rest])
    best = max(rest, key=lambda s: s.logprob) if rest else None
    result.margin = heard_score.logprob - (best.logprob if best else -math.inf)
    if best is None or result.margin >= margin:
        result.outcome = SAID
    elif -result.margin >= settings.accept_margin:
        result.outcome, result.reason = NOT_SAID, f"the audio prefers {best.text!r}"
    else:
        result.reason = f"the audio fits {best.text!r} nearly as well (margin {result.margin:+.1f})"
    # Words Whisper wrote that beat each rival are the audio's answer to this question, however garbled the rest
    # of the utterance: the mean per token (unreadable) measures the rest. On the corpus (210 calls) every banned
    # phrase the mean left to listening after beating its rivals by 2.3-5.8 nats was said, 8 of 8 (不行这个办不了 at
    # -1.66 a token; 不知道,請承諾你查不到 at -2.40), and a 1-2 token 不行 alone scores -2.45 a token on its first token's
    # surprise. Letters of another script still mark a line too bad to read.
    if result.outcome == SAID and (why := foreign_script(heard)):
        result.outcome, result.reason = UNCERTAIN, why
    return result


def expected_words(
    transcript: Transcript,
    indices: list[int],
    entries: list[str],
    matches: list,
    verifier: Verifier | None,
    settings: VerificationSettings,
    question: str,
    where: str = "any",
    reread: bool = False,
    accepts: Callable[[str], bool] | None = None,
) -> tuple[str, Verification | None]:
    """Whether the agent said one of ``entries`` in these utterances: (SAID | NOT_SAID | UNCERTAIN, the
    verification behind it or None). ``matches`` are the text matcher's hits there: any hit settles it;
    with none the audio is asked when a verifier is given, and without one the phrase was not said."""
    if matches:
        # A fuzzy hit stands: Whisper's own words always fit the audio best, so the canonical phrase put in
        # their place loses whether or not it was said (on the corpus dev split a said phrase cost 3-13 nats
        # a character, one not said 3-22): the audio can't overturn the text's likeness, only fill a gap.
        return SAID, None
    if verifier is None or not settings.enabled or not indices:
        return NOT_SAID, None
    found = verify_phrases(transcript, indices, entries, verifier, settings, question, where, reread, accepts)
    return found.outcome, found


def speaker_doubtful(transcript: Transcript, index: int, settings: VerificationSettings) -> bool:
    """On a mono call, whether the role model was unsure who said utterance ``index`` (below
    ``speaker_doubt_below``): its words can't be charged to either party for sure."""
    u = transcript.utterances[index]
    return transcript.channels == "mono" and u.role_confidence < settings.speaker_doubt_below


def said_by_doubtful_speaker(transcript: Transcript, indices: list[int], matcher: Any,
                             settings: VerificationSettings, question: str) -> Verification | None:
    """On a mono call, the expected words heard in one of ``indices`` (customer utterances near where they
    were due) whose speaker the role model was unsure of: the agent's words may have been given to the
    customer, so their absence is not proven. ``matcher(utterance)`` returns that utterance's matches."""
    for index in indices:
        u = transcript.utterances[index]
        if u.role == "customer" and speaker_doubtful(transcript, index, settings) and matcher(u):
            return Verification(question, index, u.raw_text or u.text, 0.0, outcome=UNCERTAIN, reason=(
                f"the words were heard, in an utterance given to the customer with role confidence "
                f"{u.role_confidence:.2f}: on this mono call they may be the agent's"))
    return None


@dataclass
class MissingPiece:
    """Words a check expected and did not find for sure: where they were due, and what the audio said."""

    anchor: int  # the utterance the finding points at
    detail: str
    extra: dict[str, Any]
    outcome: str = NOT_SAID  # NOT_SAID or UNCERTAIN
    verification: Verification | None = None


def settle_pieces(check_id: str, transcript: Transcript, pieces: list[MissingPiece], deduction: float,
                  matching: Any, extra: dict[str, Any] | None = None) -> Any:
    """A check's result from its missing pieces: passed when none; failed when any is surely missing
    (the uncertain ones ride along, taking points only once a reviewer confirms them); needs listening
    when every one is uncertain. The deduction is shared by all the pieces."""
    from .base import CheckResult
    from .matching import split_deduction, utterance_finding

    extra = dict(extra or {})
    if not pieces:
        return CheckResult(check_id, True, 0.0, extra=extra)
    findings = []
    for piece, share in zip(pieces, split_deduction(deduction, len(pieces))):
        fextra = dict(piece.extra)
        if piece.verification is not None:
            fextra["verification"] = piece.verification.to_dict()
        finding = utterance_finding(transcript, piece.anchor, piece.detail, share, matching, fextra)
        if piece.outcome == UNCERTAIN:
            leave_to_listening(finding)
        findings.append(finding)
    if all(p.outcome == UNCERTAIN for p in pieces):
        reasons = "; ".join(dict.fromkeys(p.verification.reason for p in pieces if p.verification))
        return CheckResult.needs_listening(check_id, reasons or "the words can't be read", findings, **extra)
    return CheckResult(check_id, False, round(sum(f.deduction for f in findings), 2), findings, extra=extra)
