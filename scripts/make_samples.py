"""Make the sample calls in samples/ from scripted dialogue, and check that Whisper can read them.

Each call is a short scripted conversation between an agent and a customer, spoken by
two clearly different voices of ttskit's offline multi-speaker Mandarin TTS (Mellotron +
MelGAN, 24 built-in voices), placed on a timeline with natural gaps and a real silence
where the agent looks something up, turned into phone audio (8 kHz, 300-3400 Hz band,
light line noise) and encoded with PyAV. Stereo calls put one party per channel; mono
calls mix both. The script text and the times each utterance was placed at are written
to samples/truth/<call_id>.json; what a correct QA system must conclude is in
samples/labels.csv. The calls themselves (script, voices, layout, labels) are in
scripts/sample_calls.py. Every random choice is seeded, so a rebuild gives the same files.

ttskit is NOT a callqa dependency (it pins torch 1.7-era packages and a plain install
fails building an old PyYAML); it only makes these samples, in its own venv:

    python3.11 -m venv /tmp/ttsvenv
    /tmp/ttsvenv/bin/pip install torch==2.13.0            # the only torch allowed here
    /tmp/ttsvenv/bin/pip install --no-deps ttskit==0.3.8 aukit==1.4.6 phkit==0.2.11
    /tmp/ttsvenv/bin/pip install librosa==0.11.0 numpy==2.4.6 scipy==1.17.1 soundfile==0.14.0 \\
        av==18.1.0 pydub==0.25.1 tqdm==4.70.1 requests==2.34.2 PyYAML==6.0.4 dotmap==1.3.30 hanziconv==0.3.2 \\
        inflect==7.6.0 jieba==0.42.1 pypinyin==0.55.0 Unidecode==1.4.0 webrtcvad-wheels==2.0.14.post1

ttskit ships its model weights inside the wheel (resource/model/*.pt) and only goes to
the network when they are missing, so synthesis runs offline. scripts/tts_shims.py
patches current librosa/torch/numpy for it (keyword-only librosa arguments,
torch.load(weights_only=False), removed numpy aliases) before ttskit is imported.

Usage:
    /tmp/ttsvenv/bin/python scripts/make_samples.py build            # writes samples/
    .venv/bin/python scripts/make_samples.py verify [--model /tmp/m] # Whisper CER per file

`verify` runs in the callqa venv (faster-whisper, opencc, pypinyin, rapidfuzz): it
transcribes every sample (each channel of a stereo file on its own), prints the
character error rate against the truth and whether each call's key phrases were heard.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # sample_calls, tts_shims sit beside this script
from sample_calls import A, AGENT_BY_ID, AGENTS, BROKEN, C, CALLS, WAIT, Call, flagged  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
CACHE = Path("/tmp/callqa_tts_cache")  # raw TTS output per (voice, text, seed): rebuilds are fast

RATE = 8000  # narrow-band telephony
TTS_RATE = 22050  # ttskit's output rate

# Unintelligible to Whisper (CER near 1 in trials): never use these ttskit voices.
UNUSABLE_VOICES = {"Xiaomei", "Xiaogang", "Xiaowei", "Yina"}
SPEAKER_IDS = {
    "Aibao": 1, "Aicheng": 2, "Aida": 3, "Aijia": 4, "Aijing": 5, "Aimei": 6, "Aina": 7, "Aiqi": 8,
    "Aitong": 9, "Aiwei": 10, "Aixia": 11, "Aiya": 12, "Aiyu": 13, "Aiyue": 14, "Siyue": 15,
    "Xiaobei": 16, "Xiaogang": 17, "Xiaomei": 18, "Xiaomeng": 19, "Xiaowei": 20, "Xiaoxue": 21,
    "Xiaoyun": 22, "Yina": 23, "biaobei": 24,
}  # ttskit.resource._speaker_dict, inverted


# ---------------------------------------------------------------- synthesis (ttskit venv)


class Synthesizer:
    """ttskit's multi-speaker model, one sentence at a time, cached on disk."""

    def __init__(self) -> None:
        import tts_shims

        tts_shims.apply()
        import logging
        import warnings

        # pydub only warns that it has no ffmpeg; ttskit never asks it to decode anything.
        warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
        try:
            from ttskit import sdk_api
        except ImportError as e:
            raise RuntimeError("ttskit is missing: set up its venv as this script's docstring says") from e
        logging.getLogger().setLevel(logging.WARNING)  # ttskit and jieba log every step at INFO/DEBUG
        self._sdk = sdk_api
        CACHE.mkdir(parents=True, exist_ok=True)

    def sentence(self, text: str, voice: str, seed: int) -> np.ndarray:
        """Float32 audio at TTS_RATE, leading/trailing silence trimmed."""
        import librosa
        import soundfile
        import torch

        if voice in UNUSABLE_VOICES or voice not in SPEAKER_IDS:
            raise ValueError(f"voice {voice!r} is not usable; pick one of {sorted(set(SPEAKER_IDS) - UNUSABLE_VOICES)}")
        key = hashlib.sha1(f"{voice}|{text}|{seed}".encode()).hexdigest()[:16]
        path = CACHE / f"{key}.wav"
        if not path.exists():
            # Mellotron keeps prenet dropout on at inference: seed it so output is reproducible.
            for attempt in range(4):
                torch.manual_seed(seed + 7919 * attempt)
                raw = self._sdk.tts_sdk_base(text, speaker=voice, audio=str(SPEAKER_IDS[voice]))
                audio, sr = soundfile.read(io.BytesIO(raw), dtype="float32")
                audio, _ = librosa.effects.trim(audio, top_db=35)
                # A run whose stop gate never fired babbles on: retry with another seed.
                if len(audio) / sr < 0.36 * len(text) + 0.8:
                    break
            soundfile.write(path, audio, sr)
        audio, sr = soundfile.read(path, dtype="float32")
        assert sr == TTS_RATE, sr
        return audio

    def utterance(self, text: str, voice: str, seed: int) -> np.ndarray:
        """A whole turn: sentences synthesized one by one (long inputs make the model lose its alignment)."""
        import re

        parts = [p for p in re.split(r"(?<=[。！？])", text) if p.strip()]
        pieces = []
        for i, part in enumerate(parts):
            if i:
                pieces.append(np.zeros(int(0.25 * TTS_RATE), dtype=np.float32))
            pieces.append(self.sentence(part, voice, seed + i))
        return np.concatenate(pieces)


# ---------------------------------------------------------------- phone line


def to_phone(audio: np.ndarray, level_dbfs: float) -> np.ndarray:
    """TTS audio -> 8 kHz at a given RMS level (band-limiting is done per channel, with the noise)."""
    import librosa

    audio = librosa.resample(audio, orig_sr=TTS_RATE, target_sr=RATE, res_type="soxr_hq")
    rms = float(np.sqrt(np.mean(audio**2))) or 1.0
    return (audio * (10 ** (level_dbfs / 20) / rms)).astype(np.float32)


def phone_channel(track: np.ndarray, rng: np.random.Generator, noise_dbfs: float = -52.0) -> np.ndarray:
    """Add a light line hiss, then band-limit to the telephone band (300-3400 Hz)."""
    from scipy.signal import butter, sosfiltfilt

    noise = rng.standard_normal(len(track)).astype(np.float32) * 10 ** (noise_dbfs / 20)
    sos = butter(6, [300, 3400], btype="bandpass", fs=RATE, output="sos")
    out = sosfiltfilt(sos, track + noise).astype(np.float32)
    return np.clip(out, -0.98, 0.98)


def turn_seed(call: Call, n: int, take: int = 0) -> int:
    return call.seed * 100 + n * 10 + take * 100_000


@dataclass
class Placed:
    role: str
    start: float
    end: float
    text: str


def render(call: Call, synth: Synthesizer) -> tuple[np.ndarray, list[Placed]]:
    """Lay the call's turns on a timeline. Returns (channels x samples) float32 and the truth."""
    rng = np.random.default_rng(call.seed)
    agent = AGENT_BY_ID[call.agent_id]
    voices = {A: agent.voice, C: call.customer_voice}
    levels = {A: -20.0, C: -23.0}  # the customer's line is a little quieter, as on real recordings
    clips: list[tuple[str, int, np.ndarray, str]] = []
    t = 0.5 + rng.uniform(0.0, 0.4)
    for n, (role, text, *take) in enumerate(call.lines):
        if role == WAIT:
            t += float(text) - 0.6  # on top of the gap after the last turn: silence = wait +- 0.35 s
            continue
        audio = to_phone(synth.utterance(text, voices[role], turn_seed(call, n, *take)), levels[role])
        start = int(round(t * RATE))
        clips.append((role, start, audio, text))
        t = (start + len(audio)) / RATE + rng.uniform(0.3, 1.0)
    total = int(round((t + 0.4) * RATE))
    stereo = call.channels != "mono"
    order = call.channels.split(",") if stereo else [A]
    tracks = np.zeros((len(order), total), dtype=np.float32)
    truth = []
    for role, start, audio, text in clips:
        ch = order.index(role) if stereo else 0
        tracks[ch, start : start + len(audio)] += audio
        truth.append(Placed(role, round(start / RATE, 2), round((start + len(audio)) / RATE, 2), text))
    out = np.stack([phone_channel(tr, rng) for tr in tracks])
    return out, truth


# ---------------------------------------------------------------- encoding (PyAV)

FORMATS = {  # suffix -> (container format, codec, bit rate)
    ".wav": ("wav", "pcm_s16le", None),
    ".flac": ("flac", "flac", None),
    ".mp3": ("mp3", "libmp3lame", 32000),
    # FFmpeg's own Vorbis encoder (PyAV has no libvorbis); it is "experimental" and stereo-only.
    ".ogg": ("ogg", "vorbis", None),
    ".m4a": ("mp4", "aac", 32000),
}


def encode(audio: np.ndarray, suffix: str) -> bytes:
    """Encode (channels x samples) float32 at RATE into a file's bytes."""
    import av

    container_format, codec, bit_rate = FORMATS[suffix]
    buf = io.BytesIO()
    layout = "stereo" if audio.shape[0] == 2 else "mono"
    with av.open(buf, "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=RATE, layout=layout)
        if bit_rate:
            stream.bit_rate = bit_rate
        if codec == "vorbis":
            stream.codec_context.options = {"strict": "experimental"}
        fmt = stream.codec_context.format
        frame_size = stream.codec_context.frame_size or 1024
        pad = (-audio.shape[1]) % frame_size
        audio = np.pad(audio, ((0, 0), (0, pad)))
        if fmt.name.startswith("s16"):
            data = (audio * 32767).round().astype(np.int16)
        elif fmt.name.startswith("s32"):  # libmp3lame's preferred input
            data = (audio.astype(np.float64) * 2147483647).round().astype(np.int32)
        else:
            data = audio.astype(np.float32)
        for off in range(0, audio.shape[1], frame_size):
            chunk = data[:, off : off + frame_size]
            arr = chunk if fmt.is_planar else chunk.T.reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(arr), format=fmt.name, layout=layout)
            frame.sample_rate = RATE
            frame.pts = off
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()


# ---------------------------------------------------------------- writing samples/


def build(only: list[str] | None) -> None:
    from tqdm import tqdm

    synth = Synthesizer()
    (SAMPLES / "truth").mkdir(parents=True, exist_ok=True)
    for call in tqdm([c for c in CALLS if not only or c.call_id in only], desc="calls", unit="call"):
        audio, truth = render(call, synth)
        (SAMPLES / call.file).write_bytes(encode(audio, Path(call.file).suffix))
        doc = {
            "call_id": call.call_id,
            "channels": call.channels,
            "utterances": [{"role": u.role, "start": u.start, "end": u.end, "text": u.text} for u in truth],
        }
        (SAMPLES / "truth" / f"{call.call_id}.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
        if call.call_id == "call_002":
            # An upload cut off mid-transfer: the MP4 index (moov) is written last, so it is lost.
            whole = encode(audio, ".m4a")
            (SAMPLES / BROKEN[0]).write_bytes(whole[: len(whole) // 3])
    write_tables()


def write_tables() -> None:
    with open(SAMPLES / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["file", "agent_id", "call_id", "channels"])
        for call in CALLS:
            w.writerow([call.file, call.agent_id, call.call_id, call.channels])
        w.writerow(BROKEN)
    with open(SAMPLES / "roster.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["agent_id", "name", "employee_id"])
        for agent in AGENTS:
            w.writerow([agent.agent_id, agent.name, agent.employee_id])
    with open(SAMPLES / "labels.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        cols = ["greeting", "employee_id", "employee_id_status", "standard_phrasing", "banned_phrases", "closing", "sentiment"]
        w.writerow(["call_id", *cols, "flagged"])
        for call in CALLS:
            w.writerow([call.call_id, *(call.labels[c] for c in cols), str(flagged(call)).lower()])


# ---------------------------------------------------------------- verification (callqa venv)

_CN_DIGITS = dict(zip("0123456789", "零一二三四五六七八九"))


def _normalize(text: str) -> str:
    """Simplified, digits spelled as spoken, 幺 as 一, punctuation and spaces removed."""
    import re

    import opencc

    text = opencc.OpenCC("t2s").convert(text)
    text = "".join(_CN_DIGITS.get(ch, ch) for ch in text).replace("幺", "一")
    return re.sub(r"[^\w]", "", text)


def _pinyin(text: str) -> str:
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(_normalize(text))) + " "


def decode_channels(path: Path) -> list[np.ndarray]:
    """Each channel as float32 at 16 kHz (what Whisper wants), via PyAV."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        n = stream.codec_context.channels
        resampler = av.AudioResampler(format="fltp", layout="stereo" if n == 2 else "mono", rate=16000)
        chunks = []
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray())
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray())
    data = np.concatenate(chunks, axis=1)
    return [data[i].astype(np.float32) for i in range(data.shape[0])]


def verify(model_path: str, only: list[str] | None = None) -> int:
    from faster_whisper import WhisperModel
    from rapidfuzz.distance import Levenshtein

    model = WhisperModel(model_path, device="cpu", compute_type="int8")
    failures = 0
    for call in [c for c in CALLS if not only or c.call_id in only]:
        truth = json.loads((SAMPLES / "truth" / f"{call.call_id}.json").read_text())
        channels = decode_channels(SAMPLES / call.file)
        roles = call.channels.split(",") if call.channels != "mono" else ["mono"]
        heard_all = ""
        ref_all = ""
        for role, audio in zip(roles, channels):
            segments, _ = model.transcribe(audio, language="zh", vad_filter=True, beam_size=5)
            heard = "".join(s.text for s in segments)
            ref = "".join(u["text"] for u in truth["utterances"] if role in ("mono", u["role"]))
            h, r = _normalize(heard), _normalize(ref)
            cer = Levenshtein.distance(h, r) / max(len(r), 1)
            print(f"{call.call_id} {role:8s} CER {cer:.3f}  heard: {heard}")
            heard_all += heard
            ref_all += ref
        heard_py = _pinyin(heard_all)
        missing = [k for k in call.keys if _pinyin(k) not in heard_py]
        cer = Levenshtein.distance(_normalize(heard_all), _normalize(ref_all)) / max(len(_normalize(ref_all)), 1)
        print(f"{call.call_id} overall CER {cer:.3f}  key phrases missing: {missing or 'none'}")
        failures += bool(missing)
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="synthesize and write samples/ (ttskit venv)")
    b.add_argument("calls", nargs="*", help="call ids to rebuild (default: all)")
    sub.add_parser("tables", help="rewrite manifest/roster/labels only")
    v = sub.add_parser("verify", help="Whisper CER and key phrases per sample (callqa venv)")
    v.add_argument("calls", nargs="*", help="call ids to check (default: all)")
    v.add_argument("--model", default="/tmp/m", help="a CTranslate2 Whisper model directory")
    args = parser.parse_args()
    if args.command == "build":
        build(args.calls)
    elif args.command == "tables":
        write_tables()
    else:
        return verify(args.model, args.calls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
