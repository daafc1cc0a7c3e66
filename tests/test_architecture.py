"""Data flows one way: no module imports from a stage to its right."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "callqa"
STAGES = ["audio", "asr", "checks", "scoring", "reports", "review"]


def _imported_stages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    stage_of_file = path.relative_to(PACKAGE).parts[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and node.module.startswith("callqa."):
                found.add(node.module.split(".")[1])
            elif node.level == 2 and node.module:  # from ..stage import x
                found.add(node.module.split(".")[0])
            elif node.level == 1 and node.module is not None:
                found.add(stage_of_file)
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("callqa.")}
    return found & set(STAGES)


@pytest.mark.parametrize("stage", STAGES)
def test_stage_imports_only_itself_and_stages_upstream(stage):
    allowed = set(STAGES[: STAGES.index(stage) + 1])
    offenders = {
        str(p.relative_to(PACKAGE)): sorted(_imported_stages(p) - allowed)
        for p in sorted((PACKAGE / stage).rglob("*.py"))
        if _imported_stages(p) - allowed
    }
    assert offenders == {}, f"{stage} reaches downstream: {offenders}"
