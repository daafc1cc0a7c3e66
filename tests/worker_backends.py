"""Test doubles for Whisper that worker processes can import (spawned workers unpickle them by module name)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from callqa.asr.backends.base import SAMPLE_RATE, AsrSegment
from callqa.asr.models import ModelRef


class SlowBackend:
    """One segment per channel after ``seconds``, as a busy Whisper would; records each channel it hears."""

    name = "slow"

    def __init__(self, seconds: float, log: Path | None = None) -> None:
        self.model_ref = ModelRef("slow", "ctranslate2", Path("/nonexistent/slow"), "test", sha256="slow-model")
        self.seconds, self.log = seconds, log

    def transcribe(self, audio: np.ndarray, options) -> list[AsrSegment]:
        time.sleep(self.seconds)
        if self.log is not None:
            with open(self.log, "a") as f:
                f.write(f"{len(audio)}\n")
        end = round(len(audio) / SAMPLE_RATE, 2)
        return [AsrSegment(0.2, end - 0.2, "您好，请问有什么可以帮您？", -0.2, 0.05, 1.1)]


class PidRecordingBackend(SlowBackend):
    """A SlowBackend that first leaves a file ``<samples>-<pid>`` in ``folder``: which process is busy on which
    call (the calls' lengths differ), so a test can kill the worker in the middle of one."""

    def __init__(self, seconds: float, folder: Path) -> None:
        super().__init__(seconds)
        self.folder = folder

    def transcribe(self, audio: np.ndarray, options) -> list[AsrSegment]:
        import os

        (self.folder / f"{len(audio)}-{os.getpid()}").touch()
        return super().transcribe(audio, options)


class VerifyingBackend(SlowBackend):
    """A SlowBackend that also answers verification (encode, score_texts) and leaves a file ``verify-<pid>`` in
    ``folder`` for each window it encodes: which process asked the audio."""

    def __init__(self, folder: Path) -> None:
        super().__init__(0.0)
        self.folder = folder

    def encode(self, window: np.ndarray, pad: bool = True):
        import os

        (self.folder / f"verify-{os.getpid()}").touch()
        return window

    def score_texts(self, encoded, prefix: str, candidates: list[str], options) -> list:
        from callqa.asr.backends.base import TextScore

        return [TextScore(text, -1.0 * max(1, len(text)), [-1.0] * max(1, len(text))) for text in candidates]
