"""Voices found again from the roles: a frame model per role, trained on its pieces, judges every piece.

The first clustering (voice.py) splits a call's pieces along the direction in
which their summary vectors differ most. When the two voices are alike, that
direction is often what was said or how loud, not who said it. The roles
that words and turns give (mono.py) are a second starting point: a Gaussian
mixture over each role's frames, each piece given to the model that explains
its frames better, repeated until no piece moves. Where the two models then
tell the pieces apart clearly, they are the voices.

Measured on the corpus's dev mono calls with truth utterance times: the
frame models, trained on the true roles, separate every call (role accuracy
1.00 on calls where the first clustering reached 0.54); started from the
first clustering they stay where it left them. The start is what was
missing, not the features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .voice import MAX_VOICE_LOGODDS, CallFrames, fit_frame_model, speech_matrix

__all__ = ["refine_voices", "RefinedVoices"]

_MAX_FRAMES = 3000  # per role and round
_MIN_FRAMES = 200  # 2 s of speech per role
_MIN_TRAIN_S = 0.3  # seconds of speech frames for a piece to train a model
_ROUNDS = 8
# Log-odds a piece gets per unit of its evidence (its llr over a typical piece's) grow with the square of the
# separation as in the first clustering (a linear discriminant's slope, fisher^2 / 2), capped alike.
_SLOPE_PER_SQUARED_SEPARATION = 1 / 2
_MAX_SLOPE = 4.0


class _Stretch(Protocol):
    start: float
    end: float
    voiced_s: float


@dataclass
class RefinedVoices:
    """Per piece, how much better the agent's frame model explains it than the customer's."""

    llr: np.ndarray  # mean frame log-likelihood ratio, agent's model over the customer's, each piece judged by
    #                  models trained without it (0: no speech frames)
    separation: float  # distance between the two sides' training pieces' llr, in their pooled deviations
    typical: float  # median |llr| of the training pieces: one piece's usual evidence
    rounds: int
    moved: int  # pieces whose side differs from the roles it started from

    def logodds(self, voiced_s: list[float], full_weight_s: float) -> np.ndarray:
        """Voice log-odds per piece (agent > 0), in the units of voice.cluster_voices: shrunk for short
        pieces (under ``full_weight_s`` of speech), capped like the first clustering's."""
        slope = min(self.separation**2 * _SLOPE_PER_SQUARED_SEPARATION, _MAX_SLOPE)
        weight = np.minimum(1.0, np.asarray(voiced_s, dtype=float) / full_weight_s)
        return np.clip(slope * self.llr / self.typical, -MAX_VOICE_LOGODDS, MAX_VOICE_LOGODDS) * weight


def _judge(matrices: list[np.ndarray], side: np.ndarray, train: np.ndarray, judged: np.ndarray,
           rng: np.random.Generator) -> np.ndarray | None:
    """Mean frame llr (agent's model over the customer's) of the ``judged`` pieces, models trained on the
    ``train`` pieces of each side; None when a side has too little speech."""
    models = []
    for wanted in (True, False):
        chosen = [matrices[i] for i in np.flatnonzero(train & (side == wanted))]
        if sum(len(m) for m in chosen) < _MIN_FRAMES:
            return None
        models.append(fit_frame_model(np.vstack(chosen), rng, _MAX_FRAMES))
    return np.array([float(np.mean(models[0].score_samples(m) - models[1].score_samples(m))) if ok and len(m) else 0.0
                     for m, ok in zip(matrices, judged)])


def refine_voices(frames: CallFrames, pieces: list[_Stretch], agent: list[bool]) -> RefinedVoices | None:
    """Train a frame model per side, starting from ``agent`` (a role per piece), re-assign each piece to the
    model that explains it better, and repeat until none moves (at most _ROUNDS). None when a side has too
    little speech to model, or too few pieces to measure how far apart the sides are."""
    matrices = [speech_matrix(frames, p.start, p.end) for p in pieces]
    if not any(len(m) for m in matrices):
        return None
    pooled = np.vstack([m for m in matrices if len(m)])
    mu, sd = pooled.mean(axis=0), pooled.std(axis=0) + 1e-6
    matrices = [(m - mu) / sd for m in matrices]
    trains = np.array([p.voiced_s >= _MIN_TRAIN_S and len(m) > 0 for p, m in zip(pieces, matrices)])
    side = start = np.array(agent, dtype=bool)
    rng = np.random.default_rng(0)
    rounds = 0
    for rounds in range(1, _ROUNDS + 1):
        llr = _judge(matrices, side, trains, np.ones(len(pieces), dtype=bool), rng)
        if llr is None:
            return None
        new = np.where(llr != 0, llr > 0, side)
        if np.array_equal(new, side):
            break
        side = new
    # How far apart the sides are is measured on pieces each judged by models that never saw them: a model
    # explains its own training frames better whatever they are (one voice split at random measured 7 deviations
    # apart in-sample, 0.1-0.9 held out).
    held_out = np.zeros(len(pieces))
    fold = np.zeros(len(pieces), dtype=bool)  # every other piece of each side
    for wanted in (True, False):
        fold[np.flatnonzero(side == wanted)[::2]] = True
    for judged in (fold, ~fold):
        llr = _judge(matrices, side, trains & ~judged, judged, rng)
        if llr is None:
            return None
        held_out[judged] = llr[judged]
    a, b = held_out[trains & side], held_out[trains & ~side]
    if len(a) < 2 or len(b) < 2:
        return None
    pooled_sd = float(np.sqrt((a.var() * len(a) + b.var() * len(b)) / (len(a) + len(b)))) + 1e-6
    typical = float(np.median(np.abs(held_out[trains & (held_out != 0)]))) + 1e-6
    moved = int(np.sum(side != start))
    return RefinedVoices(held_out, float((a.mean() - b.mean()) / pooled_sd), typical, rounds, moved)
