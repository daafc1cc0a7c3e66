"""Calibration: do two reviewers agree, and how good is the machine against them?

Two figures per check:

- **Reviewer agreement.** A finding decided by two or more reviewers (each
  reviewer's latest confirm/dismiss counts; the first two reviewers to decide
  it are compared) is one item. Agreement is the share of items both decided
  alike; Cohen's kappa corrects it for the agreement chance alone would give.
- **Machine against people, on sampled calls.** On each sampled call the
  machine's verdict per check (fail is the positive class) is compared with the
  people's: a reviewer's own verdict on the check if given, else the findings'
  decisions (one confirmed: fail; all dismissed: pass), else, once the call is
  marked reviewed, agreement with the machine for a check without findings
  (the reviewer heard the call and flagged no miss). Precision: of the
  machine's fails, the share people upheld; recall: of the people's fails,
  the share the machine found. Checks left to listening have no machine verdict
  and are counted apart.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from ..reports.db import call_outcome

__all__ = ["CheckAgreement", "agreement_report", "cohen_kappa", "REPORT_COLUMNS"]

REPORT_COLUMNS = ["check_id", "items", "agreed", "agreement", "kappa", "sampled_calls", "tp", "fp", "fn", "tn",
                  "precision", "recall", "left_to_listening"]


def cohen_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters over ``pairs`` of labels; None when chance agreement is total."""
    n = len(pairs)
    if not n:
        return None
    observed = sum(a == b for a, b in pairs) / n
    labels = {x for pair in pairs for x in pair}
    expected = sum((sum(a == lab for a, _ in pairs) / n) * (sum(b == lab for _, b in pairs) / n) for lab in labels)
    if expected >= 1.0:
        return None
    return round((observed - expected) / (1 - expected), 3)


@dataclass
class CheckAgreement:
    check_id: str
    pairs: list[tuple[str, str]] = field(default_factory=list)
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    listening: int = 0
    sampled_calls: set[str] = field(default_factory=set)

    @property
    def agreed(self) -> int:
        return sum(a == b for a, b in self.pairs)

    @property
    def agreement(self) -> float | None:
        return round(self.agreed / len(self.pairs), 3) if self.pairs else None

    @property
    def kappa(self) -> float | None:
        return cohen_kappa(self.pairs)

    @property
    def precision(self) -> float | None:
        return round(self.tp / (self.tp + self.fp), 3) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return round(self.tp / (self.tp + self.fn), 3) if self.tp + self.fn else None

    def row(self) -> dict:
        return {"check_id": self.check_id, "items": len(self.pairs), "agreed": self.agreed,
                "agreement": self.agreement, "kappa": self.kappa, "sampled_calls": len(self.sampled_calls),
                "tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn, "precision": self.precision,
                "recall": self.recall, "left_to_listening": self.listening}


def _reviewer_pairs(conn: sqlite3.Connection, report: dict[str, CheckAgreement]) -> None:
    """Items decided by two reviewers: the first two reviewers' latest decisions, per finding."""
    by_item: dict[tuple[str, str], dict[str, tuple[int, str]]] = defaultdict(dict)
    checks: dict[tuple[str, str], str] = {}
    for row in conn.execute("SELECT id, call_id, fingerprint, check_id, reviewer, decision FROM decisions "
                            "WHERE decision IN ('confirm', 'dismiss') AND fingerprint IS NOT NULL ORDER BY id"):
        item = (row["call_id"], row["fingerprint"])
        first = by_item[item].get(row["reviewer"], (row["id"], ""))[0]
        by_item[item][row["reviewer"]] = (first, row["decision"])  # first seen, latest decision
        checks[item] = row["check_id"]
    for item, reviewers in by_item.items():
        if len(reviewers) >= 2:
            (_, a), (_, b) = sorted(reviewers.values())[:2]
            report.setdefault(checks[item], CheckAgreement(checks[item])).pairs.append((a, b))


def _human_verdicts(conn: sqlite3.Connection, call_id: str) -> dict[str, str]:
    """check id -> 'pass'/'fail' as reviewers gave it on a check of the call (the latest wins)."""
    return {r["check_id"]: r["verdict"] for r in conn.execute(
        "SELECT check_id, verdict FROM check_verdicts WHERE call_id = ? ORDER BY id", (call_id,))}


def _machine_vs_people(conn: sqlite3.Connection, report: dict[str, CheckAgreement]) -> None:
    rows = conn.execute("SELECT c.call_id, c.checks, c.reviewed FROM calls c JOIN samples s ON s.call_id = c.call_id "
                        "WHERE c.error IS NULL ORDER BY c.call_id").fetchall()
    for row in rows:
        checks = json.loads(row["checks"])
        people = _human_verdicts(conn, row["call_id"])
        outcome = call_outcome(conn, row["call_id"])  # after decisions: what people made of the findings
        for check_id, data in checks.items():
            entry = report.setdefault(check_id, CheckAgreement(check_id))
            machine = data.get("passed")
            if machine is None:
                entry.listening += bool(data.get("needs_listening"))
                continue
            human = people.get(check_id) or _from_findings(conn, row["call_id"], data, outcome.passed.get(check_id),
                                                           bool(row["reviewed"]))
            if human is None:
                continue
            entry.sampled_calls.add(row["call_id"])
            machine_fail, human_fail = machine is False, human == "fail"
            entry.tp += machine_fail and human_fail
            entry.fp += machine_fail and not human_fail
            entry.fn += human_fail and not machine_fail
            entry.tn += not machine_fail and not human_fail


def _from_findings(conn: sqlite3.Connection, call_id: str, data: dict, passed_now: bool | None,
                   reviewed: bool) -> str | None:
    findings = [f for f in data.get("findings", []) if f.get("deduction") or f.get("needs_listening")]
    if findings:
        decided = {r["fingerprint"] for r in conn.execute(
            "SELECT DISTINCT fingerprint FROM decisions WHERE call_id = ? AND decision IN ('confirm', 'dismiss')",
            (call_id,))}
        if all(f.get("fingerprint") in decided for f in findings):
            return "pass" if passed_now else "fail"
        return None
    if reviewed:  # heard in full and no miss flagged: the machine's verdict stands
        return "pass" if data.get("passed") else "fail"
    return None


def agreement_report(conn: sqlite3.Connection, check_order: list[str]) -> list[CheckAgreement]:
    """Per check, in ``check_order`` (checks with nothing to report are kept, empty)."""
    report: dict[str, CheckAgreement] = {c: CheckAgreement(c) for c in check_order}
    _reviewer_pairs(conn, report)
    _machine_vs_people(conn, report)
    return list(report.values())
