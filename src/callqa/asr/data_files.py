"""The asr stage's YAML data files (hallucinations.yaml, roles/phrases.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_sections(path: Path, sections: tuple[str, ...]) -> dict[str, Any]:
    """A YAML mapping of ``sections``; an unknown section is an error naming the file and the valid ones."""
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    unknown = set(data) - set(sections)
    if unknown:
        raise ValueError(f"{path}: unknown section(s) {sorted(unknown)}; valid: {', '.join(sections)}")
    return data
