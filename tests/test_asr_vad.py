"""The VAD chunks Whisper decodes (asr/vad.py): faster-whisper's Silero chunks, starts reached back to onsets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from callqa.asr.options import AsrOptions, AsrOptionsError
from callqa.asr.vad import MAX_REACH_S, ONSET_LEAD_S, reach_back_to_onsets, speech_chunks

SR = 16000
WINDOW = 512
# The first 6.6 s of a corpus call's agent channel (G.711 A-law, 8 kHz): 下午好。二一四号坐席为您服务 from 0.81 s.
# Silero's probability stays at 0.2-0.3 through 下午好 and passes 0.35 only at 1.34 s.
LATE_ONSET = Path(__file__).parent / "data" / "audio" / "late_onset_alaw.wav"
SPEECH_STARTS_S = 0.81


def _chunk(start_window: int, end_window: int) -> dict[str, int]:
    return {"start": start_window * WINDOW, "end": end_window * WINDOW}


def _probabilities(n: int, runs: dict[tuple[int, int], float]) -> np.ndarray:
    p = np.zeros(n)
    for (first, last), value in runs.items():
        p[first:last] = value
    return p


def test_a_slow_rise_moves_the_start_back_to_just_before_it():
    # Silence, then windows 20-34 at 0.2 (first syllables), then speech at 0.8 from window 35.
    p = _probabilities(100, {(20, 35): 0.2, (35, 60): 0.8})
    chunks = [_chunk(35 - 12, 70)]  # the library's start: the trigger less its 400 ms pad (12.5 windows)
    reach_back_to_onsets(chunks, p, threshold=0.35, floor=0.05)
    assert chunks[0]["start"] == 20 * WINDOW - int(ONSET_LEAD_S * SR)
    assert chunks[0]["end"] == 70 * WINDOW  # ends never move


def test_a_sharp_onset_keeps_the_pad_it_had():
    p = _probabilities(100, {(34, 35): 0.1, (35, 60): 0.9})
    chunks = [_chunk(23, 70)]
    reach_back_to_onsets(chunks, p, threshold=0.35, floor=0.05)
    assert chunks[0]["start"] == 23 * WINDOW  # the rise lies within the pad already: nothing earlier


def test_the_reach_is_bounded_and_never_enters_the_chunk_before():
    # Line noise hovering at 0.1 for 4 s before the trigger: the start moves MAX_REACH_S at most.
    p = _probabilities(400, {(0, 200): 0.1, (200, 260): 0.9})
    chunks = [_chunk(188, 300)]
    reach_back_to_onsets(chunks, p, threshold=0.35, floor=0.05)
    assert chunks[0]["start"] == 188 * WINDOW - int(MAX_REACH_S * SR)
    # A chunk right after another stops at the other's end.
    p = _probabilities(200, {(10, 40): 0.9, (40, 60): 0.2, (60, 90): 0.9})
    chunks = [_chunk(0, 45), _chunk(48, 100)]
    reach_back_to_onsets(chunks, p, threshold=0.35, floor=0.05)
    assert chunks[1]["start"] == 45 * WINDOW


def test_floor_zero_gives_faster_whispers_own_chunks():
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    from callqa.audio.decode import load_audio

    samples = load_audio(LATE_ONSET).channels[0]
    library = get_speech_timestamps(samples, VadOptions(threshold=0.35, speech_pad_ms=400), sampling_rate=SR)
    assert speech_chunks(samples, AsrOptions(vad_onset_floor=0.0)) == library
    reached = speech_chunks(samples, AsrOptions())
    assert [c["end"] for c in reached] == [c["end"] for c in library]
    assert library[0]["start"] / SR > SPEECH_STARTS_S  # the library's chunk opens mid-word ...
    assert reached[0]["start"] / SR < SPEECH_STARTS_S  # ... the reached-back one before the first syllable


@pytest.mark.asr
def test_whisper_hears_the_first_phrase_the_late_vad_cut(asr_backends):
    from callqa.audio.decode import load_audio

    samples = load_audio(LATE_ONSET).channels[0]
    backend = asr_backends["faster-whisper"]
    cut = "".join(s.text for s in backend.transcribe(samples, AsrOptions(vad_onset_floor=0.0)))
    reached = backend.transcribe(samples, AsrOptions())
    assert "下午好" not in cut  # Whisper drops the phrase a chunk opens in the middle of
    assert "下午好" in "".join(s.text for s in reached)
    assert reached[0].start < 1.0  # times on the call's own timeline


@pytest.mark.parametrize("floor", [-0.1, 1.0])
def test_the_onset_floor_is_checked_when_the_options_are_built(floor):
    with pytest.raises(AsrOptionsError, match="vad_onset_floor must be in"):
        AsrOptions(vad_onset_floor=floor)
