"""ASR backends behind one interface. See base.py.

``load_backend`` loads a model once per process: a batch reuses it for every
call, and each worker process of ``--workers N`` holds its own.
"""

from __future__ import annotations

import threading

from ..options import AsrOptions
from .base import SAMPLE_RATE, AsrBackend, AsrSegment, AsrWord

__all__ = ["SAMPLE_RATE", "AsrBackend", "AsrSegment", "AsrWord", "load_backend", "clear_backend_cache"]

_loaded: dict[tuple[str, str, str, int], AsrBackend] = {}
_lock = threading.Lock()


def load_backend(options: AsrOptions) -> AsrBackend:
    """The backend named by ``options.backend`` with ``options.model`` loaded, cached per process."""
    key = (options.backend, options.model, options.compute_type, options.cpu_threads)
    with _lock:
        backend = _loaded.get(key)
        if backend is None:
            backend = _loaded[key] = _create(options)
        return backend


def _create(options: AsrOptions) -> AsrBackend:
    from ..models import resolve_model

    model = resolve_model(options.model)
    if options.backend == "faster-whisper":
        from .faster import FasterWhisperBackend

        return FasterWhisperBackend(model, compute_type=options.compute_type, cpu_threads=options.cpu_threads)
    if options.backend == "openai-whisper":
        from .openai import OpenAIWhisperBackend

        return OpenAIWhisperBackend(model, cpu_threads=options.cpu_threads)
    raise ValueError(f"unknown backend {options.backend!r}")  # AsrOptions validates; kept for direct callers


def clear_backend_cache() -> None:
    """Drop loaded models (tests, or a long-lived process switching models)."""
    with _lock:
        _loaded.clear()
