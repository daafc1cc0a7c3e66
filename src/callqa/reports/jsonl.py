"""calls.jsonl: one JSON object per call, in input order, and its JSON Schema.

The object is the stable output contract (docs/output-format.md); the schema
file ships in the package (``callqa/reports/calls.schema.json``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..files import atomic_path

if TYPE_CHECKING:
    from ..scoring.score import CallScore

CALLS_FILENAME = "calls.jsonl"
SCHEMA_RESOURCE = "calls.schema.json"


def write_calls_jsonl(path: str | Path, calls: Iterable["CallScore"]) -> Path:
    """Write the batch atomically: a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as out:
        for call in calls:
            out.write(json.dumps(call.to_json(), ensure_ascii=False) + "\n")
    return path


def read_calls_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The objects of a calls.jsonl; a broken line is an error naming its line number."""
    path = Path(path)
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{number}: not JSON: {e.msg}") from None
    return rows


@cache
def calls_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one calls.jsonl object."""
    text = resources.files("callqa.reports").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    return json.loads(text)


def schema_errors(call: dict[str, Any]) -> list[str]:
    """Where a calls.jsonl object breaks the schema, one message per problem (empty when valid)."""
    import jsonschema  # only validation needs it

    validator = jsonschema.Draft202012Validator(calls_schema())
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(call), key=lambda e: list(map(str, e.absolute_path)))
    ]
