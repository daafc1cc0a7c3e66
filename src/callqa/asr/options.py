"""Recognition options shared by both backends.

Like faster-whisper's TranscriptionOptions: accepts a dict or an instance,
validates when built, and is recorded in TranscriptionInfo so that a cached
transcript is only reused for the same options.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from ..errors import UsageError

# Bias recognition toward service vocabulary (工号, 致电, 客服 are common misses on
# phone audio) and Simplified script. Deliberately no digits and no whole check
# phrases: a prompt holding 工号八零二三 biases Whisper toward hearing 8023 as any ID, and a
# prompt holding a greeting or closing could put words in an agent's mouth.
# On the sample calls this gave the lowest CER of the prompts tried (7.1 %,
# against 8.2 % for a phrase prompt and 9.4 % for a bare one).
# Companies extend it with their own name and products (--prompt, --hotword).
DEFAULT_INITIAL_PROMPT = "以下是普通话的客服电话录音。常用词：工号、致电、客服、订单、快递、退款。"

BACKENDS = ("faster-whisper", "openai-whisper")
# Options that change only what is done with Whisper's output.
POSTPROCESSING_OPTIONS = ("auto_swap",)
# Options added later, with the default that decodes as before they existed: left out of the cache keys at
# that default, so transcripts cached before them stay valid.
_KEYED_WHEN_SET = {"batch_size": 0, "chunk_length": 30, "second_look": True, "vad_speech_pad_ms": 400}


class AsrOptionsError(UsageError):
    """An ASR option that can't be used; the message names it and the valid values."""


@dataclass(frozen=True)
class AsrOptions:
    backend: str = "faster-whisper"
    model: str = "base"  # a name from `callqa models`
    language: str = "zh"
    beam_size: int = 5
    initial_prompt: str | None = DEFAULT_INITIAL_PROMPT
    hotwords: tuple[str, ...] = ()  # appended to the prompt; company names, product names
    vad: bool = True
    # Silero's speech probability needed to keep audio. Its default, 0.5, lost whole
    # agent turns on a phone-band sample with line noise added (the banned 不行 among
    # them); 0.35 kept them and changed nothing on the clean samples.
    vad_threshold: float = 0.35
    # Audio kept before and after each stretch the VAD calls speech (faster-whisper's speech_pad_ms). Silero
    # wakes late after silence, so 400 ms clips some first syllables (您好 -> 好); 800 gave them back (dev
    # greeting F1 0.89 -> 0.91, banned 0.77 -> 0.82) but kept the silence of pauses under 1.6 s in what Whisper
    # decodes, and on some channels Whisper base then wrote only the first sentence of 26 s of turns (dev
    # closing 0.94 -> 0.91, sentiment 0.92 -> 0.90). Try it on lines whose first syllables go missing.
    vad_speech_pad_ms: int = 400
    # Each chunk's start reaches back over the windows before the VAD's trigger whose speech probability stays at
    # this or above (asr/vad.py; 0: off). Silero passed 0.35 half a second into the first words of some voices
    # and codecs, and Whisper then dropped the first phrase (下午好, 不行). On corpus dev, utterances starting over
    # 50 ms before their chunk went from 38 to 24 of 1,727 at 0.1 as at 0.05, with 57 chunks moved instead of 79
    # (each moved chunk re-cuts Whisper's windows after it, so fewer is steadier). At 0.1, errors fell 63 -> 59 on
    # dev (banned 0.74 -> 0.77, sentiment 0.92 -> 0.93) and 40 -> 39 on test, CER within 0.1 point; 0.05 gave the
    # same on dev and 42 on test. The batched pipeline (batch_size) runs faster-whisper's own VAD, without it.
    vad_onset_floor: float = 0.1
    # Word times let mono role assignment split a segment where the voice changes.
    word_timestamps: bool = True
    # Hallucination guards (Whisper's own defaults, applied by both backends).
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    compute_type: str = "int8"  # faster-whisper on CPU
    # faster-whisper's BatchedInferencePipeline: a channel's VAD chunks decoded N at a time (0: one
    # after the other, as Whisper does). bench/throughput.py and bench/accuracy.py measure the trade.
    batch_size: int = 0
    # Seconds of audio Whisper decodes at a time (faster-whisper's chunk_length; Whisper was trained on 30).
    # 15 looked better on 6 calls but on the corpus test split raised agent CER 24.7 % -> 30.4 % for 17 % more
    # CPU (bench/accuracy.py --asr chunk_length=15): 30 stays.
    chunk_length: int = 30
    cpu_threads: int = 0  # 0: the backend's default
    # Speech the VAD heard that Whisper wrote nothing for is decoded again on its own (second_look.py). On corpus
    # dev it gave back 12 of 20 such stretches (a whole agent channel after 13 s on one call) for 2 % more CPU.
    # So are the segments Whisper wrote its prompt back into (6 of the corpus's 9 read again).
    second_look: bool = True
    # Post-processing, not recognition: a stereo call whose words say its channels are the other way round
    # (the customer's channel uses the service formulas) is swapped, and the transcript says so.
    auto_swap: bool = False

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise AsrOptionsError(f"unknown backend {self.backend!r}; valid: {', '.join(BACKENDS)}")
        if self.beam_size < 1:
            raise AsrOptionsError(f"beam_size must be >= 1, got {self.beam_size}")
        if not 0.0 <= self.no_speech_threshold <= 1.0:
            raise AsrOptionsError(f"no_speech_threshold must be in [0, 1], got {self.no_speech_threshold}")
        if not 0.0 < self.vad_threshold < 1.0:
            raise AsrOptionsError(f"vad_threshold must be in (0, 1), got {self.vad_threshold}")
        if not 0.0 <= self.vad_onset_floor < 1.0:  # at vad_threshold or above, no start moves
            raise AsrOptionsError(f"vad_onset_floor must be in [0, 1) (0: off), got {self.vad_onset_floor}")
        if not 0 <= self.vad_speech_pad_ms <= 2000:
            raise AsrOptionsError(f"vad_speech_pad_ms must be 0-2000, got {self.vad_speech_pad_ms}")
        if self.batch_size < 0:
            raise AsrOptionsError(f"batch_size must be >= 0 (0: not batched), got {self.batch_size}")
        if self.batch_size and self.backend != "faster-whisper":
            raise AsrOptionsError(f"batch_size needs the faster-whisper backend, not {self.backend!r}")
        if self.batch_size and not self.vad:
            raise AsrOptionsError("batch_size needs vad: the batched pipeline decodes the VAD's speech chunks")
        if not 1 <= self.chunk_length <= 30:
            raise AsrOptionsError(f"chunk_length must be 1-30 seconds, got {self.chunk_length}")
        if self.chunk_length != 30 and self.backend != "faster-whisper":
            raise AsrOptionsError(f"chunk_length needs the faster-whisper backend, not {self.backend!r}")
        if self.compression_ratio_threshold <= 0:
            raise AsrOptionsError("compression_ratio_threshold must be > 0")
        if isinstance(self.hotwords, list):  # accept lists from TOML / JSON
            object.__setattr__(self, "hotwords", tuple(self.hotwords))

    @classmethod
    def build(cls, value: "AsrOptions | dict[str, Any] | None" = None, **overrides: Any) -> "AsrOptions":
        if value is None:
            value = {}
        if isinstance(value, AsrOptions):
            value = asdict(value)
        known = {f.name for f in fields(cls)}
        merged = {**value, **{k: v for k, v in overrides.items() if v is not None}}
        unknown = sorted(set(merged) - known)
        if unknown:
            raise AsrOptionsError(f"unknown ASR option(s): {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
        return cls(**merged)

    @property
    def prompt(self) -> str | None:
        """The text actually given to Whisper as its previous-context prompt."""
        parts = [p for p in (self.initial_prompt, "，".join(self.hotwords)) if p]
        return "，".join(parts) or None

    def cache_key_fields(self) -> dict[str, Any]:
        """Everything that can change the transcript. cpu_threads only changes speed."""
        d = asdict(self)
        d.pop("cpu_threads")
        for name, default in _KEYED_WHEN_SET.items():
            if d[name] == default:
                d.pop(name)
        return d

    def recognition_fields(self) -> dict[str, Any]:
        """Everything that can change what Whisper returns: the recognition cache's key. Post-processing
        options are left out, so changing one re-runs the cheap steps, never Whisper."""
        d = self.cache_key_fields()
        for name in POSTPROCESSING_OPTIONS:
            d.pop(name)
        return d
