"""asr/second_look.py: speech the VAD heard and Whisper wrote nothing for, decoded again on its own."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from callqa.asr.backends.base import SAMPLE_RATE, AsrSegment, AsrWord
from callqa.asr.cache import Recognition, TranscriptCache
from callqa.asr.filters import drop_hallucinations
from callqa.asr.measures import HOP_S, ChannelMeasures
from callqa.asr.models import ModelRef
from callqa.asr.options import AsrOptions
from callqa.asr.pipeline import transcribe_call
from callqa.asr.second_look import (MIN_LOGPROB, clip_options, reread_echoes, second_look, unwritten_speech,
                                    with_rereads)
from callqa.asr.transcript import CallInput

from conftest import SAMPLES


def measures(speech, duration=20.0, spans_db=(), base_db=-60.0):
    frames = [base_db] * int(duration / HOP_S)
    for start, end, db in spans_db:
        for k in range(int(start / HOP_S), int(end / HOP_S)):
            frames[k] = db
    return ChannelMeasures(list(speech), frames)


def segment(text, start, end, logprob=-0.3, no_speech=0.05):
    step = (end - start) / len(text)
    words = [AsrWord(start + k * step, start + (k + 1) * step, ch, 0.9) for k, ch in enumerate(text)]
    return AsrSegment(start, end, text, logprob, no_speech, 1.1, words)


def test_unwritten_speech_is_vad_speech_no_word_covers_and_not_the_other_partys_voice():
    written = [segment("您好欢迎致电", 0.0, 2.0)]
    own = measures([(0.0, 2.0), (3.0, 4.5), (5.0, 5.3), (6.0, 7.0), (7.4, 8.0), (10.0, 12.0)],
                   spans_db=[(0.0, 12.0, -25.0)])
    # The other channel is loud at 10-12 s: that span is its voice leaking in, not words Whisper missed.
    other = measures([(10.0, 12.0)], spans_db=[(10.0, 12.0, -10.0)])
    assert unwritten_speech(written, own.speech, own, other) == [(3.0, 4.5), (6.0, 8.0)]  # 5.0-5.3 too short
    assert unwritten_speech(written, own.speech, own) == [(3.0, 4.5), (6.0, 8.0), (10.0, 12.0)]  # 6-7, 7.4-8 join


def test_speech_under_words_the_filters_cut_is_unwritten():
    # Corpus call c057: Whisper wrote its prompt's word list (工号、致电、客服…) over 12 s of the agent's speech;
    # those words are cut, so the speech under them is decoded again.
    words = [AsrWord(0.5, 1.2, "您好，", 0.9), AsrWord(1.5, 3.6, "这里是客服中心。", 0.9),
             AsrWord(6.0, 6.3, "工号、", 0.8), AsrWord(6.4, 6.6, "致电、", 0.8), AsrWord(7.3, 9.7, "客服、", 0.8),
             AsrWord(9.9, 12.8, "订单、", 0.8), AsrWord(15.1, 16.4, "快递、", 0.8), AsrWord(16.6, 17.3, "退款。", 0.8)]
    echoed = AsrSegment(0.5, 17.3, "".join(w.word for w in words), -0.3, 0.05, 1.1, words)
    own = measures([(0.5, 3.6), (6.0, 12.9), (16.0, 18.0)], spans_db=[(0.0, 20.0, -25.0)])
    assert unwritten_speech([echoed], own.speech, own) == []  # as Whisper wrote it, every span has words
    assert unwritten_speech(drop_hallucinations([echoed], AsrOptions()), own.speech, own) == [(6.0, 12.9),
                                                                                                (16.0, 18.0)]
    backend = ClipBackend([[segment("工号二五三幺", 0.3, 2.0)], [segment("需要身份证的照片", 0.3, 1.9)]])
    found = second_look(backend, np.zeros(20 * SAMPLE_RATE, np.float32), [echoed], own.speech, own, None,
                        AsrOptions())
    assert [s.text for s in found] == ["工号二五三幺", "需要身份证的照片"]
    # Without a prompt those words are the agent's own, and nothing is decoded again.
    assert second_look(ClipBackend([]), np.zeros(20 * SAMPLE_RATE, np.float32), [echoed], own.speech, own, None,
                       AsrOptions(initial_prompt=None)) == []


class ClipBackend:
    """Returns scripted segments (times within the clip) for each clip, and records the options it was given."""

    name = "clip"

    def __init__(self, readings):
        self.readings = list(readings)
        self.calls: list[tuple[float, AsrOptions]] = []
        self.model_ref = ModelRef("clip", "ctranslate2", Path("/nonexistent/clip"), "test", sha256="clip-model")

    def transcribe(self, audio, options):
        self.calls.append((len(audio) / SAMPLE_RATE, options))
        return self.readings.pop(0) if self.readings else []


def test_second_look_keeps_sure_readings_at_call_times_and_drops_guesses():
    backend = ClipBackend([[segment("请问还有什么问题吗", 0.3, 1.8)],
                           [segment("圈圈向著圈向", 0.3, 1.5, logprob=MIN_LOGPROB - 0.3)]])
    own = measures([(0.0, 2.0), (5.0, 6.8), (9.0, 10.5)], spans_db=[(0.0, 12.0, -25.0)])
    found = second_look(backend, np.zeros(12 * SAMPLE_RATE, np.float32), [segment("您好欢迎致电", 0.0, 2.0)],
                        own.speech, own, None, AsrOptions())
    assert [(s.text, round(s.start, 2), round(s.end, 2)) for s in found] == [("请问还有什么问题吗", 5.0, 6.5)]
    assert round(found[0].words[0].start, 2) == 5.0  # word times moved with it
    assert [round(seconds, 1) for seconds, _ in backend.calls] == [2.4, 2.1]  # each stretch with 0.3 s either side
    used = backend.calls[0][1]
    assert used == clip_options(AsrOptions())
    assert (used.vad, used.prompt, used.batch_size) == (False, None, 0)
    assert used.log_prob_threshold < -100 and used.compression_ratio_threshold > 100  # no temperature fallback


class FirstTurnOnly:
    """A Whisper stand-in that, like Whisper on a bad window, writes only the first 3 s of each channel on the
    first pass; a clip decoded alone (no VAD) is read back."""

    name = "first-turn-only"

    def __init__(self):
        self.model_ref = ModelRef("fto", "ctranslate2", Path("/nonexistent/fto"), "test", sha256="fto-model")
        self.clips = 0

    def transcribe(self, audio, options):
        seconds = len(audio) / SAMPLE_RATE
        if options.vad:  # the first pass over the whole channel
            return [segment("您好欢迎致电", 0.0, min(3.0, seconds))]
        self.clips += 1
        return [segment("感谢您的来电再见", 0.2, max(0.4, seconds - 0.2))]


def test_transcribe_call_adds_recovered_speech_once_and_keeps_it_in_the_cache(tmp_path):
    call = CallInput("call_001", SAMPLES / "call_001.wav", "call_001.wav", "A001", "agent,customer")
    cache = TranscriptCache(tmp_path / "cache")
    backend = FirstTurnOnly()
    first = transcribe_call(call, AsrOptions(), backend, cache)
    recovered = [u for u in first.utterances if u.text.startswith("感谢您的来电")]
    assert backend.clips > 0 and len(recovered) >= 1
    assert all(u.start >= 3.0 for u in recovered)

    clips = backend.clips
    again = transcribe_call(call, AsrOptions(), backend, cache)  # everything from the cache: no decoding at all
    assert backend.clips == clips and [u.text for u in again.utterances] == [u.text for u in first.utterances]

    off = transcribe_call(call, AsrOptions(second_look=False), backend, cache)
    assert not any(u.text.startswith("感谢您的来电") for u in off.utterances)
    assert AsrOptions(second_look=False).recognition_fields() != AsrOptions().recognition_fields()
    assert "second_look" not in AsrOptions().recognition_fields()  # the default keeps earlier cache keys


def test_an_entry_cached_before_the_second_look_gets_it_on_the_next_run(tmp_path):
    call = CallInput("call_001", SAMPLES / "call_001.wav", "call_001.wav", "A001", "agent,customer")
    cache = TranscriptCache(tmp_path / "cache")
    backend = FirstTurnOnly()
    transcribe_call(call, AsrOptions(), backend, cache)
    entry = next((tmp_path / "cache").rglob("*.json"))
    import json

    data = json.loads(entry.read_text(encoding="utf-8"))
    data.pop("recovered")  # as an entry written before the second look existed
    entry.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    backend.clips = 0
    upgraded = transcribe_call(call, AsrOptions(), backend, cache)
    assert backend.clips > 0 and any(u.text.startswith("感谢您的来电") for u in upgraded.utterances)
    assert json.loads(entry.read_text(encoding="utf-8"))["recovered"] is not None


def _echoing_opening():
    """Corpus c110: Whisper wrote its prompt's word list where the agent said 工号八六八九."""
    return segment("工号、致电、客服务服务,请问您遇到什么问题了?", 4.25, 8.0)


def test_a_segment_whisper_wrote_its_prompt_into_is_read_again_without_the_prompt():
    opening, reply = _echoing_opening(), segment("我的宽带断了", 9.0, 10.5)
    backend = ClipBackend([[segment("公号8689位移服务,", 0.3, 2.1), segment("请问您遇到什么问题了?", 2.1, 4.0)]])
    rereads = reread_echoes(backend, np.zeros(12 * SAMPLE_RATE, np.float32), [opening, reply], AsrOptions())
    assert [(r.start, r.end) for r in rereads] == [(4.25, 8.0)]
    assert [round(seconds, 2) for seconds, _ in backend.calls] == [4.35]  # the echoing segment, 0.3 s either side
    assert backend.calls[0][1] == clip_options(AsrOptions())  # no prompt to write back
    assert [(s.text, round(s.start, 2)) for s in with_rereads([opening, reply], rereads)] == [
        ("公号8689位移服务,", 4.25), ("请问您遇到什么问题了?", 6.05), ("我的宽带断了", 9.0)]


def test_a_reading_whisper_is_unsure_of_in_part_or_that_echoes_again_is_not_taken():
    opening = _echoing_opening()
    unsure = ClipBackend([[segment("公号8689", 0.3, 1.5), segment("圈圈向著", 1.5, 3.0, logprob=MIN_LOGPROB - 0.2)]])
    assert reread_echoes(unsure, np.zeros(12 * SAMPLE_RATE, np.float32), [opening], AsrOptions()) == []
    echoing = ClipBackend([[segment("工号、致电、客服、订单", 0.3, 3.0)]])
    assert reread_echoes(echoing, np.zeros(12 * SAMPLE_RATE, np.float32), [opening], AsrOptions()) == []
    plain = ClipBackend([])
    assert reread_echoes(plain, np.zeros(12 * SAMPLE_RATE, np.float32), [segment("您好欢迎致电", 0.0, 2.0)],
                         AsrOptions()) == [] and plain.calls == []  # no echo: nothing decoded


class EchoingOpening(FirstTurnOnly):
    """Writes its prompt's word list over the agent's opening; read alone, the opening gives the ID."""

    def transcribe(self, audio, options):
        if options.vad:
            return [segment("您好，工号、致电、客服为您服务", 0.0, min(3.0, len(audio) / SAMPLE_RATE))]
        self.clips += 1
        return [segment("您好，工号八零二三为您服务", 0.3, 2.8)]


def test_the_reading_again_is_the_transcripts_text_and_the_echo_stays_on_record(tmp_path):
    call = CallInput("call_001", SAMPLES / "call_001.wav", "call_001.wav", "A001", "agent,customer")
    cache = TranscriptCache(tmp_path / "cache")
    transcript = transcribe_call(call, AsrOptions(), EchoingOpening(), cache)
    assert transcript.utterances[0].raw_text == "您好，工号八零二三为您服务"
    # Where Whisper wrote its prompt, the new words can show what was said, not prove what was not.
    assert [(e.start, e.text) for e in transcript.prompt_echoes if e.role == "agent"] == [(0.0, "工号、致电、客服")]
    entry = next((tmp_path / "cache").rglob("*.json"))
    import json

    cached = Recognition.from_dict(json.loads(entry.read_text(encoding="utf-8")))
    assert [[s.text for s in r.segments] for r in cached.rereads[0]] == [["您好，工号八零二三为您服务"]]
