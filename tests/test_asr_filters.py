"""drop_hallucinations and friends: what Whisper invents is dropped, speech is kept."""

import math

import pytest

from callqa.asr.backends.base import AsrSegment, AsrWord
from callqa.asr.filters import (
    collapse_loops,
    compression_ratio,
    confidence_from_logprob,
    drop_hallucinations,
    is_filler_only,
    load_hallucinations,
)
from callqa.asr.options import AsrOptions

OPTIONS = AsrOptions()


def seg(text, start=0.0, end=2.0, logprob=-0.2, no_speech=0.05, ratio=None, words=()):
    return AsrSegment(
        start=start,
        end=end,
        text=text,
        avg_logprob=logprob,
        no_speech_prob=no_speech,
        compression_ratio=compression_ratio(text) if ratio is None else ratio,
        words=list(words),
    )


def texts(segments):
    return [s.text for s in segments]


# (segment, kept text or None when dropped, why)
CASES = [
    (seg("您好，欢迎致电客服中心。"), "您好，欢迎致电客服中心。", "ordinary speech"),
    (seg("請您稍等。"), "請您稍等。", "Traditional text is kept raw (normalize converts it later)"),
    (seg("谢谢观看", no_speech=0.9, logprob=-1.3), None, "Whisper's no-speech rule"),
    (seg("好的", no_speech=0.9, logprob=-0.3), "好的", "high no-speech prob but confident text is kept"),
    (seg("我的快递还没到", no_speech=0.3, logprob=-1.4), "我的快递还没到", "low confidence alone is not silence"),
    (seg("谢谢观看"), None, "subtitle sign-off alone"),
    (seg("謝謝觀看！"), None, "sign-off in Traditional with punctuation"),
    (seg("请不吝点赞 订阅 转发 打赏支持明镜与点点栏目"), None, "the famous one"),
    (seg("請不吝點贊訂閱轉發打賞支持明鏡與點點欄目"), None, "Traditional and no spaces"),
    (seg("请不吝点赞订阅转发打赏支持明镜与点点栏木"), None, "a one-character variant (fuzzy)"),
    (seg("字幕由Amara.org社区提供"), None, "Amara credit"),
    (seg("字幕由 amara.org 社區提供"), None, "Amara credit, spaced, lower case, Traditional"),
    (seg("优优独播剧场——YoYo Television Series Exclusive"), None, "YoYo credit"),
    (seg("好的，我帮您查一下。字幕由Amara.org社区提供"), "好的，我帮您查一下。", "credit cut out, speech kept"),
    (seg("谢谢，再见。"), "谢谢，再见。", "a real goodbye is not a sign-off"),
    (seg("谢谢观看这个视频的时候"), "谢谢观看这个视频的时候", "'alone' entries only match the whole segment"),
    (seg("嗯。"), None, "filler only"),
    (seg("嗯嗯，啊"), None, "several fillers"),
    (seg("。。。"), None, "punctuation only"),
    (seg("  "), None, "blank"),
    (seg("Um, uh."), None, "English fillers"),
    (seg("喂？"), "喂？", "喂 is a real opener, not a filler"),
    (seg("嗯，好的"), "嗯，好的", "filler with words is kept"),
    (seg("对对对对"), "对对对对", "natural repetition is kept"),
    (seg("好的好的好的好的好的好的好的好的", ratio=3.1), "好的", "loop collapsed"),
    (seg("我要投诉我要投诉我要投诉我要投诉我要投诉我要投诉", ratio=4.0), "我要投诉", "loop collapsed"),
    (seg("您好，请问您的订单号是多少？是多少？是多少？是多少？是多少？", ratio=2.6), "您好，请问您的订单号是多少？", "trailing loop"),
    (seg("啊" * 30, ratio=5.0), None, "loop of a filler"),
    (seg("您好欢迎致电您好欢迎致电", ratio=2.5), None, "over the ratio with no loop to undo"),
    (seg("我的快递三天了还没到", ratio=2.9), "我的快递三天了还没到", "window's ratio, but these words do not repeat"),
    (seg("好", 25.96, 25.98, logprob=-1.7, no_speech=0.59), None, "20 ms tail after speech (seen on a sample)"),
    (seg("好的", 3.0, 3.4, logprob=-1.2, words=[AsrWord(3.0, 3.4, "好的", 0.05)]), None, "no word believed"),
    (seg("好的", 3.0, 3.4, logprob=-1.2, words=[AsrWord(3.0, 3.4, "好的", 0.4)]), "好的", "unsure but believed"),
]


@pytest.mark.parametrize("segment,expected,why", CASES, ids=[c[2] for c in CASES])
def test_drop_hallucinations_cases(segment, expected, why):
    out = drop_hallucinations([segment], OPTIONS)
    if expected is None:
        assert out == [], why
    else:
        assert texts(out) == [expected], why


def test_thresholds_come_from_options():
    s = seg("好的", no_speech=0.7, logprob=-1.2)
    assert drop_hallucinations([s], OPTIONS) == []
    assert texts(drop_hallucinations([s], AsrOptions(no_speech_threshold=0.8))) == ["好的"]
    loopy = seg("您好您好，欢迎", ratio=2.0)
    assert drop_hallucinations([loopy], AsrOptions(compression_ratio_threshold=1.5)) == []
    assert texts(drop_hallucinations([loopy], OPTIONS)) == ["您好您好，欢迎"]


def test_consecutive_duplicates_dropped_short_repeats_kept():
    segments = [
        seg("请问有什么可以帮您？", 0, 2),
        seg("请问有什么可以帮您？", 2, 4),
        seg("喂？", 4, 5),
        seg("喂？", 5, 6),
        seg("我的快递三天了还没到。", 6, 9),
        seg("请问有什么可以帮您？", 9, 11),  # not consecutive: said again later
        seg("您好，能听到吗？", 12, 13),
        seg("您好，能听到吗？", 15, 16),  # repeated after waiting for an answer: real
    ]
    assert texts(drop_hallucinations(segments, OPTIONS)) == [
        "请问有什么可以帮您？",
        "喂？",
        "喂？",
        "我的快递三天了还没到。",
        "请问有什么可以帮您？",
        "您好，能听到吗？",
        "您好，能听到吗？",
    ]


def test_output_in_time_order_and_input_untouched():
    a, b = seg("第二句话", 5, 6), seg("第一句话", 1, 2)
    out = drop_hallucinations([a, b], OPTIONS)
    assert texts(out) == ["第一句话", "第二句话"]
    loop = seg("好的好的好的好的好的", ratio=3.0)
    drop_hallucinations([loop], OPTIONS)
    assert loop.text == "好的好的好的好的好的"


def test_edited_segment_keeps_only_its_words():
    words = [AsrWord(0.0, 0.5, "好的", 0.9)] + [AsrWord(0.5 + i * 0.1, 0.6 + i * 0.1, "好的", 0.3) for i in range(5)]
    words.insert(1, AsrWord(0.5, 1.0, "，我查一下", 0.9))
    s = seg("好的，我查一下好的好的好的好的好的", ratio=3.0, words=words)
    [out] = drop_hallucinations([s], OPTIONS)
    assert out.text == "好的，我查一下好的"
    assert [w.word for w in out.words] == ["好的", "，我查一下", "好的"]


def test_empty_input():
    assert drop_hallucinations([], OPTIONS) == []


@pytest.mark.parametrize(
    "text,expected",
    [("好的好的好的好的", "好的"), ("对对对", "对对对"), ("哈哈哈哈哈哈哈", "哈"), ("您好！！！！", "您好！！！！"), ("abcabcabcabc", "abc")],
)
def test_collapse_loops(text, expected):
    assert collapse_loops(text) == expected


@pytest.mark.parametrize("text,expected", [("嗯", True), ("……", True), ("呃，嗯。", True), ("好", False), ("喂", False)])
def test_is_filler_only(text, expected):
    assert is_filler_only(text) is expected


def test_hallucination_list_loads_and_is_normalized():
    listed = load_hallucinations()
    assert "明镜与点点栏目" in listed.anywhere
    assert "amaraorg" in listed.anywhere  # punctuation removed, lower case
    assert "谢谢观看" in listed.alone


@pytest.mark.parametrize("logprob,expected", [(0.0, 1.0), (-0.5, math.exp(-0.5)), (0.3, 1.0), (-50.0, math.exp(-50)), (float("nan"), 0.0)])
def test_confidence_from_logprob(logprob, expected):
    assert confidence_from_logprob(logprob) == pytest.approx(expected)
    assert 0.0 <= confidence_from_logprob(logprob) <= 1.0


@pytest.mark.parametrize("text", ["Thank you for watching!", "Subtitles by the Amara.org community", "ご視聴ありがとうございました"])
def test_other_language_credits_dropped(text):
    assert drop_hallucinations([seg(text)], OPTIONS) == []


@pytest.mark.parametrize("text, dropped", [
    ("以下是普通话的客服电话录音。常", True),  # the default prompt's first sentence, echoed
    ("用词：工号、致电、客服、订单、快递、退款。", True),  # its second, cut at a window edge
    ("您好，欢迎致电客服中心，工号八零二三为您服务。", False),  # prompt words in real speech
    ("我想查一下快递和退款。", False),
])
def test_a_segment_echoing_the_initial_prompt_is_dropped(text, dropped):
    from callqa.asr.filters import drop_hallucinations

    kept = drop_hallucinations([seg(text)], AsrOptions())
    assert (kept == []) is dropped, kept
    # A company's own prompt is echoed the same way; with no prompt nothing is an echo.
    assert drop_hallucinations([seg(text)], AsrOptions(initial_prompt=None)) != []


@pytest.mark.parametrize("text, left", [
    # The prompt's word list written back after the agent's greeting, twice (corpus call c110).
    ("欢迎致电联信通信客服中心。工号、致电、客服、订单、快递、退款。公号、致电、客服、订单、快递、退款。请问您遇到什么问题",
     "欢迎致电联信通信客服中心请问您遇到什么问题"),
    ("以下是普通话的客服电话录音，以下是普通话的客服电话录音。请问有什么可以帮您", "请问有什么可以帮您"),
    ("您好，客服中心，工号8023为您服务，订单号报一下。", "您好客服中心工号8023为您服务订单号报一下"),  # prompt words, one at a time
])
def test_the_prompt_written_back_inside_a_segment_is_cut_out(text, left):
    from callqa.asr.filters import drop_hallucinations
    from callqa.text import content_key

    kept = drop_hallucinations([seg(text)], AsrOptions())
    assert [content_key(s.text) for s in kept] == [left]
    assert [content_key(s.text) for s in drop_hallucinations([seg(text)], AsrOptions(initial_prompt=None))] == [
        content_key(text)]



def c057_greeting_and_echo():
    """Corpus call c057's agent channel: the greeting, then the prompt's word list over 12 s of speech."""
    said = [("您", 0.50, 1.02), ("好，", 1.02, 1.24), ("这里是客服中心。", 1.56, 3.58), ("请问有什么可以帮到您。", 3.90, 5.52)]
    echo = [("工", 5.96, 6.12), ("号、", 6.12, 6.34), ("致", 6.46, 6.60), ("电、", 6.60, 6.62), ("客", 7.32, 9.20),
            ("服、", 9.20, 9.74), ("订", 9.94, 9.94), ("单、", 9.94, 12.78), ("快", 12.78, 12.78), ("递、", 15.11, 16.35),
            ("退", 16.61, 17.31), ("款。", 17.31, 17.31)]
    words = [AsrWord(a, b, w, 0.8) for w, a, b in said + echo]
    return seg("".join(w.word for w in words), 0.5, 17.31, words=words)


def test_a_segment_with_words_cut_out_spans_the_words_left():
    kept = drop_hallucinations([c057_greeting_and_echo()], AsrOptions())
    assert [(s.text, s.start, s.end) for s in kept] == [("您好，这里是客服中心。请问有什么可以帮到您。", 0.5, 5.52)]
    # Without word times there is nothing to narrow it to.
    bare = drop_hallucinations([seg(c057_greeting_and_echo().text, 0.5, 17.31)], AsrOptions())
    assert [(s.start, s.end) for s in bare] == [(0.5, 17.31)]


@pytest.mark.parametrize("text, echoed", [
    ("下午好，客服热线，请问遇到什么问题呢？工号、致电、语语服务。", "工号、致电"),  # 工号 said, then the prompt's list
    ("或是188号、客服、订单、", "客服、订单"),
    ("您好，我是顺达快递、客服专员。普通话录音。请问", "普通话录音"),  # the first sentence's words, in order
    ("以下是普通话的客服电话录音。", "以下是普通话的客服电话录音。"),  # the whole segment, as written
    # An agent's own words: listed words not in the prompt's order, one at a time, or a clause of other words.
    ("您好，我是顺达快递、客服专员。", None),
    ("欢迎致电顺达快递的客服中心，工号1234为您服务。", None),
    ("我们的客服电话是95338。", None),
    ("我要退款，快递丢了。", None),
])
def test_where_whisper_writes_its_prompt_back_is_recorded(text, echoed):
    from callqa.asr.echoes import find_prompt_echoes

    echoes = find_prompt_echoes([seg(text, 1.0, 4.0)], OPTIONS, "agent")
    assert [(e.role, e.start, e.end, e.text) for e in echoes] == ([("agent", 1.0, 4.0, echoed)] if echoed else [])
    assert find_prompt_echoes([seg(text)], AsrOptions(initial_prompt=None), "agent") == []  # no prompt, no echo
    # A company's hotwords are names its agents say: never an echo.
    assert find_prompt_echoes([seg("顺达快递、客服、订单查询")], AsrOptions(initial_prompt=None, hotwords=("客服", "订单")),
                              "agent") == []


def test_an_echo_the_filters_cut_out_is_still_recorded_with_the_channels_role():
    from callqa.asr.cache import Recognition
    from callqa.asr.pipeline import utterances_from

    agent = [seg("欢迎致电联信通信客服中心。工号、致电、客服、订单、快递、退款。请问您遇到什么问题", 0.0, 6.0)]
    customer = [seg("你好，我想查一下我的快递。", 6.5, 8.0)]
    processed = utterances_from(Recognition("customer,agent", 9.0, {0: customer, 1: agent}, "test", 0.0), None, OPTIONS)
    assert "工号" not in processed.utterances[0].text  # cut out of the words...
    assert [(e.role, e.start, e.text) for e in processed.prompt_echoes] == [("agent", 0.0, "工号、致电、客服、订单、快递、退款")]
