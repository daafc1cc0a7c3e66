"""The CTranslate2 -> openai-whisper converter.

Round trip on a tiny random Whisper: openai-whisper weights are written into
a CTranslate2 model.bin by CTranslate2's own serializer (fused the way its
Transformers converter fuses them, optionally quantized), and the converter
must give the original weights back. On the embedded model, the converted
checkpoint must load strictly and compute what CTranslate2 computes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from callqa.asr.convert import (
    alignment_heads_blob,
    convert_ct2_to_openai,
    ct2_to_openai_state,
    openai_checkpoint_for,
    read_ct2_model,
)

whisper = pytest.importorskip("whisper")
specs = pytest.importorskip("ctranslate2.specs")

TINY = dict(n_mels=80, n_audio_ctx=12, n_audio_state=16, n_audio_head=2, n_audio_layer=2,
            n_vocab=40, n_text_ctx=6, n_text_state=16, n_text_head=2, n_text_layer=2)  # fmt: skip


def _tiny_openai_state() -> dict[str, np.ndarray]:
    torch.manual_seed(0)
    model = whisper.model.Whisper(whisper.model.ModelDimensions(**TINY))
    with torch.no_grad():
        # LayerNorms start at 1/0 (randomized so a swapped gamma/beta would show);
        # the text positions start uninitialized (torch.empty).
        for name, p in model.named_parameters():
            if "ln" in name or name == "decoder.positional_embedding":
                p.uniform_(-1, 1)
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def _write_ct2(state: dict[str, np.ndarray], out: Path, quantization: str | None) -> None:
    """openai-whisper -> CTranslate2, fused as CTranslate2's WhisperLoader does (key projection: zero bias)."""
    from ctranslate2.specs import whisper_spec

    state = {k: v.copy() for k, v in state.items()}  # CTranslate2 quantizes in place
    spec = whisper_spec.WhisperSpec(TINY["n_audio_layer"], TINY["n_audio_head"], TINY["n_text_layer"], TINY["n_text_head"])

    def norm(s, prefix):
        s.gamma, s.beta = state[f"{prefix}.weight"], state[f"{prefix}.bias"]

    def linear(s, prefix):
        s.weight, s.bias = state[f"{prefix}.weight"], state[f"{prefix}.bias"]

    def fused(s, prefix, parts):
        s.weight = np.concatenate([state[f"{prefix}.{p}.weight"] for p in parts])
        s.bias = np.concatenate([state.get(f"{prefix}.{p}.bias", np.zeros(TINY["n_audio_state"], np.float32)) for p in parts])

    def block(s, prefix, cross):
        norm(s.self_attention.layer_norm, f"{prefix}.attn_ln")
        fused(s.self_attention.linear[0], f"{prefix}.attn", ["query", "key", "value"])
        linear(s.self_attention.linear[1], f"{prefix}.attn.out")
        if cross:
            norm(s.attention.layer_norm, f"{prefix}.cross_attn_ln")
            linear(s.attention.linear[0], f"{prefix}.cross_attn.query")
            fused(s.attention.linear[1], f"{prefix}.cross_attn", ["key", "value"])
            linear(s.attention.linear[2], f"{prefix}.cross_attn.out")
        norm(s.ffn.layer_norm, f"{prefix}.mlp_ln")
        linear(s.ffn.linear_0, f"{prefix}.mlp.0")
        linear(s.ffn.linear_1, f"{prefix}.mlp.2")

    linear(spec.encoder.conv1, "encoder.conv1")
    linear(spec.encoder.conv2, "encoder.conv2")
    spec.encoder.position_encodings.encodings = state["encoder.positional_embedding"]
    for i, layer in enumerate(spec.encoder.layer):
        block(layer, f"encoder.blocks.{i}", cross=False)
    norm(spec.encoder.layer_norm, "encoder.ln_post")
    spec.decoder.embeddings.weight = state["decoder.token_embedding.weight"]
    spec.decoder.projection.weight = state["decoder.token_embedding.weight"]  # tied: becomes an alias
    spec.decoder.position_encodings.encodings = state["decoder.positional_embedding"]
    for i, layer in enumerate(spec.decoder.layer):
        block(layer, f"decoder.blocks.{i}", cross=True)
    norm(spec.decoder.layer_norm, "decoder.ln")
    spec.register_vocabulary([f"t{i}" for i in range(TINY["n_vocab"])])
    spec.config.alignment_heads = [[1, 0], [1, 1]]
    spec.validate()
    spec.optimize(quantization=quantization)
    out.mkdir(parents=True)
    spec.save(str(out))


@pytest.mark.parametrize(
    "quantization, tolerance",
    [("float32", 0.0), ("float16", 2e-3), ("int8_float32", 0.02), ("int16", 2e-3)],
)
def test_round_trip_recovers_openai_weights(tmp_path, quantization, tolerance):
    original = _tiny_openai_state()
    _write_ct2(original, tmp_path / "ct2", quantization)
    stored = read_ct2_model(tmp_path / "ct2" / "model.bin")
    assert stored.aliases == {"decoder/projection/weight": "decoder/embeddings/weight"}
    converted = ct2_to_openai_state(tmp_path / "ct2")

    assert converted.dims == TINY
    assert converted.alignment_heads == [[1, 0], [1, 1]]
    assert set(converted.state) == set(original)
    for name, value in original.items():
        got = converted.state[name]
        assert got.shape == value.shape, name
        scale = max(float(np.abs(value).max()), 1e-6)
        assert float(np.abs(got - value).max()) <= tolerance * scale, name


def test_checkpoint_loads_strictly_and_keeps_alignment_heads(tmp_path):
    _write_ct2(_tiny_openai_state(), tmp_path / "ct2", "float16")
    out = convert_ct2_to_openai(tmp_path / "ct2", tmp_path / "tiny.pt")
    checkpoint = torch.load(out, weights_only=True)
    assert checkpoint["model_state_dict"]["encoder.conv1.weight"].dtype == torch.float16  # as stored
    model = whisper.model.Whisper(whisper.model.ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"], strict=True)
    model.set_alignment_heads(checkpoint["alignment_heads"])
    assert model.alignment_heads.to_dense().nonzero().tolist() == [[1, 0], [1, 1]]
    assert not list(tmp_path.glob(".tiny.pt.tmp-*"))


def test_alignment_heads_blob_matches_openai_table_for_base():
    # OpenAI's own table entry for base, built by the same gzip+base85 encoding.
    base_heads = [[3, 1], [4, 2], [4, 3], [4, 7], [5, 1], [5, 2], [5, 4], [5, 6]]
    ours = whisper.model.Whisper(whisper.model.ModelDimensions(**{**TINY, "n_text_layer": 6, "n_text_head": 8}))
    ours.set_alignment_heads(alignment_heads_blob(base_heads, 6, 8))
    theirs = whisper.model.Whisper(whisper.model.ModelDimensions(**{**TINY, "n_text_layer": 6, "n_text_head": 8}))
    theirs.set_alignment_heads(whisper._ALIGNMENT_HEADS["base"])
    assert torch.equal(ours.alignment_heads.to_dense(), theirs.alignment_heads.to_dense())


def test_rejects_a_non_whisper_model(tmp_path):
    (tmp_path / "m").mkdir()
    name = b"TransformerSpec\0"
    (tmp_path / "m" / "model.bin").write_bytes(
        (6).to_bytes(4, "little") + len(name).to_bytes(2, "little") + name + (1).to_bytes(4, "little") + bytes(8)
    )
    with pytest.raises(ValueError, match="not a Whisper model"):
        ct2_to_openai_state(tmp_path / "m")


def test_rejects_a_truncated_model_bin(tmp_path):
    _write_ct2(_tiny_openai_state(), tmp_path / "ct2", "float32")
    model_bin = tmp_path / "ct2" / "model.bin"
    whole = model_bin.read_bytes()
    for cut in (5000, 3, len(whole) - 2):  # inside a tensor, inside the header, inside the alias table
        model_bin.write_bytes(whole[:cut])
        with pytest.raises(ValueError, match="truncated"):
            read_ct2_model(model_bin)


@pytest.mark.asr
def test_embedded_model_converts_and_matches_ctranslate2(embedded_model):
    """The converted base computes what CTranslate2 computes on the same weights."""
    import ctranslate2

    checkpoint = openai_checkpoint_for(embedded_model)
    assert json.loads(checkpoint.with_suffix(".json").read_text())["identity"] == embedded_model.sha256
    model = whisper.load_model(str(checkpoint), device="cpu")
    assert model.dims.n_audio_layer == 6 and model.dims.n_vocab == 51865

    audio = np.random.default_rng(0).standard_normal(16000 * 5).astype(np.float32) * 0.1
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), model.dims.n_mels)[None]
    reference = ctranslate2.models.Whisper(str(embedded_model.path), device="cpu", compute_type="float32")
    ct2_out = np.array(reference.encode(ctranslate2.StorageView.from_array(mel.numpy())))
    with torch.no_grad():
        torch_out = model.encoder(mel).numpy()
    assert np.abs(torch_out - ct2_out).max() < 1e-2 * np.abs(ct2_out).max()

    ct2_langs = dict(reference.detect_language(ctranslate2.StorageView.from_array(mel.numpy()))[0])
    with torch.no_grad():
        _, torch_langs = model.detect_language(mel)
    for token, probability in list(ct2_langs.items())[:5]:
        assert torch_langs[0][token.strip("<|>")] == pytest.approx(probability, abs=1e-3)
