"""The audio behind each call's checks: a rescorer per call, sharing one model and one cache.

Checks ask a :class:`callqa.asr.rescoring.CallRescorer` how well candidate
texts fit an utterance (checks/verification.py). This factory makes one per
transcribed call, with the recording decoded and the Whisper model loaded
only when a question is not in the rescoring cache.
"""

from __future__ import annotations

from pathlib import Path

from ..asr.options import AsrOptions
from ..asr.rescoring import CallRescorer, RescoreCache
from ..asr.transcript import TranscriptionResult

__all__ = ["RescorerFactory", "default_rescore_dir"]


def default_rescore_dir() -> Path:
    from ..asr.models import cache_dir

    return cache_dir() / "rescoring"


class RescorerFactory:
    """``factory(result)``: a CallRescorer for a transcribed call, or None when there is nothing to ask."""

    def __init__(self, options: AsrOptions, cache_dir: Path | None = None, backend=None,
                 fitted_windows: bool = True) -> None:
        self.options = options
        self.fitted_windows = fitted_windows
        self.cache = RescoreCache(cache_dir if cache_dir is not None else default_rescore_dir())
        self._backend = backend
        self.calls = self.encoded_windows = self.scored_texts = self.cached_texts = 0
        self.elapsed_s = 0.0

    def backend(self):
        if self._backend is None:
            from ..asr.backends import load_backend

            self._backend = load_backend(self.options)
        return self._backend

    def __call__(self, result: TranscriptionResult) -> CallRescorer | None:
        transcript = result.transcript
        if transcript is None or not transcript.utterances or not result.call.path.is_file():
            return None
        from ..audio.decode import load_audio

        info = transcript.info
        sha = info.audio_sha256 if info else ""
        identity = f"{sha}:{info.model_sha256 if info else ''}" if sha else ""
        return CallRescorer(lambda: load_audio(result.call.path, sha256=sha or None), transcript.channels,
                            self.backend, self.options, identity=identity, cache=self.cache,
                            fitted=self.fitted_windows)

    def done(self, rescorer: CallRescorer | None) -> None:
        """Save the call's scores and count what verification cost."""
        if rescorer is None:
            return
        rescorer.close()
        self.calls += 1
        self.encoded_windows += rescorer.encoded_windows
        self.scored_texts += rescorer.scored_texts
        self.cached_texts += rescorer.cached_texts
        self.elapsed_s += rescorer.elapsed_s
