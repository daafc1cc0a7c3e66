"""Verification's decision rules on given scores (a fake verifier: the audio's part is tests/test_asr_rescoring.py)."""

from __future__ import annotations

from callqa.asr.backends.base import TextScore
from callqa.asr.transcript import Transcript, Utterance
from callqa.checks.base import VerificationSettings
from callqa.checks.verification import NOT_SAID, SAID, UNCERTAIN, verify_rivals


class ScoredAudio:
    """Answers with fixed per-token log-probabilities; a text it was not given fits the audio badly."""

    def __init__(self, scores: dict[str, list[float]]) -> None:
        self.scores = scores

    def score_utterance(self, transcript, index, candidates):
        return [TextScore(t, sum(self.scores.get(t, [-100.0])), self.scores.get(t, [-100.0])) for t in candidates]


def _transcript(text: str) -> Transcript:
    return Transcript("c", "c.wav", "A1", "agent,customer", 3.0, [Utterance("agent", 0.0, 1.0, text, text, 0.9)])


def _rivals(heard: str, scores: dict[str, list[float]]):
    return verify_rivals(_transcript(heard), 0, heard, [t for t in scores if t != heard], ScoredAudio(scores),
                         VerificationSettings(), "did the agent say 不行?", margin=2.0)


def test_a_short_reading_is_judged_by_its_margins_not_its_mean():
    # 不行 alone: one token at -2.45 (an utterance's first token is its least predictable), rivals far behind.
    verdict = _rivals("不行", {"不行": [-2.45], "步行": [-4.97], "不幸": [-7.95]})
    assert verdict.outcome == SAID, verdict.to_dict()


def test_a_phrase_that_beats_its_rivals_convicts_however_garbled_the_rest_of_the_line():
    # Corpus c030's shape: Whisper's reading fits at -1.66 a token, under unintelligible_below, but 不行 beats
    # 不幸 by 3.7 nats: the mean measures the rest of the line, the margin answers the question.
    heard = "不行这个办不了,"
    verdict = _rivals(heard, {heard: [-1.66] * 5, heard.replace("不行", "不幸"): [-1.66] * 4 + [-5.35]})
    assert verdict.outcome == SAID, verdict.to_dict()


def test_letters_of_another_script_leave_the_phrase_to_listening():
    heard = "不行 the order"
    verdict = _rivals(heard, {heard: [-0.5] * 4, heard.replace("不行", "步行"): [-0.5] * 3 + [-6.0]})
    assert verdict.outcome == UNCERTAIN and "Latin or Cyrillic" in verdict.reason


def test_a_rival_the_audio_prefers_excuses_the_phrase():
    verdict = _rivals("不行", {"不行": [-6.0], "步行": [-2.0]})
    assert verdict.outcome == NOT_SAID and "步行" in verdict.reason


def _id_check(heard: str, roster: str, scores: dict[str, list[float]]):
    from dataclasses import replace

    from callqa.checks.base import CallContext
    from callqa.checks.registry import get_check
    from callqa.scoring.scorecard import load_scorecard

    config = load_scorecard(None).checks["employee_id"]
    context = replace(CallContext("c", "A1", roster), verifier=ScoredAudio(scores))
    return get_check("employee_id")().run(_transcript(heard), config, context)


def test_an_id_one_digit_longer_than_the_roster_is_a_slip_even_where_the_audio_prefers_it():
    heard = "您好，工号129565，很高兴为您服务。"
    result = _id_check(heard, "29565", {heard: [-1.0] * 10, heard.replace("129565", "29565"): [-1.5] * 10})
    assert result.passed is True and result.extra["status"] == "ok" and "slip" in result.extra["note"]


def test_a_misheard_digit_the_audio_barely_prefers_is_left_to_listening_not_a_mismatch():
    heard = "我的工号是80020，请问有什么可以帮您。"
    said = heard.replace("80020", "88020")
    close = _id_check(heard, "88020", {heard: [-3.0] * 15, said: [-3.0] * 14 + [-6.2]})  # heard wins by 3.2
    assert close.passed is None and close.extra["status"] == "uncertain"
    clear = _id_check(heard, "88020", {heard: [-3.0] * 15, said: [-3.0] * 14 + [-12.0]})  # by 9
    assert clear.passed is False and clear.extra["status"] == "mismatch"


def test_a_shorter_reading_of_the_roster_s_id_is_left_to_listening_but_another_agent_s_id_convicts():
    # 最后510号 for 四五五幺号: Whisper's own three digits fit best, but they read like 4551 with a digit lost.
    heard = "下午好，最后510号坐席为您服务。"
    cut = _id_check(heard, "4551", {heard: [-1.0] * 12, heard.replace("510", "4551"): [-1.0] * 11 + [-9.0]})
    assert cut.passed is None and cut.extra["status"] == "uncertain" and "digits lost" in cut.extra["reason"]
    heard = "您好，我是八五二号客服。"  # another agent's 852 shares one digit with 8901: a mismatch
    other = _id_check(heard, "8901", {heard: [-1.0] * 12, heard.replace("八五二", "八九零一"): [-1.0] * 11 + [-9.0]})
    assert other.passed is False and other.extra["status"] == "mismatch" and other.extra["heard_id"] == "852"


def test_an_id_heard_as_the_roster_is_overturned_only_by_a_clearly_better_rival():
    heard = "我的工号是3286，请问有什么可以帮您。"
    rival = heard.replace("3286", "3586")
    tie = _id_check(heard, "3286", {heard: [-3.0] * 15, rival: [-3.0] * 14 + [-2.9]})  # the rival by 0.1
    assert tie.passed is True and tie.extra["status"] == "ok", tie.extra
    beaten = _id_check(heard, "3286", {heard: [-3.0] * 15, rival: [-3.0] * 14 + [3.0]})  # the rival by 6
    assert beaten.passed is False and beaten.extra["status"] == "mismatch" and beaten.extra["heard_id"] == "3586"


def test_the_roster_s_id_is_put_to_the_audio_in_the_words_the_agent_read_it_in():
    # 工号两零幺八 heard as said: the roster's 2018 written 二零一八 would sound unlike it (er for liang, yi for yao).
    heard = "您好，工号两零幺八为您服务。"
    asked = []

    class Recording(ScoredAudio):
        def score_utterance(self, transcript, index, candidates):
            asked.extend(candidates)
            return super().score_utterance(transcript, index, candidates)

    from dataclasses import replace

    from callqa.checks.base import CallContext
    from callqa.checks.registry import get_check
    from callqa.scoring.scorecard import load_scorecard

    context = replace(CallContext("c", "A1", "2018"), verifier=Recording({heard: [-1.0] * 10}))
    result = get_check("employee_id")().run(_transcript(heard), load_scorecard(None).checks["employee_id"], context)
    assert result.extra["heard_id"] == "2018"
    assert heard in asked and not any("二零一八" in text for text in asked), asked


def test_a_roster_id_longer_than_the_digits_heard_takes_in_the_characters_written_for_the_rest():
    # 工号一二八五五 heard as 工号128元里: the roster's 12855 in the digits' place alone (12855元里) fits badly, but in
    # the place of 128元里 it fits better than the heard words.
    heard = "你好，工号128元里，请问您遇到什么问题了。"
    scores = {heard: [-3.0] * 15, heard.replace("128元里", "12855"): [-2.8] * 15}
    result = _id_check(heard, "12855", scores)
    assert result.passed is True and result.extra["status"] == "ok", result.extra
    # The place ends at the ID's end: 号 and what follows are never taken in (and 334, the roster's ID cut
    # short, fitting best leaves it to listening).
    heard = "我是334号，请问您遇到什么问题了？"
    result = _id_check(heard, "33477", {heard: [-3.0] * 15, "我是33477，请问您遇到什么问题了？": [-1.0] * 15})
    asked = [c["text"] for c in result.extra["verification"]["candidates"]]
    assert "我是33477号，请问您遇到什么问题了？" in asked and not any("33477，" in text for text in asked), asked
    assert result.extra["status"] == "uncertain", result.extra


def test_a_phrase_is_put_in_place_of_as_many_syllables_as_it_has_when_that_is_as_close():
    """Whisper mishears syllables more often than it drops them: 伤等 is 稍等 misheard, and the candidate that
    replaces it is the one the audio should judge (not 伤稍等, with the misheard syllable kept)."""
    from callqa.checks.verification import phrase_candidates

    assert phrase_candidates("准伤等，我帮您看一下。", ["稍等"], "in place", 3) == ["准稍等，我帮您看一下。"]
    assert "不好意思，让您久等了。" in phrase_candidates("不好意思，向您求等了。", ["[让您|让你]久等了"], "in place", 3)


class SlotAudio:
    """The opening heard as 资料爱衣 (no ID written): the roster's 四六二一 in that place costs 1 nat a digit, and
    the IDs a line confuses it with cost ``lag`` nats more."""

    def __init__(self, heard: str, lag: float) -> None:
        self.heard, self.lag = heard, lag

    def score_utterance(self, transcript, index, candidates):
        def fit(text: str) -> float:
            if text == self.heard:
                return -20.0
            return -24.0 - (0.0 if "四六二一" in text or "4621" in text else self.lag)

        return [TextScore(t, fit(t), [fit(t)]) for t in candidates]


def test_an_id_written_as_other_words_is_the_roster_s_when_it_leads_its_sound_alikes_by_the_slot_margin():
    from callqa.checks.id_verification import verify_missing_id

    heard = "您好，我是资料爱衣号客服，请问有什么可以帮您。"
    settings = VerificationSettings()
    ahead = verify_missing_id(_transcript(heard), [0], "4621", SlotAudio(heard, 1.5), settings)
    assert ahead.status == "ok" and ahead.heard_id == "4621", ahead.verification.to_dict()
    level = verify_missing_id(_transcript(heard), [0], "4621", SlotAudio(heard, 0.5), settings)
    assert level.status == "uncertain" and "listen" in level.verification.reason


class LateIdAudio:
    """Corpus dev c013's shape: the agent gives the ID once the business is done (我的工号是四四二三，有问题可以再
    找我), heard as 自私爱灾. The roster's ID fits that place when it replaces all four garbled characters."""

    def score_utterance(self, transcript, index, candidates):
        def fit(text: str) -> float:
            if text == transcript.utterances[index].raw_text:
                return -20.0
            if "工号是四四二三。" in text or "工号是4423。" in text:
                return -22.0
            return -40.0

        return [TextScore(t, fit(t), [fit(t)]) for t in candidates]


def _late_id_call(late_start: float) -> Transcript:
    said = "好的，已经给您换货了。我的工号是自私爱灾。有问题可以再找我。"
    return Transcript("c", "c.wav", "A1", "agent,customer", 60.0, [
        Utterance("agent", 0.5, 4.5, "你好，这里是客服中心。请问有什么可以帮你？", "你好，这里是客服中心。请问有什么可以帮你？", 0.9),
        Utterance("customer", 5.0, 7.0, "我想换一件衣服。", "我想换一件衣服。", 0.9),
        Utterance("agent", 8.0, 10.0, "请您稍等，我帮您看一下。", "请您稍等，我帮您看一下。", 0.9),
        Utterance("agent", late_start, late_start + 8.0, said, said, 0.9)])


def _employee_id(transcript: Transcript, audio):
    from dataclasses import replace

    from callqa.checks.base import CallContext
    from callqa.checks.registry import get_check
    from callqa.scoring.scorecard import load_scorecard

    context = replace(CallContext("c", "A1", "4423"), verifier=audio)
    return get_check("employee_id")().run(transcript, load_scorecard(None).checks["employee_id"], context)


def test_an_id_announced_after_the_first_two_utterances_is_put_to_the_audio_with_its_工号是():
    result = _employee_id(_late_id_call(17.7), LateIdAudio())
    assert result.passed is True and result.extra["status"] == "ok", result.extra
    assert result.extra["verification"]["utterance"] == 3


def test_an_id_announced_past_the_opening_is_no_id_in_it_though_its_utterance_began_inside():
    # The utterance starts 27.5 s after the agent's first words, its 工号 about 4 s later: past the 30 s opening.
    late = _employee_id(_late_id_call(28.0), LateIdAudio())
    assert late.passed is False and late.extra["status"] == "missing", late.extra
    # Without the audio, the same garbled announcement inside the opening needs listening; past it, it fails.
    assert _employee_id(_late_id_call(17.7), None).passed is None
    assert _employee_id(_late_id_call(28.0), None).passed is False


def _silence(heard: str, scores: dict[str, list[float]], audio: ScoredAudio | None = None):
    from dataclasses import replace

    from callqa.checks.base import CallContext
    from callqa.checks.registry import get_check
    from callqa.scoring.scorecard import load_scorecard

    transcript = Transcript("c", "c.wav", "A1", "agent,customer", 16.0, [
        Utterance("agent", 0.0, 2.0, heard, heard, 0.9), Utterance("agent", 11.0, 13.0, "查到了。", "查到了。", 0.9)])
    context = replace(CallContext("c", "A1", None), verifier=audio or ScoredAudio(scores))
    return get_check("silence")().run(transcript, load_scorecard(None).checks["silence"], context)


def test_a_hold_request_whisper_misheard_is_put_to_the_audio_before_a_silence_counts_as_dead_air():
    heard = "请您商等，我帮您看一下。"  # 请您稍等 misheard: no hold phrase in the words
    said = _silence(heard, {heard: [-1.0] * 10, "请您稍等，我帮您看一下。": [-0.5] * 10})
    assert said.passed is True and said.extra["excused_holds"] == 1
    not_said = _silence(heard, {heard: [-1.0] * 10})  # every candidate fits badly: clearly not said
    assert not_said.passed is False and not_said.deduction == 2 and not_said.findings[0].extra["verification"]
    close = _silence(heard, {heard: [-1.0] * 10, "请您稍等，我帮您看一下。": [-1.0] * 9 + [-2.8]})  # 1.8 nats a syllable
    assert close.passed is None and close.findings[0].extra["needs_listening"] and close.deduction == 0


def test_words_a_syllable_off_the_phrase_that_fit_the_audio_nearly_as_well_are_the_phrase_misheard():
    heard = "请您在稀消候，我帮您看一下。"  # 请您再稍稍候 (corpus dev c074): xiao hou for shao hou, 1.1 nats behind
    placed = "请您在稀稍候，我帮您看一下。"
    said = _silence(heard, {heard: [-1.0] * 10, placed: [-1.0] * 9 + [-2.1]})
    assert said.passed is True and said.extra["excused_holds"] == 1
    # Two syllables changed may cost twice as much (感信您的邁行等待 for 感谢您的耐心等待: three, 2.7 nats).
    garbled = "请您烧猴，我帮您看一下。"
    assert _silence(garbled, {garbled: [-1.0] * 10, "请您稍候，我帮您看一下。": [-1.0] * 9 + [-3.9]}).passed is True
    # A phrase added where Whisper wrote nothing like it is a gap filled, not a likeness: cost alone can't say.
    bare = "我帮您看一下。"
    added = _silence(bare, {bare: [-1.0] * 7, "稍等，我帮您看一下。": [-1.0] * 7 + [-1.2]})
    assert added.passed is None and added.deduction == 0


def test_words_that_sound_like_the_hold_request_are_not_rejected_by_a_few_nats():
    heard = "请您耐心伤后，我帮您确认一下。"  # 请您耐心稍候 misheard (shang hou for shao hou)
    placed = "请您耐心稍候，我帮您确认一下。"
    near = _silence(heard, {heard: [-0.5] * 10, placed: [-0.5] * 9 + [-5.5]})  # 5 nats behind Whisper's words
    assert near.passed is None and near.deduction == 0
    assert "sound like the phrase" in near.findings[0].extra["verification"]["reason"]
    far = _silence(heard, {heard: [-0.5] * 10, placed: [-0.5] * 9 + [-12.5]})  # 12 nats behind: not said
    assert far.passed is False and far.deduction == 2
    unlike = "那我现在看一下，请您看一下。"  # nothing like a hold request: a few nats still reject it
    assert _silence(unlike, {unlike: [-0.5] * 10}).passed is False


class RereadAudio(ScoredAudio):
    """Also reads the utterance again: ``readings`` are (text, log-probability) for [heard, free, openings...]."""

    def __init__(self, scores: dict[str, list[float]], readings: list[tuple[str, float]]) -> None:
        super().__init__(scores)
        self.readings = readings
        self.asked: list[list[str]] = []

    def score_openings(self, transcript, index, openings):
        self.asked.append(openings)
        return [TextScore(text, logprob) for text, logprob in self.readings]


def test_a_hold_request_garbled_past_recognition_is_left_to_listening_when_the_audio_reads_as_one():
    heard = "拿来你跳得以后了，我帮你排一下。"  # 麻烦您稍等一会儿，我帮您查询一下 (corpus dev c056)
    free = "让你敲软会，我帮你拿零下。"
    near = RereadAudio({heard: [-1.4] * 16}, [(heard, -29.0), (free, -11.5), ("请稍等会，我帮你谈一下。", -17.0)])

    def silence(audio):
        return _silence(heard, audio.scores, audio)

    verdict = silence(near)
    assert verdict.passed is None and verdict.deduction == 0, verdict.findings[0].extra
    assert "reads as" in verdict.findings[0].extra["verification"]["reason"] and "稍等" in near.asked[0]
    # Read with the phrase, the audio costs far more than its best reading: not said, as before.
    far = RereadAudio({heard: [-1.4] * 16}, [(heard, -29.0), (free, -11.5), ("稍等，我帮你拿一下。", -26.0)])
    assert silence(far).passed is False
    # A reading that stops after the phrase leaves the audio unread, however well it scores: not compared.
    short = RereadAudio({heard: [-1.4] * 16}, [(heard, -29.0), (free, -11.5), ("别挂了", -6.0)])
    assert silence(short).passed is False


def test_a_thanks_for_holding_the_audio_prefers_is_no_farewell():
    from dataclasses import replace

    from callqa.checks.base import CallContext
    from callqa.checks.registry import get_check
    from callqa.scoring.scorecard import load_scorecard

    # Corpus dev c127's shape: the farewell's closest likeness in the closing's words is 感谢您的爱心等待, which
    # the audio reads as 感谢您的耐心等待 (a thanks for holding) as well as Whisper's words; the call has no farewell.
    heard = "感谢您的爱心等待，线路今天晚上之前恢复。"
    transcript = Transcript("c", "c.wav", "A1", "agent,customer", 12.0, [
        Utterance("agent", 0.0, 3.0, heard, heard, 0.9),
        Utterance("agent", 4.0, 6.0, "请问还有什么问题吗？", "请问还有什么问题吗？", 0.9),
        Utterance("customer", 7.0, 9.0, "没有了。", "没有了。", 0.9)])
    audio = ScoredAudio({heard: [-1.0] * 10, heard.replace("爱心", "耐心"): [-1.0] * 10, "请问还有什么问题吗？": [-0.5] * 8})
    config = load_scorecard(None).checks["closing"]
    result = get_check("closing")().run(transcript, config, replace(CallContext("c", "A1", None), verifier=audio))
    assert result.passed is False and [f.extra["missing"] for f in result.findings] == ["farewell"]
