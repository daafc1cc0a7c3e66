"""How a call sounds, on constructed stereo audio whose truth is exact: dead air, interruptions, pace, loudness.

Real speech clips are cut from samples/call_001.wav at the times its truth
file gives (agent left, customer right) and laid on a new timeline: an 8 s
silence after a line with no hold request, the agent starting 1.5 s before
the customer ends (an interruption) and 0.5 s before (under the 1 s grace),
one agent line played 1.6x fast and one 12 dB louder. The whole pipeline
(VAD, Whisper, roles, checks) runs on it. A second call announces the hold
with 请您稍等 (the silence is excused); a mono mix has no interruptions to judge.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SAMPLES, write_audio

from callqa.asr.pipeline import transcribe_call
from callqa.asr.transcript import CallInput
from callqa.audio.decode import load_audio
from callqa.checks.base import CallContext
from callqa.checks.registry import run_checks
from callqa.scoring.scorecard import load_scorecard

pytestmark = pytest.mark.asr
RATE = 16000


@pytest.fixture(scope="module")
def clips() -> dict[str, np.ndarray]:
    audio = load_audio(SAMPLES / "call_001.wav")
    truth = json.loads((SAMPLES / "truth" / "call_001.json").read_text(encoding="utf-8"))
    names = ["greeting", "question", "hold", "thanks", "ok", "anything_else", "no_more", "farewell"]
    out = {}
    for name, u in zip(names, truth["utterances"]):
        channel = audio.channels[0 if u["role"] == "agent" else 1]
        out[name] = channel[int((u["start"] - 0.05) * RATE) : int((u["end"] + 0.05) * RATE)].copy()
    return out


def _lay(parts: list[tuple[str, float, np.ndarray]], seconds: float) -> np.ndarray:
    tracks = np.zeros((2, int(seconds * RATE)), dtype=np.float32)
    for role, start, clip in parts:
        at = int(start * RATE)
        tracks[0 if role == "agent" else 1, at : at + len(clip)] += clip
    return np.clip(tracks, -0.99, 0.99)


def _fast(clip: np.ndarray) -> np.ndarray:
    import librosa

    return librosa.effects.time_stretch(clip.astype(np.float32), rate=1.6)


def _run(tmp_path, name: str, tracks: np.ndarray, layout: str = "agent,customer"):
    path = write_audio(tmp_path / f"{name}.wav", tracks if layout != "mono" else tracks.sum(0, keepdims=True), RATE)
    transcript = transcribe_call(CallInput(name, path, path.name, "A001", layout))
    card = load_scorecard(None)
    return transcript, run_checks(transcript, card.checks, CallContext(name, "A001", "8023"))


@pytest.fixture(scope="module")
def constructed(clips, tmp_path_factory):
    c = clips
    q_end = 9.0 + len(c["question"]) / RATE
    thanks_at = q_end - 1.5  # the agent starts 1.5 s before the customer ends: an interruption
    ok_at = thanks_at + len(c["thanks"]) / RATE + 0.4
    anything_at = ok_at + len(c["ok"]) / RATE - 0.5  # 0.5 s over the customer's end: under the grace
    no_more_at = anything_at + len(c["anything_else"]) / RATE + 0.4
    silence_from = no_more_at + len(c["no_more"]) / RATE
    fast_at = silence_from + 8.0  # 8 s with nobody speaking, after the customer's 没有了 (no hold asked)
    loud_at = fast_at + len(_fast(c["thanks"])) / RATE + 1.6  # a turn apart: Whisper keeps them two utterances
    parts = [
        ("agent", 0.5, c["greeting"]), ("customer", 9.0, c["question"]), ("agent", thanks_at, c["thanks"]),
        ("customer", ok_at, c["ok"]), ("agent", anything_at, c["anything_else"]),
        ("customer", no_more_at, c["no_more"]), ("agent", fast_at, _fast(c["thanks"])),
        ("agent", loud_at, c["farewell"] * 10 ** (12 / 20)),
    ]  # fmt: skip
    end = loud_at + len(c["farewell"]) / RATE + 1.0
    tracks = _lay(parts, end)
    truth = {"silence": (silence_from, fast_at), "interruption_at": thanks_at, "loud_at": loud_at, "fast_at": fast_at}
    return tracks, truth, tmp_path_factory.mktemp("sound")


def test_dead_air_an_interruption_a_fast_line_and_a_raised_voice_are_found(constructed):
    tracks, truth, folder = constructed
    transcript, results = _run(folder, "constructed", tracks)
    silence = results["silence"]
    assert silence.passed is False and silence.extra["count"] == 1
    [dead] = silence.findings
    assert abs(dead.start - truth["silence"][0]) < 0.4 and abs(dead.end - truth["silence"][1]) < 0.4
    assert 7.4 <= silence.extra["longest_s"] <= 8.6

    interruptions = results["interruptions"]
    assert interruptions.passed is False and interruptions.extra["count"] == 1  # the 0.5 s overlap is under the grace
    [cut] = interruptions.findings
    assert abs(cut.start - truth["interruption_at"]) < 0.4 and 1.0 < cut.extra["overlap_s"] < 2.0
    assert cut.extra["customer_words"]  # the customer's words that were cut off

    raised = results["raised_voice"]
    assert raised.passed is False and [f.start for f in raised.findings] == pytest.approx([truth["loud_at"]], abs=0.5)
    assert raised.findings[0].extra["above_median_db"] >= 8

    rate = results["speech_rate"]
    fast = [f for f in rate.findings if abs(f.start - truth["fast_at"]) < 0.5]
    assert rate.passed is False and fast and fast[0].extra["cpm"] > 360
    assert all(abs(f.start - truth["fast_at"]) < 0.5 for f in rate.findings), "normal-pace lines are not findings"
    assert transcript.speech["agent"] and transcript.speech["customer"]


def test_an_announced_hold_excuses_the_silence(clips, tmp_path):
    c = clips
    hold_end = 9.0 + len(c["hold"]) / RATE
    tracks = _lay([("agent", 0.5, c["greeting"]), ("customer", 5.0 + 3.5, c["question"]),
                   ("agent", 9.0 + 3.0, c["hold"]), ("agent", hold_end + 3.0 + 8.0, c["thanks"])],
                  hold_end + 3.0 + 8.0 + len(c["thanks"]) / RATE + 1.0)
    _, results = _run(tmp_path, "hold", tracks)
    assert results["silence"].passed is True and results["silence"].extra["excused_holds"] == 1


def test_a_mono_mix_has_no_interruptions_to_judge(constructed):
    tracks, _, folder = constructed
    _, results = _run(folder, "constructed_mono", tracks, layout="mono")
    assert results["interruptions"].passed is None
    assert "mono" in results["interruptions"].extra["reason"]
