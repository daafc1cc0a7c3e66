"""Measured intelligibility: Whisper CER per voice, per codec, and per call and role.

`probe-render` (TTS venv) puts PROBE_SENTENCES in every usable voice into the clip
store; `probe` (callqa venv) lays each voice's sentences on a phone line, transcribes
it, and then sends a few voices through every codec at its lowest bit rate. The
results go to corpus/intelligibility/*.csv, which the README tables are made from.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np

from .clips import ClipRequest, load_clip, read_index
from .codecs import CODECS, decode_audio, encode_audio
from .model import RATE
from .shared import CORPUS, SPEAKER_IDS, UNUSABLE_VOICES, phone_channel

RESULTS = CORPUS / "intelligibility"
CANDIDATE_VOICES = sorted(set(SPEAKER_IDS) - UNUSABLE_VOICES)
MAX_CER = 0.35  # worse than this, no listener-equivalent QA could work from the transcript

PROBE_SENTENCES = [
    "您好，欢迎致电顺达快递，工号八零二三为您服务，请问有什么可以帮您？",
    "好的，请您稍等，我帮您查询一下。",
    "感谢您的耐心等待，您的包裹明天上午送到。",
    "不行，这个办不了。",
    "请问还有其他可以帮您的吗？",
    "感谢您的来电，祝您生活愉快，再见。",
    "你好，我的宽带断了两天了，一直连不上网。",
    "你们怎么办事的，我要投诉你们！",
]


@dataclass
class CerRow:
    subject: str  # voice or codec
    detail: str
    cer: float
    heard: str


def probe_requests() -> list[ClipRequest]:
    return [ClipRequest(v, s) for v in CANDIDATE_VOICES for s in PROBE_SENTENCES]


def _track(voice: str, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """The voice's probe sentences with 0.7 s gaps, on a phone line at the given SNR."""
    index = read_index()
    pieces = []
    for s in PROBE_SENTENCES:
        key = ClipRequest(voice, s).key
        assert key in index, f"probe clip missing for {voice}: run probe-render"
        pieces += [load_clip(key), np.zeros(int(0.7 * RATE), np.float32)]
    track = np.concatenate([np.zeros(int(0.5 * RATE), np.float32), *pieces])
    return phone_channel(track, rng, noise_dbfs=-20.0 - snr_db)[None, :]


def _through_codec(audio: np.ndarray, codec_name: str) -> np.ndarray:
    codec = CODECS[codec_name]
    if codec_name == "gsm":
        return gsm_roundtrip(audio)
    bitrate = min(codec.bitrates) if codec.bitrates else 0
    return decode_audio(encode_audio(audio, codec, bitrate))


def gsm_roundtrip(audio: np.ndarray) -> np.ndarray:
    from .assemble import gsm_encode

    return decode_audio(gsm_encode(audio[0]))


def probe(voices_for_codecs: int = 4) -> list[CerRow]:
    from .asr import cer, transcribe

    RESULTS.mkdir(parents=True, exist_ok=True)
    reference = "".join(PROBE_SENTENCES)
    rows: list[CerRow] = []
    tracks = {}
    for voice in CANDIDATE_VOICES:
        tracks[voice] = _track(voice, 30.0, np.random.default_rng(7))
        heard = transcribe(tracks[voice][0])
        rows.append(CerRow(voice, "pcm16 SNR 30 dB", cer(heard, reference), heard))
        print(f"{voice:9s} CER {rows[-1].cer:.3f}  {heard}", flush=True)
    good = sorted((r for r in rows if r.cer <= MAX_CER), key=lambda r: r.cer)
    # Codecs on a spread of usable voices: the best, the worst and two in between.
    pick = [good[i].subject for i in np.linspace(0, len(good) - 1, voices_for_codecs).round().astype(int)]
    for codec_name in CODECS:
        for voice in pick:
            heard = transcribe(_through_codec(tracks[voice], codec_name)[0])
            codec = CODECS[codec_name]
            rate = f"{min(codec.bitrates) // 1000} kbps" if codec.bitrates else "fixed"
            rows.append(CerRow(f"codec:{codec_name}", f"{voice} {rate}", cer(heard, reference), heard))
            print(f"{codec_name:6s} {voice:9s} CER {rows[-1].cer:.3f}", flush=True)
    with open(RESULTS / "probe.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["subject", "detail", "cer", "heard"])
        for r in rows:
            w.writerow([r.subject, r.detail, f"{r.cer:.3f}", r.heard])
    return rows


AGENT_MAX_PACE = 4.75  # characters a second: agents speak below 300 per minute unless stretched


def voice_pace() -> dict[str, float]:
    """Each voice's own speaking rate (characters a second) over its probe sentences."""
    index = read_index()
    pace = {}
    for voice in CANDIDATE_VOICES:
        entries = [index[ClipRequest(voice, s).key] for s in PROBE_SENTENCES]
        chars = sum(sum(ch.isalnum() for ch in e.text) for e in entries)
        pace[voice] = chars / (sum(e.samples for e in entries) / RATE)
    return pace


def agent_voices() -> list[str]:
    """Usable voices that speak slowly enough that only stretched agent turns are fast."""
    pace = voice_pace()
    return [v for v in usable_voices() if pace[v] <= AGENT_MAX_PACE]


def usable_voices() -> list[str]:
    """Voices whose measured probe CER is within MAX_CER (the corpus draws only from these)."""
    path = RESULTS / "probe.csv"
    with open(path, newline="", encoding="utf-8") as f:
        return sorted(r["subject"] for r in csv.DictReader(f) if r["subject"] in SPEAKER_IDS and float(r["cer"]) <= MAX_CER)
