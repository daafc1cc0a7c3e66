"""checks/matching.py: tiers, homophones, fuzziness scaled by length, spans that quote the words."""

from __future__ import annotations

import pytest

from callqa.checks.matching import MatchSettings, compile_phrases, expand_phrase, find_phrases, split_deduction

SETTINGS = MatchSettings()


def hits(text: str, *phrases: str, **kwargs) -> list[tuple[str, str, str]]:
    found = find_phrases(text, compile_phrases(list(phrases), SETTINGS, **kwargs))
    return [(m.phrase, m.quote, m.tier) for m in found]


@pytest.mark.parametrize(
    "text,phrase,quote",
    [
        ("您好，公号八零二三", "工号", "公号"),
        ("欢迎至电顺达", "欢迎致电", "欢迎至电"),
        ("八零二三号克服为您服务", "客服", "克服"),
        ("歡迎致電", "欢迎致电", "歡迎致電"),  # Traditional: the quote keeps what Whisper wrote
        ("好的，在见", "再见", "在见"),
    ],
)
def test_homophones_and_traditional_match_and_quote_the_heard_words(text, phrase, quote):
    [(_, heard, tier)] = hits(text, phrase)
    assert heard == quote
    assert tier in ("exact", "pinyin")


def test_exact_characters_win_over_pinyin():
    assert hits("您好，工号8023", "工号") == [("工号", "工号", "exact")]


def test_arabic_digits_read_as_their_syllables():
    assert hits("工号8023", "工号八零二三")[0][1] == "工号8023"


@pytest.mark.parametrize(
    "text,phrase,matches",
    [
        ("感谢您耐心的等待", "感谢您的耐心等待", True),  # 8 syllables, 2 edits allowed
        ("好的请您稍等一下", "请您稍等", True),
        ("请您等一下", "请您稍等", True),  # one dropped syllable in four
        ("请问还有其他问题", "请问还有其他问题吗", True),  # dropped particle
        ("再建", "再见", True),  # exact pinyin: a homophone, allowed
        ("在家", "再见", False),  # 2 syllables: no edits, ever
        ("不幸", "不行", True),  # same syllables: pinyin tier ...
        ("请稍后", "请稍等", False),  # 3 syllables: exact only
        ("感谢您的来电", "感谢您的耐心等待", False),  # 3 of 8 differ
        ("请问有什么问题", "还有什么问题", False),  # the head word 还 carries the meaning
        ("请问您有什么问题", "还有什么问题", False),
        ("请问还有什么问题", "还有什么问题吗", True),  # a dropped final particle
    ],
)
def test_fuzziness_scales_with_phrase_length(text, phrase, matches):
    assert bool(hits(text, phrase)) is matches


def test_strict_lists_need_the_characters():
    # ... which is why convicting lists (banned phrases) switch pinyin off.
    assert hits("很不幸", "不行", pinyin=False, fuzzy=False) == []
    assert hits("步行五分钟", "不行", pinyin=False, fuzzy=False) == []
    assert hits("这个不行", "不行", pinyin=False, fuzzy=False) == [("不行", "不行", "exact")]


def test_fuzzy_off_keeps_long_phrases_exact():
    assert hits("请您等一下", "请您稍等", fuzzy=False) == []


def test_short_phrases_do_not_straddle_punctuation_long_ones_may():
    assert hits("不，行的", "不行") == []
    assert hits("感谢您的耐心，等待", "感谢您的耐心等待")[0][2] == "exact"


def test_spans_index_the_original_text():
    text = "嗯，好的。請您稍等一下！"
    [m] = find_phrases(text, compile_phrases(["请您稍等"], SETTINGS))
    assert text[m.start : m.end] == m.quote == "請您稍等"


def test_overlapping_matches_keep_the_longer_phrase():
    found = find_phrases("感谢您的耐心等待", compile_phrases(["感谢您的耐心", "感谢您的耐心等待"], SETTINGS))
    assert [m.phrase for m in found] == ["感谢您的耐心等待"]


def test_every_occurrence_is_found():
    assert [q for _, q, _ in hits("不行就是不行", "不行", pinyin=False)] == ["不行", "不行"]


def test_phrase_syntax_expands_alternatives():
    assert expand_phrase("请[您]稍(等|候)") == ["请您稍等", "请您稍候", "请稍等", "请稍候"]
    assert expand_phrase("(感谢|谢谢)[您的|您]来电") == [
        "感谢您的来电", "感谢您来电", "感谢来电", "谢谢您的来电", "谢谢您来电", "谢谢来电",
    ]  # fmt: skip
    assert hits("谢谢来电", "(感谢|谢谢)[您的|您]来电")[0][0] == "(感谢|谢谢)[您的|您]来电"


@pytest.mark.parametrize("bad", ["(不知道", "不知道]", "[a(b)]", "", "()"])
def test_phrase_syntax_errors(bad):
    with pytest.raises(ValueError):
        expand_phrase(bad)


def test_split_deduction_sums_exactly():
    shares = split_deduction(10, 3)
    assert len(shares) == 3 and sum(shares) == pytest.approx(10)
    assert split_deduction(5, 2) == [2.5, 2.5]
