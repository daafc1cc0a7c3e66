"""The stretches of a channel Whisper decodes: faster-whisper's Silero VAD, with each stretch reaching back to
where its speech began.

Silero wakes late on phone audio after silence: on some voices and codecs its speech probability stays at
0.2-0.3 through the first syllables and passes the threshold only half a second in, so the chunk starts
mid-word. Whisper, given a chunk that opens mid-syllable, drops the whole first phrase, and the first phrase is
where agents say 您好, 工号, 请您稍等 and 不行 (on corpus dev, 38 of 1,727 utterances started over 50 ms before
their chunk, 24 after this; one agent channel lost 下午好, 请问, 请您, 不行 and 感谢您的来电 that way). A symmetric pad
large enough to cover it keeps long pauses in what Whisper decodes, which costs more than it gives back
(options.vad_speech_pad_ms). So only the start moves: back over the windows just before the trigger whose
probability stays above ``AsrOptions.vad_onset_floor``, by up to ``MAX_REACH_S``, never into the chunk before.

Both backends decode these chunks the same way: joined without the silence between them, and the times mapped
back (faster-whisper's ``collect_chunks`` and ``SpeechTimestampsMap``). Changing how chunks are cut changes what
Whisper is given: bump ``asr/cache.py``'s CACHE_VERSION with it (the option itself is in the cache key).
"""

from __future__ import annotations

import numpy as np

from ..audio import SAMPLE_RATE
from .options import AsrOptions

# Silero's window at 16 kHz (faster-whisper's SileroVADModel).
_WINDOW = 512
# Audio kept before the rise itself: the rise is where the probability leaves the floor, a consonant's onset
# can lie a little before it.
ONSET_LEAD_S = 0.2
# The farthest a start moves back; a probability that hovers above the floor for longer is line noise.
MAX_REACH_S = 1.0


def speech_chunks(samples: np.ndarray, options: AsrOptions) -> list[dict[str, int]]:
    """The VAD's speech chunks of ``samples`` (sample offsets at SAMPLE_RATE), starts reached back to onsets."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    vad = VadOptions(threshold=options.vad_threshold, speech_pad_ms=options.vad_speech_pad_ms)
    chunks = get_speech_timestamps(samples, vad, sampling_rate=SAMPLE_RATE)
    if chunks and options.vad_onset_floor > 0:
        reach_back_to_onsets(chunks, speech_probabilities(samples), options.vad_threshold, options.vad_onset_floor)
    return chunks


def speech_probabilities(samples: np.ndarray) -> np.ndarray:
    """Silero's speech probability per 32 ms window, as get_speech_timestamps computes it."""
    from faster_whisper.vad import get_vad_model

    padded = np.pad(samples, (0, _WINDOW - samples.shape[0] % _WINDOW))
    return np.asarray(get_vad_model()(padded)).reshape(-1)


def reach_back_to_onsets(chunks: list[dict[str, int]], probabilities: np.ndarray, threshold: float,
                         floor: float) -> None:
    """Move each chunk's start back to ONSET_LEAD_S before the run of windows at or above ``floor`` that leads
    into its first window at ``threshold``; only ever earlier, by MAX_REACH_S at most, never before the end of
    the chunk before it."""
    previous_end = 0
    for chunk in chunks:
        trigger = chunk["start"] // _WINDOW
        while trigger < len(probabilities) and probabilities[trigger] < threshold:
            trigger += 1
        rise = trigger
        while rise > 0 and probabilities[rise - 1] >= floor:
            rise -= 1
        start = max(rise * _WINDOW - int(ONSET_LEAD_S * SAMPLE_RATE),
                    chunk["start"] - int(MAX_REACH_S * SAMPLE_RATE), previous_end)
        chunk["start"] = min(chunk["start"], start)
        previous_end = chunk["end"]


def join_chunks(samples: np.ndarray, chunks: list[dict[str, int]]) -> np.ndarray:
    """The chunks' audio, one after the other (what Whisper decodes)."""
    from faster_whisper.vad import collect_chunks

    return np.concatenate(collect_chunks(samples, chunks, sampling_rate=SAMPLE_RATE)[0])
