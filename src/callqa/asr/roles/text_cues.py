"""What the words say about who is speaking: agent phrasing vs customer phrasing.

Used for mono recordings, where voices alone cannot say which speaker is the
agent. Evidence is a log-odds score: positive for the agent, negative for the
customer, 0 when the words say nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ...text import pinyin_key as _pinyin_key
from ..data_files import load_sections

__all__ = ["RolePhrases", "load_role_phrases", "text_role_evidence"]

ROLE_PHRASES_FILE = Path(__file__).with_name("phrases.yaml")
_MAX_COUNT_PER_PHRASE = 2


@dataclass(frozen=True)
class RolePhrases:
    agent: tuple[tuple[str, str, float], ...]  # (phrase, pinyin key, weight)
    customer: tuple[tuple[str, str, float], ...]


@lru_cache(maxsize=4)
def load_role_phrases(path: Path = ROLE_PHRASES_FILE) -> RolePhrases:
    data = load_sections(path, ("agent", "customer"))

    def entries(section: str) -> tuple[tuple[str, str, float], ...]:
        out = []
        for phrase, weight in (data.get(section) or {}).items():
            if not isinstance(weight, (int, float)) or weight <= 0:
                raise ValueError(f"{path}: {section}.{phrase}: weight must be a positive number, got {weight!r}")
            out.append((phrase, _pinyin_key(phrase), float(weight)))
        return tuple(out)

    return RolePhrases(agent=entries("agent"), customer=entries("customer"))


def _score(key: str, entries: tuple[tuple[str, str, float], ...]) -> tuple[float, list[str]]:
    total, hits = 0.0, []
    for phrase, pkey, weight in entries:
        n = min(key.count(pkey), _MAX_COUNT_PER_PHRASE)
        if n:
            total += n * weight
            hits.append(phrase)
    return total, hits


def text_role_evidence(text: str, phrases: RolePhrases | None = None) -> float:
    """Log-odds that ``text`` (normalized) was said by the agent rather than the customer.

    Overlapping phrases (为您服务 inside 很高兴为您服务) both count: a fuller
    service formula is stronger evidence than its fragment.
    """
    phrases = phrases or load_role_phrases()
    if not text:
        return 0.0
    key = _pinyin_key(text)
    agent, _ = _score(key, phrases.agent)
    customer, _ = _score(key, phrases.customer)
    return agent - customer
