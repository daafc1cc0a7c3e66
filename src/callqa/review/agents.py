"""An agent's page: their score over batches, each check's pass rate over batches, and their calls.

Scores and verdicts are those after reviewers' decisions (reports.db.call_outcome),
the same figures agents.csv gives, grouped by the batch that last scored each call.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from flask import Blueprint, abort, render_template, url_for

from ..reports import tables
from ..reports.db import call_outcome
from .charts import Series, line_chart
from .db import get_db
from .i18n import check_name, t
from .queries import QueueFilter, queue_page
from .store import select

bp = Blueprint("agents", __name__)


@dataclass
class BatchFigures:
    batch_id: int | None
    scored_at: str | None
    scores: list[float] = field(default_factory=list)
    verdicts: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))

    @property
    def mean(self) -> float | None:
        return round(sum(self.scores) / len(self.scores), 1) if self.scores else None

    def rate(self, check_id: str) -> float | None:
        given = self.verdicts.get(check_id) or []
        return round(100 * sum(given) / len(given)) if given else None


def agent_batches(conn: sqlite3.Connection, agent_id: str) -> list[BatchFigures]:
    rows = select(conn, "SELECT c.call_id, c.batch_id, b.scored_at FROM calls c LEFT JOIN batches b "
                        "ON b.batch_id = c.batch_id WHERE c.agent_id = ? ORDER BY c.batch_id, c.call_id", (agent_id,))
    batches: dict[int | None, BatchFigures] = {}
    for row in rows:
        figures = batches.setdefault(row["batch_id"], BatchFigures(row["batch_id"], row["scored_at"]))
        outcome = call_outcome(conn, row["call_id"])
        if outcome.score is not None:
            figures.scores.append(outcome.score)
        for check_id, passed in outcome.passed.items():
            if passed is not None:
                figures.verdicts[check_id].append(passed)
    return list(batches.values())


def _label(b: BatchFigures) -> str:
    return f"#{b.batch_id}" if b.batch_id is not None else "—"  # the table below gives each batch's date


@bp.route("/agents/<agent_id>")
def agent_page(agent_id: str):
    conn = get_db()
    name = select(conn, "SELECT MAX(agent_name) AS n, COUNT(*) AS calls FROM calls WHERE agent_id = ?", (agent_id,))[0]
    if not name["calls"]:
        abort(404)
    batches = agent_batches(conn, agent_id)
    labels = [_label(b) for b in batches]
    check_ids = tables.check_ids(conn)
    trend = line_chart(labels, [Series(t("score"), [b.mean for b in batches], "score")], title=t("trend"))
    rates = line_chart(labels, [Series(check_name(c), [b.rate(c) for b in batches]) for c in check_ids
                                if any(b.rate(c) is not None for b in batches)], title=t("pass rates"), unit="%")
    calls = queue_page(conn, QueueFilter(agent=agent_id, show="all", per_page=25))
    return render_template("agent.html", agent_id=agent_id, agent_name=name["n"], total=name["calls"],
                           batches=batches, trend=trend, rates=rates, calls=calls, check_ids=check_ids,
                           all_calls=url_for("queue.queue", agent=agent_id, show="all"))
