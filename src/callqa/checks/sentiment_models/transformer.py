"""A transformers text-classification model, loaded offline from a local
directory, as an alternative to the lexicon model (loader.py says where it is
looked for). torch and transformers are imported only when one is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ...text import normalize_text
from .lexicon import LABELS, Lexicon, LexiconSentimentModel, SentimentScore, label_for

# Label names models commonly use, mapped to ours; anything else needs `label_map`.
_KNOWN_LABELS = {
    "negative": "negative", "neg": "negative", "负面": "negative", "消极": "negative", "1 star": "negative",
    "2 stars": "negative", "neutral": "neutral", "neu": "neutral", "中性": "neutral", "3 stars": "neutral",
    "positive": "positive", "pos": "positive", "正面": "positive", "积极": "positive", "4 stars": "positive",
    "5 stars": "positive",
}


def parse_label_map(pairs: Sequence[str]) -> dict[str, str]:
    """``["LABEL_0=negative", ...]`` -> {"LABEL_0": "negative", ...}."""
    out = {}
    for pair in pairs:
        model_label, sep, ours = str(pair).partition("=")
        if not sep or ours.strip() not in LABELS:
            raise ValueError(f"label_map entry {pair!r}: write MODEL_LABEL=LABEL with LABEL one of {', '.join(LABELS)}")
        out[model_label.strip()] = ours.strip()
    return out


class TransformersSentimentModel:
    """A sequence-classification model loaded offline from a local directory.

    Class probabilities are summed per mapped label; the score is
    P(positive) - P(negative). A model without a neutral class is labelled by
    the score thresholds instead of its argmax.
    """

    def __init__(self, path: Path, label_map: dict[str, str] | None = None, lexicon: Lexicon | None = None,
                 negative_below: float = -0.25, positive_above: float = 0.25, batch_size: int = 16):
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError as e:
            raise RuntimeError("a transformers sentiment model needs torch and transformers: "
                               "pip install torch==2.13.0 transformers==5.24.0") from e
        self._torch = torch
        self.path = Path(path)
        self.name = str(path)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
            self.model = AutoModelForSequenceClassification.from_pretrained(self.path, local_files_only=True)
        except (OSError, ValueError) as e:
            raise RuntimeError(f"sentiment model {path}: cannot load a text-classification model and tokenizer "
                               f"from this directory ({e})") from e
        self.model.eval()
        id2label = {int(k): str(v) for k, v in self.model.config.id2label.items()}
        label_map = label_map or {}
        self.class_labels: list[str] = []
        for idx in range(self.model.config.num_labels):
            name = id2label.get(idx, f"LABEL_{idx}")
            ours = label_map.get(name) or label_map.get(str(idx)) or _KNOWN_LABELS.get(name.lower())
            if ours is None:
                raise RuntimeError(
                    f"sentiment model {path}: its label {name!r} has no meaning for callqa; set "
                    f'label_map = ["{name}=negative", ...] in [checks.sentiment] (labels: {", ".join(LABELS)}); '
                    f"the model's labels are {[id2label.get(i, f'LABEL_{i}') for i in range(self.model.config.num_labels)]}")
            self.class_labels.append(ours)
        self.has_neutral = "neutral" in self.class_labels
        self.lexicon_model = LexiconSentimentModel(lexicon, negative_below, positive_above)
        self.negative_below, self.positive_above = negative_below, positive_above
        self.batch_size = batch_size

    def classify(self, texts: Sequence[str], roles: Sequence[str]) -> list[SentimentScore]:
        texts = [normalize_text(t) for t in texts]
        probs: list[list[float]] = []
        with self._torch.no_grad():
            for i in range(0, len(texts), self.batch_size):
                batch = self.tokenizer(texts[i : i + self.batch_size], padding=True, truncation=True,
                                       max_length=256, return_tensors="pt")
                probs.extend(self._torch.softmax(self.model(**batch).logits, dim=-1).tolist())
        out = []
        for text, role, p in zip(texts, roles, probs, strict=True):
            per_label = dict.fromkeys(LABELS, 0.0)
            for cls_label, prob in zip(self.class_labels, p):
                per_label[cls_label] += prob
            score = round(per_label["positive"] - per_label["negative"], 3)
            if self.has_neutral:
                label = max(per_label, key=lambda k: per_label[k])
            else:
                label = label_for(score, self.negative_below, self.positive_above)
            # The classifier has no words to point at: explain with the lexicon's hits.
            drivers = self.lexicon_model.classify_one(text, role).drivers
            out.append(SentimentScore(label, score, drivers))
        return out
