"""asr/pipeline.py, asr/cache.py, asr/batch.py and `callqa transcribe`.

Batch logic runs on a test backend (FixedBackend, a stand-in for Whisper that
returns fixed segments and counts its calls); the one end-to-end test at the
bottom runs the real default backend on a sample recording.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from callqa.asr.backends.base import SAMPLE_RATE, AsrSegment
from callqa.asr.batch import INDEX_FILE, TRANSCRIPTS_DIR, WORKER_CRASHED, transcribe_batch
from callqa.asr.cache import TranscriptCache
from callqa.asr.models import ModelRef
from callqa.asr.options import AsrOptions
from callqa.asr.pipeline import ChannelLayoutError, effective_layout, transcribe_call
from callqa.asr.transcript import CallInput, Transcript
from callqa.audio.decode import DecodedAudio

from conftest import SAMPLES, tone_signal, write_audio

AGENT_TEXT = "您好，欢迎致电客服中心，工号八零二三为您服务"
CUSTOMER_TEXT = "我想查一下我上个月的话费账单"
CRASH_SECONDS = 3.0  # CrashingBackend kills its worker process on audio this long


class FixedBackend:
    """Test double for a Whisper backend: one segment per call, text chosen by the tone's pitch."""

    name = "fixed"

    def __init__(self, interrupt_on_call: int | None = None) -> None:
        self.model_ref = ModelRef("fixed", "ctranslate2", Path("/nonexistent/fixed"), "test", sha256="fixed-model")
        self.calls: list[np.ndarray] = []
        self.interrupt_on_call = interrupt_on_call

    def transcribe(self, audio: np.ndarray, options: AsrOptions) -> list[AsrSegment]:
        self.calls.append(audio)
        if self.interrupt_on_call == len(self.calls):
            raise KeyboardInterrupt  # as Ctrl-C would arrive in the middle of ASR
        spectrum = np.abs(np.fft.rfft(audio))
        pitch = np.fft.rfftfreq(len(audio), 1 / SAMPLE_RATE)[spectrum.argmax()]
        text = AGENT_TEXT if pitch < 700 else CUSTOMER_TEXT
        end = round(len(audio) / SAMPLE_RATE, 2)
        return [AsrSegment(start=0.2, end=end - 0.2, text=text, avg_logprob=-0.2, no_speech_prob=0.05, compression_ratio=1.1)]


class CrashingBackend(FixedBackend):
    def transcribe(self, audio: np.ndarray, options: AsrOptions) -> list[AsrSegment]:
        if abs(len(audio) / SAMPLE_RATE - CRASH_SECONDS) < 0.01:
            os._exit(3)  # the worker process dies as on a segfault or the OOM killer
        return super().transcribe(audio, options)


OPTIONS = AsrOptions()


def call_for(path: Path, channels: str = "agent,customer", call_id: str | None = None) -> CallInput:
    return CallInput(call_id=call_id or path.stem, path=path, file=path.name, agent_id="A01", channels=channels)


def stereo_call(tmp_path: Path, name: str, seconds: float = 2.0) -> CallInput:
    # Agent at 440 Hz on the left, customer at 1000 Hz on the right.
    return call_for(write_audio(tmp_path / name, tone_signal(8000, seconds, [440.0, 1000.0]), 8000))


# --- pipeline ------------------------------------------------------------------


def test_stereo_call_transcribes_each_channel_and_assigns_roles(tmp_path):
    backend = FixedBackend()
    transcript = transcribe_call(stereo_call(tmp_path, "c1.wav"), OPTIONS, backend)
    assert len(backend.calls) == 2
    assert transcript.channels == "agent,customer"
    by_role = {u.role: u for u in transcript.utterances}
    assert set(by_role) == {"agent", "customer"}
    assert "8023" in by_role["agent"].text and by_role["agent"].raw_text == AGENT_TEXT
    assert by_role["customer"].raw_text == CUSTOMER_TEXT and by_role["customer"].channel == 1
    info = transcript.info
    assert info.backend == "fixed" and info.model_sha256 == "fixed-model" and not info.cached
    assert info.audio_sha256 == hashlib.sha256((tmp_path / "c1.wav").read_bytes()).hexdigest()
    assert transcript.duration_s == pytest.approx(2.0)


def test_customer_agent_layout_swaps_roles(tmp_path):
    call = stereo_call(tmp_path, "c1.flac")
    call.channels = "customer,agent"
    transcript = transcribe_call(call, OPTIONS, FixedBackend())
    by_role = {u.role: u.raw_text for u in transcript.utterances}
    assert by_role == {"customer": AGENT_TEXT, "agent": CUSTOMER_TEXT}


def test_stereo_layout_on_mono_file_is_processed_as_mono_with_a_note(tmp_path):
    path = write_audio(tmp_path / "m.wav", tone_signal(8000, 2.0, [440.0]), 8000)
    backend = FixedBackend()
    transcript = transcribe_call(call_for(path, "agent,customer"), OPTIONS, backend)
    assert len(backend.calls) == 1
    assert transcript.channels == "mono"
    assert any("1 channel" in note for note in transcript.info.notes)
    assert [u.raw_text for u in transcript.utterances] == [AGENT_TEXT]
    assert transcript.utterances[0].channel is None


def test_identical_channels_are_one_voice_not_two(tmp_path):
    same = tone_signal(8000, 2.0, [440.0, 440.0])
    backend = FixedBackend()
    transcript = transcribe_call(call_for(write_audio(tmp_path / "dup.wav", same, 8000)), OPTIONS, backend)
    assert len(backend.calls) == 1  # not the same sentence once as agent and once as customer
    assert transcript.channels == "mono" and "same audio" in transcript.info.notes[0]


def test_silent_recording_gives_empty_transcript_without_asr(tmp_path):
    path = write_audio(tmp_path / "silent.wav", np.zeros((2, 16000), np.float32), 8000)
    backend = FixedBackend()
    transcript = transcribe_call(call_for(path), OPTIONS, backend)
    assert transcript.utterances == [] and backend.calls == []


def test_silent_channel_is_skipped(tmp_path):
    data = tone_signal(8000, 2.0, [440.0, 1000.0])
    data[1] = 0.0
    backend = FixedBackend()
    transcript = transcribe_call(call_for(write_audio(tmp_path / "half.wav", data, 8000)), OPTIONS, backend)
    assert len(backend.calls) == 1
    assert [u.role for u in transcript.utterances] == ["agent"]


def test_a_segment_spanning_several_turns_is_split_at_its_pauses():
    from callqa.asr.backends.base import AsrWord
    from callqa.asr.roles import split_at_pauses

    words = [AsrWord(0.3, 0.8, "您好，", 0.9), AsrWord(0.9, 1.5, "请讲。", 0.9),  # 4 s: the customer talks
             AsrWord(5.5, 6.0, "好的，", 0.9), AsrWord(6.2, 6.9, "请稍等。", 0.9)]
    segment = AsrSegment(0.3, 6.9, "您好，请讲。好的，请稍等。", -0.2, 0.05, 1.1, words)
    pieces = split_at_pauses([segment])
    assert [(p.start, p.end, p.text) for p in pieces] == [(0.3, 1.5, "您好，请讲。"), (5.5, 6.9, "好的，请稍等。")]
    assert [len(p.words) for p in pieces] == [2, 2] and pieces[0].avg_logprob == -0.2
    close = AsrSegment(0.3, 1.5, "您好，请讲。", -0.2, 0.05, 1.1, words[:2])
    assert split_at_pauses([close]) == [close]


def test_more_than_two_channels():
    audio = DecodedAudio(np.random.default_rng(0).normal(0, 0.1, (4, 16000)).astype(np.float32), SAMPLE_RATE, 1.0,
                         8000, 4, "pcm_s16le", "x")
    with pytest.raises(ChannelLayoutError, match="4 channels.*'mono'"):
        effective_layout("agent,customer", audio)
    assert effective_layout("mono", audio) == ("mono", ["4 channels mixed down to mono"])


# --- batch: failures, resume, cache, workers -------------------------------------


def test_failures_get_error_files_and_the_batch_goes_on(tmp_path):
    good1 = stereo_call(tmp_path, "good1.wav")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    noise = tmp_path / "noise.mp3"
    noise.write_bytes(np.random.default_rng(7).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    good2 = stereo_call(tmp_path, "good2.flac")
    calls = [good1, call_for(empty), call_for(tmp_path / "missing.wav"), call_for(noise), good2]
    backend = FixedBackend()
    out = tmp_path / "out"

    results = transcribe_batch(calls, OPTIONS, out, use_cache=False, progress=False, backend=backend)

    assert [r.call.call_id for r in results] == ["good1", "empty", "missing", "noise", "good2"]
    assert [r.transcript is not None for r in results] == [True, False, False, False, True]
    assert "empty file" in results[1].error and "no such file" in results[2].error
    assert "not an audio file" in results[3].error
    assert len(backend.calls) == 4  # two channels of each good call
    folder = out / TRANSCRIPTS_DIR
    error = json.loads((folder / "empty.error.json").read_text())
    assert error == {"call_id": "empty", "file": "empty.wav", "error_type": "AudioDecodeError", "message": "empty file (0 bytes)"}
    assert Transcript.load(folder / "good2.json").utterances[0].raw_text in (AGENT_TEXT, CUSTOMER_TEXT)
    assert not (folder / "empty.json").exists()


def test_interrupted_batch_resumes_where_it_stopped(tmp_path, capsys):
    calls = [stereo_call(tmp_path, f"c{i}.wav") for i in range(1, 4)]
    out = tmp_path / "out"
    # The 3rd ASR call is the first channel of the 2nd recording.
    with pytest.raises(KeyboardInterrupt):
        transcribe_batch(calls, OPTIONS, out, use_cache=False, progress=False, backend=FixedBackend(interrupt_on_call=3))
    folder = out / TRANSCRIPTS_DIR
    assert (folder / "c1.json").is_file()
    assert not (folder / "c2.json").exists() and not (folder / "c3.json").exists()
    assert "Run the same command again to resume" in capsys.readouterr().err

    backend = FixedBackend()
    results = transcribe_batch(calls, OPTIONS, out, use_cache=False, progress=False, backend=backend)
    assert len(backend.calls) == 4  # only c2 and c3, two channels each
    assert [r.transcript.info.cached for r in results] == [True, False, False]
    assert all((folder / f"c{i}.json").is_file() for i in range(1, 4))


def test_resume_redoes_a_call_whose_audio_or_options_changed(tmp_path):
    calls = [stereo_call(tmp_path, "c1.wav"), stereo_call(tmp_path, "c2.wav")]
    out = tmp_path / "out"
    transcribe_batch(calls, OPTIONS, out, use_cache=False, progress=False, backend=FixedBackend())
    write_audio(calls[0].path, tone_signal(8000, 1.5, [440.0, 1000.0]), 8000)  # c1 re-recorded
    backend = FixedBackend()
    results = transcribe_batch(calls, OPTIONS, out, use_cache=False, progress=False, backend=backend)
    assert len(backend.calls) == 2 and results[0].transcript.duration_s == pytest.approx(1.5)
    assert results[1].transcript.info.cached

    backend = FixedBackend()
    transcribe_batch(calls, AsrOptions(hotwords=("话费",)), out, use_cache=False, progress=False, backend=backend)
    assert len(backend.calls) == 4


def test_resume_takes_the_manifests_current_agent_id(tmp_path):
    call = stereo_call(tmp_path, "c1.wav")
    out = tmp_path / "out"
    transcribe_batch([call], OPTIONS, out, use_cache=False, progress=False, backend=FixedBackend())
    fixed = CallInput(call.call_id, call.path, call.file, "A77", call.channels)
    backend = FixedBackend()
    [result] = transcribe_batch([fixed], OPTIONS, out, use_cache=False, progress=False, backend=backend)
    assert backend.calls == [] and result.transcript.agent_id == "A77"
    assert Transcript.load(out / TRANSCRIPTS_DIR / "c1.json").agent_id == "A77"


def test_two_batches_cannot_share_an_output_folder(tmp_path):
    import fcntl

    from callqa.asr.batch import OutputBusyError

    folder = tmp_path / "out" / TRANSCRIPTS_DIR
    folder.mkdir(parents=True)
    with open(folder / ".lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a running batch holds it
        with pytest.raises(OutputBusyError, match="another callqa batch"):
            transcribe_batch([stereo_call(tmp_path, "c1.wav")], OPTIONS, tmp_path / "out", progress=False,
                             backend=FixedBackend())


def test_second_run_does_no_asr(tmp_path):
    calls = [stereo_call(tmp_path, "c1.wav"), stereo_call(tmp_path, "c2.m4a")]
    cache = tmp_path / "cache"
    first = transcribe_batch(calls, OPTIONS, tmp_path / "out1", progress=False, backend=FixedBackend(), cache_dir=cache)
    backend = FixedBackend()
    # Another output directory, so nothing is resumed: every transcript must come from the cache.
    renamed = [CallInput("renamed", calls[0].path, "renamed.wav", "A09"), calls[1]]
    second = transcribe_batch(renamed, OPTIONS, tmp_path / "out2", progress=False, backend=backend, cache_dir=cache)
    assert backend.calls == []
    assert all(r.transcript.info.cached and r.transcript.info.elapsed_s == 0 for r in second)
    assert second[0].transcript.utterances == first[0].transcript.utterances
    assert (second[0].transcript.call_id, second[0].transcript.file, second[0].transcript.agent_id) == ("renamed", "renamed.wav", "A09")
    assert Transcript.load(tmp_path / "out2" / TRANSCRIPTS_DIR / "renamed.json").call_id == "renamed"


def test_new_postprocessing_remakes_transcripts_from_cache_without_asr(tmp_path, monkeypatch):
    calls = [stereo_call(tmp_path, "c1.wav")]
    out, cache = tmp_path / "out", tmp_path / "cache"
    transcribe_batch(calls, OPTIONS, out, progress=False, backend=FixedBackend(), cache_dir=cache)
    (out / TRANSCRIPTS_DIR / "c1.json").write_text(json.dumps({"call_id": "c1", "file": "stale", "agent_id": None,
                                                                "channels": "mono", "duration_s": 0}))
    import callqa.asr.batch_output as batch_output

    monkeypatch.setattr(batch_output, "pipeline_fingerprint", lambda: "edited-filters")
    backend = FixedBackend()
    [result] = transcribe_batch(calls, OPTIONS, out, progress=False, backend=backend, cache_dir=cache)
    assert backend.calls == [] and result.transcript.info.cached
    assert Transcript.load(out / TRANSCRIPTS_DIR / "c1.json").file == "c1.wav"  # rewritten, not resumed
    assert len(result.transcript.utterances) == 2


def test_cache_misses_on_other_options_or_layout(tmp_path):
    call = stereo_call(tmp_path, "c1.wav")
    cache = TranscriptCache(tmp_path / "cache")
    transcribe_call(call, OPTIONS, FixedBackend(), cache)
    backend = FixedBackend()
    assert transcribe_call(call, OPTIONS, backend, cache).info.cached and backend.calls == []
    assert not transcribe_call(call, AsrOptions(beam_size=1), backend, cache).info.cached
    swapped = CallInput(call.call_id, call.path, call.file, call.agent_id, "customer,agent")
    assert not transcribe_call(swapped, OPTIONS, backend, cache).info.cached
    assert len(backend.calls) == 4


def test_damaged_cache_entry_is_a_miss(tmp_path):
    call = stereo_call(tmp_path, "c1.wav")
    cache = TranscriptCache(tmp_path / "cache")
    transcribe_call(call, OPTIONS, FixedBackend(), cache)
    [entry] = list((tmp_path / "cache").rglob("*.json"))
    entry.write_text("{not json")
    backend = FixedBackend()
    assert not transcribe_call(call, OPTIONS, backend, cache).info.cached and len(backend.calls) == 2


def test_workers_survive_a_crashing_call(tmp_path):
    calls = [stereo_call(tmp_path, "c1.wav"), stereo_call(tmp_path, "boom.wav", CRASH_SECONDS),
             stereo_call(tmp_path, "c3.ogg"), stereo_call(tmp_path, "c4.flac")]
    out = tmp_path / "out"
    results = transcribe_batch(calls, OPTIONS, out, workers=2, use_cache=False, progress=False, backend=CrashingBackend())
    assert [r.call.call_id for r in results] == ["c1", "boom", "c3", "c4"]
    assert [r.transcript is not None for r in results] == [True, False, True, True]
    error = json.loads((out / TRANSCRIPTS_DIR / "boom.error.json").read_text())
    assert error["error_type"] == WORKER_CRASHED
    assert {u.raw_text for u in results[3].transcript.utterances} == {AGENT_TEXT, CUSTOMER_TEXT}
    index = [json.loads(line) for line in (out / TRANSCRIPTS_DIR / INDEX_FILE).read_text().splitlines()]
    assert {e["call_id"]: e["status"] for e in index} == {"c1": "ok", "boom": "error", "c3": "ok", "c4": "ok"}


# --- the command -------------------------------------------------------------------


def test_cli_exit_codes(tmp_path):
    from typer.testing import CliRunner

    from callqa.cli import app

    runner = CliRunner()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.wav").write_bytes(b"")
    (broken / "b.mp3").write_text("not audio")
    result = runner.invoke(app, ["transcribe", str(broken), "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 1, result.output
    assert "0 transcribed, 0 cached, 2 failed" in result.output
    assert "failed a.wav: empty file (0 bytes)" in result.output

    result = runner.invoke(app, ["transcribe", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "no such file or directory" in result.output

    result = runner.invoke(app, ["transcribe", str(broken), "--out", str(tmp_path / "out"), "--backend", "kaldi"])
    assert result.exit_code == 2 and "unknown backend 'kaldi'" in result.output


# --- end to end, real Whisper --------------------------------------------------------


@pytest.fixture(scope="session")
def sample_stereo_call() -> CallInput:
    from callqa.audio.inputs import read_inputs

    manifest = SAMPLES / "manifest.csv"
    if not manifest.is_file():
        pytest.skip("samples/manifest.csv not generated yet")
    stereo = [c for c in read_inputs(manifest) if c.channels != "mono"]
    if not stereo:
        pytest.skip("no stereo call in samples/manifest.csv")
    return stereo[0]


@pytest.mark.asr
def test_real_backend_transcribes_a_sample_then_serves_it_from_cache(sample_stereo_call, tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    [first] = transcribe_batch([sample_stereo_call], AsrOptions(), out, use_cache=True, progress=False, cache_dir=cache)
    assert first.error is None, first.error
    transcript = first.transcript
    assert {u.role for u in transcript.utterances} == {"agent", "customer"}
    assert transcript.info.backend == "faster-whisper" and transcript.info.elapsed_s > 0
    agent_text = "".join(u.text for u in transcript.utterances if u.role == "agent")
    assert "您好" in agent_text or "你好" in agent_text  # the agent greets in every sample call
    assert all(u.start < u.end for u in transcript.utterances)

    [again] = transcribe_batch([sample_stereo_call], AsrOptions(), tmp_path / "out2", progress=False, cache_dir=cache)
    assert again.transcript.info.cached and again.transcript.utterances == transcript.utterances


def test_a_pool_found_broken_on_submit_is_replaced_and_no_call_is_lost(monkeypatch):
    """A worker can die while another call's result is collected: the next submit meets a broken pool before
    any future says so. The job is kept and run on a new pool."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from callqa.asr import batch
    from callqa.asr.batch_output import CallJob, CallOutcome

    class Executor:
        made = 0

        def __init__(self, **_kwargs) -> None:
            Executor.made += 1
            self.broken = Executor.made == 1  # the first pool is broken from the start

        def submit(self, fn, job):
            if self.broken:
                raise BrokenProcessPool("a child process terminated abruptly")
            future = Future()
            future.set_result(CallOutcome(None, "Done", job.call))
            return future

        def shutdown(self, **_kwargs) -> None:
            pass

    monkeypatch.setattr(batch, "ProcessPoolExecutor", Executor)
    finished = []
    pool = batch._Pool(2, (), lambda job, outcome: finished.append(outcome.message))
    pool.run([CallJob(i, f"call{i}", None) for i in range(3)])
    assert sorted(finished) == ["call0", "call1", "call2"] and Executor.made == 2
