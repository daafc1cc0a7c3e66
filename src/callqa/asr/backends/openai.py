"""openai-whisper backend: the reference implementation, on the same weights.

A CTranslate2 model is converted once into the cache (asr/convert.py) and
loaded with ``whisper.load_model``. Audio goes in as an ndarray, so
openai-whisper never calls ffmpeg. For parity with the faster-whisper backend,
the same VAD chunks (asr/vad.py) cut the audio to speech before decoding and
the times are mapped back to the original audio.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..models import ModelRef
from ..options import AsrOptions
from ..vad import join_chunks
from ..vad import speech_chunks as vad_chunks
from .base import SAMPLE_RATE, WINDOW_S, AsrSegment, AsrWord, TextScore


def _install_hint(package: str) -> str:
    return f"the openai-whisper backend needs {package}: pip install openai-whisper==20250625 torch==2.13.0"


def _alignment_heads(checkpoint: Path, model_name: str) -> bytes | None:
    """The cross-attention heads used for word times: from our conversion, or OpenAI's table by name."""
    import torch
    import whisper

    try:  # mmap: reads the small extra key without pulling the weights into memory
        blob = torch.load(checkpoint, map_location="cpu", mmap=True, weights_only=True).get("alignment_heads")
    except Exception:  # an old-format checkpoint cannot be mapped; fall back to the table
        blob = None
    if blob is None:
        blob = whisper._ALIGNMENT_HEADS.get(model_name)
        if isinstance(blob, str):
            blob = blob.encode("ascii")
    return blob


class OpenAIWhisperBackend:
    name = "openai-whisper"

    def __init__(self, model: ModelRef, cpu_threads: int = 0) -> None:
        try:
            import torch
            import whisper
        except ImportError as e:
            raise RuntimeError(_install_hint("openai-whisper and torch")) from e
        from ..convert import openai_checkpoint_for

        if cpu_threads > 0:
            torch.set_num_threads(cpu_threads)
        self.model_ref = model
        self.checkpoint = openai_checkpoint_for(model)
        self._model = whisper.load_model(str(self.checkpoint), device="cpu")
        heads = _alignment_heads(self.checkpoint, model.name)
        if heads is not None:
            try:
                self._model.set_alignment_heads(heads)
            except (ValueError, RuntimeError):  # a table entry for a different-sized model of that name
                pass

    def transcribe(self, audio: np.ndarray, options: AsrOptions) -> list[AsrSegment]:
        audio = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
        if audio.size < SAMPLE_RATE // 100:
            return []
        speech_chunks: list[dict[str, int]] | None = None
        if options.vad:  # the chunks the faster-whisper backend decodes (asr/vad.py)
            speech_chunks = vad_chunks(audio, options)
            if not speech_chunks:
                return []
            audio = join_chunks(audio, speech_chunks)
        result = self._decode(audio, options)
        segments = [_segment(s) for s in result["segments"]]
        if speech_chunks:
            _restore_times(segments, speech_chunks)
        return segments

    def _decode(self, audio: np.ndarray, options: AsrOptions) -> dict[str, Any]:
        import whisper

        return whisper.transcribe(
            self._model,
            audio,
            verbose=None,
            language=options.language,
            beam_size=options.beam_size,
            initial_prompt=options.prompt,
            no_speech_threshold=options.no_speech_threshold,
            logprob_threshold=options.log_prob_threshold,
            compression_ratio_threshold=options.compression_ratio_threshold,
            word_timestamps=options.word_timestamps,
            condition_on_previous_text=False,  # as faster.py: fewer loops on calls
            fp16=False,  # CPU
        )


    # --- rescoring: teacher-forced log-probabilities of given texts (the decoder's logits) ---------------

    def encode(self, window: np.ndarray, pad: bool = True):
        # openai-whisper's encoder takes exactly 30 s (it asserts its positional embedding's length): always padded.
        import torch
        import whisper

        audio = np.ascontiguousarray(window, dtype=np.float32).reshape(-1)[: int(WINDOW_S * SAMPLE_RATE)]
        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(torch.from_numpy(audio)), self._model.dims.n_mels)
        with torch.no_grad():
            return self._model.embed_audio(mel[None])

    def score_texts(self, encoded, prefix: str, candidates: list[str], options: AsrOptions) -> list[TextScore]:
        import torch
        from whisper.tokenizer import get_tokenizer

        if not candidates:
            return []
        tokenizer = get_tokenizer(self._model.is_multilingual, language=options.language, task="transcribe")
        start = list(tokenizer.sot_sequence)
        if options.prompt:  # as the text was decoded: the prompt is the previous context
            start = [tokenizer.sot_prev, *tokenizer.encode(" " + options.prompt.strip())[-223:], *start]
        if prefix:
            start += tokenizer.encode(prefix)
        texts = [tokenizer.encode(text) or [tokenizer.eot] for text in candidates]
        width = len(start) + max(len(t) for t in texts)
        rows = [start + t + [tokenizer.eot] * (width - len(start) - len(t)) for t in texts]
        with torch.no_grad():
            logits = self._model.logits(torch.tensor(rows), encoded.repeat(len(rows), 1, 1))
            logprobs = torch.log_softmax(logits.float(), dim=-1)
        scores = []
        for k, (text, tokens) in enumerate(zip(candidates, texts)):
            # The logits at position i predict token i + 1.
            steps = [float(logprobs[k, len(start) - 1 + j, token]) for j, token in enumerate(tokens)]
            scores.append(TextScore(text, sum(steps), steps))
        return scores


def _segment(s: dict[str, Any]) -> AsrSegment:
    return AsrSegment(
        start=float(s["start"]),
        end=float(s["end"]),
        text=s["text"].strip(),
        avg_logprob=float(s["avg_logprob"]),
        no_speech_prob=float(s["no_speech_prob"]),
        compression_ratio=float(s["compression_ratio"]),
        words=[AsrWord(float(w["start"]), float(w["end"]), w["word"], float(w["probability"])) for w in s.get("words", [])],
    )


def _restore_times(segments: list[AsrSegment], speech_chunks: list[dict[str, int]]) -> None:
    """Map times on the speech-only audio back to the original, as faster-whisper does."""
    from faster_whisper.vad import SpeechTimestampsMap

    ts_map = SpeechTimestampsMap(speech_chunks, SAMPLE_RATE)
    for segment in segments:
        if segment.words:
            for word in segment.words:
                # Both ends of a word resolve to the chunk holding its middle, so a word never straddles a cut.
                chunk = ts_map.get_chunk_index((word.start + word.end) / 2)
                word.start = ts_map.get_original_time(word.start, chunk)
                word.end = ts_map.get_original_time(word.end, chunk)
            segment.start, segment.end = segment.words[0].start, segment.words[-1].end
        else:
            segment.start = ts_map.get_original_time(segment.start)
            segment.end = ts_map.get_original_time(segment.end, is_end=True)
