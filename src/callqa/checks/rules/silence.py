"""silence: no dead air: long stretches where nobody speaks, unless the agent announced a hold."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...asr.transcript import Transcript
from ..base import NO_AGENT_SPEECH, CallContext, Check, CheckResult, Finding
from ..matching import PhraseCheckConfig, compile_phrases, is_low_confidence, match_utterance
from ..timing import anyone_speaking, measured
from ..verification import NOT_SAID, SAID, UNCERTAIN, Verification, expected_words, leave_to_listening
from ..verification import prompt_echo_in
from .standard_phrasing import StandardPhrasingConfig

# The agent's words that may announce a hold: their utterances ending this close before the silence (请您稍等。
# 我帮您查一下。 are often two), and at least the last one.
_ANNOUNCEMENT_S = 10.0


@dataclass
class SilenceConfig(PhraseCheckConfig):
    deduction: float = 2.0  # our choice, per dead-air stretch: the seeds set no penalty for it
    critical: bool = False
    min_silence_s: float = 5.0  # a silence this long with nobody speaking is dead air
    hold_max_s: float = 60.0  # a hold the agent announced excuses silence up to this long
    # The hold request that excuses a silence. Empty: the scorecard's standard_phrasing.ask_phrases, so the
    # phrases that ask a customer to hold are written once (the scorecard loader fills them in).
    hold_phrases: list[str] = field(default_factory=list,
                                    metadata={"phrases": True, "optional": True,
                                              "same_as": "standard_phrasing.ask_phrases"})


class SilenceCheck(Check):
    """Nobody is left in dead air: no stretch of ``min_silence_s`` or more where neither party speaks,
    unless the agent announced a hold (请您稍等) and it lasted no more than ``hold_max_s``.

    Silence is measured on the voice activity of both channels (stereo) or of
    the mix (mono); the lead-in before the first word (a ringback) and the
    tail after the last are not dead air. ``longest_s`` and ``total_s`` give
    the call's dead air; each stretch is a finding.

    **Anti-pattern**: the agent goes quiet without a word.

    .. code-block:: text

        customer: 我想查一下我的订单。
        agent:    嗯。
                  (9 s silence)
        agent:    您的订单明天送到。

    **Best practice**: a hold is announced.

    .. code-block:: text

        customer: 我想查一下我的订单。
        agent:    好的，请您稍等，我帮您查一下。
                  (9 s silence)
        agent:    感谢您的耐心等待，您的订单明天送到。
    """

    id = "silence"
    name_zh = "静音"
    name = "Dead air"
    description = "No stretch of 5 s or more with nobody speaking, unless the agent announced a hold (请您稍等)."
    config_class = SilenceConfig

    def run(self, transcript: Transcript, config: SilenceConfig, context: CallContext) -> CheckResult:
        if not transcript.by_role("agent"):
            return CheckResult.not_applicable(self.id, NO_AGENT_SPEECH)
        speech = anyone_speaking(transcript)
        # Between the first word and the last: the VAD also hears a ringback's tones before anyone speaks.
        first_word = min(u.start for u in transcript.utterances)
        last_word = max(u.end for u in transcript.utterances)
        findings, excused, longest, total = [], 0, 0.0, 0.0
        for (_, gap_start), (gap_end, _) in zip(speech, speech[1:]):
            gap_start, gap_end = max(gap_start, first_word), min(gap_end, last_word)
            silence = gap_end - gap_start
            if silence < config.min_silence_s:
                continue
            before = [i for i, u in enumerate(transcript.utterances) if u.role == "agent" and u.start < gap_start]
            announced, verified = self._announced(transcript, before, gap_start, config, context)
            if announced == SAID and silence <= config.hold_max_s:
                excused += 1
                continue
            longest, total = max(longest, silence), total + silence
            findings.append(self._finding(transcript, before[-1] if before else None, gap_start, gap_end,
                                          announced == SAID, config, verified))
        extra = {"longest_s": round(longest, 1), "total_s": round(total, 1), "count": len(findings),
                 "excused_holds": excused, "measured": measured(transcript)}
        if not findings:
            return CheckResult(self.id, True, 0.0, extra=extra)
        if all(f.extra.get("needs_listening") for f in findings):
            reason = "; ".join(dict.fromkeys(f.extra["reason"] for f in findings))
            return CheckResult.needs_listening(self.id, reason, findings, **extra)
        return CheckResult(self.id, False, round(sum(f.deduction for f in findings), 2), findings, extra=extra)

    @staticmethod
    def _announced(transcript: Transcript, before: list[int], gap_start: float, config: SilenceConfig,
                   context: CallContext) -> tuple[str, Verification | None]:
        """Whether the agent asked the customer to hold before the silence: the hold request heard, else put to
        the audio as standard_phrasing puts it (请您商等 is 请您稍等 misheard), in the agent's last words."""
        if not before:
            return NOT_SAID, None
        near = [i for i in before[-3:-1] if transcript.utterances[i].end >= gap_start - _ANNOUNCEMENT_S]
        window = near + before[-1:]
        phrases = config.hold_phrases or StandardPhrasingConfig().ask_phrases
        holds = compile_phrases(phrases, config.matching)  # compiled once: matching caches it
        matches = [m for i in window for m in match_utterance(transcript.utterances[i], holds)]
        question = "did the agent announce the hold?"
        outcome, verified = expected_words(transcript, window, phrases, matches, context.verifier,
                                           config.verification, question, reread=True)
        # 工号、客服、订单 written for 请您稍等，我这边帮您查一下 (corpus call c208): the request may be under it.
        start = transcript.utterances[window[0]].start - 0.5
        if outcome == NOT_SAID and (echo := prompt_echo_in(transcript, start, gap_start, "the hold request")):
            return UNCERTAIN, Verification(question, window[-1], transcript.utterances[window[-1]].raw_text, 0.0,
                                           outcome=UNCERTAIN, reason=echo)
        return outcome, verified

    @staticmethod
    def _finding(transcript: Transcript, index: int | None, start: float, end: float, announced: bool,
                 config: SilenceConfig, verified: Verification | None) -> Finding:
        u = transcript.utterances[index] if index is not None else None
        # The length stays out of the detail: a finding's fingerprint must survive re-transcription.
        why = f"a hold longer than {config.hold_max_s:g} s" if announced else "no hold announced"
        finding = Finding(
            start=round(start, 2), end=round(end, 2), role="agent", text=u.raw_text if u else "",
            detail=f"dead air: nobody spoke ({why})", utterance=index,
            deduction=config.deduction, low_confidence=bool(u) and is_low_confidence(u, config.matching),
            extra={"silence_s": round(end - start, 1), "missing": "hold_announcement" if not announced else "hold_limit"},
        )
        if verified is not None:
            finding.extra["verification"] = verified.to_dict()
            if not announced and verified.outcome == UNCERTAIN:  # the hold request may be in words nobody can read
                leave_to_listening(finding, verified.reason or "the hold request can't be read")
        return finding
