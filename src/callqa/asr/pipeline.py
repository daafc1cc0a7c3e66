"""One call, recording to role-labelled transcript.

    decode (PyAV, 16 kHz, channels kept)
      stereo layout: each channel alone -> Whisper -> drop_hallucinations -> stereo_utterances
      mono layout, or a 1-channel file: downmix -> Whisper -> drop_hallucinations -> mono_utterances

Decisions the pipeline makes on its own are written to ``info.notes`` and the
transcript's ``channels`` says the layout actually used:

- a stereo layout on a 1-channel file: processed as mono;
- a stereo file whose two channels carry the same audio (a mono call saved as
  stereo): processed as mono, since transcribing both would put every
  sentence in both parties' mouths;
- more than 2 channels: a stereo layout is an error (which two channels hold
  agent and customer can't be guessed); the mono layout mixes all of them.

A channel that is digitally silent (peak under -60 dBFS) is not sent to
Whisper at all, so a silent recording gives an empty transcript, not text.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from ..audio.decode import DecodedAudio, file_sha256, load_audio
from .backends.base import SAMPLE_RATE, AsrBackend, AsrSegment
from .cache import TranscriptCache, cache_key
from .models import ModelRef
from .options import AsrOptions
from .transcript import CallInput, Transcript, TranscriptionInfo, Utterance

log = logging.getLogger(__name__)

MONO = "mono"
# Peak amplitude below which a channel holds no speech (-60 dBFS; line noise on real calls sits above).
SILENCE_PEAK = 1e-3
# Channels differing by less than this share of their peak are one signal twice.
DUPLICATE_CHANNEL_TOLERANCE = 0.01


class ChannelLayoutError(ValueError):
    """The manifest's layout can't apply to this file (e.g. a stereo layout on a 4-channel file)."""


def model_for(options: AsrOptions, backend: AsrBackend | None = None) -> ModelRef:
    """The model a call is transcribed with: the loaded backend's, else looked up by name."""
    ref = getattr(backend, "model_ref", None)
    if isinstance(ref, ModelRef):
        return ref
    from .models import resolve_model

    return resolve_model(options.model)


def is_silent(samples: np.ndarray) -> bool:
    return samples.size == 0 or float(np.max(np.abs(samples))) < SILENCE_PEAK


def effective_layout(requested: str, audio: DecodedAudio) -> tuple[str, list[str]]:
    """The layout to process with, and notes on any change from what the manifest asked."""
    n = audio.n_channels
    if requested == MONO:
        return MONO, ([f"{n} channels mixed down to mono"] if n > 2 else [])
    if n == 1:
        return MONO, [f"channels {requested!r} given but the file has 1 channel: processed as mono"]
    if n > 2:
        raise ChannelLayoutError(
            f"the file has {n} channels; a {requested!r} layout needs exactly 2 "
            "(set channels to 'mono' in the manifest to mix them all down)"
        )
    left, right = audio.channels
    peak = max(float(np.max(np.abs(left))), float(np.max(np.abs(right))))
    if peak >= SILENCE_PEAK and float(np.max(np.abs(left - right))) <= DUPLICATE_CHANNEL_TOLERANCE * peak:
        return MONO, [f"channels {requested!r} given but both channels carry the same audio: processed as mono"]
    return requested, []


def _recognize(backend: AsrBackend, samples: np.ndarray, options: AsrOptions) -> list[AsrSegment]:
    if is_silent(samples):
        return []
    from .filters import drop_hallucinations

    return drop_hallucinations(backend.transcribe(np.ascontiguousarray(samples, dtype=np.float32), options), options)


def _utterances(audio: DecodedAudio, layout: str, backend: AsrBackend, options: AsrOptions) -> list[Utterance]:
    from .roles import mono_utterances, stereo_utterances

    if layout == MONO:
        samples = audio.mono()
        segments = _recognize(backend, samples, options)
        return mono_utterances(segments, samples, SAMPLE_RATE) if segments else []
    per_channel = {channel: _recognize(backend, audio.channels[channel], options) for channel in (0, 1)}
    if not any(per_channel.values()):
        return []
    return stereo_utterances(per_channel, layout)


def transcribe_call(
    call: CallInput,
    options: AsrOptions | dict | None = None,
    backend: AsrBackend | None = None,
    cache: TranscriptCache | None = None,
    *,
    audio_sha256: str | None = None,
) -> Transcript:
    """Transcribe one call, or serve it from ``cache``.

    ``backend`` defaults to ``load_backend(options)``, loaded only on a cache
    miss. ``audio_sha256``, when the caller already hashed the file, saves
    reading it twice. Raises AudioDecodeError / ChannelLayoutError for this
    call's file; the batch turns those into per-call errors.
    """
    options = AsrOptions.build(options)
    if audio_sha256 is None and call.path.is_file():
        audio_sha256 = file_sha256(call.path)
    model = model_for(options, backend)
    key = cache_key(audio_sha256, model, options, call.channels) if cache is not None and audio_sha256 else None
    if key is not None and (hit := cache.get(key, call)) is not None:
        return hit

    audio = load_audio(call.path, sha256=audio_sha256)
    layout, notes = effective_layout(call.channels, audio)
    if backend is None:
        from .backends import load_backend

        backend = load_backend(options)
    started = time.perf_counter()
    utterances = _utterances(audio, layout, backend, options)
    elapsed = time.perf_counter() - started

    transcript = Transcript(
        call_id=call.call_id,
        file=call.file,
        agent_id=call.agent_id,
        channels=layout,
        duration_s=round(audio.duration_s, 3),
        utterances=utterances,
        info=TranscriptionInfo(
            backend=getattr(backend, "name", options.backend),
            model=options.model,
            model_sha256=model.sha256,
            audio_sha256=audio.sha256,
            options=options.cache_key_fields(),
            language=options.language,
            elapsed_s=round(elapsed, 3),
            notes=notes,
        ),
    )
    for note in notes:
        log.info("%s: %s", call.file, note)
    if key is not None:
        cache.put(key, transcript)
    return transcript
