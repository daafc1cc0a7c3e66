"""Rebuild an openai-whisper checkpoint from a CTranslate2 Whisper model.

openai-whisper only loads its own ``.pt`` checkpoints, and no model hub is
reachable, so the reference backend runs on the very weights faster-whisper
uses. CTranslate2 has no Python reader for ``model.bin``; the format (see
CTranslate2 ``src/models/model.cc`` and ``python/ctranslate2/specs/model_spec.py``):

    u32 binary_version
    [v>=2] str spec_name, u32 spec_revision
    u32 n_variables, each: str name, u8 rank, u32 dims[rank],
        [v>=4] u8 dtype_id, u32 n_bytes | [v<4] u8 item_size, u32 n_items
        then the raw little-endian data
    [v>=3] u32 n_aliases, each: str alias, str target
    (str = u16 length including a trailing NUL, then the bytes)

The HF->CTranslate2 converter fuses self-attention q/k/v into one
``linear_0`` and cross-attention k/v into ``linear_1``; concatenation is
along the output rows, so splitting them back is exact. The key projection
has no bias in Whisper, so its fused slice of the bias is zero and is dropped
(a key bias would not change attention anyway: softmax ignores a constant
added to every score of a query).
"""

from __future__ import annotations

import base64
import gzip
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..files import atomic_path, atomic_write
from .models import ModelRef, file_lock, converted_dir

SUPPORTED_BINARY_VERSION = 6
# Order of CTranslate2's DataType enum (include/ctranslate2/types.h).
_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
_ITEM_SIZE_DTYPES = {4: "float32", 2: "int16", 1: "int8"}  # binary versions < 4


@dataclass
class Ct2Model:
    spec: str
    revision: int
    binary_version: int
    variables: dict[str, np.ndarray] = field(default_factory=dict)  # bfloat16 arrives as float32
    aliases: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> np.ndarray | None:
        name = self.aliases.get(name, name)
        return self.variables.get(name)

    def scalar(self, name: str) -> int:
        value = self.get(name)
        if value is None:
            raise ValueError(f"model.bin has no variable {name!r}")
        return int(value.reshape(-1)[0])


class _Reader:
    def __init__(self, data: memoryview) -> None:
        self.data, self.offset = data, 0

    def take(self, fmt: str) -> Any:
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values[0] if len(values) == 1 else values

    def string(self) -> str:
        return bytes(self.bytes_(self.take("H"))).rstrip(b"\0").decode("utf-8")

    def bytes_(self, count: int) -> memoryview:
        if self.offset + count > len(self.data):
            raise ValueError("model.bin is truncated")
        chunk = self.data[self.offset : self.offset + count]
        self.offset += count
        return chunk


def read_ct2_model(model_bin: Path) -> Ct2Model:
    """Parse a CTranslate2 model.bin into numpy arrays (copies, not views of the file)."""
    try:
        return _parse(memoryview(Path(model_bin).read_bytes()), model_bin)
    except (struct.error, IndexError, KeyError, UnicodeDecodeError) as e:
        raise ValueError(f"{model_bin}: not a readable CTranslate2 model.bin (truncated or damaged: {e})") from e


def _parse(data: memoryview, model_bin: Path) -> Ct2Model:
    reader = _Reader(data)
    version = reader.take("I")
    if not 1 <= version <= SUPPORTED_BINARY_VERSION:
        raise ValueError(f"{model_bin}: unsupported CTranslate2 binary version {version}")
    spec, revision = (reader.string(), reader.take("I")) if version >= 2 else ("", 1)
    model = Ct2Model(spec=spec, revision=revision, binary_version=version)
    for _ in range(reader.take("I")):
        name = reader.string()
        rank = reader.take("B")
        shape = tuple(reader.take("I") for _ in range(rank))
        if version >= 4:
            dtype = _DTYPES[reader.take("B")]
            n_bytes = reader.take("I")
        else:
            dtype = _ITEM_SIZE_DTYPES[reader.take("B")]
            n_bytes = reader.take("I") * np.dtype(dtype).itemsize
        raw = reader.bytes_(n_bytes)
        if dtype == "bfloat16":  # numpy has no bfloat16: widen to float32 exactly
            array = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            array = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).copy()
        model.variables[name] = array.reshape(shape)
    if version >= 3:
        for _ in range(reader.take("I")):
            alias = reader.string()
            model.aliases[alias] = reader.string()
    return model


def _weight(model: Ct2Model, scope: str) -> np.ndarray:
    """A float32 weight, dequantized if CTranslate2 stored it as int8/int16."""
    weight = model.get(f"{scope}/weight")
    if weight is None:
        raise ValueError(f"model.bin has no variable {scope}/weight")
    if weight.dtype in (np.int8, np.int16):
        scale = model.get(f"{scope}/weight_scale")
        if scale is None:
            raise ValueError(f"{scope}/weight is quantized but has no weight_scale")
        # CTranslate2 stores round(w * scale), one scale per output row (int8) or one for all (int16).
        scale = scale.astype(np.float32).reshape((-1,) + (1,) * (weight.ndim - 1)) if scale.size > 1 else scale
        return weight.astype(np.float32) / scale.astype(np.float32)
    return weight.astype(np.float32)


def _vector(model: Ct2Model, name: str) -> np.ndarray:
    value = model.get(name)
    if value is None:
        raise ValueError(f"model.bin has no variable {name!r}")
    return value.astype(np.float32)


def _layer_count(model: Ct2Model, stack: str) -> int:
    count = 0
    while f"{stack}/layer_{count}/ffn/linear_0/weight" in model.variables:
        count += 1
    return count


def _sinusoids(length: int, channels: int) -> np.ndarray:
    """openai-whisper's encoder position table, for old models that do not store it."""
    increment = np.log(10000) / (channels // 2 - 1)
    inv_timescales = np.exp(-increment * np.arange(channels // 2))
    scaled = np.arange(length)[:, None] * inv_timescales[None, :]
    return np.concatenate([np.sin(scaled), np.cos(scaled)], axis=1).astype(np.float32)


def _put_linear(state: dict, prefix: str, weight: np.ndarray, bias: np.ndarray | None) -> None:
    state[f"{prefix}.weight"] = weight
    if bias is not None:
        state[f"{prefix}.bias"] = bias


def _put_norm(state: dict, model: Ct2Model, prefix: str, scope: str) -> None:
    state[f"{prefix}.weight"] = _vector(model, f"{scope}/gamma")
    state[f"{prefix}.bias"] = _vector(model, f"{scope}/beta")


def _put_split(state: dict, model: Ct2Model, scope: str, prefixes: list[str]) -> None:
    """Split a fused projection into equal row blocks; the key block has no bias in Whisper."""
    weight = _weight(model, scope)
    bias = model.get(f"{scope}/bias")
    n = len(prefixes)
    for i, (w, prefix) in enumerate(zip(np.split(weight, n), prefixes)):
        b = np.split(bias.astype(np.float32), n)[i] if bias is not None else None
        _put_linear(state, prefix, w, None if prefix.endswith(".key") else b)


def _put_block(state: dict, model: Ct2Model, ct2: str, ow: str, cross: bool) -> None:
    _put_norm(state, model, f"{ow}.attn_ln", f"{ct2}/self_attention/layer_norm")
    _put_split(state, model, f"{ct2}/self_attention/linear_0", [f"{ow}.attn.{p}" for p in ("query", "key", "value")])
    _put_linear(state, f"{ow}.attn.out", _weight(model, f"{ct2}/self_attention/linear_1"),
                _vector(model, f"{ct2}/self_attention/linear_1/bias"))
    if cross:
        _put_norm(state, model, f"{ow}.cross_attn_ln", f"{ct2}/attention/layer_norm")
        _put_linear(state, f"{ow}.cross_attn.query", _weight(model, f"{ct2}/attention/linear_0"),
                    _vector(model, f"{ct2}/attention/linear_0/bias"))
        _put_split(state, model, f"{ct2}/attention/linear_1", [f"{ow}.cross_attn.{p}" for p in ("key", "value")])
        _put_linear(state, f"{ow}.cross_attn.out", _weight(model, f"{ct2}/attention/linear_2"),
                    _vector(model, f"{ct2}/attention/linear_2/bias"))
    _put_norm(state, model, f"{ow}.mlp_ln", f"{ct2}/ffn/layer_norm")
    _put_linear(state, f"{ow}.mlp.0", _weight(model, f"{ct2}/ffn/linear_0"), _vector(model, f"{ct2}/ffn/linear_0/bias"))
    _put_linear(state, f"{ow}.mlp.2", _weight(model, f"{ct2}/ffn/linear_1"), _vector(model, f"{ct2}/ffn/linear_1/bias"))


@dataclass
class OpenAIWeights:
    dims: dict[str, int]  # whisper.model.ModelDimensions fields
    state: dict[str, np.ndarray]  # float32, openai-whisper names
    alignment_heads: list[list[int]] | None  # [[layer, head], ...] from config.json
    stored_half: bool  # CTranslate2 stored float16 weights


def ct2_to_openai_state(ct2_dir: Path) -> OpenAIWeights:
    """Read a CTranslate2 Whisper directory and rename/split its weights for openai-whisper."""
    ct2_dir = Path(ct2_dir)
    model = read_ct2_model(ct2_dir / "model.bin")
    if model.spec and model.spec != "WhisperSpec":
        raise ValueError(f"{ct2_dir} holds a {model.spec}, not a Whisper model")
    config_path = ct2_dir / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}

    projection = model.aliases.get("decoder/projection/weight")
    if "decoder/projection/weight" in model.variables and not np.array_equal(
        _weight(model, "decoder/projection"), _weight(model, "decoder/embeddings")
    ):
        raise ValueError("the output projection is not tied to the token embedding; openai-whisper cannot hold it")
    if projection not in (None, "decoder/embeddings/weight"):
        raise ValueError(f"unexpected alias for decoder/projection/weight: {projection}")

    state: dict[str, np.ndarray] = {}
    n_audio_layer, n_text_layer = _layer_count(model, "encoder"), _layer_count(model, "decoder")
    conv1 = _weight(model, "encoder/conv1")
    n_audio_state = conv1.shape[0]
    for conv in ("conv1", "conv2"):
        _put_linear(state, f"encoder.{conv}", _weight(model, f"encoder/{conv}"), _vector(model, f"encoder/{conv}/bias"))
    audio_positions = model.get("encoder/position_encodings/encodings")
    n_audio_ctx = audio_positions.shape[0] if audio_positions is not None else 1500  # Whisper's 30 s window
    state["encoder.positional_embedding"] = (
        audio_positions.astype(np.float32) if audio_positions is not None else _sinusoids(n_audio_ctx, n_audio_state)
    )
    for i in range(n_audio_layer):
        _put_block(state, model, f"encoder/layer_{i}", f"encoder.blocks.{i}", cross=False)
    _put_norm(state, model, "encoder.ln_post", "encoder/layer_norm")

    embeddings = _weight(model, "decoder/embeddings")
    state["decoder.token_embedding.weight"] = embeddings
    text_positions = _vector(model, "decoder/position_encodings/encodings")
    state["decoder.positional_embedding"] = text_positions
    for i in range(n_text_layer):
        _put_block(state, model, f"decoder/layer_{i}", f"decoder.blocks.{i}", cross=True)
    _put_norm(state, model, "decoder.ln", "decoder/layer_norm")

    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(n_audio_ctx),
        "n_audio_state": int(n_audio_state),
        "n_audio_head": model.scalar("encoder/num_heads"),
        "n_audio_layer": n_audio_layer,
        "n_vocab": int(embeddings.shape[0]),
        "n_text_ctx": int(text_positions.shape[0]),
        "n_text_state": int(embeddings.shape[1]),
        "n_text_head": model.scalar("decoder/num_heads"),
        "n_text_layer": n_text_layer,
    }
    heads = config.get("alignment_heads")
    return OpenAIWeights(
        dims=dims,
        state=state,
        alignment_heads=[[int(layer), int(head)] for layer, head in heads] if heads else None,
        stored_half=model.get("decoder/embeddings/weight").dtype == np.float16,
    )


def alignment_heads_blob(heads: list[list[int]], n_text_layer: int, n_text_head: int) -> bytes:
    """Encode heads the way openai-whisper ships them (gzip, base85), for ``Whisper.set_alignment_heads``."""
    mask = np.zeros((n_text_layer, n_text_head), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes(), mtime=0))


def convert_ct2_to_openai(ct2_dir: Path, out_pt: Path) -> Path:
    """Write an openai-whisper checkpoint ``{'dims', 'model_state_dict', 'alignment_heads'}``.

    ``whisper.load_model(out_pt)`` loads it (it ignores the extra key; the
    openai-whisper backend applies it). Written to a temporary file and renamed.
    """
    import torch

    weights = ct2_to_openai_state(ct2_dir)
    # Keep float16 when CTranslate2 stored float16, as OpenAI's own checkpoints are; dequantized int8 stays float32.
    dtype = torch.float16 if weights.stored_half else torch.float32
    dims = weights.dims
    checkpoint: dict[str, Any] = {
        "dims": dims,
        "model_state_dict": {k: torch.from_numpy(np.ascontiguousarray(v)).to(dtype) for k, v in weights.state.items()},
    }
    if weights.alignment_heads:
        checkpoint["alignment_heads"] = alignment_heads_blob(
            weights.alignment_heads, dims["n_text_layer"], dims["n_text_head"]
        )
    out_pt = Path(out_pt)
    out_pt.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_pt) as tmp:
        torch.save(checkpoint, tmp)
    return out_pt


def openai_checkpoint_for(ref: ModelRef) -> Path:
    """The .pt openai-whisper loads for a model: itself, or its conversion, made once into the cache.

    A stamp beside the conversion records which weights it came from, so a
    replaced models/NAME directory is converted again rather than served stale.
    """
    if ref.kind == "openai-pt":
        return ref.path
    out = converted_dir() / f"{ref.name}.pt"
    stamp_path = out.with_suffix(".json")
    source = ref.weights_file.stat()
    stamp = {
        "source": str(ref.weights_file),
        "size": source.st_size,
        # A recorded sha256 identifies the weights; otherwise the file's mtime stands in for it.
        "identity": ref.sha256 or str(source.st_mtime_ns),
    }

    def fresh() -> bool:
        return out.is_file() and stamp_path.is_file() and json.loads(stamp_path.read_text(encoding="utf-8")) == stamp

    if fresh():
        return out
    with file_lock(out.with_name(f".{out.name}.lock")):
        if not fresh():
            for stale in out.parent.glob(f".{out.name}.*.tmp"):  # left by a killed process; we hold the lock
                stale.unlink(missing_ok=True)
            convert_ct2_to_openai(ref.path, out)
            atomic_write(stamp_path, json.dumps(stamp, indent=1))
    return out
