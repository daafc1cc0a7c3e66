"""sentiment: the lexicon model, its accuracy on labelled utterances, the check
on transcripts, and loading a transformers model the test builds itself."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from callqa.asr.transcript import Transcript, Utterance
from callqa.checks.base import CallContext
from callqa.checks.rules.sentiment import SentimentCheck, SentimentConfig
from callqa.checks.sentiment_models import LABELS, Lexicon, LexiconSentimentModel, load_model

LABELLED = Path(__file__).parent / "data" / "sentiment_labelled.csv"
LEXICON = Path(__file__).parent.parent / "src" / "callqa" / "checks" / "data" / "sentiment_lexicon.yaml"


def read_labelled(split: str | None = None) -> list[dict[str, str]]:
    with LABELLED.open(encoding="utf-8", newline="") as f:
        return [r for r in csv.DictReader(f) if split is None or r["split"] == split]


@pytest.fixture(scope="module")
def model() -> LexiconSentimentModel:
    return LexiconSentimentModel()


# --- the lexicon model on single utterances ------------------------------------------------------

@pytest.mark.parametrize(
    "text, role, label",
    [
        ("你们这什么服务，太差了，我要投诉", "customer", "negative"),
        ("我的快递三天了还没到", "customer", "neutral"),
        ("好的谢谢", "customer", "positive"),
        ("还不错", "customer", "positive"),  # 不错: negation inside a word of praise
        ("我对这个结果不满意", "customer", "negative"),
        ("我不是很满意", "customer", "negative"),  # negated praise
        ("没问题，就这样办", "customer", "positive"),
        ("不行，那个时间我不在家", "customer", "neutral"),  # a customer's 不行 is not anger
        ("不可以改到下午送吗", "customer", "neutral"),
        ("不知道您明天方不方便接收", "agent", "neutral"),  # A不A asks; it negates nothing
        ("非常抱歉给您带来了不便", "agent", "neutral"),  # courtesy, not emotion
        ("您要投诉的话我帮您登记", "agent", "neutral"),  # 投诉 from an agent is procedure
        ("我要头诉你们", "customer", "negative"),  # homophone of 投诉
        ("你們這什麼服務，太差勁了", "customer", "negative"),  # Traditional script
        ("我的名字是王小明", "customer", "neutral"),  # 是王 sounds like 失望: not a pinyin entry
        ("您别着急，我马上帮您处理", "agent", "neutral"),  # 别 + a negative word comforts
        ("我要全额赔偿，不然就投诉", "customer", "negative"),  # 不然 is a conjunction, not a negation
        ("我就是想确认一下", "customer", "neutral"),
        ("你们效率可真高啊，一个星期都没人理我", "customer", "negative"),  # sarcasm
        ("你们到底能不能解决问题", "customer", "negative"),  # can you or can't you
        ("你们客服怎么一问三不知", "customer", "negative"),
    ],
)
def test_lexicon_labels(model, text, role, label):
    assert model.classify_one(text, role).label == label


def test_negated_imperative_is_never_praise(model):
    assert model.classify_one("你不要骗我").label != "positive"
    assert model.classify_one("你不要再敷衍我了，我很生气").label == "negative"


def test_intensifier_strengthens_and_negation_flips(model):
    plain, strong = model.classify_one("服务差"), model.classify_one("服务太差了")
    assert strong.score < plain.score < 0
    assert model.classify_one("满意").score > 0 > model.classify_one("不满意").score


def test_a_rhetorical_question_asserts_the_word_it_seems_to_deny(model):
    # 这不是坑人吗 says it is a rip-off: 坑人 counts as said, not as denied (which made it faint praise).
    score = model.classify_one("你们这不是坑人吗", "customer")
    assert [d.weight < 0 for d in score.drivers if d.word == "坑人"] == [True] and score.score < -0.5
    assert model.classify_one("这不是我的问题，是系统的", "customer").label == "neutral"


def test_a_longer_entry_starting_inside_a_match_and_running_past_it_wins(model):
    # 必须给我 (insistence) at 必 would hide the escalation 给我个说法 that starts at 给 and runs past it.
    assert [d.word for d in model.classify_one("今天必须给我个说法", "customer").drivers] == ["给我个说法"]
    assert [d.word for d in model.classify_one("必须给我退款", "customer").drivers] == ["必须给我"]
    # A courtesy at its position still masks what lies inside it (不好意思 is no 不好).
    assert model.classify_one("不好意思，打扰了", "customer").label == "neutral"


def test_spoken_spellings_are_entries_at_the_written_words_weight(tmp_path, model):
    # 啥态度 is 什么态度 and 咋回事 怎么回事, as northern callers say them; a spoken form listed itself keeps its weight.
    assert model.lexicon.entries["啥态度"] == model.lexicon.entries["什么态度"]
    assert model.lexicon.entries["凭啥"].value == model.lexicon.entries["凭什么"].value
    custom = tmp_path / "lexicon.yaml"
    custom.write_text("colloquial: {什么: [啥]}\ntiers:\n  a: {weight: -0.8, words: [什么态度]}\n"
                      "  b: {weight: -0.4, words: [啥态度]}\n", encoding="utf-8")
    assert Lexicon.load(custom).entries["啥态度"].value == -0.4
    plain = tmp_path / "plain.yaml"  # no colloquial section: the written words only
    plain.write_text("tiers:\n  a: {weight: -0.8, words: [什么态度]}\n", encoding="utf-8")
    assert "啥态度" not in Lexicon.load(plain).entries


def test_sarcastic_thanks_is_blame_even_in_a_sign_off(model):
    # 呵呵 alone is a laugh, too faint to be negative; with the thanks it turns them (呵呵，真是谢谢你们了).
    assert model.classify_one("呵呵", "customer").label == "neutral"
    assert model.classify_one("呵呵，好的，谢谢", "customer").label == "positive"
    sarcastic = model.classify_one("没有了，呵呵，真是谢谢你们了", "customer", signs_off=True)
    assert sarcastic.label == "negative" and any(d.note == "sarcasm" for d in sarcastic.drivers)
    assert model.classify_one("没有了，真是谢谢你们了", "customer", signs_off=True).label == "neutral"


def test_speed_praised_with_the_time_it_took_is_sarcasm_without_a_negative_word(model):
    assert model.classify_one("你们速度真快哦 下单半个月了还在揽收", "customer").label == "negative"
    assert model.classify_one("你们速度真快，两天就到了", "customer").label != "negative"
    assert model.classify_one("谢谢你们啊，等了三天了终于到了", "customer").label == "positive"  # thanks: not sarcasm


def test_question_halves_praise(model):
    assert 0 < model.classify_one("你们服务好吗？挺好？").score < model.classify_one("你们服务挺好").score


def test_contrast_weighs_what_follows(model):
    result = model.classify_one("谢谢你，但是问题还是没解决，我很失望")
    assert result.label == "negative"
    assert "很失望" in result.words()


def test_drivers_name_the_words_and_homophones(model):
    result = model.classify_one("我要头诉你们，太差劲了")
    words = result.words()
    assert "头诉(≈投诉)" in words and "太差劲" in words
    assert -1.0 <= result.score <= 1.0


def test_scores_stay_in_range(model):
    result = model.classify_one("太差了太差了太差了，气死我了，投诉，投诉，我要投诉，骗子，垃圾")
    assert result.score >= -1.0 and result.label == "negative"


def test_lexicon_rejects_a_word_listed_twice(tmp_path):
    bad = tmp_path / "lexicon.yaml"
    bad.write_text("tiers:\n  a: {weight: -0.5, words: [差劲]}\n  b: {weight: 0.5, words: [差劲]}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="差劲"):
        Lexicon.load(bad)


def test_custom_lexicon_is_used(tmp_path):
    custom = tmp_path / "lexicon.yaml"
    custom.write_text("tiers:\n  brand: {weight: -0.9, words: [顺丰]}\n", encoding="utf-8")
    result = load_model("", str(custom)).classify(["又是顺丰"], ["customer"])[0]
    assert result.label == "negative" and result.words() == ["顺丰"]


# --- accuracy on the labelled set ----------------------------------------------------------------

def test_labelled_set_is_broad_and_balanced():
    rows = read_labelled()
    assert len(rows) >= 120
    assert {r["label"] for r in rows} == set(LABELS) and {r["role"] for r in rows} == {"agent", "customer"}
    for label in LABELS:
        assert sum(r["label"] == label for r in rows) >= len(rows) // 4


@pytest.mark.parametrize("split, floor", [(None, 0.88), ("heldout3", 0.62)])
def test_accuracy_floor(model, split, floor):
    # Measured with bench/sentiment_accuracy.py: 0.936 over all 330 rows (most of them seen while
    # writing the lexicon); 0.717 on the 60 rows of `heldout3`, whose words were never added to it.
    # The floors leave a margin for lexicon edits.
    rows = read_labelled(split)
    predicted = [s.label for s in model.classify([r["text"] for r in rows], [r["role"] for r in rows])]
    accuracy = sum(p == r["label"] for p, r in zip(predicted, rows)) / len(rows)
    assert accuracy >= floor, f"accuracy {accuracy:.3f} under {floor}"


# --- the check on transcripts --------------------------------------------------------------------

def transcript(*lines: tuple[str, str], confidence: float = 0.9) -> Transcript:
    utterances = [Utterance(role, 4.0 * i, 4.0 * i + 3.0, text, text, confidence) for i, (role, text) in enumerate(lines)]
    return Transcript("c1", "c1.wav", "A001", "agent,customer", 4.0 * len(lines), utterances)


def run(t: Transcript, **config):
    return SentimentCheck().run(t, SentimentConfig(**config), CallContext("c1"))


def test_angry_customer_fails_with_findings_quoting_the_words():
    result = run(transcript(
        ("agent", "您好，很高兴为您服务"),
        ("customer", "我都打了三次电话了，你们怎么还没处理好"),
        ("agent", "非常抱歉，我马上帮您催一下"),
        ("customer", "你们这什么服务，太差了，我要投诉"),
    ))
    assert result.passed is False and result.critical is True and result.deduction == 0.0
    assert result.extra["customer"]["label"] == "negative"
    assert [f.utterance for f in result.findings] == [1, 3]
    last = result.findings[-1]
    assert last.role == "customer" and last.text == "你们这什么服务，太差了，我要投诉"
    assert last.detail.startswith("negative: ") and "太差" in last.detail and "投诉" in last.detail
    assert result.extra["agent"]["label"] != "negative"
    assert [u["label"] for u in result.extra["utterances"]] == ["positive", "negative", "neutral", "negative"]


def test_neutral_problem_statement_passes():
    result = run(transcript(
        ("agent", "您好，请问有什么可以帮您"),
        ("customer", "我的快递三天了还没到，我想查一下订单"),
        ("agent", "好的，请您稍等"),
        ("customer", "嗯，好的"),
    ))
    assert result.passed is True and result.findings == []
    assert result.extra["customer"] == {"label": "neutral", "score": 0.0, "utterances": 2, "balance": 0}


def test_negative_start_positive_end_passes_but_keeps_the_evidence():
    result = run(transcript(
        ("customer", "你们这什么服务，太差了"),
        ("agent", "非常抱歉，我马上帮您处理"),
        ("customer", "嗯，那还行"),
        ("customer", "好的，问题解决了，非常感谢，你们态度还不错"),
    ))
    assert result.passed is True
    assert result.extra["customer"]["label"] != "negative" and result.extra["ending"]["label"] != "negative"
    assert len(result.findings) == 1 and result.findings[0].utterance == 0 and result.findings[0].deduction == 0


def test_call_that_ends_negative_fails():
    result = run(transcript(
        ("customer", "好的谢谢，你们态度不错"),
        ("customer", "好的谢谢"),
        ("agent", "这个退不了"),
        ("customer", "那我只能投诉了，太失望了"),
    ), deduction=4.0)
    assert result.passed is False and "ends" in result.extra["reason"]
    assert result.deduction == 4.0 and [f.deduction for f in result.findings] == [4.0]


def test_customer_words_are_never_attributed_to_the_agent():
    result = run(transcript(
        ("agent", "您好，工号八零二三，很高兴为您服务"),
        ("customer", "气死我了，你们就是骗子，我要投诉"),
        ("agent", "您要投诉的话我帮您登记"),
    ))
    assert all(f.role == "customer" for f in result.findings)
    assert result.extra["agent"]["label"] != "negative"
    agent_rows = [u for u in result.extra["utterances"] if u["role"] == "agent"]
    assert all(u["label"] != "negative" for u in agent_rows)


def test_rude_agent_gets_a_finding_and_can_fail_the_check():
    lines = (("customer", "我想查一下订单"), ("agent", "你听不懂吗，我都说了好几遍了"), ("customer", "好的"))
    result = run(transcript(*lines))
    assert result.passed is True  # the customer stayed calm: by default the agent's tone is evidence only
    assert [(f.role, f.utterance) for f in result.findings] == [("agent", 1)]
    assert result.findings[0].detail.startswith("agent negative: ")
    assert run(transcript(*lines), agent_negative_fails=True).passed is False


def test_no_customer_speech_is_not_applicable():
    result = run(transcript(("agent", "您好，很高兴为您服务"), ("agent", "喂？您好？听得到吗？")))
    assert result.passed is None and result.deduction == 0.0
    assert result.extra["customer"] == {"label": "neutral", "score": 0.0, "utterances": 0}


def test_low_confidence_asr_marks_the_finding():
    result = run(transcript(("customer", "太差了，我要投诉"), confidence=0.3))
    assert result.passed is False and result.findings[0].low_confidence is True


def test_unknown_model_fails_listing_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="checks.sentiment.model: .*valid: lexicon"):
        SentimentConfig(model=str(tmp_path / "no-such-model"))


@pytest.mark.parametrize(
    "key, value, message",
    [("negative_threshold", 0.0, "negative_threshold: must be in"), ("ending_utterances", 0, "ending_utterances"),
     ("lexicon", "no/such.yaml", "lexicon: no such file"), ("label_map", ["LABEL_0"], "MODEL_LABEL=LABEL")],
)
def test_config_errors_name_the_key(key, value, message):
    with pytest.raises(ValueError, match=message):
        SentimentConfig(**{key: value})


# --- a transformers model, built here ------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A 2-layer BERT with a character vocabulary and random weights, saved like a real model."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    out = tmp_path_factory.mktemp("tiny-sentiment")
    chars = sorted({ch for r in read_labelled() for ch in r["text"]})
    vocab = out / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(vocab), tokenize_chinese_chars=True)
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128, num_labels=3,
        id2label={0: "angry", 1: "calm", 2: "happy"}, label2id={"angry": 0, "calm": 1, "happy": 2},
    )
    torch.manual_seed(0)
    transformers.BertForSequenceClassification(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def test_transformers_model_needs_a_label_map(tiny_model_dir):
    with pytest.raises(RuntimeError, match="label_map") as error:
        load_model(str(tiny_model_dir))
    assert "angry" in str(error.value)  # names the model's own labels
    with pytest.raises(ValueError, match="MODEL_LABEL=LABEL"):
        load_model(str(tiny_model_dir), "", ("angry=furious",))


def test_transformers_model_loads_and_classifies_every_utterance(tiny_model_dir):
    label_map = ("angry=negative", "calm=neutral", "happy=positive")
    model = load_model(str(tiny_model_dir), "", label_map)
    rows = read_labelled()
    scores = model.classify([r["text"] for r in rows], [r["role"] for r in rows])
    assert len(scores) == len(rows)
    assert all(s.label in LABELS and -1.0 <= s.score <= 1.0 for s in scores)
    # Drivers come from the lexicon, whatever the classifier decided.
    assert "投诉" in [d.word for d in scores[0].drivers]


def test_check_runs_with_a_transformers_model(tiny_model_dir):
    result = run(
        transcript(("agent", "您好"), ("customer", "太差了，我要投诉"), ("customer", "好的谢谢")),
        model=str(tiny_model_dir), label_map=["angry=negative", "calm=neutral", "happy=positive"],
    )
    assert result.extra["model"] == str(tiny_model_dir)
    assert result.passed in (True, False)
    assert [u["label"] in LABELS for u in result.extra["utterances"]] == [True, True, True]
    for finding in result.findings:
        assert finding.detail.startswith(("negative", "agent negative"))
        assert result.extra["utterances"][finding.utterance]["label"] == "negative"

