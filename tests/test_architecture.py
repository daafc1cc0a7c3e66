"""Data flows one way, and no module imports itself round a loop.

Every import in the package is resolved to the module it loads, whatever its
form (``import callqa.x``, ``from callqa.x import y``, ``from ..x import y``,
``from .. import x``, ``from ...x.y import z``), inside functions and
TYPE_CHECKING blocks included: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "callqa"
# Stages left to right; a module may import its own stage and the stages to its left.
# Top-level modules (callqa/__init__.py, files.py) are shared by every stage.
STAGES = ["audio", "text", "asr", "checks", "scoring", "engines", "reports", "review", "cli"]


def module_name(path: Path) -> str:
    parts = ["callqa", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(base: str, name: str | None) -> str:
    """The module ``from base import name`` loads: base.name when that is a module, else base."""
    if name and f"{base}.{name}" in MODULES:
        return f"{base}.{name}"
    return base


def imports_of(module: str) -> set[str]:
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "callqa"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                if node.module:
                    base = f"{base}.{node.module}"
            elif node.module and node.module.split(".")[0] == "callqa":
                base = node.module
            else:
                continue
            found |= {_resolve(base, alias.name) for alias in node.names}
    return {m for m in found if m in MODULES and m != module}


GRAPH = {m: imports_of(m) for m in MODULES}


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def test_the_resolver_sees_every_import_form():
    assert "callqa.asr.transcript" in GRAPH["callqa.checks.base"]  # from ..asr.transcript import
    assert "callqa.text.normalize" in GRAPH["callqa.text"]  # from .normalize import (in __init__)
    assert "callqa.checks.base" in GRAPH["callqa.checks.rules.greeting"]  # from ..base import
    assert "callqa.asr.transcript" in GRAPH["callqa.checks.rules.greeting"]  # from ...asr.transcript import
    assert "callqa.review.views" in GRAPH["callqa.review.app"]  # from . import views


@pytest.mark.parametrize("stage", STAGES)
def test_stage_imports_only_itself_and_stages_upstream(stage):
    allowed = set(STAGES[: STAGES.index(stage) + 1])
    offenders = {
        module: sorted(target for target in targets if stage_of(target) and stage_of(target) not in allowed)
        for module, targets in GRAPH.items()
        if stage_of(module) == stage
    }
    assert {m: t for m, t in offenders.items() if t} == {}, f"{stage} reaches downstream"


def test_no_import_cycles():
    """Tarjan's strongly connected components: any component of two or more modules is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert cycles == []
