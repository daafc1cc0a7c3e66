"""The TTS step (ttskit venv): synthesize every clip the specs need into the clip store.

Raw TTS output is cached in /tmp/callqa_tts_cache by make_samples.Synthesizer, and each
finished clip is written to corpus/clips/ at once, so a crash resumes where it stopped.
Two workers can share the job (`render --worker 0/2` and `--worker 1/2`): each takes
the clips whose key falls to it and writes its own partial index, merged afterwards.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

from .clips import CLIP_BITRATE, CLIP_LEVEL_DBFS, CLIPS, ClipEntry, ClipRequest, clip_path, read_index, write_index
from .codecs import CLIP_CODEC, decode_audio, encode_audio
from .model import RATE
from .shared import TTS_RATE, synthesizer, to_phone

MIN_STRETCH = 1.15  # a "fast" clip is always clearly faster than the voice's own pace


def spoken_chars(text: str) -> int:
    """Characters that take time to say: CJK, digits and letters, not punctuation."""
    return sum(1 for ch in text if ch.isalnum())


def natural_cpm(audio: np.ndarray, text: str) -> float:
    return spoken_chars(text) / (len(audio) / TTS_RATE / 60)


def _stretch(audio: np.ndarray, text: str, cpm: int) -> np.ndarray:
    import librosa

    rate = max(cpm / natural_cpm(audio, text), MIN_STRETCH)
    return librosa.effects.time_stretch(audio, rate=rate)


def _cap(audio: np.ndarray, text: str, max_cpm: int) -> np.ndarray:
    """Slow a clip down to max_cpm if the voice said it faster (short phrases often are).

    Tape-speed slowing (resampling: the pitch drops by the same few per cent), not the
    phase vocoder: slowing by 2-10 % with the vocoder roughly doubled Whisper's CER.
    """
    import librosa

    pace = natural_cpm(audio, text)
    if pace <= max_cpm:
        return audio
    return librosa.resample(audio, orig_sr=TTS_RATE, target_sr=int(round(TTS_RATE * pace / max_cpm)), res_type="soxr_hq")


def render_clip(synth, req: ClipRequest) -> ClipEntry:
    """TTS -> (stretch) -> 8 kHz at the store level -> Ogg Opus -> decoded length."""
    audio = synth.sentence(req.text, req.voice, req.tts_seed)
    if req.speed_cpm:
        audio = _stretch(audio, req.text, req.speed_cpm)
    elif req.max_cpm:
        audio = _cap(audio, req.text, req.max_cpm)
    phone = to_phone(audio, CLIP_LEVEL_DBFS)
    # Headroom for the loud turns (+12 dB) happens at assembly; here only keep it legal.
    phone = np.clip(phone, -0.98, 0.98)
    data = encode_audio(phone[None, :], CLIP_CODEC, CLIP_BITRATE)
    path = clip_path(req.key)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    samples = decode_audio(data, RATE).shape[1]
    return ClipEntry(req.key, req.voice, req.take, req.speed_cpm, samples, req.text, req.max_cpm)


def _partial_index(worker: int) -> Path:
    return CLIPS / f".index-worker{worker}.csv"


def merge_partials() -> int:
    """Fold the workers' partial indexes into index.csv; returns how many entries were added."""
    entries = read_index()
    before = len(entries)
    for part in sorted(CLIPS.glob(".index-worker*.csv")):
        with open(part, newline="", encoding="utf-8") as f:
            for key, voice, take, speed, max_cpm, samples, text in csv.reader(f):
                if clip_path(key).exists():
                    entries[key] = ClipEntry(key, voice, int(take), int(speed), int(samples), text, int(max_cpm))
        part.unlink()
    write_index(entries)
    return len(entries) - before


def prune(needed: set[str]) -> int:
    """Drop clips no call or probe uses any more (a changed script leaves its old clips behind)."""
    entries = read_index()
    stale = [k for k in entries if k not in needed]
    for key in stale:
        clip_path(key).unlink(missing_ok=True)
        del entries[key]
    for path in CLIPS.glob("*.ogg"):
        if path.stem not in entries:
            path.unlink()
    write_index(entries)
    return len(stale)


def render_all(requests: list[ClipRequest], worker: int = 0, workers: int = 1) -> None:
    import torch

    torch.set_num_threads(1 if workers > 1 else 2)  # two workers share the 2 cores
    CLIPS.mkdir(parents=True, exist_ok=True)
    done = set(read_index())
    mine = [r for r in requests if r.key not in done and int(r.key, 16) % workers == worker]
    mine = list({r.key: r for r in mine}.values())
    print(f"worker {worker}/{workers}: {len(mine)} clips to render", flush=True)
    synth = synthesizer()
    t0 = time.time()
    with open(_partial_index(worker), "a", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        for n, req in enumerate(mine, 1):
            e = render_clip(synth, req)
            w.writerow([e.key, e.voice, e.take, e.speed_cpm, e.max_cpm, e.samples, e.text])
            f.flush()
            if n % 25 == 0:
                rate = n / (time.time() - t0)
                print(f"worker {worker}: {n}/{len(mine)} clips, {(len(mine) - n) / rate / 60:.1f} min left", flush=True)
