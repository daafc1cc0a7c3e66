"""faster-whisper (CTranslate2) backend: the fast default, int8 on CPU."""

from __future__ import annotations

import numpy as np

from ..models import ModelRef
from ..options import AsrOptions
from ..vad import join_chunks, speech_chunks
from .base import SAMPLE_RATE, WINDOW_S, AsrSegment, AsrWord, TextScore


class _Encoded:
    """One window's encoder output (kept as an array: align needs it once per batch of candidates)."""

    def __init__(self, output: np.ndarray, frames: int) -> None:
        self.output, self.frames = output, frames


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
        # The sequential decoder gets asr/vad.py's chunks, starts reached back to onsets; the batched pipeline
        # runs faster-whisper's own VAD over its chunk_length pieces.
        chunks = speech_chunks(audio, options) if options.vad and not options.batch_size else None
        if chunks == []:
            return []
        segments, _info = self._transcriber(options).transcribe(
            join_chunks(audio, chunks) if chunks else audio,
            **({"batch_size": options.batch_size} if options.batch_size else {}),
            # Always given: faster-whisper keeps the last chunk_length in the model's feature extractor.
            chunk_length=options.chunk_length,
            language=options.language,
            beam_size=options.beam_size,
            initial_prompt=options.prompt,
            vad_filter=options.vad and bool(options.batch_size),
            vad_parameters={"threshold": options.vad_threshold, "speech_pad_ms": options.vad_speech_pad_ms},
            no_speech_threshold=options.no_speech_threshold,
            log_prob_threshold=options.log_prob_threshold,
            compression_ratio_threshold=options.compression_ratio_threshold,
            word_timestamps=options.word_timestamps,
            # Each window is decoded on its own: on calls, carrying text over feeds repetition loops.
            condition_on_previous_text=False,
        )
        if chunks:
            from faster_whisper.transcribe import restore_speech_timestamps

            segments = restore_speech_timestamps(segments, chunks, SAMPLE_RATE)
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

    def _transcriber(self, options: AsrOptions):
        """The model itself, or faster-whisper's batched pipeline around it (the same weights, loaded once)."""
        if not options.batch_size:
            return self._model
        if getattr(self, "_batched", None) is None:
            from faster_whisper import BatchedInferencePipeline

            self._batched = BatchedInferencePipeline(self._model)
        return self._batched

    # --- rescoring: teacher-forced log-probabilities of given texts (CTranslate2's Whisper.align) ---------

    def _tokenizer(self, language: str):
        from faster_whisper.tokenizer import Tokenizer

        key = language
        cache = self.__dict__.setdefault("_tokenizers", {})
        if key not in cache:
            cache[key] = Tokenizer(self._model.hf_tokenizer, self._model.model.is_multilingual, "transcribe", language)
        return cache[key]

    def encode(self, window: np.ndarray, pad: bool = True):
        import ctranslate2

        audio = np.ascontiguousarray(window, dtype=np.float32).reshape(-1)[: int(WINDOW_S * SAMPLE_RATE)]
        features = self._model.feature_extractor(audio, chunk_length=int(WINDOW_S))
        limit = self._model.feature_extractor.nb_max_frames
        frames = min(features.shape[-1], limit)
        # CTranslate2's encoder takes fewer frames than Whisper's 3000 (an even count: its convolution halves
        # them), and costs less on them (verification on the corpus: 214 s with >= 10 s windows, 744 s padded).
        width = limit if pad else min(limit, frames + frames % 2)
        features = np.pad(features[:, :width], ((0, 0), (0, width - min(frames, width))))
        encoded = self._model.model.encode(ctranslate2.StorageView.from_array(features[None].astype(np.float32)),
                                           to_cpu=True)
        return _Encoded(np.array(encoded), frames)

    def read_openings(self, encoded: _Encoded, openings: list[str], options: AsrOptions, max_tokens: int,
                      slot: int) -> list[str]:
        """The window's best reading (beam search) that opens with each of ``openings`` ("": a free reading):
        Whisper then chooses the words after a given opening itself, rather than keeping those it wrote. Each
        runs to ``max_tokens`` past its opening, or past ``slot`` tokens for a shorter opening."""
        import ctranslate2

        if not openings:
            return []
        tokenizer = self._tokenizer(options.language)
        start = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        prompts = [start + tokenizer.encode(opening) for opening in openings]
        # An opening's reading must not depend on the openings asked beside it (the rescoring cache keeps one
        # reading per opening): generate has one max_length per batch and counts the prompt in it, so openings
        # of up to ``slot`` tokens share one limit, as if each were that long, and a longer one gets its own.
        # (One limit set by the longest opening asked made every reading change when a longer one was added.)
        texts = [""] * len(openings)
        by_limit: dict[int, list[int]] = {}
        for i, prompt in enumerate(prompts):
            by_limit.setdefault(len(start) + max(len(prompt) - len(start), slot) + max_tokens, []).append(i)
        for limit, rows in by_limit.items():
            batch = ctranslate2.StorageView.from_array(np.repeat(encoded.output, len(rows), axis=0))
            # 3-gram blocking: a short window read without timestamps otherwise loops (谢谢谢谢...).
            results = self._model.model.generate(batch, [prompts[i] for i in rows], beam_size=options.beam_size,
                                                 no_repeat_ngram_size=3, max_length=limit)
            for i, result in zip(rows, results):
                text = tokenizer.decode([t for t in result.sequences_ids[0] if t < tokenizer.eot]).strip()
                texts[i] = text if text.startswith(openings[i]) else openings[i] + text
        return texts

    def score_texts(self, encoded: _Encoded, prefix: str, candidates: list[str], options: AsrOptions) -> list[TextScore]:
        import ctranslate2

        if not candidates:
            return []
        tokenizer = self._tokenizer(options.language)
        start = list(tokenizer.sot_sequence)
        if options.prompt:  # as the text was decoded: the prompt is the previous context
            start = [tokenizer.sot_prev, *tokenizer.encode(" " + options.prompt.strip())[-223:], *start]
        if prefix:
            start += tokenizer.encode(prefix)
        tokens = [tokenizer.encode(text) or [tokenizer.eot] for text in candidates]
        batch = ctranslate2.StorageView.from_array(np.repeat(encoded.output, len(candidates), axis=0))
        results = self._model.model.align(batch, start, tokens, encoded.frames)
        scores = []
        for text, result in zip(candidates, results):
            logprobs = [float(np.log(max(p, 1e-12))) for p in result.text_token_probs]
            scores.append(TextScore(text, float(sum(logprobs)), logprobs))
        return scores
