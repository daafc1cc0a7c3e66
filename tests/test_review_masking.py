"""Personal numbers are masked in review pages; employee IDs and ordinary numbers are not."""

import pytest

from callqa.review.masking import mask_sensitive

CASES = [
    # (text, expected)
    ("我的电话是13812345678", "我的电话是138****5678"),
    ("手机 139 1234 5678 谢谢", "手机 139 **** 5678 谢谢"),
    ("电话幺三八一二三四五六七八", "电话幺三八****五六七八"),
    ("１３８１２３４５６７８", "１３８****５６７８"),
    ("座机010-12345678", "座机010-****5678"),
    ("0755-87654321转分机", "0755-****4321转分机"),
    ("身份证110101199003071234", "身份证110***********1234"),
    ("身份证号11010119900307123X。", "身份证号110***********123X。"),
    ("卡号6222021234567890123", "卡号6222***********0123"),
    ("卡号 6222 0212 3456 7890", "卡号 6222 **** **** 7890"),
    # left alone: employee IDs, amounts, dates, short order numbers, an 11-digit number that is no mobile
    ("工号8023为您服务", "工号8023为您服务"),
    ("八零二三号客服", "八零二三号客服"),
    ("退款1500元", "退款1500元"),
    ("2024年3月15日", "2024年3月15日"),
    ("订单号20240315", "订单号20240315"),
    ("编号12345678901", "编号12345678901"),
    ("", ""),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_mask_sensitive(text, expected):
    assert mask_sensitive(text) == expected


def test_masked_text_keeps_length_and_never_shows_the_middle_digits():
    text = "联系13812345678或者身份证110101199003071234"
    masked = mask_sensitive(text)
    assert len(masked) == len(text)
    assert "1234567" not in masked and "19900307" not in masked
