"""The offline lexicon + rules sentiment model (the default), and the types every sentiment model returns.

Per utterance: a label (negative / neutral / positive), a score in [-1, 1]
and the words that drove it, so a finding can say *why*.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Protocol, Sequence

import yaml

from ...text import normalize_text, syllables

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
LEXICON_MODEL = "lexicon"
_CLAUSE_SPLIT = re.compile(r"[，。！？、；：,.!?;:\s…~]+")
_SENTENCE_END = re.compile(r"[。！？.!?]+\s*")


@dataclass
class SentimentDriver:
    """One word that moved an utterance's score."""

    word: str  # as written in the normalized text
    weight: float  # its contribution after negation and intensity
    start: int  # character offsets in the normalized text
    end: int
    entry: str = ""  # the lexicon entry; differs from word on a homophone (pinyin) match
    modifiers: list[str] = field(default_factory=list)  # 不, 太 ... that changed it
    note: str = ""  # for a pattern hit, what it stands for (e.g. "repeated contact")

    def describe(self) -> str:
        """The words as a reviewer should read them: 太差, 头诉(≈投诉), 可真高啊(sarcasm)."""
        text = "".join(self.modifiers) + self.word
        if self.entry and self.entry != self.word:
            text += f"(≈{self.entry})"
        return f"{text}({self.note})" if self.note else text


@dataclass
class SentimentScore:
    label: str  # one of LABELS
    score: float  # -1 (negative) .. 1 (positive)
    drivers: list[SentimentDriver] = field(default_factory=list)

    def words(self) -> list[str]:
        """The drivers pulling toward the label (all of them when neutral)."""
        sign = {"negative": -1, "positive": 1}.get(self.label, 0)
        return [d.describe() for d in self.drivers if sign == 0 or d.weight * sign > 0]


class SentimentModel(Protocol):
    name: str

    def classify(self, texts: Sequence[str], roles: Sequence[str]) -> list[SentimentScore]: ...


def label_for(score: float, negative_below: float, positive_above: float) -> str:
    if score <= negative_below:
        return "negative"
    if score >= positive_above:
        return "positive"
    return "neutral"


# --- the lexicon --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    kind: str  # "word", "negator", "intensifier", "contrast"
    value: float  # weight for words, factor for modifiers
    roles: frozenset[str] | None = None  # None: any role
    tier: str = ""  # the tier a word is listed in (standard_phrasing asks for the rebukes)


@dataclass
class Lexicon:
    entries: dict[str, _Entry]
    pinyin_entries: dict[tuple[str, ...], str]
    pinyin_lengths: tuple[int, ...]  # longest first
    patterns: list[tuple[re.Pattern[str], float, str]]
    sarcasm: list[re.Pattern[str]]
    sarcasm_context: list[re.Pattern[str]]  # words that make a marker sarcasm without a negative word
    rhetorical: list[re.Pattern[str]]  # clauses where 不是 asserts the negative word after it (这不是坑人吗)
    sign_off: list[re.Pattern[str]]
    sign_off_courtesy: frozenset[str]  # the words that count for nothing in a sign-off (plain thanks)
    closing_questions: list[re.Pattern[str]]  # the agent's 还有其他问题吗: the customer's next words sign off
    question_markers: tuple[str, ...]
    question_positive_factor: float
    negate_positive: float
    negate_negative: float
    imperatives: frozenset[str]
    before_contrast: float
    after_contrast: float
    max_gap: int
    max_len: int
    source: str

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Lexicon":
        if path:
            source = str(path)
            try:
                raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
            except OSError as e:
                raise ValueError(f"sentiment lexicon {path}: cannot read it ({e})") from e
        else:
            source = "callqa/checks/data/sentiment_lexicon.yaml"
            raw = yaml.safe_load(resources.files("callqa.checks").joinpath("data/sentiment_lexicon.yaml").read_text("utf-8"))
        try:
            return cls._build(raw, source)
        except (KeyError, TypeError, ValueError, re.error) as e:
            raise ValueError(f"sentiment lexicon {source}: {e}") from e

    @classmethod
    def _build(cls, raw: dict, source: str) -> "Lexicon":
        entries: dict[str, _Entry] = {}

        def add(word: str, entry: _Entry, where: str) -> None:
            word = normalize_text(str(word))
            if word in entries:
                raise ValueError(f"{word!r} in {where} is listed twice")
            entries[word] = entry

        spellings = {normalize_text(str(k)): [normalize_text(str(v)) for v in vs]
                     for k, vs in raw.get("colloquial", {}).items()}
        for tier_name, tier in raw["tiers"].items():
            weight = float(tier["weight"])
            if not -1.0 <= weight <= 1.0:
                raise ValueError(f"tiers.{tier_name}.weight must be in [-1, 1], not {weight}")
            roles = frozenset(tier["roles"]) if tier.get("roles") else None
            for word in tier["words"]:
                add(word, _Entry("word", weight, roles, tier_name), f"tiers.{tier_name}")
        for word in [w for w, e in entries.items() if e.kind == "word"]:
            for variant in _colloquial_variants(word, spellings):
                entries.setdefault(variant, entries[word])  # a word listed as spoken keeps its own weight
        for word, factor in raw.get("negators", {}).items():
            add(word, _Entry("negator", float(factor)), "negators")
        for word, factor in raw.get("intensifiers", {}).items():
            add(word, _Entry("intensifier", float(factor)), "intensifiers")
        contrast = raw.get("contrast", {})
        for word in contrast.get("markers", []):
            add(word, _Entry("contrast", 0.0), "contrast.markers")

        pinyin_entries = {}
        for word in raw.get("pinyin_match", []):
            word = normalize_text(str(word))
            if entries.get(word, _Entry("", 0)).kind != "word":
                raise ValueError(f"pinyin_match: {word!r} is not a word of any tier")
            pinyin_entries[syllables(word)] = word

        patterns = [(re.compile(p["regex"]), float(p["weight"]), str(p.get("note", ""))) for p in raw.get("patterns", [])]
        questions = raw.get("questions", {})
        negation = raw.get("negation", {})
        sign_off = raw.get("sign_off", {})
        return cls(
            entries=entries,
            pinyin_entries=pinyin_entries,
            pinyin_lengths=tuple(sorted({len(k) for k in pinyin_entries}, reverse=True)),
            patterns=patterns,
            sarcasm=[re.compile(p) for p in raw.get("sarcasm", [])],
            sarcasm_context=[re.compile(p) for p in raw.get("sarcasm_context", [])],
            rhetorical=[re.compile(p) for p in raw.get("rhetorical", [])],
            sign_off=[re.compile(p) for p in sign_off.get("patterns", [])],
            sign_off_courtesy=frozenset(normalize_text(str(w)) for w in sign_off.get("courtesy", [])),
            closing_questions=[re.compile(p) for p in sign_off.get("after_agent", [])],
            question_markers=tuple(questions.get("markers", ["吗", "？", "?"])),
            question_positive_factor=float(questions.get("positive_factor", 0.5)),
            negate_positive=float(negation.get("positive_factor", 0.9)),
            negate_negative=float(negation.get("negative_factor", 0.5)),
            imperatives=frozenset(normalize_text(str(w)) for w in negation.get("imperatives", [])),
            before_contrast=float(contrast.get("before_factor", 1.0)),
            after_contrast=float(contrast.get("after_factor", 1.0)),
            max_gap=int(raw.get("scope", {}).get("max_gap", 2)),
            max_len=max(len(w) for w in entries),
            source=source,
        )


def _colloquial_variants(word: str, spellings: dict[str, list[str]]) -> list[str]:
    """``word`` with each written form replaced by its spoken ones, one at a time: 什么态度 -> 啥态度."""
    return [word.replace(written, spoken) for written, spoken_forms in spellings.items() if written in word
            for spoken in spoken_forms]


# --- the lexicon + rules model ------------------------------------------------------------------


class LexiconSentimentModel:
    """Maximal matching of lexicon entries over each clause, with negation,
    intensity, questions, contrast (但是) and sarcasm rules. The utterance
    score is tanh of the summed word weights, so two mild words make a firm one."""

    def __init__(self, lexicon: Lexicon | None = None, negative_below: float = -0.25, positive_above: float = 0.25):
        self.lexicon = lexicon or Lexicon.load()
        self.negative_below = negative_below
        self.positive_above = positive_above
        self.name = f"{LEXICON_MODEL}:{self.lexicon.source}"

    def classify(self, texts: Sequence[str], roles: Sequence[str]) -> list[SentimentScore]:
        """Each utterance of a call, in order: a customer's words right after the agent's closing question
        (还有其他问题吗？ 谢谢你。) sign off, even when Whisper lost the 没有了 that would say so."""
        out = []
        for k, (text, role) in enumerate(zip(texts, roles, strict=True)):
            answers_closing = (role == "customer" and k > 0 and roles[k - 1] == "agent"
                               and any(p.search(normalize_text(texts[k - 1])) for p in self.lexicon.closing_questions))
            out.append(self.classify_one(text, role, signs_off=answers_closing))
        return out

    def classify_one(self, text: str, role: str = "customer", signs_off: bool = False) -> SentimentScore:
        """``signs_off``: the words answer the agent's closing question, whatever they start with."""
        text = normalize_text(text)
        drivers: list[SentimentDriver] = []
        for clause_start, clause in _clauses(text):
            drivers.extend(self._clause_drivers(clause, clause_start, role))
        if any(d.weight < 0 for d in drivers) or any(p.search(text) for p in self.lexicon.sarcasm_context):
            self._apply_sarcasm(text, drivers)
        sign_off = 0 if signs_off else self._sign_off_start(text)
        if sign_off is not None:
            # 没有了，谢谢: the thanks answers 还有其他问题吗, a courtesy rather than satisfaction; and without the
            # comma (没有啦谢谢你) the 没有 answers the question too, it does not negate the thanks.
            # Thanks turned by sarcasm (呵呵，真是谢谢你们了) is no courtesy.
            drivers = [d for d in drivers
                       if d.start < sign_off or d.entry not in self.lexicon.sign_off_courtesy or d.note == "sarcasm"]
        drivers.sort(key=lambda d: (d.start, -d.end))  # in the order they were said
        total = sum(d.weight for d in drivers)
        score = round(math.tanh(total), 3)
        return SentimentScore(label_for(score, self.negative_below, self.positive_above), score, drivers)

    def _sign_off_start(self, text: str) -> int | None:
        """Where a sentence that answers 还有其他问题吗 (没有了，谢谢) starts, or None. Any sentence may:
        Whisper often joins a fragment of the previous words to it (了。没了，谢谢你)."""
        for m in itertools.chain([None], _SENTENCE_END.finditer(text)):
            start = m.end() if m else 0
            if any(p.match(text[start:]) for p in self.lexicon.sign_off):
                return start
        return None

    def _match(self, clause: str, i: int, role: str) -> tuple[str, str, _Entry] | None:
        """Longest entry at position i: (surface, entry word, entry), exact first, then by sound."""
        lex = self.lexicon
        best = None
        for length in range(min(lex.max_len, len(clause) - i), 0, -1):
            entry = lex.entries.get(clause[i : i + length])
            if entry is not None and (entry.roles is None or role in entry.roles):
                best = (clause[i : i + length], clause[i : i + length], entry)
                break
        exact_len = len(best[0]) if best else 0
        for length in lex.pinyin_lengths:
            if length <= exact_len or i + length > len(clause):
                continue
            word = lex.pinyin_entries.get(syllables(clause)[i : i + length])  # the clause read in context
            if word is not None:
                entry = lex.entries[word]
                if entry.roles is None or role in entry.roles:
                    return clause[i : i + length], word, entry
        # A不A (方不方便, 是不是) asks a question; it is not a negation.
        if exact_len < 3 and i + 2 < len(clause) and clause[i + 1] == "不" and clause[i] == clause[i + 2]:
            return clause[i : i + 3], "", _Entry("word", 0.0)
        return best

    def _overtaken(self, clause: str, i: int, length: int, role: str) -> bool:
        """Whether a longer entry starts inside the match at ``i`` and runs past it (必须给我 / 给我个说法)."""
        for j in range(i + 1, i + length):
            inner = self._match(clause, j, role)
            if inner is not None and len(inner[0]) > length and j + len(inner[0]) > i + length:
                return True
        return False

    def _clause_drivers(self, clause: str, offset: int, role: str) -> list[SentimentDriver]:
        lex = self.lexicon
        is_question = any(m in clause for m in lex.question_markers)
        rhetorical = any(p.search(clause) for p in lex.rhetorical)
        drivers: list[SentimentDriver] = []
        modifiers: list[tuple[str, _Entry]] = []
        gap = 0
        contrast_at = None  # offset in the clause where the part after 但是 begins
        i = 0
        while i < len(clause):
            match = self._match(clause, i, role)
            if match is not None and self._overtaken(clause, i, len(match[0]), role):
                match = None
            if match is None:
                i += 1
                gap += 1
                if gap > lex.max_gap:
                    modifiers = []
                continue
            surface, word, entry = match
            if entry.kind in ("negator", "intensifier"):
                modifiers.append((surface, entry))
            elif entry.kind == "contrast":
                contrast_at, modifiers = offset + i, []
            elif entry.value == 0.0:
                modifiers = []  # a neutral phrase absorbs them: 非常抱歉 is not 非常 + anything
            else:
                if rhetorical:  # 这不是坑人吗 says it is one: 不是 there asserts the word, it does not deny it
                    modifiers = [(t, m) for t, m in modifiers if t != "不是"]
                driver = self._driver(surface, word, entry, modifiers, offset + i, is_question)
                if driver.weight:
                    drivers.append(driver)
                modifiers = []
            gap = 0
            i += len(surface)
        for pattern, weight, note in lex.patterns:
            for m in pattern.finditer(clause):
                drivers.append(SentimentDriver(m.group(0), weight, offset + m.start(), offset + m.end(), note=note))
        if contrast_at is not None:
            for d in drivers:
                d.weight = round(d.weight * (lex.before_contrast if d.start < contrast_at else lex.after_contrast), 3)
        return drivers

    def _driver(self, surface: str, word: str, entry: _Entry, modifiers, start: int, is_question: bool) -> SentimentDriver:
        lex = self.lexicon
        weight = entry.value
        for text, modifier in modifiers:
            if modifier.kind == "intensifier":
                weight *= modifier.value
            elif weight < 0 and text in lex.imperatives:
                weight = 0.0  # 别着急 / 不要打断我: neither praise nor, by itself, blame
            else:  # a negator flips; negated praise stays firmer than negated blame (不满意 vs 不差)
                weight = -weight * modifier.value * (lex.negate_positive if weight > 0 else lex.negate_negative)
        if is_question and weight > 0:
            weight *= lex.question_positive_factor
        weight = max(-1.5, min(1.5, weight))
        return SentimentDriver(surface, round(weight, 3), start, start + len(surface), word, [s for s, _ in modifiers])

    def _apply_sarcasm(self, text: str, drivers: list[SentimentDriver]) -> None:
        """Praise inside a sarcasm marker of a complaining utterance counts as blame."""
        spans = [m.span() for p in self.lexicon.sarcasm for m in p.finditer(text)]
        for d in drivers:
            if d.weight > 0 and any(s <= d.start < e for s, e in spans):
                d.weight, d.note = -d.weight, "sarcasm"
        for s, e in sorted(set(spans)):  # a marker with no lexicon word inside still counts (效率可真高啊)
            if not any(s <= d.start < e for d in drivers):
                drivers.append(SentimentDriver(text[s:e], -0.4, s, e, note="sarcasm"))


def _clauses(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for m in _CLAUSE_SPLIT.finditer(text):
        if m.start() > pos:
            out.append((pos, text[pos : m.start()] + m.group(0).strip()[:1]))  # keep ？ for question detection
        pos = m.end()
    if pos < len(text):
        out.append((pos, text[pos:]))
    return out
