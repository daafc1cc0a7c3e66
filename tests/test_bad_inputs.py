"""A bad-input corpus, scored as one batch by the real `callqa score`: nothing aborts, nothing is lost,
nothing is invented, and nothing without speech scores 100.

The corpus is made here, small: every input a hostile or careless try-out
used (zero bytes, text renamed .wav, truncated MP3 and M4A, a corrupt WAV
header, ten minutes of silence and of line noise, 44.1 kHz stereo tones, a
1-second clip, a missing file, /etc/passwd and a symlink to it, a file name
of 245 bytes, a 300-character call id, an agent not in the roster, a call
recorded customer-left but listed agent-left), in a manifest with a BOM and
CRLF line ends. The counts it prints are the README's.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLES, tone_signal, write_audio
from typer.testing import CliRunner

from callqa.cli import app

pytestmark = pytest.mark.asr

RATE = 8000


def _noise(seconds: float, dbfs: float = -35.0, seed: int = 0) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    white = rng.standard_normal(int(seconds * RATE)).astype(np.float32)
    band = sosfilt(butter(4, [300, 3400], btype="bandpass", fs=RATE, output="sos"), white)
    return (band / np.sqrt(np.mean(band**2)) * 10 ** (dbfs / 20)).astype(np.float32)[None, :]


def build_corpus(folder: Path) -> tuple[Path, dict[str, str]]:
    """The recordings and a manifest; returns it and, per call id, what must come out: 'error' or 'unscored'
    (listed with a reason, no score) or 'scored'."""
    folder.mkdir()
    expect: dict[str, str] = {}
    rows: list[tuple[str, str, str, str]] = []  # file, agent_id, call_id, channels

    def add(file: str, call_id: str, outcome: str, agent: str = "A1", channels: str = "") -> None:
        rows.append((file, agent, call_id, channels))
        expect[call_id] = outcome

    (folder / "empty.wav").write_bytes(b"")
    add("empty.wav", "empty", "error")
    (folder / "notes.wav").write_text("this is a text file renamed to .wav\n")
    add("notes.wav", "text_as_wav", "error")
    for ext in ("mp3", "m4a"):
        whole = write_audio(folder / f"whole.{ext}", tone_signal(RATE, 3.0, [440.0]), RATE).read_bytes()
        (folder / f"cut.{ext}").write_bytes(whole[: len(whole) // 3])
        (folder / f"whole.{ext}").unlink()
        add(f"cut.{ext}", f"truncated_{ext}", "error")
    wav = write_audio(folder / "header.wav", tone_signal(RATE, 2.0, [440.0]), RATE).read_bytes()
    (folder / "header.wav").write_bytes(b"RIFX" + wav[4:20] + b"\xff" * 24 + wav[44:])
    add("header.wav", "corrupt_header", "error")
    write_audio(folder / "silence.wav", np.zeros((1, RATE * 600), dtype=np.float32), RATE)
    add("silence.wav", "ten_minutes_silence", "unscored")
    write_audio(folder / "noise.wav", _noise(600.0), RATE)
    add("noise.wav", "ten_minutes_noise", "unscored")
    write_audio(folder / "tones.wav", tone_signal(44100, 20.0, [440.0, 1000.0]), 44100)
    add("tones.wav", "stereo_tones_44k", "unscored")
    write_audio(folder / "clip.wav", _noise(1.0, -20.0, seed=1), RATE)
    add("clip.wav", "one_second_clip", "unscored")
    add("gone.wav", "missing_file", "error")
    add("/etc/passwd", "etc_passwd", "error")
    (folder / "passwd.wav").symlink_to("/etc/passwd")
    add("passwd.wav", "symlink_out", "error")
    long_name = "长" * 80 + "a" * 1 + ".wav"  # 241 + 4 = 245 bytes: legal on ext4
    shutil.copy(folder / "empty.wav", folder / long_name)
    add(long_name, Path(long_name).stem, "error")
    add("empty.wav", "c" * 300, "error")  # a 300-character call id
    shutil.copy(SAMPLES / "call_001.wav", folder / "unknown_agent.wav")
    add("unknown_agent.wav", "agent_not_in_roster", "scored", agent="A9")
    shutil.copy(SAMPLES / "call_002.m4a", folder / "customer_left.m4a")  # recorded customer,agent
    add("customer_left.m4a", "customer_left_listed_agent_left", "scored", agent="A1", channels="agent,customer")

    lines = ["file,agent_id,call_id,channels"] + [",".join(f'"{c}"' if "," in c else c for c in r) for r in rows]
    manifest = folder / "manifest.csv"
    manifest.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))  # Excel: BOM and CRLF
    return manifest, expect


def test_a_batch_of_bad_inputs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CALLQA_CACHE_DIR", str(tmp_path / "cache"))
    manifest, expect = build_corpus(tmp_path / "calls")
    roster = tmp_path / "roster.csv"
    roster.write_text("agent_id,name,employee_id\nA1,王芳,8023\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["score", str(manifest), "--roster", str(roster), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output

    calls = [json.loads(line) for line in (out / "calls.jsonl").read_text(encoding="utf-8").splitlines()]
    ids = [c["call_id"] for c in calls]
    assert sorted(ids) == sorted(expect), "every input listed exactly once"
    by_id = {c["call_id"]: c for c in calls}
    for call_id, outcome in expect.items():
        call = by_id[call_id]
        if outcome in ("error", "unscored"):
            assert call["score"] is None and call["flagged"], call_id
            assert call["error"] and len(call["error"]) > 15, (call_id, call["error"])  # a reason, not a code
            assert call["flag_reasons"][0].startswith("not scored: "), call_id
        else:
            assert call["error"] is None and call["score"] is not None, call_id
    for call_id in ("ten_minutes_silence", "ten_minutes_noise", "stereo_tones_44k", "one_second_clip"):
        assert not any(u["role"] == "agent" for u in by_id[call_id]["transcript"]), f"{call_id}: invented words"
    assert not [c for c in calls if c["score"] == 100 and not any(u["role"] == "agent" for u in c["transcript"])]
    # The agent not in the roster: scored, but the ID is not judged against a roster it isn't in.
    assert by_id["agent_not_in_roster"]["checks"]["employee_id"]["status"] == "roster_unknown"
    assert "agent(s) not in roster.csv: A9" in result.output
    # The call recorded customer-left: flagged for its layout, its agent's words not charged to the customer.
    swapped = by_id["customer_left_listed_agent_left"]
    assert swapped["checks"]["channel_layout"]["passed"] is False and swapped["flagged"]
    assert any(r.startswith("channel_layout:") for r in swapped["flag_reasons"])
    # Each call has exactly one file in transcripts/, whatever its name's length.
    files = [p for p in (out / "transcripts").iterdir() if p.suffix == ".json"]
    assert len(files) == len(expect) and all(len(p.name.encode()) <= 255 for p in files)
    counts = {o: sum(1 for v in expect.values() if v == o) for o in ("error", "unscored", "scored")}
    with capsys.disabled():
        print(f"\nbad-input corpus: {len(expect)} inputs in one batch, 0 aborts, 0 lost; "
              f"{counts['error']} listed with their error, {counts['unscored']} not scored for want of speech, "
              f"{counts['scored']} scored")


def test_auto_swap_fixes_the_customer_left_call(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLQA_CACHE_DIR", str(tmp_path / "cache"))
    calls = tmp_path / "calls"
    calls.mkdir()
    shutil.copy(SAMPLES / "call_002.m4a", calls / "call_002.m4a")  # recorded customer,agent; a folder says nothing
    roster = tmp_path / "roster.csv"
    roster.write_text("agent_id,name,employee_id\nA002,王强,5566\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["score", str(calls), "--roster", str(roster), "--out", str(out), "--agent",
                                      "A002", "--auto-swap"])
    assert result.exit_code == 0, result.output
    [call] = [json.loads(line) for line in (out / "calls.jsonl").read_text(encoding="utf-8").splitlines()]
    assert call["checks"]["channel_layout"]["swapped"] is True
    assert "channels swapped" in result.output
    assert call["checks"]["banned_phrases"]["passed"] is False  # the agent's 不知道 and 不行, charged to the agent
    assert call["score"] == 55.0
