"""Recordings in: decode audio with PyAV (decode.py) and read what to process (inputs.py).

    load_audio(path) -> DecodedAudio        16 kHz float32, channels kept separate
    read_inputs(path) -> list[CallInput]    a directory, a manifest CSV, or one recording
    scan_inputs(path) -> InputScan          the same, with what a directory held that is not a recording
    assign_agents(calls, agent, pattern)    agent ids for calls whose input named none
"""

from .decode import SAMPLE_RATE, AudioDecodeError, DecodedAudio, load_audio
from .inputs import AUDIO_EXTENSIONS, InputError, InputScan, assign_agents, input_root, read_inputs, read_manifest, scan_inputs

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioDecodeError",
    "DecodedAudio",
    "InputError",
    "InputScan",
    "assign_agents",
    "input_root",
    "SAMPLE_RATE",
    "load_audio",
    "read_inputs",
    "read_manifest",
    "scan_inputs",
]
