"""A small scored batch for the review app's tests: a results database written by the
real writer (reports.db.save_calls), real WAV recordings, and calls with known findings."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from callqa.asr.transcript import PromptEcho, Utterance
from callqa.checks.base import CheckResult, Finding
from callqa.files import file_sha256
from callqa.reports.db import db_path, open_db, save_calls
from callqa.scoring.outcome import compute_outcome
from callqa.scoring.score import CallScore, assign_fingerprints

FLAG_BELOW = 80.0
SAMPLE_RATE = 8000
CALL_SECONDS = 12.0
PHONE = "13812345678"
ID_CARD = "110101199003071234"
BANK_CARD = "6222021234567890123"


def write_wav(path: Path, seconds: float = CALL_SECONDS) -> Path:
    """A real, seekable 8 kHz recording: a tone whose pitch steps every second, with a little noise."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    freq = 300 + 50 * np.floor(t)
    rng = np.random.default_rng(0)
    signal = 0.3 * np.sin(2 * np.pi * freq * t) + 0.02 * rng.standard_normal(t.size)
    sf.write(path, signal.astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
    return path


def _u(role: str, start: float, end: float, text: str, raw: str | None = None, confidence: float = 0.9) -> Utterance:
    return Utterance(role=role, start=start, end=end, text=text, raw_text=raw or text, confidence=confidence)


def _finding(u: list[Utterance], index: int, detail: str, deduction: float, **extra) -> Finding:
    utt = u[index]
    return Finding(utt.start, utt.end, utt.role, utt.raw_text, detail, index, deduction, extra=extra)


def _call(call_id: str, agent_id: str, name: str, audio: Path | None, utterances: list[Utterance],
          checks: dict[str, CheckResult], error: str | None = None) -> CallScore:
    assign_fingerprints(call_id, checks)
    outcome = compute_outcome(checks, FLAG_BELOW, error=error)
    return CallScore(
        call_id=call_id, file=f"{call_id}.wav", agent_id=agent_id, agent_name=name,
        duration_s=CALL_SECONDS, score=outcome.score, flagged=outcome.flagged,
        flag_reasons=outcome.flag_reasons, error=error, transcript=utterances if not error else [],
        checks=checks if not error else {}, audio_path=audio,
        audio_sha256=file_sha256(audio) if audio is not None else None,
    )


def _rude_call(audio: Path) -> CallScore:
    """Agent A01: two banned phrases, no closing, an angry customer who gives personal numbers."""
    u = [
        _u("agent", 0.5, 2.5, "喂，你好，工号8023", "喂，你好，公号八零二三"),
        _u("customer", 3.0, 5.0, f"我的电话是{PHONE}，身份证{ID_CARD}，你们这什么服务，太差了"),
        _u("agent", 5.5, 7.0, "这个我不知道，不行", "這個我不知道，不行"),
        _u("customer", 7.5, 9.0, f"退款到卡号{BANK_CARD}"),
        _u("agent", 9.5, 11.5, "不可以，就这样吧", confidence=0.35),
    ]
    checks = {
        "greeting": CheckResult("greeting", True, 0.0),
        "employee_id": CheckResult("employee_id", True, 0.0,
                                   extra={"status": "ok", "heard_id": "8023", "expected_id": "8023"}),
        "banned_phrases": CheckResult("banned_phrases", False, 30.0, [
            # extra fields as banned_phrases writes them: the listed phrase, the words heard and where
            _finding(u, 2, "agent said a banned phrase: 不知道", 10.0, phrase="不知道", quote="不知道",
                     span=[3, 6], match="exact"),
            _finding(u, 2, "agent said a banned phrase: 不行", 10.0, phrase="不行", quote="不行", span=[7, 9],
                     match="exact"),
            _finding(u, 4, "agent said a banned phrase: 不可以", 10.0, phrase="不可以", quote="不可以",
                     span=[0, 3], match="exact"),
        ]),
        "closing": CheckResult("closing", False, 5.0, [
            Finding(9.5, 11.5, "agent", "不可以，就这样吧", "no courteous closing before the call ended", 4, 5.0),
        ]),
        "sentiment": CheckResult("sentiment", False, 0.0, [
            _finding(u, 1, "negative: 什么服务, 太差了", 0.0, score=-0.8, words=["什么服务", "太差了"]),
        ], critical=True, extra={"customer": {"label": "negative", "score": -0.8},
                                 "agent": {"label": "neutral", "score": 0.0},
                                 "utterances": [{"index": 1, "role": "customer", "label": "negative", "score": -0.8,
                                                 "words": ["什么服务", "太差了"]}],
                                 "reason": "the customer is negative over the call (-0.80)"}),
    }
    checks["banned_phrases"].findings[2].low_confidence = True
    return _call("call-001", "A01", "张伟", audio, u, checks)


def _good_call(audio: Path) -> CallScore:
    u = [
        _u("agent", 0.3, 2.8, "您好，欢迎致电，工号8024为您服务"),
        _u("customer", 3.0, 4.5, "我的快递三天了还没到"),
        _u("agent", 5.0, 7.0, "请您稍等，我帮您查一下"),
        _u("agent", 8.0, 10.0, "感谢您的耐心等待，还有其他可以帮您的吗"),
        _u("customer", 10.2, 11.0, "没有了，谢谢"),
        _u("agent", 11.0, 11.9, "感谢您的来电，再见"),
    ]
    checks = {cid: CheckResult(cid, True, 0.0) for cid in
              ("greeting", "employee_id", "banned_phrases", "closing", "sentiment")}
    checks["employee_id"].extra = {"status": "ok", "heard_id": "8024", "expected_id": "8024"}
    return _call("call-002", "A02", "李娜", audio, u, checks)


def _missing_id_call(audio: Path) -> CallScore:
    u = [
        _u("agent", 0.4, 2.0, "您好，请问有什么可以帮您"),
        _u("customer", 2.5, 4.0, "我想改一下地址"),
        _u("agent", 4.5, 6.5, "好的，还有其他问题吗？感谢您的来电"),
    ]
    checks = {cid: CheckResult(cid, True, 0.0) for cid in ("greeting", "banned_phrases", "closing", "sentiment")}
    checks["employee_id"] = CheckResult("employee_id", False, 5.0, [
        Finding(0.4, 2.0, "agent", "", "no employee ID stated in the first 30 s of agent speech", None, 5.0),
    ], critical=True, extra={"status": "missing", "heard_id": None, "expected_id": "8023"})
    return _call("call-003", "A01", "张伟", audio, u, checks)


def _listening_call(audio: Path) -> CallScore:
    """Agent A03: the checks asked the audio and could not tell. A banned phrase left to listening
    (no points until confirmed, then 10), an employee ID Whisper wrote as 450又号 that the audio bore
    out as 4506, a stretch of dead air and an overtalk (checks still to come; findings like any other)."""
    u = [
        _u("agent", 0.4, 2.6, "您好，工号4506，很高兴为您服务", "您好，工号450又号，很高兴为您服务"),
        _u("customer", 3.0, 5.0, "我的订单一直没发货"),
        _u("agent", 5.2, 7.0, "这个没办法", confidence=0.4),
        _u("customer", 6.6, 8.0, "你说什么"),
        _u("agent", 10.5, 11.8, "感谢您的来电，再见"),
    ]
    heard = {"question": "did the agent say 没办法?", "utterance": 2, "heard": {"text": "没办法", "logprob": -9.1},
             "candidates": [{"text": "想办法", "logprob": -8.7}], "outcome": "uncertain", "margin": 0.4,
             "reason": "the audio fits both readings (margin +0.4)"}
    banned = _finding(u, 2, "the agent said the banned phrase 没办法 (heard: 没办法)", 10.0, phrase="没办法",
                      quote="没办法", verification=heard)
    id_check = {"question": "did the agent state the roster's employee ID?", "utterance": 0,
                "heard": {"text": "450又号", "logprob": -12.4}, "candidates": [{"text": "4506", "logprob": -6.2}],
                "outcome": "said", "margin": 6.2}
    checks = {
        "greeting": CheckResult("greeting", True, 0.0),
        "employee_id": CheckResult("employee_id", True, 0.0, extra={
            "status": "ok", "heard_id": "4506", "transcribed_id": "450又号", "expected_id": "4506",
            "verification": id_check}),
        "banned_phrases": CheckResult.needs_listening("banned_phrases", "the audio fits both readings (margin +0.4)",
                                                      [banned]),
        "closing": CheckResult("closing", True, 0.0),
        "silence": CheckResult("silence", False, 3.0, [
            Finding(8.0, 10.5, "agent", "", "silence of 2.5 s", None, 3.0, extra={"gap_s": 2.5})]),
        "interruptions": CheckResult("interruptions", False, 2.0, [
            Finding(6.6, 7.0, "customer", "你说什么", "the customer spoke over the agent", 3, 2.0)]),
    }
    call = _call("call-005", "A03", "王芳", audio, u, checks)
    # Whisper wrote its prompt's word list back over 8.0-10.5 s of the agent's speech; the filters cut it out.
    call.prompt_echoes = [PromptEcho("agent", 8.0, 10.5, "工号、致电、客服")]
    return call


@dataclass
class Batch:
    out_dir: Path
    db: Path
    audio: Path
    recordings: Path  # the batch's input folder, beside the results folder as in real use


def build_batch(out_dir: Path, listening: bool = False) -> Batch:
    """Write the fixture batch: callqa.sqlite in ``out_dir``, the recordings in a folder beside it.
    ``listening`` adds call-005, whose checks left work to a person (see _listening_call)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    audio_dir = out_dir.parent / f"{out_dir.name}-recordings"
    audio_dir.mkdir(exist_ok=True)
    wav = write_wav(audio_dir / "call-001.wav")
    wav2 = write_wav(audio_dir / "call-002.wav", 12.0)
    calls = [
        _rude_call(wav),
        _good_call(wav2),
        _missing_id_call(wav),
        _call("call-004", "A02", "李娜", None, [], {}, error="could not decode: not an audio file"),
    ]
    if listening:
        calls.append(_listening_call(write_wav(audio_dir / "call-005.wav")))
    conn = open_db(db_path(out_dir))
    try:
        save_calls(conn, calls, scorecard_text="# fixture", flag_below=FLAG_BELOW, source="tests",
                   input_root=audio_dir.resolve())
    finally:
        conn.close()
    return Batch(out_dir, db_path(out_dir), wav, audio_dir)


def build_big_batch(out_dir: Path, calls: int = 500, agents: int = 10, batches: int = 3) -> Path:
    """A results database of ``calls`` generated calls over ``agents`` agents and ``batches`` scoring runs,
    recorded one a day from 2026-01-01 at 09:00 local time: enough to sort, page and filter. No audio."""
    import random

    rng = random.Random(13)
    out_dir.mkdir(parents=True, exist_ok=True)
    scored: list[list[CallScore]] = [[] for _ in range(batches)]
    for n in range(calls):
        agent = f"B{n % agents:02d}"
        u = [_u("agent", 0.5, 2.0, "您好，请问有什么可以帮您"), _u("customer", 2.5, 4.0, "我想查一下订单"),
             _u("agent", 4.5, 6.0, "这个不行" if n % 3 == 0 else "好的，感谢您的来电")]
        checks = {"greeting": CheckResult("greeting", True, 0.0),
                  "closing": CheckResult("closing", n % 3 != 0, 0.0 if n % 3 else 5.0)}
        misses = rng.randint(0, 4)
        checks["banned_phrases"] = CheckResult("banned_phrases", misses == 0, 8.0 * misses, [
            _finding(u, 2, f"agent said a banned phrase: 不行 #{i}", 8.0, phrase=f"不行{i}", quote="不行")
            for i in range(misses)])
        if n % 3 == 0:
            checks["closing"].findings = [_finding(u, 2, "no courteous closing before the call ended", 5.0)]
        call = _call(f"gen-{n:04d}", agent, f"坐席{n % agents}", None, u, checks)
        call.recorded_at = f"2026-01-{1 + n % 28:02d}T09:00:00"  # the scoring side passes it (CallScore.recorded_at)
        scored[n * batches // calls].append(call)
    conn = open_db(db_path(out_dir))
    try:
        for batch in scored:
            save_calls(conn, batch, scorecard_text="# generated", flag_below=FLAG_BELOW, source="generated")
    finally:
        conn.close()
    return db_path(out_dir)


def finding_fingerprints(db: Path, call_id: str) -> dict[str, str]:
    """phrase/check -> fingerprint, to address findings in tests."""
    conn = open_db(db)
    try:
        rows = conn.execute("SELECT check_id, fingerprint, extra FROM findings WHERE call_id = ? ORDER BY id",
                            (call_id,)).fetchall()
    finally:
        conn.close()
    import json

    out = {}
    for row in rows:
        phrase = json.loads(row["extra"]).get("phrase")
        out[phrase or row["check_id"]] = row["fingerprint"]
    return out


# --- a real server in a subprocess ---------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """`callqa serve` started for real; the printed address is read back."""

    def __init__(self, target: Path, *extra_args: str, env: dict[str, str] | None = None):
        self.args = [sys.executable, "-c", "from callqa.cli import main; main()", "serve", str(target),
                     "--port", "0", *extra_args]
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self, timeout: float = 30.0) -> "ServerProcess":
        # stderr (the request log) goes to a file: an unread pipe would fill up and stall the server.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=self.log, text=True, env=self.env)
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("callqa review: "):
                self.url = line.split()[2].rstrip("/")
                return self
            if not line and self.proc.poll() is not None:
                break
        self.stop()
        self.log.seek(0)
        err = self.log.read()
        raise RuntimeError(f"callqa serve did not start: {err}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
