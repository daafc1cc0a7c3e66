"""What the sentiment lexicon says about one utterance for the phrase checks: a complaint, a rebuke.

The lexicon (checks/data/sentiment_lexicon.yaml, or a centre's own) names dissatisfaction and rudeness in far
more words than a check's cue list could; standard_phrasing asks it whether a customer complained and whether
the agent's hold request came with a rebuke.
"""

from __future__ import annotations

from functools import lru_cache

from .sentiment_models import Lexicon, LexiconSentimentModel

__all__ = ["complaint_word", "lexicon_model", "rebuke_word"]


@lru_cache(maxsize=4)
def lexicon_model(path: str) -> LexiconSentimentModel:
    """The lexicon model for ``path`` (empty: the packaged lexicon), loaded once."""
    return LexiconSentimentModel(Lexicon.load(path or None))


def complaint_word(model: LexiconSentimentModel, text: str, weight: float) -> str | None:
    """The word of a customer's utterance that makes it a complaint by the lexicon: an entry weighing ``weight``
    or less as said (太烂 as much as 失望; 不生气 not at all), or sarcasm (呵呵，你们可真行), in an utterance
    scored negative."""
    score = model.classify_one(text, "customer")
    if score.label != "negative":
        return None
    for driver in score.drivers:
        entry = driver.entry or driver.word
        if driver.note == "sarcasm" or (entry in model.lexicon.entries and driver.weight <= weight):
            return driver.word
    return None


def rebuke_word(model: LexiconSentimentModel, text: str, tier: str) -> str | None:
    """A word of the lexicon's ``tier`` of rebukes said at the other party (烦不烦, 急什么) in ``text`` as the
    agent's, as said: one a negator or an imperative cancelled (别急什么) is none."""
    for driver in model.classify_one(text, "agent").drivers:
        entry = model.lexicon.entries.get(driver.entry or driver.word)
        if entry is not None and entry.tier == tier and driver.weight < 0:
            return driver.word
    return None
