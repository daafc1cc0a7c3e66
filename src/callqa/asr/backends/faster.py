"""faster-whisper (CTranslate2) backend: the fast default, int8 on CPU."""

from __future__ import annotations

import numpy as np

from ..models import ModelRef
from ..options import AsrOptions
from .base import SAMPLE_RATE, AsrSegment, AsrWord


class FasterWhisperBackend:
    name = "faster-whisper"

    def __init__(self, model: ModelRef, compute_type: str = "int8", cpu_threads: int = 0) -> None:
        if model.kind != "ctranslate2":
            raise ValueError(
                f"model {model.name!r} is an openai-whisper checkpoint ({model.path}); faster-whisper needs a "
                "CTranslate2 directory (a faster-whisper model, or ct2-transformers-converter output for a "
                "Hugging Face Whisper) in models/. Use --backend openai-whisper for .pt checkpoints."
            )
        try:
            from faster_whisper import WhisperModel
        except ImportError as e:
            raise RuntimeError("the faster-whisper backend needs faster-whisper: pip install faster-whisper==1.2.1") from e
        self.model_ref = model
        self._model = WhisperModel(str(model.path), device="cpu", compute_type=compute_type, cpu_threads=cpu_threads)

    def transcribe(self, audio: np.ndarray, options: AsrOptions) -> list[AsrSegment]:
        audio = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
        if audio.size < SAMPLE_RATE // 100:  # under 10 ms: nothing Whisper could hear
            return []
        segments, _info = self._model.transcribe(
            audio,
            language=options.language,
            beam_size=options.beam_size,
            initial_prompt=options.prompt,
            vad_filter=options.vad,
            vad_parameters={"threshold": options.vad_threshold},
            no_speech_threshold=options.no_speech_threshold,
            log_prob_threshold=options.log_prob_threshold,
            compression_ratio_threshold=options.compression_ratio_threshold,
            word_timestamps=options.word_timestamps,
            # Each window is decoded on its own: on calls, carrying text over feeds repetition loops.
            condition_on_previous_text=False,
        )
        return [
            AsrSegment(
                start=float(s.start),
                end=float(s.end),
                text=s.text.strip(),
                avg_logprob=float(s.avg_logprob),
                no_speech_prob=float(s.no_speech_prob),
                compression_ratio=float(s.compression_ratio),
                words=[AsrWord(float(w.start), float(w.end), w.word, float(w.probability)) for w in (s.words or [])],
            )
            for s in segments  # a generator: decoding happens here
        ]
