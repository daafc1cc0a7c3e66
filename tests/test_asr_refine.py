"""Voices found again from the roles (asr/roles/refine.py), on frames with known voices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from callqa.asr.roles.refine import refine_voices
from callqa.asr.roles.voice import FRAMES_PER_S, MAX_VOICE_LOGODDS, CallFrames


@dataclass
class Stretch:
    start: float
    end: float
    voiced_s: float


def two_voice_call(voices: list[int], apart: float, seed: int = 0, speech_s: float = 1.5, gap_s: float = 0.5):
    """Frames of a call whose pieces alternate with silences; piece i is spoken by voices[i] (0 or 1), whose
    timbre differs by ``apart`` deviations in the first four MFCCs."""
    rng = np.random.default_rng(seed)
    per_piece, per_gap = int(speech_s * FRAMES_PER_S), int(gap_s * FRAMES_PER_S)
    mfcc, loudness, pieces, t = [], [], [], 0
    for v in voices:
        mfcc.append(rng.normal(0, 0.3, (per_gap, 12)))
        loudness.append(np.full(per_gap, -90.0))
        t += per_gap
        centre = np.zeros(12)
        centre[:4] = apart / 2 if v == 0 else -apart / 2
        mfcc.append(centre + rng.normal(0, 1, (per_piece, 12)))
        loudness.append(-20 + rng.normal(0, 1, per_piece))
        pieces.append(Stretch(t / FRAMES_PER_S, (t + per_piece) / FRAMES_PER_S, speech_s))
        t += per_piece
    n = t
    frames = CallFrames(mfcc=np.vstack(mfcc), log_centroid=np.full(n, 7.0) + rng.normal(0, 0.05, n),
                        loudness=np.concatenate(loudness), log_f0=np.full(n, np.log(150.0)), aperiodicity=np.ones(n))
    return frames, pieces


TRUE = [0, 1] * 10  # voice 0 is the agent's


def test_wrong_roles_are_put_right_by_the_voices():
    frames, pieces = two_voice_call(TRUE, apart=2.0)
    wrong = {1, 4, 9, 12, 15, 18}  # the words and turns gave these pieces to the other side
    start = [(v == 0) != (i in wrong) for i, v in enumerate(TRUE)]
    refined = refine_voices(frames, pieces, start)
    assert refined is not None
    assert [bool(x > 0) for x in refined.llr] == [v == 0 for v in TRUE]
    assert refined.moved == len(wrong)
    assert refined.separation > 4.5  # clear: mono.py takes these voices even where the first clustering found one


def test_one_voice_split_in_two_is_not_clearly_apart():
    frames, pieces = two_voice_call([0] * 20, apart=0.0)
    refined = refine_voices(frames, pieces, [v == 0 for v in TRUE])
    assert refined is None or refined.separation < 3.0  # under mono.py's _REFINED_SEPARATION: roles stand


def test_a_side_without_speech_to_model_gives_nothing():
    frames, pieces = two_voice_call(TRUE, apart=2.0)
    assert refine_voices(frames, pieces, [True] * len(pieces)) is None


def test_logodds_follow_the_evidence_shrunk_for_short_pieces_and_capped():
    frames, pieces = two_voice_call(TRUE, apart=3.0)
    refined = refine_voices(frames, pieces, [v == 0 for v in TRUE])
    full = refined.logodds([p.voiced_s for p in pieces], 0.5)
    short = refined.logodds([0.1 for _ in pieces], 0.5)
    assert all((x > 0) == (v == 0) for x, v in zip(full, TRUE))
    assert np.all(np.abs(full) <= MAX_VOICE_LOGODDS)
    assert np.allclose(short, full * 0.2)
