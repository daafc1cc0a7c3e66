"""Sentiment models for call utterances: the offline lexicon model (lexicon.py, the default)
and a local transformers classifier (transformer.py); loader.py picks one by name.

    load_model(spec, lexicon_path, label_map, negative_below, positive_above) -> SentimentModel
    SentimentModel.classify(texts, roles) -> list[SentimentScore]   label, score in [-1, 1], driving words
"""

from .lexicon import LABELS, LEXICON_MODEL, Lexicon, LexiconSentimentModel, SentimentDriver, SentimentModel, SentimentScore
from .lexicon import label_for
from .loader import load_model, resolve_model_dir
from .transformer import TransformersSentimentModel, parse_label_map

__all__ = [
    "LABELS",
    "LEXICON_MODEL",
    "Lexicon",
    "LexiconSentimentModel",
    "SentimentDriver",
    "SentimentModel",
    "SentimentScore",
    "TransformersSentimentModel",
    "label_for",
    "load_model",
    "parse_label_map",
    "resolve_model_dir",
]
