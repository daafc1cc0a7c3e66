"""Recordings in: decode audio with PyAV (decode.py) and read what to process (inputs.py).

    load_audio(path) -> DecodedAudio        16 kHz float32, channels kept separate
    read_inputs(path) -> list[CallInput]    a directory, a manifest CSV, or one recording
"""

from .decode import SAMPLE_RATE, AudioDecodeError, DecodedAudio, load_audio
from .inputs import AUDIO_EXTENSIONS, InputError, input_root, read_inputs, read_manifest

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioDecodeError",
    "DecodedAudio",
    "InputError",
    "input_root",
    "SAMPLE_RATE",
    "load_audio",
    "read_inputs",
    "read_manifest",
]
