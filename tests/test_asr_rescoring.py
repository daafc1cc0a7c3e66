"""Rescoring on real audio: Whisper's own decoder scores candidate texts against the call (both backends).

The utterances and their times are samples/truth/call_003.json's (the mono
call whose agent states ID 5678 and asks politely 不知道您…方不方便…); the
texts compared are the true words and rivals a check would try.
"""

from __future__ import annotations

import json

import pytest
from conftest import SAMPLES

from callqa.asr.options import AsrOptions
from callqa.asr.rescoring import CallRescorer
from callqa.asr.transcript import Transcript, Utterance
from callqa.audio.decode import load_audio

pytestmark = pytest.mark.asr


@pytest.fixture(scope="module")
def call_003() -> tuple[Transcript, object]:
    truth = json.loads((SAMPLES / "truth" / "call_003.json").read_text(encoding="utf-8"))
    utterances = [Utterance(u["role"], u["start"], u["end"], u["text"], u["text"], 0.9) for u in truth["utterances"]]
    return Transcript("call_003", "call_003.flac", "A003", "mono", 44.4, utterances), load_audio(SAMPLES / "call_003.flac")


@pytest.mark.parametrize("backend,fitted", [("faster-whisper", True), ("faster-whisper", False),
                                            ("openai-whisper", False)])
def test_the_audio_prefers_what_was_said(asr_backends, call_003, backend, fitted):
    transcript, audio = call_003
    rescorer = CallRescorer(lambda: audio, "mono", lambda: asr_backends[backend], AsrOptions(backend=backend),
                            fitted=fitted)
    said, other_id, near_id = rescorer.score_utterance(
        transcript, 0, ["您好，工号五六七八，很高兴为您服务。", "您好，工号一零二四，很高兴为您服务。", "您好，工号五六七九，很高兴为您服务。"])
    assert said.logprob > other_id.logprob + 10 and said.logprob > near_id.logprob + 2
    assert said.tokens == len(said.token_logprobs) > 5
    polite, rude = rescorer.score_utterance(transcript, 3, [
        "让您久等了，最近可以安排在明天上午。不知道您明天上午方不方便接听电话？",
        "让您久等了，最近可以安排在明天上午。不知道，您明天上午自己去问吧。"])
    assert polite.logprob > rude.logprob + 10
    # The customer's 不行 is heard as 不行, not as its sound-alike 步行.
    bu_xing, bu_xing_walk = rescorer.score_utterance(transcript, 4, ["不行，明天上午我要上班。下午可以吗？",
                                                                     "步行，明天上午我要上班。下午可以吗？"])
    assert bu_xing.logprob > bu_xing_walk.logprob
    # Utterances 0, 3 and 4 lie in one 30 s window: one encoder pass; fitted, each ends its own window
    # from 0.4 s before its start to 2 s after its end, at least 10 s.
    assert rescorer.encoded_windows == (3 if fitted else 1) and rescorer.scored_texts == 7
    assert [w.length for w in rescorer.windows] == ([10.0, 10.0, 10.0] if fitted else [30.0])
    # A phrase put in place of what was said loses to it (whole utterances are compared, never fragments).
    thanks, absent = rescorer.score_utterance(transcript, 7, ["感谢您的来电，祝您生活愉快，再见。", "好的，那就这样，再见。"])
    assert thanks.logprob > absent.logprob + 5 and rescorer.encoded_windows == (4 if fitted else 2)


def test_scores_are_cached_per_recording_and_a_hit_needs_no_audio_nor_model(asr_backends, call_003, tmp_path):
    from callqa.asr.rescoring import RescoreCache

    transcript, audio = call_003
    texts = ["您好，工号五六七八，很高兴为您服务。", "您好，工号一零二四，很高兴为您服务。"]
    first = CallRescorer(lambda: audio, "mono", lambda: asr_backends["faster-whisper"], AsrOptions(),
                         identity="sha-of-call-003", cache=RescoreCache(tmp_path))
    scored = first.score_utterance(transcript, 0, texts)
    first.close()

    def unavailable():
        raise AssertionError("a cached question must not decode the audio or load the model")

    again = CallRescorer(unavailable, "mono", unavailable, AsrOptions(), identity="sha-of-call-003",
                         cache=RescoreCache(tmp_path))
    assert [s.logprob for s in again.score_utterance(transcript, 0, texts)] == [s.logprob for s in scored]
    assert again.cached_texts == 2 and again.encoded_windows == 0


def test_an_id_whisper_wrote_as_other_words_is_found_in_the_audio(asr_backends, call_003):
    """Whisper's own words always score best, so a garbled ID (吴流起八 for 五六七八) is judged by which ID
    fits its place: the roster's 5678 beats its sound-alikes there; an ID nobody said does not."""
    from dataclasses import replace

    from callqa.checks.base import VerificationSettings
    from callqa.checks.id_verification import verify_missing_id

    transcript, audio = call_003
    garbled = replace(transcript.utterances[0], raw_text="您好，工号吴流起八，很高兴为您服务。")
    transcript = replace(transcript, utterances=[garbled, *transcript.utterances[1:]])
    rescorer = CallRescorer(lambda: audio, "mono", lambda: asr_backends["faster-whisper"], AsrOptions())
    said = verify_missing_id(transcript, [0], "5678", rescorer, VerificationSettings())
    assert said.status == "ok", said.verification.to_dict()
    other = verify_missing_id(transcript, [0], "1024", rescorer, VerificationSettings())
    assert other.status != "ok", other.verification.to_dict()


def test_an_utterance_is_read_again_opening_with_a_phrase_and_the_reading_is_cached(asr_backends, call_003, tmp_path):
    from callqa.asr.rescoring import RescoreCache

    transcript, audio = call_003
    cache = RescoreCache(tmp_path)

    def rescorer(backend):
        return CallRescorer(lambda: audio, "mono", lambda: backend, AsrOptions(), identity="call_003", cache=cache)

    first = rescorer(asr_backends["faster-whisper"])
    heard, free, said, absent = first.score_openings(transcript, 3, ["让您久等了", "请您稍等"])
    assert heard.text == transcript.utterances[3].raw_text and said.text.startswith("让您久等了")
    assert absent.text.startswith("请您稍等") and said.logprob > absent.logprob + 5
    assert max(heard.logprob, free.logprob) - said.logprob < 8, (heard, free, said)
    first.close()
    again = rescorer(None).score_openings(transcript, 3, ["让您久等了", "请您稍等"])  # cached: no model needed
    assert [s.logprob for s in again] == [s.logprob for s in (heard, free, said, absent)]
    # openai-whisper reads no forced openings: the question is not asked, rather than answered wrongly.
    other = CallRescorer(lambda: audio, "mono", lambda: asr_backends["openai-whisper"], AsrOptions(backend="openai-whisper"))
    assert other.score_openings(transcript, 3, ["让您久等了"]) is None


def test_a_reading_does_not_depend_on_the_openings_asked_beside_it(asr_backends, call_003, tmp_path):
    """Readings are kept one per opening: each must be what it would be if asked alone (a longer opening asked
    with it once changed the length limit of the whole batch, and with it the others' readings)."""
    from callqa.asr.rescoring import RescoreCache

    transcript, audio = call_003
    backend = asr_backends["faster-whisper"]

    def readings(openings, where):
        rescorer = CallRescorer(lambda: audio, "mono", lambda: backend, AsrOptions(), identity="call_003",
                                cache=RescoreCache(tmp_path / where))
        return {s.text.split("，")[0][:4]: (s.text, s.logprob) for s in rescorer.score_openings(transcript, 3, openings)[2:]}

    alone = readings(["请您稍等"], "alone")
    beside = readings(["请您稍等", "感谢您的耐心等待，让您久等了"], "beside")
    assert alone["请您稍等"] == beside["请您稍等"]
