"""One call, recording to role-labelled transcript.

    decode (PyAV, 16 kHz, channels kept)
      stereo layout: each channel alone -> Whisper -> drop_hallucinations -> stereo_utterances (cut at pauses)
      mono layout, or a 1-channel file: downmix -> Whisper -> drop_hallucinations -> mono_utterances

Decisions the pipeline makes on its own are written to ``info.notes`` and the
transcript's ``channels`` says the layout actually used:

- a stereo layout on a 1-channel file: processed as mono;
- a stereo file whose two channels carry the same audio (a mono call saved as
  stereo): processed as mono, since transcribing both would put every
  sentence in both parties' mouths;
- more than 2 channels: a stereo layout is an error (which two channels hold
  agent and customer can't be guessed); the mono layout mixes all of them.

The cache keeps what Whisper returned (``recognize``); post-processing
(``utterances_from``) runs on every call, cached or not, so it is always current.

A channel that is digitally silent (peak under -60 dBFS) is not sent to
Whisper at all, so a silent recording gives an empty transcript, not text.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..audio.decode import DecodedAudio, file_sha256, load_audio
from .backends.base import SAMPLE_RATE, AsrBackend, AsrSegment
from .cache import Recognition, TranscriptCache, cache_key
from .measures import ChannelMeasures, attach_measures, measure_channel, own_speech
from .second_look import SECOND_LOOK_VERSION, reread_echoes, second_look, sensitive_speech, with_rereads
from .models import ModelRef
from .options import AsrOptions
from .transcript import CallInput, PromptEcho, Transcript, TranscriptionInfo, Utterance

log = logging.getLogger(__name__)

MONO = "mono"
# Peak amplitude below which a channel holds no speech (-60 dBFS; line noise on real calls sits above).
SILENCE_PEAK = 1e-3
# Channels differing by less than this share of their peak are one signal twice.
DUPLICATE_CHANNEL_TOLERANCE = 0.01


# Bump when post-processing changes in a way the source digest below can't see (a dependency's behaviour).
PIPELINE_VERSION = 1
# Post-processing code and data, relative to the package: an edit to any of them makes older
# transcripts in an output folder stale. Folders count with every .py and .yaml file in them.
# The second look is among them: it runs again on a cached recognition when SECOND_LOOK_VERSION changes, and a
# transcript kept in an output folder from before it would go on missing what it finds.
_POSTPROCESSING_SOURCES = ("asr/pipeline.py", "asr/filters.py", "asr/echoes.py", "asr/measures.py",
                           "asr/second_look.py", "asr/hallucinations.yaml", "asr/roles", "text")


@lru_cache(maxsize=1)
def pipeline_fingerprint() -> str:
    """PIPELINE_VERSION plus a digest of the post-processing sources, so no one has to remember to bump."""
    digest = hashlib.sha256(f"v{PIPELINE_VERSION}".encode())
    package = Path(__file__).parent.parent
    for name in _POSTPROCESSING_SOURCES:
        path = package / name
        files = sorted(p for p in path.rglob("*") if p.suffix in (".py", ".yaml")) if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                digest.update(file.relative_to(package).as_posix().encode() + b"\0" + file.read_bytes())
    return f"{PIPELINE_VERSION}:{digest.hexdigest()[:16]}"


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
        return MONO, [f"the file has 1 channel: processed as mono (layout {requested!r} needs 2)"]
    if n > 2:
        raise ChannelLayoutError(
            f"the file has {n} channels; a {requested!r} layout needs exactly 2 "
            "(set channels to 'mono' in the manifest to mix them all down)"
        )
    left, right = audio.channels
    peak = max(float(np.max(np.abs(left))), float(np.max(np.abs(right))))
    if peak >= SILENCE_PEAK and float(np.max(np.abs(left - right))) <= DUPLICATE_CHANNEL_TOLERANCE * peak:
        return MONO, [f"both channels carry the same audio: processed as mono (not as layout {requested!r})"]
    return requested, []


def _recognize(backend: AsrBackend, samples: np.ndarray, options: AsrOptions) -> list[AsrSegment]:
    if is_silent(samples):
        return []
    return backend.transcribe(np.ascontiguousarray(samples, dtype=np.float32), options)


def recognize(audio: DecodedAudio, requested_layout: str, backend: AsrBackend, options: AsrOptions) -> Recognition:
    """Run Whisper on the channels the layout calls for: the expensive step, and what the cache keeps."""
    layout, notes = effective_layout(requested_layout, audio)
    signals = {0: audio.mono()} if layout == MONO else {channel: audio.channels[channel] for channel in (0, 1)}
    if hasattr(backend, "ensure_loaded") and not all(map(is_silent, signals.values())):
        backend.ensure_loaded(options)  # a lazily loaded model: loading it is not ASR time
    started = time.perf_counter()
    per_channel = {channel: _recognize(backend, samples, options) for channel, samples in signals.items()}
    elapsed = round(time.perf_counter() - started, 3)
    recognition = Recognition(
        layout=layout,
        duration_s=round(audio.duration_s, 3),
        per_channel=per_channel,
        backend=getattr(backend, "name", options.backend),
        elapsed_s=elapsed,
        notes=notes,
        measures=measure(audio, layout, options),
    )
    if options.second_look:
        take_second_look(recognition, audio, backend, options)
    return recognition


def take_second_look(recognition: Recognition, audio: DecodedAudio, backend: AsrBackend, options: AsrOptions) -> None:
    """Decode again what each channel's Whisper wrote its prompt over, and the speech its VAD heard and Whisper
    wrote nothing for (second_look.py)."""
    started = time.perf_counter()
    measures = recognition.measures or measure(audio, recognition.layout, options)
    recovered, rereads = {}, {}
    for channel, segments in recognition.per_channel.items():
        samples = audio.mono() if recognition.layout == MONO else audio.channels[channel]
        other = None if recognition.layout == MONO else measures.get(1 - channel)
        rereads[channel] = reread_echoes(backend, samples, segments, options)
        recovered[channel] = second_look(backend, samples, with_rereads(segments, rereads[channel]),
                                         sensitive_speech(samples), measures[channel], other, options)
    recognition.recovered, recognition.rereads = recovered, rereads
    recognition.second_look_version = SECOND_LOOK_VERSION
    recognition.elapsed_s = round(recognition.elapsed_s + time.perf_counter() - started, 3)


def measure(audio: DecodedAudio, layout: str, options: AsrOptions) -> dict[int, ChannelMeasures]:
    """Speech spans and levels of the channels the layout uses (measures.py)."""
    signals = {0: audio.mono()} if layout == MONO else {channel: audio.channels[channel] for channel in (0, 1)}
    return {channel: measure_channel(samples, options.vad_threshold) for channel, samples in signals.items()}


@dataclass
class PostProcessed:
    utterances: list[Utterance]
    layout: str  # the layout roles were assigned by: the recognition's, or its swap
    notes: list[str]
    prompt_echoes: list[PromptEcho] = field(default_factory=list)


def utterances_from(recognition: Recognition, audio: DecodedAudio | None, options: AsrOptions) -> PostProcessed:
    """Post-processing: drop hallucinations, assign roles, normalize. ``audio`` is needed for mono only.

    A stereo call whose words contradict its layout (roles.layout_doubt) is
    swapped when ``options.auto_swap``, and the notes say so either way; the
    channel_layout check flags a call left as it was.
    """
    from .echoes import find_prompt_echoes
    from .filters import drop_hallucinations
    from .roles import layout_doubt, layout_roles, mono_utterances, stereo_utterances, swapped

    recovered, rereads = recognition.recovered or {}, recognition.rereads or {}
    # Echoes are looked for in what Whisper first wrote: where it wrote its prompt, a reading made again without it
    # can show what was said there, never prove what was not (verification.prompt_echo_in).
    raw = {ch: sorted(segs + recovered.get(ch, []), key=lambda s: s.start) for ch, segs in recognition.per_channel.items()}
    read = {ch: sorted(with_rereads(segs, rereads.get(ch, [])), key=lambda s: s.start) for ch, segs in raw.items()}
    cleaned = {ch: drop_hallucinations(segs, options) for ch, segs in read.items()}
    layout, notes = recognition.layout, list(recognition.notes)
    if layout == MONO:  # roles/mono.py splits turns itself, where the voice changes
        echoes = find_prompt_echoes(raw.get(0, []), options, "any")
        if not cleaned.get(0):
            return PostProcessed([], layout, notes, echoes)
        assert audio is not None, "mono role assignment needs the audio"
        utterances = mono_utterances(cleaned[0], audio.mono(), SAMPLE_RATE)
        return PostProcessed(attach_measures(utterances, recognition.measures), layout, notes, echoes)
    doubt = layout_doubt(cleaned, layout) if any(cleaned.values()) else None
    if doubt and options.auto_swap:
        layout = swapped(layout)
        notes.append(f"{doubt}; swapped to {layout!r} (--auto-swap)")
    elif doubt:
        notes.append(doubt)
    roles = layout_roles(layout)
    echoes = sorted((e for ch, segs in raw.items() for e in find_prompt_echoes(segs, options, roles[ch])),
                    key=lambda e: e.start)
    if not any(cleaned.values()):
        return PostProcessed([], layout, notes, echoes)
    return PostProcessed(stereo_utterances(cleaned, layout, recognition.measures), layout, notes, echoes)


def _complete_cached(recognition: Recognition, call: CallInput, audio: DecodedAudio | None, audio_sha256: str | None,
                     backend: AsrBackend | None, options: AsrOptions, cache: TranscriptCache | None,
                     key: str | None) -> DecodedAudio | None:
    """A recognition cached before measures were kept, or before this second look: add what is missing and keep
    it. Returns the audio, decoded if that was needed."""
    changed = False
    if recognition.measures is None:
        audio = audio or load_audio(call.path, sha256=audio_sha256)
        recognition.measures = measure(audio, recognition.layout, options)
        changed = True
    if options.second_look and (recognition.recovered is None
                                or recognition.second_look_version != SECOND_LOOK_VERSION):
        audio = audio or load_audio(call.path, sha256=audio_sha256)
        if backend is None:
            from .backends import load_backend

            backend = load_backend(options)
        take_second_look(recognition, audio, backend, options)
        changed = True
    if changed and key is not None and cache is not None:
        cache.put(key, recognition)
    return audio


def _speech_by_role(recognition: Recognition, layout: str) -> dict[str, list[list[float]]]:
    """When each party spoke (stereo: per role) or anyone did (mono: "any"), by the VAD."""
    if not recognition.measures:
        return {}
    if layout == MONO:
        return {"any": [[round(a, 3), round(b, 3)] for a, b in recognition.measures[0].speech]}
    from .roles import layout_roles

    roles = layout_roles(layout)
    speech = {}
    for channel, m in recognition.measures.items():
        other = recognition.measures.get(1 - channel)
        spans = own_speech(m, other) if other is not None else m.speech  # the other party leaking in left out
        speech[roles[channel]] = [[round(a, 3), round(b, 3)] for a, b in spans]
    return speech


def transcribe_call(
    call: CallInput,
    options: AsrOptions | dict | None = None,
    backend: AsrBackend | None = None,
    cache: TranscriptCache | None = None,
    *,
    audio_sha256: str | None = None,
) -> Transcript:
    """Transcribe one call, or rebuild it from the cached recognition.

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
    recognition = cache.get(key) if key is not None else None
    cached = recognition is not None

    audio = None
    if recognition is None or recognition.layout == MONO:  # mono roles use voice features
        audio = load_audio(call.path, sha256=audio_sha256)
    if recognition is None:
        if backend is None:
            from .backends import load_backend

            backend = load_backend(options)
        recognition = recognize(audio, call.channels, backend, options)
        for note in recognition.notes:
            log.info("%s: %s", call.file, note)
        if key is not None:
            cache.put(key, recognition)
    else:
        audio = _complete_cached(recognition, call, audio, audio_sha256, backend, options, cache, key)
    processed = utterances_from(recognition, audio, options)
    return Transcript(
        call_id=call.call_id,
        file=call.file,
        agent_id=call.agent_id,
        channels=processed.layout,
        duration_s=recognition.duration_s,
        utterances=processed.utterances,
        speech=_speech_by_role(recognition, processed.layout),
        prompt_echoes=processed.prompt_echoes,
        info=TranscriptionInfo(
            backend=recognition.backend,
            model=options.model,
            model_sha256=model.sha256,
            audio_sha256=audio_sha256 or (audio.sha256 if audio else ""),
            options=options.cache_key_fields(),
            language=options.language,
            elapsed_s=0.0 if cached else recognition.elapsed_s,
            cached=cached,
            notes=processed.notes,
        ),
    )
