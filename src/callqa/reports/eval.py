"""Compare a scored batch (calls.jsonl) with a human's labels.

Labels CSV (docs/output-format.md), one row per call:

    call_id,greeting,employee_id,employee_id_status,standard_phrasing,banned_phrases,closing,sentiment,flagged

Check columns hold ``pass``, ``fail`` or ``na`` (not applicable); an empty
cell means "not labelled" and is left out. ``employee_id_status`` is ``ok``,
``missing`` or ``mismatch``; ``flagged`` is ``true`` or ``false``. Extra
columns are ignored, so a team can label only what it cares about.

For each check the positive class is a violation (the check failed), so
precision answers "when callqa says an agent broke a rule, is it right?" and
recall "of the real violations, how many did callqa catch?".
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..checks.registry import CHECKS
from ..errors import UsageError

CHECK_COLUMNS = tuple(CHECKS)  # a labels column per registered check
VERDICTS = ("pass", "fail", "na")
STATUSES = ("ok", "missing", "mismatch", "roster_unknown", "uncertain")
BOOLEANS = {"true": True, "false": False}


class LabelsError(UsageError):
    """A labels file that cannot be used; the message names the row and column."""


@dataclass
class CallLabels:
    call_id: str
    checks: dict[str, str]  # check id -> pass / fail / na (labelled cells only)
    employee_id_status: str | None = None
    flagged: bool | None = None


@dataclass
class CheckMetrics:
    check_id: str
    labelled: int = 0
    agree: int = 0
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    precision: float = math.nan  # nan: undefined (no violation predicted / present)
    recall: float = math.nan
    f1: float = math.nan


@dataclass
class Disagreement:
    call_id: str
    check: str  # a check id, "employee_id_status" or "flagged"
    expected: str
    got: str


@dataclass
class EvalReport:
    checks: list[CheckMetrics]
    status_accuracy: float | None  # employee_id_status; None when nothing labelled
    status_labelled: int
    flagged_accuracy: float | None
    flagged_labelled: int
    disagreements: list[Disagreement] = field(default_factory=list)
    calls: int = 0


def load_labels(path: str | Path) -> dict[str, CallLabels]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LabelsError(f"{path}: labels file not found") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "call_id" not in header:
        raise LabelsError(f"{path}: no call_id column (found {', '.join(header) or 'none'})")
    known = set(CHECK_COLUMNS) | {"employee_id_status", "flagged"}
    if not known & set(header):
        raise LabelsError(f"{path}: no label columns; expected some of {', '.join(sorted(known))}")
    reader.fieldnames = header
    labels: dict[str, CallLabels] = {}
    for row_number, row in enumerate(reader, start=2):
        cells = {k: (v or "").strip().lower() for k, v in row.items() if k}
        call_id = (row.get("call_id") or "").strip()
        if not any(cells.values()):
            continue
        where = f"{path}: row {row_number}"
        if not call_id:
            raise LabelsError(f"{where}, column call_id: empty")
        if call_id in labels:
            raise LabelsError(f"{where}, column call_id: {call_id!r} appears twice")
        checks = {}
        for column in CHECK_COLUMNS:
            value = cells.get(column, "")
            if value and value not in VERDICTS:
                raise LabelsError(f"{where}, column {column}: {value!r} is not one of {', '.join(VERDICTS)}")
            if value:
                checks[column] = value
        status = cells.get("employee_id_status", "") or None
        if status is not None and status not in STATUSES:
            raise LabelsError(f"{where}, column employee_id_status: {status!r} is not one of {', '.join(STATUSES)}")
        flagged = cells.get("flagged", "")
        if flagged and flagged not in BOOLEANS:
            raise LabelsError(f"{where}, column flagged: {flagged!r} is not true or false")
        labels[call_id] = CallLabels(call_id, checks, status, BOOLEANS.get(flagged))
    if not labels:
        raise LabelsError(f"{path}: no labelled calls")
    return labels


def _verdict(check: dict[str, Any]) -> str:
    passed = check.get("passed")
    return "na" if passed is None else ("pass" if passed else "fail")


def evaluate(labels: dict[str, CallLabels], calls: list[dict[str, Any]]) -> EvalReport:
    """Score ``calls`` (calls.jsonl objects) against ``labels``.

    A labelled call missing from the batch, or one that could not be scored,
    disagrees on everything labelled for it. A check the scorecard did not run
    is left out of that check's figures.
    """
    by_id = {c["call_id"]: c for c in calls}
    tally = _Tally()
    for call_id, label in labels.items():
        tally.add(call_id, label, by_id.get(call_id))
    return tally.report(len(labels))


@dataclass
class _Tally:
    """Verdicts against labels, call by call; ``report`` turns them into figures."""

    truth: dict[str, list[int]] = field(default_factory=lambda: {c: [] for c in CHECK_COLUMNS})
    pred: dict[str, list[int]] = field(default_factory=lambda: {c: [] for c in CHECK_COLUMNS})
    metrics: dict[str, CheckMetrics] = field(default_factory=lambda: {c: CheckMetrics(c) for c in CHECK_COLUMNS})
    disagreements: list[Disagreement] = field(default_factory=list)
    status_hits: int = 0
    status_n: int = 0
    flagged_hits: int = 0
    flagged_n: int = 0

    def add(self, call_id: str, label: CallLabels, call: dict[str, Any] | None) -> None:
        unscored = "missing from calls.jsonl" if call is None else (f"error: {call['error']}" if call.get("error") else None)
        checks = {} if call is None else call.get("checks", {})
        for check_id, expected in label.checks.items():
            if unscored is None and check_id not in checks:
                continue  # the scorecard did not run this check
            got = unscored or _verdict(checks[check_id])
            metric = self.metrics[check_id]
            metric.labelled += 1
            metric.agree += got == expected
            if got != expected:
                self.disagreements.append(Disagreement(call_id, check_id, expected, got))
            self.truth[check_id].append(int(expected == "fail"))
            # An unscored call counts as a missed violation, never as a caught one.
            self.pred[check_id].append(int(got == "fail"))
        if label.employee_id_status is not None and (unscored or "employee_id" in checks):
            got = unscored or str(checks["employee_id"].get("status"))
            self.status_n += 1
            self.status_hits += got == label.employee_id_status
            if got != label.employee_id_status:
                self.disagreements.append(Disagreement(call_id, "employee_id_status", label.employee_id_status, got))
        if label.flagged is not None:
            got = "missing from calls.jsonl" if call is None else str(bool(call.get("flagged"))).lower()
            expected = str(label.flagged).lower()
            self.flagged_n += 1
            self.flagged_hits += got == expected
            if got != expected:
                self.disagreements.append(Disagreement(call_id, "flagged", expected, got))

    def report(self, calls: int) -> EvalReport:
        for check_id, metric in self.metrics.items():
            _fill_rates(metric, self.truth[check_id], self.pred[check_id])
        return EvalReport(
            checks=[m for m in self.metrics.values() if m.labelled],
            status_accuracy=self.status_hits / self.status_n if self.status_n else None,
            status_labelled=self.status_n,
            flagged_accuracy=self.flagged_hits / self.flagged_n if self.flagged_n else None,
            flagged_labelled=self.flagged_n,
            disagreements=self.disagreements,
            calls=calls,
        )


def _fill_rates(metric: CheckMetrics, y_true: list[int], y_pred: list[int]) -> None:
    if not y_true:
        return
    from sklearn.metrics import precision_recall_fscore_support

    metric.true_positive = sum(t and p for t, p in zip(y_true, y_pred))
    metric.false_positive = sum(p and not t for t, p in zip(y_true, y_pred))
    metric.false_negative = sum(t and not p for t, p in zip(y_true, y_pred))
    p, r, f, _ = precision_recall_fscore_support(
        y_true, y_pred, average="binary", pos_label=1, labels=[0, 1], zero_division=math.nan
    )
    metric.precision, metric.recall, metric.f1 = float(p), float(r), float(f)
