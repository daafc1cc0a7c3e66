"""Lazy public names for a package whose submodules load heavy libraries (PyAV, torch, pandas).

A package lists its public names in ``__all__`` and where each lives; the
submodule is imported on first use (PEP 562), so ``from callqa.asr.transcript
import Transcript`` never pays for the backends.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable


def lazy_exports(package: str, where: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving ``where[name]`` (a submodule of ``package``) on first use."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__
