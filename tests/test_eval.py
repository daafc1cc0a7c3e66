"""eval: precision/recall/F1 per check against a labels CSV, and `callqa eval` exit codes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callqa.cli import app
from callqa.reports.eval import LabelsError, evaluate, load_labels

HEADER = "call_id,greeting,employee_id,employee_id_status,standard_phrasing,banned_phrases,closing,sentiment,flagged\n"


def scored(call_id: str, flagged: bool = False, status: str = "ok", error: str | None = None, **verdicts) -> dict:
    """A calls.jsonl object; verdicts: check id -> True/False/None (None: not applicable)."""
    checks = {c: {"passed": v, "deduction": 0.0, "findings": []} for c, v in verdicts.items()}
    if "employee_id" in checks:
        checks["employee_id"].update(status=status, heard_id=None, expected_id="8023")
    return {"call_id": call_id, "flagged": flagged, "error": error, "score": None if error else 100.0,
            "checks": {} if error else checks}  # fmt: skip


def write_labels(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_metrics_count_violations_as_the_positive_class(tmp_path):
    labels = load_labels(write_labels(tmp_path, [
        "c1,pass,pass,ok,na,fail,pass,pass,true",
        "c2,fail,fail,missing,pass,fail,pass,pass,true",
        "c3,pass,fail,mismatch,na,pass,fail,pass,true",
        "c4,pass,pass,ok,pass,pass,pass,,false",
    ]))  # fmt: skip
    calls = [
        scored("c1", True, greeting=True, employee_id=True, standard_phrasing=None, banned_phrases=False,
               closing=True, sentiment=True),
        scored("c2", True, "missing", greeting=True, employee_id=False, standard_phrasing=True,
               banned_phrases=False, closing=True, sentiment=True),
        scored("c3", False, "missing", greeting=False, employee_id=False, standard_phrasing=True,
               banned_phrases=False, closing=False, sentiment=True),
        scored("c4", False, greeting=True, employee_id=True, standard_phrasing=True, banned_phrases=True,
               closing=True, sentiment=False),
    ]  # fmt: skip
    report = evaluate(labels, calls)
    by_check = {m.check_id: m for m in report.checks}

    greeting = by_check["greeting"]  # one real violation (c2), one false alarm (c3), the real one missed
    assert (greeting.true_positive, greeting.false_positive, greeting.false_negative) == (0, 1, 1)
    assert greeting.precision == 0.0 and greeting.recall == 0.0

    banned = by_check["banned_phrases"]  # 2 real, 3 predicted, 2 caught
    assert (banned.true_positive, banned.false_positive, banned.false_negative) == (2, 1, 0)
    assert banned.precision == pytest.approx(2 / 3) and banned.recall == 1.0 and banned.f1 == pytest.approx(0.8)

    phrasing = by_check["standard_phrasing"]  # na vs pass disagree, but neither is a violation
    assert phrasing.labelled == 4 and phrasing.agree == 3 and math.isnan(phrasing.precision)
    assert by_check["sentiment"].labelled == 3  # the empty cell of c4 is not labelled

    assert report.status_accuracy == pytest.approx(3 / 4) and report.status_labelled == 4
    assert report.flagged_accuracy == pytest.approx(3 / 4)
    found = {(d.call_id, d.check, d.expected, d.got) for d in report.disagreements}
    assert found == {
        ("c2", "greeting", "fail", "pass"), ("c3", "greeting", "pass", "fail"),
        ("c3", "banned_phrases", "pass", "fail"), ("c3", "standard_phrasing", "na", "pass"),
        ("c3", "employee_id_status", "mismatch", "missing"), ("c3", "flagged", "true", "false"),
    }  # fmt: skip


def test_unscored_and_missing_calls_disagree_and_unrun_checks_are_left_out(tmp_path):
    labels = load_labels(write_labels(tmp_path, ["c1,fail,pass,ok,,,,,true", "c2,pass,,,,,,,", "c3,pass,,,,,,,"]))
    calls = [scored("c1", True, error="decode failed"), scored("c2", closing=True)]
    report = evaluate(labels, calls)
    got = {(d.call_id, d.check): d.got for d in report.disagreements}
    assert got == {
        ("c1", "greeting"): "error: decode failed", ("c1", "employee_id"): "error: decode failed",
        ("c1", "employee_id_status"): "error: decode failed", ("c3", "greeting"): "missing from calls.jsonl",
    }  # fmt: skip
    greeting = next(m for m in report.checks if m.check_id == "greeting")
    assert greeting.labelled == 2 and greeting.false_negative == 1  # c2's greeting did not run: left out


@pytest.mark.parametrize(
    "rows, header, message",
    [
        (["c1,maybe,,,,,,,"], HEADER, "row 2, column greeting: 'maybe'"),
        (["c1,pass,,,,,,,", "c1,pass,,,,,,,"], HEADER, "row 3, column call_id: 'c1' appears twice"),
        (["c1,pass,,late,,,,,"], HEADER, "column employee_id_status: 'late'"),
        (["c1,pass,,,,,,,yes"], HEADER, "column flagged: 'yes'"),
        (["x,pass"], "id,greeting\n", "no call_id column"),
    ],
)
def test_bad_labels_name_the_row_and_column(tmp_path, rows, header, message):
    with pytest.raises(LabelsError, match=message):
        load_labels(write_labels(tmp_path, rows, header))


def test_eval_command_exit_codes(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    calls = [scored("c1", True, greeting=False), scored("c2", False, greeting=True)]
    (out / "calls.jsonl").write_text("\n".join(json.dumps(c) for c in calls) + "\n", encoding="utf-8")
    agreeing = write_labels(tmp_path, ["c1,fail,,,,,,,true", "c2,pass,,,,,,,false"])
    runner = CliRunner()

    result = runner.invoke(app, ["eval", str(agreeing), "--out", str(out), "--strict"])
    assert result.exit_code == 0, result.output
    assert "No disagreements" in result.output and "1.00" in result.output

    (tmp_path / "bad.csv").write_text(HEADER + "c1,pass,,,,,,,true\nc2,pass,,,,,,,false\n", encoding="utf-8")
    lenient = runner.invoke(app, ["eval", str(tmp_path / "bad.csv"), "--out", str(out)])
    assert lenient.exit_code == 0 and "Disagreements (1)" in lenient.output
    strict = runner.invoke(app, ["eval", str(tmp_path / "bad.csv"), "--out", str(out), "--strict"])
    assert strict.exit_code == 1

    missing = runner.invoke(app, ["eval", str(agreeing), "--out", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2
