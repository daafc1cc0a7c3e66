"""sentiment: the customer's and the agent's emotion toward the service."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...asr.transcript import Transcript
from ..base import CallContext, Check, CheckResult, Finding
from ..matching import PhraseCheckConfig, split_deduction, utterance_finding
from ..sentiment_models import LEXICON_MODEL, SentimentModel, SentimentScore, label_for, load_model, parse_label_map
from ..sentiment_models import resolve_model_dir
from ..verification import speaker_doubtful


@dataclass
class SentimentConfig(PhraseCheckConfig):
    deduction: float = 0.0  # an upset customer is not always the agent's fault: flag, do not deduct
    critical: bool = True  # failing flags the call for a supervisor
    model: str = ""  # "" or "lexicon": the built-in offline model; else a local transformers model directory
    lexicon: str = ""  # a lexicon YAML replacing the packaged one (same format)
    label_map: list[str] = field(default_factory=list)  # for a transformers model: "MODEL_LABEL=negative" ...
    negative_threshold: float = 0.25  # an utterance or call scoring -0.25 or lower is negative
    positive_threshold: float = 0.25  # ... +0.25 or higher, positive
    ending_utterances: int = 1  # the customer's last N utterances decide whether the call ends negative
    agent_negative_fails: bool = False  # also fail when the agent's call-level label is negative

    def __post_init__(self) -> None:
        # Checked when the scorecard is built, so a bad value fails `callqa scorecard check`, not every call.
        where = "checks.sentiment"
        for key in ("negative_threshold", "positive_threshold"):
            if not 0 < getattr(self, key) <= 1:
                raise ValueError(f"{where}.{key}: must be in (0, 1], got {getattr(self, key):g}")
        if self.ending_utterances < 1:
            raise ValueError(f"{where}.ending_utterances: must be at least 1, got {self.ending_utterances}")
        if self.lexicon and not Path(self.lexicon).is_file():
            raise ValueError(f"{where}.lexicon: no such file {self.lexicon!r}")
        parse_label_map(self.label_map)  # raises naming the bad entry
        if self.model not in ("", LEXICON_MODEL):
            try:
                resolve_model_dir(self.model)
            except RuntimeError as e:
                raise ValueError(f"{where}.model: {e}") from e

    @property
    def bounds(self) -> tuple[float, float]:
        """(score at or under which negative, score at or over which positive)"""
        return -self.negative_threshold, self.positive_threshold


class SentimentCheck(Check):
    """The customer does not leave the call upset, and the agent stays civil.

    Every utterance gets a label (negative / neutral / positive), a score in
    [-1, 1] and the words that drove it. The customer is negative over the
    call when their negative utterances outnumber the positive ones, or when
    their last utterance is negative: a complaint that the agent turned
    around does not fail the call, a call that ends in anger or a threat
    does. Stating a problem is neutral; anger and frustration at the
    service are negative. Customer words are never counted against the agent.
    On a mono call, utterances whose speaker is uncertain are read as the
    customer's where no utterance went to the customer, and otherwise where they
    read negative as the customer's (anger is the customer's, courtesy the
    agent's): they may flag the call, never take points.

    **Anti-pattern**: the customer is angry and stays angry.

    .. code-block:: text

        customer: 我都打了三次电话了，你们怎么还没处理好？
        agent:    这个不归我们管，你自己去找快递公司。
        customer: 你们这什么服务，太差了，我要投诉！

    **Best practice**: the problem is stated, handled, and the customer thanks the agent.

    .. code-block:: text

        customer: 我的快递三天了还没到，想查一下。
        agent:    非常抱歉，请您稍等，我帮您查询一下。
        customer: 好的，谢谢，你们态度还不错。

    The default model is a lexicon with rules for negation (不满意, 不错,
    没问题), intensifiers (太, 非常), questions, 但是 and sarcasm, plus
    homophone matching on pinyin; set ``model`` to a local transformers
    text-classification directory to use a trained classifier (its drivers
    then still come from the lexicon).
    """

    id = "sentiment"
    name_zh = "客户情绪"
    name = "Customer and agent sentiment"
    description = "Flags calls whose customer is negative overall or at the end, with the words that show it."
    config_class = SentimentConfig

    def run(self, transcript: Transcript, config: SentimentConfig, context: CallContext) -> CheckResult:
        model = load_model(config.model, config.lexicon, tuple(config.label_map), *config.bounds)
        utterances = transcript.utterances
        scores = model.classify([u.text or u.raw_text for u in utterances], [u.role for u in utterances]) if utterances else []
        by_role = {role: [(i, scores[i]) for i, _ in transcript.by_role(role)] for role in ("customer", "agent")}
        stand_ins = _stand_ins(transcript, by_role, config, model)
        own = by_role["customer"]
        customer_side = sorted(own + stand_ins, key=lambda pair: pair[0])
        shown = dict(enumerate(scores)) | dict(stand_ins)  # a stand-in is shown as it counted: the customer's
        customer, ending = call_level(customer_side, config), _ending(customer_side, config)
        agent = call_level(by_role["agent"], config)
        extra: dict[str, Any] = {
            "customer": customer,
            "agent": agent,
            "utterances": [
                {"index": i, "role": u.role, "label": shown[i].label, "score": shown[i].score,
                 "words": shown[i].words()}
                for i, u in enumerate(utterances)
            ],
            "model": model.name,
        }
        stood_in = {i for i, _ in stand_ins}
        customer_findings = self._findings(transcript, customer_side, config, model, doubtful=stood_in)
        agent_own = [(i, score) for i, score in by_role["agent"] if i not in stood_in]
        agent_findings = self._findings(transcript, agent_own, config, model)
        if not customer_side:
            extra["reason"] = "the customer does not speak in this call"
            return CheckResult(self.id, None, 0.0, agent_findings, critical=config.critical, extra=extra)
        if stand_ins:
            extra["customer_read_from"] = _read_from(stand_ins, len(by_role["customer"]))

        reasons = []
        if customer["label"] == "negative":
            reasons.append(f"the customer is negative over the call ({customer['score']:+.2f})")
        if ending["label"] == "negative":
            reasons.append(f"the call ends with the customer negative ({ending['score']:+.2f})")
        agent_fails = config.agent_negative_fails and agent["label"] == "negative"
        if agent_fails:
            reasons.append(f"the agent is negative over the call ({agent['score']:+.2f})")
        extra["ending"] = ending
        findings = sorted(customer_findings + agent_findings, key=lambda f: (f.start, f.utterance or 0))
        if not reasons:
            return CheckResult(self.id, True, 0.0, findings, critical=config.critical, extra=extra)
        extra["reason"] = "; ".join(reasons) + (f" ({extra['customer_read_from']})" if stand_ins else "")
        # The deduction is shared by the evidence of the failure, so dismissing one gives back its share; words
        # whose speaker is uncertain flag the call but take no points, so the customer's count only when their
        # own words fail the call.
        own_fail = "negative" in (call_level(own, config)["label"], _ending(own, config)["label"])
        blamed = [f for f in customer_findings if own_fail and f.utterance not in stood_in]
        blamed += agent_findings if agent_fails else []
        for finding, share in zip(blamed, split_deduction(config.deduction, len(blamed))):
            finding.deduction = share
        return CheckResult(self.id, False, config.deduction if blamed else 0.0, findings, critical=config.critical,
                           extra=extra)

    def _findings(self, transcript: Transcript, scored: list[tuple[int, SentimentScore]], config: SentimentConfig,
                  model: SentimentModel, doubtful: frozenset[int] | set[int] = frozenset()) -> list[Finding]:
        findings = []
        for index, score in scored:
            if score.label != "negative":
                continue
            words = score.words()
            if words:
                detail = f"negative: {', '.join(words)}"
            else:  # a classifier's call that no lexicon word explains: say so rather than invent words
                detail = f"negative (model {model.name}); no lexicon word explains it"
            if index in doubtful:
                detail = f"speaker uncertain, {detail}"
            elif transcript.utterances[index].role == "agent":
                detail = f"agent {detail}"
            findings.append(utterance_finding(transcript, index, detail, 0.0, config.matching,
                                              extra={"score": score.score, "words": words}))
        return findings


def _stand_ins(transcript: Transcript, by_role: dict[str, list[tuple[int, SentimentScore]]],
               config: SentimentConfig, model: SentimentModel) -> list[tuple[int, SentimentScore]]:
    """On a mono recording, the agent's utterances whose speaker is uncertain that are the customer's too,
    scored as the customer's words.

    Where no utterance went to the customer (the voices were not told apart, and each piece's words alone made
    it the agent's), every one of them: the customer's words are among them, since a service call has two
    parties (on corpus dev 7 of 50 mono calls came out so, and "the customer does not speak" was wrong on each).
    Otherwise those that read negative as the customer's: anger at the service (你们怎么办事的, 我真的很生气)
    is the customer's even where Whisper ran it into the agent's turn. Empty on stereo."""
    if transcript.channels != "mono":
        return []
    indices = [i for i, _ in by_role["agent"] if speaker_doubtful(transcript, i, config.verification)]
    texts = [transcript.utterances[i].text or transcript.utterances[i].raw_text for i in indices]
    scored = list(zip(indices, model.classify(texts, ["customer"] * len(texts)))) if indices else []
    if by_role["customer"]:
        return [(i, score) for i, score in scored if score.label == "negative"]
    return scored


def _read_from(stand_ins: list[tuple[int, SentimentScore]], own: int) -> str:
    if not own:
        return (f"no utterance of this mono recording was given to the customer: their sentiment is read from "
                f"the {len(stand_ins)} whose speaker is uncertain")
    which = ", ".join(str(i) for i, _ in stand_ins)
    return (f"utterance{'s' if len(stand_ins) > 1 else ''} {which} went to the agent with its speaker uncertain "
            "and reads negative as the customer's: counted as the customer's")


def _ending(scored: list[tuple[int, SentimentScore]], config: SentimentConfig) -> dict[str, Any]:
    return call_level(scored[-max(1, config.ending_utterances):], config)


def call_level(scored: list[tuple[int, SentimentScore]], config: SentimentConfig) -> dict[str, Any]:
    """One party's label and score over a call (or a stretch of it), by the QA standard (README):
    each negative utterance counts -1 and each positive one +1; negative when the sum is below 0,
    positive above it. So a complaint the agent turned around (then thanks) is not negative, a complaint
    left standing is, and neutral questions dilute nothing. ``score`` is the sum over the emotional
    utterances' count, in [-1, 1]. A party that never speaks is neutral with ``utterances: 0``.
    """
    if not scored:
        return {"label": "neutral", "score": 0.0, "utterances": 0}
    signs = [{"negative": -1, "positive": 1}.get(s.label, 0) for _, s in scored]
    emotional = sum(1 for x in signs if x)
    balance = sum(signs)
    label = "negative" if balance < 0 else "positive" if balance > 0 else "neutral"
    return {"label": label, "score": round(balance / emotional, 3) if emotional else 0.0, "utterances": len(scored),
            "balance": balance}
