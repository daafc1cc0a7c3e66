"""Which sentiment model a scorecard names, loaded once per process.

Model lookup (``load_model(spec)``), first match wins:

1. ``""`` or ``"lexicon"``: the lexicon + rules model over
   ``checks/data/sentiment_lexicon.yaml`` (or the lexicon file given). No download.
2. ``spec`` as a path (absolute, or relative to the working directory) to a
   directory holding a transformers sequence-classification model and tokenizer.
3. ``spec`` as a name under the models directory (``$CALLQA_MODELS_DIR``,
   default ``./models``).

A transformers model gives the label and score; the driving words still come
from the lexicon (a classifier has no words to point at), and say so.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .lexicon import LEXICON_MODEL, Lexicon, LexiconSentimentModel, SentimentModel
from .transformer import TransformersSentimentModel, parse_label_map


@lru_cache(maxsize=8)
def load_model(spec: str = "", lexicon_path: str = "", label_map: tuple[str, ...] = (),
               negative_below: float = -0.25, positive_above: float = 0.25) -> SentimentModel:
    """The sentiment model a scorecard asks for; loaded once per process."""
    lexicon = Lexicon.load(lexicon_path or None)
    if spec in ("", LEXICON_MODEL):
        return LexiconSentimentModel(lexicon, negative_below, positive_above)
    return TransformersSentimentModel(resolve_model_dir(spec), parse_label_map(label_map), lexicon,
                                      negative_below, positive_above)


def _models_dir() -> Path:
    from ...asr.models import models_dir

    return models_dir()


def _is_classifier_dir(path: Path) -> bool:
    return path.is_dir() and (path / "config.json").is_file()


def resolve_model_dir(spec: str) -> Path:
    """Where a sentiment model named in the scorecard lives (see the module doc for the order)."""
    candidates = [Path(spec).expanduser(), _models_dir() / spec]
    for path in candidates:
        if _is_classifier_dir(path):
            return path
    root = _models_dir()
    found = sorted(p.name for p in root.iterdir() if _is_classifier_dir(p)) if root.is_dir() else []
    raise RuntimeError(
        f"sentiment model {spec!r} not found (looked for a directory with config.json at "
        f"{', '.join(str(c) for c in candidates)}); valid: {', '.join([LEXICON_MODEL, *found])}")


