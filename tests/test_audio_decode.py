"""audio/decode.py: every format at several rates and channel counts, and each broken input's error."""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from callqa.audio import SAMPLE_RATE, AudioDecodeError, load_audio


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()])


@pytest.mark.parametrize(
    "ext,rate,channels,codec",
    [
        ("wav", 8000, 2, None), ("wav", 22050, 1, None), ("wav", 44100, 2, None),
        ("flac", 8000, 2, None), ("flac", 16000, 1, None),
        ("mp3", 8000, 1, None), ("mp3", 44100, 2, None),
        ("m4a", 8000, 2, None), ("m4a", 48000, 1, None),
        ("ogg", 8000, 1, "libopus"), ("ogg", 48000, 2, "libopus"), ("ogg", 11025, 2, "vorbis"),
        ("webm", 48000, 2, "libopus"), ("mka", 48000, 1, "libopus"), ("mp4", 8000, 2, None), ("3gp", 8000, 1, None),
        ("au", 8000, 1, None), ("caf", 8000, 2, None),
    ],
)
def test_decodes_format_rate_and_channels(make_audio, ext, rate, channels, codec):
    freqs = [440.0, 1000.0][:channels]
    path = make_audio(f"call.{ext}", rate=rate, freqs=freqs, seconds=2.0, codec=codec)
    audio = load_audio(path)
    assert audio.sample_rate == SAMPLE_RATE
    # Opus always decodes at 48 kHz whatever rate it was fed.
    assert audio.source_sample_rate == (48000 if codec == "libopus" else rate)
    assert audio.source_channels == channels
    assert audio.channels.dtype == np.float32
    assert audio.channels.shape[0] == channels
    # Lossy codecs add a frame of priming/padding; the length is right within 60 ms.
    assert abs(audio.duration_s - 2.0) < 0.06
    assert abs(audio.channels.shape[1] - audio.duration_s * SAMPLE_RATE) <= 2
    # Channels stay separate and in order: each keeps its own pitch.
    for channel, freq in enumerate(freqs):
        assert abs(dominant_hz(audio.channels[channel], SAMPLE_RATE) - freq) < 5
    assert audio.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_mulaw_wav_and_level_kept(make_audio):
    path = make_audio("mulaw.wav", rate=8000, freqs=[600.0], codec="pcm_mulaw")
    audio = load_audio(path)
    assert audio.codec == "pcm_mulaw"
    assert 0.27 < float(np.abs(audio.channels).max()) < 0.33  # amplitude 0.3 survives resampling
    assert abs(dominant_hz(audio.channels[0], SAMPLE_RATE) - 600) < 5


def gsm_wav(path: Path, blocks: int) -> Path:
    """A WAVE_FORMAT_GSM610 file (65-byte blocks of 320 samples), the format libsndfile can't read.

    PyAV has no GSM encoder, so the blocks are arbitrary bytes: every 65-byte
    block is a valid GSM frame, which is what the decoder is tested on here.
    """
    data = np.random.default_rng(0).integers(0, 256, 65 * blocks, dtype=np.uint8).tobytes()
    fmt = struct.pack("<HHIIHHHH", 0x31, 1, 8000, 1625, 65, 0, 2, 320)
    body = (
        b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
        + b"fact" + struct.pack("<II", 4, 320 * blocks)
        + b"data" + struct.pack("<I", len(data)) + data
    )
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def test_gsm_wav(tmp_path):
    audio = load_audio(gsm_wav(tmp_path / "gsm.wav", blocks=50))  # 50 x 320 samples = 2 s at 8 kHz
    assert audio.codec == "gsm_ms"
    assert audio.source_sample_rate == 8000 and audio.n_channels == 1
    assert audio.duration_s == pytest.approx(2.0)
    assert audio.channels.shape == (1, 2 * SAMPLE_RATE)


def test_mono_downmix_averages_channels(make_audio):
    left = np.full((1, 8000), 0.2, np.float32)
    path = make_audio("dc.wav", data=np.concatenate([left, -left * 0.5]), rate=8000)
    audio = load_audio(path)
    assert audio.mono().shape == (audio.channels.shape[1],)
    assert float(np.median(audio.mono())) == pytest.approx(0.05, abs=0.002)


def test_silence_decodes_to_zeros(make_audio):
    audio = load_audio(make_audio("silent.wav", data=np.zeros((2, 16000), np.float32), rate=8000))
    assert audio.channels.shape == (2, 32000)
    assert float(np.abs(audio.channels).max()) == 0.0


# --- broken inputs: each has its own clear message naming the file ----------


def expect_error(path: Path, *phrases: str) -> str:
    with pytest.raises(AudioDecodeError) as info:
        load_audio(path)
    message = str(info.value)
    assert path.name in message
    for phrase in phrases:
        assert phrase in message, message
    return message


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    expect_error(path, "empty file")


def test_missing_file(tmp_path):
    expect_error(tmp_path / "gone.mp3", "no such file")


def test_random_bytes_are_not_audio(tmp_path):
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    expect_error(path, "not an audio file")


def test_text_file_is_not_audio(tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_text("call notes, not a recording\n" * 50)
    expect_error(path, "not an audio file")


def test_image_is_not_audio(tmp_path):
    path = tmp_path / "photo.wav"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(300))
    expect_error(path, "no audio stream")


def test_wav_with_no_samples(tmp_path):
    path = tmp_path / "nothing.wav"
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)  # PCM 16-bit mono, 8 kHz
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 0)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    expect_error(path, "decoded 0 samples")


@pytest.mark.parametrize(
    "ext,phrase",
    [
        ("wav", "truncated: the WAV header declares"),
        ("flac", "truncated: the header says 3.00 s"),
        ("mp3", "truncated: the header says 3.00 s"),
        ("ogg", "truncated: the Ogg"),
        ("m4a", "truncated: the MP4 'mdat' box declares"),  # the index (moov) sits after the audio: never reached
    ],
)
def test_truncated_file(make_audio, ext, phrase):
    path = make_audio(f"cut.{ext}", rate=8000, freqs=[440.0, 880.0], seconds=3.0)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    expect_error(path, phrase)


def test_corrupt_middle_of_flac(make_audio):
    path = make_audio("damaged.flac", rate=8000, freqs=[440.0, 880.0], seconds=3.0)
    data = bytearray(path.read_bytes())
    start = len(data) // 5
    data[start : start + len(data) // 2] = np.random.default_rng(2).integers(0, 256, len(data) // 2, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    message = expect_error(path)
    assert "corrupt" in message or "truncated" in message


def test_every_sample_recording_decodes_and_the_broken_one_is_reported():
    from conftest import SAMPLES

    from callqa.audio import read_inputs

    manifest = SAMPLES / "manifest.csv"
    if not manifest.is_file():
        pytest.skip("samples/manifest.csv not generated yet")
    for call in read_inputs(manifest):
        if call.call_id.startswith("broken"):
            expect_error(call.path, "truncated")
            continue
        audio = load_audio(call.path)
        assert audio.source_sample_rate == 8000  # phone band, as the samples README says
        assert audio.n_channels == (1 if call.channels == "mono" else 2), call.file
        assert 5 < audio.duration_s < 120 and float(np.abs(audio.channels).max()) > 0.05
