"""Speech recognition: recordings in, role-labelled transcripts out.

    transcribe_batch(calls, options, out_dir, workers) -> list[TranscriptionResult]   resumable, per-call errors
    run_batch(..., then=...) -> BatchResults     the same, with more work done on each call by its worker
    transcribe_call(call, options, backend, cache) -> Transcript                       one call
    AsrOptions                   recognition options, validated when built, recorded with each transcript
    Transcript, Utterance        the stage's output: who said what, when, raw and normalized
    PromptEcho                   where Whisper wrote its prompt back instead of the speech (echoes.py)
    TranscriptionInfo            how a transcript was made (backend, model, options, notes)
    TranscriptionResult          a transcript, or why there is none
    resolve_model / list_models  Whisper models in the documented lookup order (models.py)
    load_backend(options)        a loaded Whisper backend, once per process (backends/)

Import-light: the names load their modules on first use, and the heavy
libraries (ctranslate2, torch, whisper) load inside the backends.
"""

from .._exports import lazy_exports

__all__ = [
    "AsrOptions",
    "PromptEcho",
    "Transcript",
    "TranscriptionInfo",
    "TranscriptionResult",
    "Utterance",
    "list_models",
    "load_backend",
    "resolve_model",
    "run_batch",
    "transcribe_batch",
    "transcribe_call",
]

__getattr__ = lazy_exports(__name__, {
    "AsrOptions": "options",
    "PromptEcho": "transcript",
    "Transcript": "transcript",
    "TranscriptionInfo": "transcript",
    "TranscriptionResult": "transcript",
    "Utterance": "transcript",
    "list_models": "models",
    "load_backend": "backends",
    "resolve_model": "models",
    "run_batch": "batch",
    "transcribe_batch": "batch",
    "transcribe_call": "pipeline",
})
