"""Compatibility shims that let ttskit 0.3.8 (written for librosa 0.8 / torch 1.7) run
on current librosa, numpy and torch. Import this module BEFORE importing ttskit.

Only scripts/make_samples.py uses it; ttskit is not a callqa dependency.
"""

from __future__ import annotations

import functools

import librosa.filters
import librosa.util
import numpy as np
import torch

_applied = False


def apply() -> None:
    """Patch librosa, numpy and torch in place. Safe to call more than once."""
    global _applied
    if _applied:
        return
    _applied = True

    # librosa >= 0.10 made every argument after the first keyword-only; ttskit passes them positionally.
    _pad_center = librosa.util.pad_center

    @functools.wraps(_pad_center)
    def pad_center(data, size=None, axis=-1, **kwargs):
        return _pad_center(data, size=size, axis=axis, **kwargs)

    librosa.util.pad_center = pad_center

    _mel = librosa.filters.mel

    @functools.wraps(_mel)
    def mel(sr=None, n_fft=None, n_mels=128, fmin=0.0, fmax=None, *args, **kwargs):
        return _mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, **kwargs)

    librosa.filters.mel = mel

    # torch >= 2.6 loads weights only by default; ttskit's checkpoints pickle whole modules.
    _load = torch.load

    @functools.wraps(_load)
    def load(*args, **kwargs):
        kwargs.setdefault("weights_only", False)
        return _load(*args, **kwargs)

    torch.load = load

    # numpy 2 removed the deprecated scalar aliases that ttskit's encoder still names.
    for alias, real in (("int", int), ("float", float), ("bool", bool)):
        if alias not in np.__dict__:
            setattr(np, alias, real)
