"""Both Whisper backends on real audio: they agree, keep times, and invent nothing on silence."""

from __future__ import annotations

import numpy as np
import pytest

from callqa.asr.backends import SAMPLE_RATE, load_backend
from callqa.asr.backends.faster import FasterWhisperBackend
from callqa.asr.metrics import cer
from callqa.asr.models import ModelRef
from callqa.asr.options import AsrOptions

from conftest import SAMPLES

LEAD_SILENCE_S = 6.0


@pytest.fixture(scope="session")
def agent_clip():
    """The agent channel of sample call_001 (first 15.2 s: greeting with the ID, then asking to wait),
    after 6 s of silence, so that VAD must cut and times must be mapped back."""
    from callqa.audio.decode import load_audio

    path = SAMPLES / "call_001.wav"
    if not path.is_file():
        pytest.skip("samples/call_001.wav not built (scripts/make_samples.py)")
    speech = load_audio(path).channels[0][: int(15.2 * SAMPLE_RATE)]
    return np.concatenate([np.zeros(int(LEAD_SILENCE_S * SAMPLE_RATE), np.float32), speech])


def test_faster_whisper_refuses_an_openai_checkpoint(tmp_path):
    pt = tmp_path / "small.pt"
    pt.write_bytes(b"pt")
    with pytest.raises(ValueError, match="Use --backend openai-whisper for .pt"):
        FasterWhisperBackend(ModelRef("small", "openai-pt", pt, "models/ directory"))


def test_cer_ignores_script_numerals_and_punctuation_but_counts_words():
    assert cer("您好，欢迎致电，工号8023。", "您好 歡迎致電 工號八零二三") == 0.0
    assert cer("欢迎致电工号8023", "欢迎至电工号8023") == pytest.approx(1 / 10)  # 至电 for 致电
    assert cer("请稍等", "") == 1.0
    assert cer("", "") == 0.0


@pytest.mark.asr
def test_backends_are_loaded_once_per_process(asr_backends):
    assert load_backend(AsrOptions(backend="faster-whisper")) is asr_backends["faster-whisper"]
    assert load_backend(AsrOptions(backend="openai-whisper")) is asr_backends["openai-whisper"]
    assert asr_backends["openai-whisper"].checkpoint.suffix == ".pt"  # ran on the converted base


@pytest.mark.asr
@pytest.mark.parametrize("backend", ["faster-whisper", "openai-whisper"])
def test_silence_and_empty_audio_give_no_segments(asr_backends, backend):
    options = AsrOptions(backend=backend)
    quiet_hiss = np.random.default_rng(1).normal(0, 1e-4, 5 * SAMPLE_RATE).astype(np.float32)
    assert asr_backends[backend].transcribe(np.zeros(5 * SAMPLE_RATE, np.float32), options) == []
    assert asr_backends[backend].transcribe(quiet_hiss, options) == []
    assert asr_backends[backend].transcribe(np.zeros(0, np.float32), options) == []


@pytest.mark.asr
def test_backends_agree_on_the_same_weights(asr_backends, agent_clip):
    """openai-whisper on the converted checkpoint writes what faster-whisper writes on model.bin.

    Compared at float32 on both sides (the same arithmetic; the default int8 is
    measured against it in bench/asr_backends.py); int8 must still hear the call.
    """
    runs = {
        "openai-whisper": (asr_backends["openai-whisper"], AsrOptions(backend="openai-whisper")),
        "faster-whisper float32": (load_backend(AsrOptions(compute_type="float32")), AsrOptions(compute_type="float32")),
        "faster-whisper int8": (asr_backends["faster-whisper"], AsrOptions()),
    }
    texts = {}
    for name, (backend, options) in runs.items():
        segments = backend.transcribe(agent_clip, options)
        assert segments, name
        # VAD cut the leading silence; times are back on the original timeline.
        assert segments[0].start >= LEAD_SILENCE_S - 0.5, (name, segments[0])
        assert segments[-1].end <= len(agent_clip) / SAMPLE_RATE + 0.1
        words = [w for s in segments for w in s.words]
        assert words and all(a.start <= b.start for a, b in zip(words, words[1:])), name
        assert words[0].start >= LEAD_SILENCE_S - 0.5
        texts[name] = "".join(s.text for s in segments)

    assert cer(texts["openai-whisper"], texts["faster-whisper float32"]) < 0.02, texts
    # All heard the call: the greeting with the ID, and the hold request.
    script = "您好，欢迎致电客服中心，工号八零二三为您服务，请问有什么可以帮您？好的，请您稍等，我帮您查询一下。"
    for name, text in texts.items():
        assert cer(script, text) < 0.15, (name, text)


@pytest.mark.asr
def test_batched_decoding_hears_the_same_call_on_the_original_timeline(asr_backends, agent_clip):
    """batch_size runs faster-whisper's BatchedInferencePipeline on the loaded model: times mapped back
    past the VAD's cut, word times in order, and the words the sequential decoder hears."""
    backend = asr_backends["faster-whisper"]
    sequential = "".join(s.text for s in backend.transcribe(agent_clip, AsrOptions()))
    segments = backend.transcribe(agent_clip, AsrOptions(batch_size=4))
    assert segments and segments[0].start >= LEAD_SILENCE_S - 0.5, segments[:1]
    words = [w for s in segments for w in s.words]
    assert words and all(a.start <= b.start for a, b in zip(words, words[1:]))
    assert cer(sequential, "".join(s.text for s in segments)) < 0.1


@pytest.mark.parametrize("options, message", [
    ({"batch_size": -1}, "batch_size must be >= 0"),
    ({"batch_size": 8, "backend": "openai-whisper"}, "needs the faster-whisper backend"),
    ({"batch_size": 8, "vad": False}, "needs vad"),
    ({"chunk_length": 0}, "chunk_length must be 1-30 seconds"),
    ({"chunk_length": 15, "backend": "openai-whisper"}, "needs the faster-whisper backend"),
    ({"vad_speech_pad_ms": -1}, "vad_speech_pad_ms must be 0-2000"),
])
def test_batch_size_is_checked_when_the_options_are_built(options, message):
    from callqa.asr.options import AsrOptionsError

    with pytest.raises(AsrOptionsError, match=message):
        AsrOptions(**options)


def test_the_vad_pad_keys_the_cache_only_when_set_away_from_its_default():
    """Transcripts cached before vad_speech_pad_ms existed were decoded with faster-whisper's 400 ms."""
    assert "vad_speech_pad_ms" not in AsrOptions().recognition_fields()
    assert AsrOptions(vad_speech_pad_ms=800).recognition_fields()["vad_speech_pad_ms"] == 800


@pytest.mark.asr
def test_a_shorter_chunk_leaves_verification_its_30_s_window_and_the_key_changes_only_when_set(asr_backends, agent_clip):
    """faster-whisper keeps the last chunk_length in the model's feature extractor: encoding for verification
    must not inherit a transcription's 15 s, and transcripts cached before the option existed stay valid."""
    backend = asr_backends["faster-whisper"]
    assert backend.transcribe(agent_clip, AsrOptions(chunk_length=15))
    assert backend.encode(agent_clip).output.shape[1] == 1500  # 30 s of frames, halved by the encoder
    assert "chunk_length" not in AsrOptions().cache_key_fields()
    assert AsrOptions(chunk_length=15).cache_key_fields()["chunk_length"] == 15
