"""The sample calls in samples/ agree with their manifest, roster, labels and truth, and decode with PyAV.

These files are the ground truth other tests and `make demo` rely on, so a
mismatch between the audio and what samples/labels.csv claims is a bug here.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import av
import numpy as np
import pytest

from callqa.asr.transcript import CHANNEL_LAYOUTS, ROLES

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
CHECKS = ("greeting", "employee_id", "standard_phrasing", "banned_phrases", "closing", "sentiment")
DEDUCTIONS = {"greeting": 5, "employee_id": 5, "standard_phrasing": 10, "banned_phrases": 10, "closing": 5, "sentiment": 0}
CRITICAL = ("employee_id", "banned_phrases", "sentiment")
BANNED = re.compile(r"不行|不可以|不知道(?!您)")  # 不知道您…方不方便 is a polite question, not a refusal
SPOKEN_DIGITS = {"零": "0", "一": "1", "幺": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
RATE = 8000


def read_csv(name: str) -> list[dict[str, str]]:
    with open(SAMPLES / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


MANIFEST = read_csv("manifest.csv")
ROSTER = {r["agent_id"]: r for r in read_csv("roster.csv")}
LABELS = {r["call_id"]: r for r in read_csv("labels.csv")}
LABELLED = [r for r in MANIFEST if r["call_id"] in LABELS]


def truth(call_id: str) -> dict:
    return json.loads((SAMPLES / "truth" / f"{call_id}.json").read_text(encoding="utf-8"))


def decode(path: Path) -> tuple[np.ndarray, int, str]:
    """(channels x samples) float32, the stream's sample rate, the container format."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        frames = [f.to_ndarray() for f in container.decode(stream)]
        fmt = container.format.name
    # Normalize planar/packed and int/float layouts to (channels, samples) float.
    channels = stream.codec_context.channels
    parts = []
    for a in frames:
        a = a.reshape(channels, -1) if a.shape[0] == channels else a.reshape(-1, channels).T
        parts.append(a.astype(np.float32) / (32768.0 if a.dtype == np.int16 else 1.0))
    return np.concatenate(parts, axis=1), rate, fmt


@pytest.fixture(scope="module")
def decoded() -> dict[str, tuple[np.ndarray, int, str]]:
    return {r["call_id"]: decode(SAMPLES / r["file"]) for r in LABELLED}


def test_tables_have_the_documented_columns():
    assert list(MANIFEST[0]) == ["file", "agent_id", "call_id", "channels"]
    assert list(next(iter(ROSTER.values()))) == ["agent_id", "name", "employee_id"]
    assert list(next(iter(LABELS.values()))) == [
        "call_id", "greeting", "employee_id", "employee_id_status", "standard_phrasing",
        "banned_phrases", "closing", "sentiment", "flagged",
    ]


def test_manifest_rows_point_at_files_and_known_agents():
    call_ids = [r["call_id"] for r in MANIFEST]
    assert len(call_ids) == len(set(call_ids))
    for row in MANIFEST:
        assert (SAMPLES / row["file"]).is_file(), row["file"]
        assert row["agent_id"] in ROSTER, row
        assert row["channels"] in CHANNEL_LAYOUTS, row


def test_roster_has_chinese_names_and_four_digit_ids():
    for agent in ROSTER.values():
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", agent["name"]), agent
        assert re.fullmatch(r"\d{4}", agent["employee_id"]), agent
    assert len({a["employee_id"] for a in ROSTER.values()}) == len(ROSTER)


def test_every_label_row_is_a_manifest_call_with_valid_values():
    manifest_ids = {r["call_id"] for r in MANIFEST}
    assert set(LABELS) <= manifest_ids
    assert len(LABELS) >= 6
    for row in LABELS.values():
        for check in CHECKS:
            assert row[check] in ("pass", "fail", "na"), (row["call_id"], check)
        assert row["employee_id_status"] in ("ok", "missing", "mismatch")
        assert (row["employee_id"] == "pass") == (row["employee_id_status"] == "ok"), row
        assert row["flagged"] in ("true", "false")


def test_flagged_follows_the_critical_checks_and_score():
    for row in LABELS.values():
        # banned_phrases deducts per occurrence, but a failing banned check flags the call anyway.
        score = 100 - sum(DEDUCTIONS[c] for c in CHECKS if row[c] == "fail")
        expected = any(row[c] == "fail" for c in CRITICAL) or score < 80
        assert (row["flagged"] == "true") == expected, row["call_id"]


def test_the_labels_cover_passing_and_failing_calls():
    for check in CHECKS:
        values = {row[check] for row in LABELS.values()}
        assert {"pass", "fail"} <= values, check
    assert {row["employee_id_status"] for row in LABELS.values()} == {"ok", "missing", "mismatch"}


def test_broken_file_is_listed_unlabelled_and_fails_to_decode():
    unlabelled = [r for r in MANIFEST if r["call_id"] not in LABELS]
    assert [r["file"] for r in unlabelled] == ["broken_call.m4a"]
    with pytest.raises(av.error.FFmpegError):
        decode(SAMPLES / unlabelled[0]["file"])


@pytest.mark.parametrize("row", LABELLED, ids=lambda r: r["call_id"])
def test_truth_matches_manifest_and_is_a_timeline(row):
    doc = truth(row["call_id"])
    assert doc["call_id"] == row["call_id"]
    assert doc["channels"] == row["channels"]
    utterances = doc["utterances"]
    assert {u["role"] for u in utterances} == set(ROLES)
    assert utterances[0]["role"] == "agent"  # the agent answers the phone
    for u in utterances:
        assert u["text"].strip()
        assert 0 <= u["start"] < u["end"]
    for a, b in zip(utterances, utterances[1:]):
        assert b["start"] >= a["end"], (a, b)  # turns never overlap


@pytest.mark.parametrize("row", LABELLED, ids=lambda r: r["call_id"])
def test_banned_phrase_labels_agree_with_what_the_agent_says(row):
    agent_text = "".join(u["text"] for u in truth(row["call_id"])["utterances"] if u["role"] == "agent")
    assert (LABELS[row["call_id"]]["banned_phrases"] == "fail") == bool(BANNED.search(agent_text))


@pytest.mark.parametrize("row", LABELLED, ids=lambda r: r["call_id"])
def test_employee_id_status_agrees_with_the_spoken_id(row):
    spoken = []
    for u in truth(row["call_id"])["utterances"]:
        if u["role"] == "agent" and u["start"] < 30:
            spoken += re.findall(f"[{''.join(SPOKEN_DIGITS)}]{{4}}", u["text"])
    heard = ["".join(SPOKEN_DIGITS[ch] for ch in s) for s in spoken]
    expected = ROSTER[row["agent_id"]]["employee_id"]
    status = "missing" if not heard else ("ok" if expected in heard else "mismatch")
    assert LABELS[row["call_id"]]["employee_id_status"] == status


def test_audio_formats_and_total_size(decoded):
    formats = {fmt for _, _, fmt in decoded.values()}
    assert len(formats) >= 4, formats
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 5 * 1024 * 1024, total


@pytest.mark.parametrize("row", LABELLED, ids=lambda r: r["call_id"])
def test_audio_is_8khz_phone_audio_with_the_right_channels(row, decoded):
    audio, rate, _ = decoded[row["call_id"]]
    assert rate == RATE
    assert audio.shape[0] == (1 if row["channels"] == "mono" else 2)
    last_end = truth(row["call_id"])["utterances"][-1]["end"]
    assert last_end <= audio.shape[1] / RATE + 0.05  # lossy codecs add a few ms of priming, never lose the end
    spectrum = np.abs(np.fft.rfft(audio.mean(axis=0)))
    freqs = np.fft.rfftfreq(audio.shape[1], 1 / RATE)
    in_band = spectrum[(freqs > 300) & (freqs < 3400)].sum()
    assert in_band / spectrum.sum() > 0.9  # band-limited like a phone line


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0


@pytest.mark.parametrize("row", LABELLED, ids=lambda r: r["call_id"])
def test_speech_sits_where_the_truth_says_on_the_right_channel(row, decoded):
    audio, _, _ = decoded[row["call_id"]]
    utterances = truth(row["call_id"])["utterances"]
    order = row["channels"].split(",") if row["channels"] != "mono" else None
    for u in utterances:
        span = slice(int(u["start"] * RATE), int(u["end"] * RATE))
        if order:
            own, other = audio[order.index(u["role"]), span], audio[1 - order.index(u["role"]), span]
            assert _rms(own) > 10 * _rms(other), (row["call_id"], u["text"])  # the other party is silent
        else:
            assert _rms(audio[0, span]) > 0.03, u["text"]
    # Gaps between turns are silence (line noise only), long enough to be natural.
    for a, b in zip(utterances, utterances[1:]):
        assert b["start"] - a["end"] >= 0.25
        gap = audio[:, int((a["end"] + 0.05) * RATE) : int((b["start"] - 0.05) * RATE)]
        assert _rms(gap) < 0.01, (row["call_id"], a["end"], b["start"])


def test_lookups_are_real_silences_of_three_to_five_seconds():
    waits = {}
    for row in LABELLED:
        utterances = truth(row["call_id"])["utterances"]
        gaps = [b["start"] - a["end"] for a, b in zip(utterances, utterances[1:])]
        waits[row["call_id"]] = [g for g in gaps if g >= 2.0]
        assert all(3.0 <= g <= 5.0 for g in waits[row["call_id"]]), (row["call_id"], gaps)
    # The wait-phrasing calls (good and bad) both have a lookup silence.
    assert waits["call_001"] and waits["call_005"]
