"""Where Whisper wrote its initial prompt back instead of the speech.

Whisper takes the prompt as the text before the audio, and where the audio is unclear it continues that text:
a prompt sentence (以下是普通话的客服电话录音), a fragment of one (普通话录音), or a run of its word list
(工号、致电: on the corpus, where an agent said 工号 and then digits the line garbled). The filters cut the
long echoes out (filters.py); either way, what was said under an echo is unknown, and a check must not take
the missing words for words never said (the employee ID check leaves such an opening to listening).

Only ``initial_prompt`` is looked for: hotwords are company and product names that agents do say.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..text import content_key
from .backends.base import AsrSegment
from .options import AsrOptions
from .transcript import PromptEcho

__all__ = ["find_prompt_echoes", "is_prompt_echo", "prompt_sentences", "prompt_word_lists"]

# A segment that is mostly a sentence of the initial prompt is Whisper echoing its context (seen on
# line-noise calls: 以下是普通话的客服电话录音。常 / 用词：工号、致电…); only sentences this long count,
# so a short prompt word an agent also says (客服) never removes speech.
_PROMPT_SENTENCE_MIN_LEN = 10
_PROMPT_ECHO_MIN_SCORE = 90.0
_SEGMENT_ECHO_MIN_LEN = 6  # a shorter segment is too short to judge as a piece of a sentence
# A clause made of a prompt sentence's words, in its order, is an echo (普通话录音 from 以下是普通话的客服电话录音):
# at least this many of them, and most of the clause. An agent's own clause shares fewer with the default
# prompt, or is mostly other words (我们的客服电话是95338).
_CLAUSE_MIN_SHARED = 5
_CLAUSE_MIN_SHARE = 0.6
# Listed words in the prompt's order, joined as a list (工号、致电; 客服、订单): an agent says one at a time,
# and a company's name written with a list mark (顺达快递、客服) is not in the prompt's order.
_LIST_RUN_MIN_ITEMS = 2


@lru_cache(maxsize=8)
def prompt_sentences(prompt: str) -> tuple[str, ...]:
    """The prompt's sentences long enough to be recognised when echoed (content keys)."""
    keys = (content_key(s) for s in re.split(r"[。！？!?]", prompt))
    return tuple(k for k in keys if len(k) >= _PROMPT_SENTENCE_MIN_LEN)


@lru_cache(maxsize=8)
def prompt_word_lists(prompt: str) -> tuple[tuple[str, ...], ...]:
    """The prompt's word lists (常用词：工号、致电、客服 -> (工号, 致电, 客服)), as content keys."""
    lists = []
    for clause in re.split(r"[。！？!?：:]", prompt):
        items = tuple(content_key(item) for item in clause.split("、") if content_key(item))
        if len(items) >= 2:
            lists.append(items)
    return tuple(lists)


def is_prompt_echo(seg: AsrSegment, options: AsrOptions) -> bool:
    """The whole segment lies inside a sentence of the initial prompt."""
    from rapidfuzz import fuzz

    key = content_key(seg.text)
    if not options.initial_prompt or len(key) < _SEGMENT_ECHO_MIN_LEN:
        return False
    for sentence in prompt_sentences(options.initial_prompt):
        hit = fuzz.partial_ratio_alignment(key, sentence, score_cutoff=_PROMPT_ECHO_MIN_SCORE)
        if hit is not None and hit.src_end - hit.src_start >= 0.9 * len(key):
            return True
    return False


def _list_run(text: str, prompt: str) -> str | None:
    """A run of the prompt's listed words, in the prompt's order and joined by 、, as written, or None."""
    for items in prompt_word_lists(prompt):
        word = "|".join(map(re.escape, sorted(set(items), key=len, reverse=True)))
        for m in re.finditer(rf"(?:{word})(?:\s*、\s*(?:{word}))+", text):
            said = [w for w in re.split(r"\s*、\s*", m.group(0)) if w]
            for i in range(len(said) - _LIST_RUN_MIN_ITEMS + 1):
                window = said[i : i + _LIST_RUN_MIN_ITEMS]
                if any(list(items[j : j + len(window)]) == window for j in range(len(items))):
                    return m.group(0)
    return None


@lru_cache(maxsize=8)
def _clauses(prompt: str) -> tuple[str, ...]:
    return tuple(k for k in (content_key(s) for s in re.split(r"[。！？!?：:]", prompt)) if k)


def _clause_echo(text: str, prompt: str) -> str | None:
    from rapidfuzz.distance import LCSseq

    for clause in re.split(r"[。！？!?，,；;：:、]", text):
        key = content_key(clause)
        for sentence in _clauses(prompt):
            shared = LCSseq.similarity(key, sentence)
            if key and shared >= _CLAUSE_MIN_SHARED and shared >= _CLAUSE_MIN_SHARE * len(key):
                return key
    return None


def echoed_words(text: str, prompt: str) -> str | None:
    """The prompt's words that ``text`` writes back (a run of its word list, or a clause of a sentence's
    words), or None."""
    return _list_run(text, prompt) or _clause_echo(text, prompt)


def find_prompt_echoes(segments: list[AsrSegment], options: AsrOptions, role: str) -> list[PromptEcho]:
    """One channel's raw segments (before the filters cut anything) that write the prompt back."""
    prompt = options.initial_prompt
    if not prompt:
        return []
    echoes = []
    for seg in segments:
        words = seg.text.strip() if is_prompt_echo(seg, options) else echoed_words(seg.text, prompt)
        if words:
            echoes.append(PromptEcho(role, round(float(seg.start), 3), round(float(seg.end), 3), words))
    return echoes
