"""agents.csv, flagged.csv, reviewed.csv, calls.csv, decisions.csv and appeals.csv, built with pandas
from the results database.

They read the database rather than the scorer's memory so that reviewers'
decisions show: a dismissed false hit gives its points back, and the check it
belonged to counts as passed in the pass rates. All calls in the database are
included (history across batches: a call is kept until re-scored).
CSV files are UTF-8 with a byte-order mark, so Excel shows Chinese names.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from ..files import atomic_path
from .verdicts import CALL_FIGURES, call_verdicts

AGENTS_FILENAME = "agents.csv"
FLAGGED_FILENAME = "flagged.csv"
REVIEWED_FILENAME = "reviewed.csv"
CALLS_FILENAME = "calls.csv"
DECISIONS_FILENAME = "decisions.csv"
APPEALS_FILENAME = "appeals.csv"
CSV_ENCODING = "utf-8-sig"
# A cell a spreadsheet would run as a formula (OWASP, CSV injection): a reviewer named =HYPERLINK(...),
# or a transcript quoting one. Such a text cell gets a leading apostrophe, which shows it as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

UNKNOWN_AGENT = "(none)"  # calls whose manifest row named no agent

CALL_COLUMNS = [
    "call_id", "file", "agent_id", "agent_name", "duration_s", "machine_score", "score", "flagged",
    "flag_reasons", "error", "reviewed", "reviewed_by", "reviewed_at", "batch_id", "scored_at", "recorded_at",
]  # fmt: skip


AGENT_FIGURES = {"mean_agent_cpm": "agent_cpm", "interruptions_per_call": "interruptions",
                 "dead_air_s_per_call": "dead_air_s"}


def check_ids(conn: sqlite3.Connection) -> list[str]:
    """Check ids in the order the checks ran, over every call in the database."""
    return _ordered_ids(json.loads(checks) for (checks,) in conn.execute("SELECT checks FROM calls ORDER BY rowid"))


def frame_check_ids(frame: pd.DataFrame) -> list[str]:
    """check_ids of the calls in a calls_frame, read from its columns rather than from every call's checks again."""
    return [column[len("passed_"):] for column in frame.columns if column.startswith("passed_")]


def _ordered_ids(all_checks) -> list[str]:
    ordered: dict[str, None] = {}
    for checks in all_checks:
        ordered.update(dict.fromkeys(checks))
    return list(ordered)


def calls_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """One row per call, with each check's verdict after reviewers' decisions
    (``passed_<check>``: True, False, or None when not applicable / not run)."""
    rows = conn.execute(f"SELECT {', '.join(CALL_COLUMNS)}, length(checks) AS checks_size FROM calls "
                        "ORDER BY rowid").fetchall()
    frame = pd.DataFrame([dict(row) for row in rows], columns=CALL_COLUMNS)
    # Every dashboard request builds this frame: each call's verdicts are derived from its stored checks only
    # when they or the decisions on it changed (reports/verdicts.py; bench/dashboard.py).
    verdicts = call_verdicts(conn, rows)
    ids = _ordered_ids(v.check_ids for v in verdicts)
    for check_id in ids:
        frame[f"passed_{check_id}"] = pd.Series([v.passed.get(check_id) for v in verdicts], index=frame.index,
                                                dtype="object")
        frame[f"deduction_{check_id}"] = pd.Series([v.deducted.get(check_id) for v in verdicts], index=frame.index,
                                                   dtype="object")
    frame["failed_checks"] = pd.Series([[c for c in ids if v.passed.get(c) is False] for v in verdicts],
                                       index=frame.index, dtype="object")
    frame["verdicts_given"] = pd.Series([v.given for v in verdicts], index=frame.index, dtype="int64")
    frame["left_to_listening"] = pd.Series([v.listening for v in verdicts], index=frame.index, dtype="int64")
    frame["flag_reasons"] = frame["flag_reasons"].map(_reasons)
    frame["flagged"] = frame["flagged"].astype(bool)
    frame["reviewed"] = frame["reviewed"].astype(bool)
    frame["agent_id"] = frame["agent_id"].fillna(UNKNOWN_AGENT)
    for figure in CALL_FIGURES:
        frame[figure] = pd.Series([v.figures.get(figure) for v in verdicts], index=frame.index, dtype="float64")
    return frame


def _reasons(stored: str) -> list[str]:
    return json.loads(stored) if stored != "[]" else []


def _pass_rate(verdicts: pd.Series) -> float | None:
    applicable = verdicts.dropna()
    return round(float((applicable == True).mean()), 3) if len(applicable) else None  # noqa: E712


def agents_table(conn: sqlite3.Connection, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per agent: calls, scored calls, mean and min score, flagged and reviewed
    calls, the check verdicts given and those left to listening (coverage: the
    share given), the pass rate (0-1, not-applicable calls left out) of each check,
    and how the agent sounds: mean characters a minute, interruptions and seconds
    of dead air per call."""
    frame = calls_frame(conn) if frame is None else frame  # callers making several tables build it once
    ids = frame_check_ids(frame)
    columns = ["agent_id", "agent_name", "calls", "scored_calls", "mean_score", "min_score", "flagged_calls",
               "reviewed_calls", "verdicts_given", "left_to_listening", "coverage"] + [f"{c}_pass_rate" for c in ids] \
        + list(AGENT_FIGURES)  # fmt: skip
    if frame.empty:
        return pd.DataFrame(columns=columns)
    records = []
    for agent_id, calls in frame.groupby("agent_id", sort=True):
        scores = calls["score"].dropna()
        names = calls["agent_name"].dropna()
        record = {
            "agent_id": agent_id,
            "agent_name": names.iloc[-1] if len(names) else None,
            "calls": len(calls),
            "scored_calls": len(scores),
            "mean_score": round(float(scores.mean()), 2) if len(scores) else None,
            "min_score": float(scores.min()) if len(scores) else None,
            "flagged_calls": int(calls["flagged"].sum()),
            "reviewed_calls": int(calls["reviewed"].sum()),
            "verdicts_given": int(calls["verdicts_given"].sum()),
            "left_to_listening": int(calls["left_to_listening"].sum()),
        }
        asked = record["verdicts_given"] + record["left_to_listening"]
        record["coverage"] = round(record["verdicts_given"] / asked, 3) if asked else None
        for check_id in ids:
            record[f"{check_id}_pass_rate"] = _pass_rate(calls[f"passed_{check_id}"])
        for column, figure in AGENT_FIGURES.items():
            values = calls[figure].dropna()
            record[column] = round(float(values.mean()), 1) if len(values) else None
        records.append(record)
    return pd.DataFrame(records, columns=columns)


def flagged_table(conn: sqlite3.Connection, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Flagged calls, worst first: calls that could not be scored, then by score."""
    frame = calls_frame(conn) if frame is None else frame  # callers making several tables build it once
    columns = ["call_id", "file", "agent_id", "agent_name", "score", "machine_score", "reasons", "failed_checks",
               "error", "reviewed", "reviewed_by"]  # fmt: skip
    flagged = frame[frame["flagged"]].copy()
    flagged["reasons"] = flagged["flag_reasons"].map("; ".join)
    flagged["failed_checks"] = flagged["failed_checks"].map(" ".join)
    flagged["_unscored"] = flagged["score"].isna()
    flagged = flagged.sort_values(["_unscored", "score", "call_id"], ascending=[False, True, True], kind="stable")
    return flagged[columns].reset_index(drop=True)


def _describe_decision(row: sqlite3.Row) -> str:
    what = f"{row['decision']} {row['check_id'] or ''}".strip()
    if row["text"] is not None:
        what += f" 「{row['text']}」"
    elif row["fingerprint"] is not None:
        what += " (finding no longer present)"
    what += f" by {row['reviewer']}"
    if row["comment"]:
        what += f": {row['comment']}"
    return what


def reviewed_table(conn: sqlite3.Connection, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Calls marked reviewed, with who, when, the score before and after review,
    and the finding decisions in the audit trail."""
    frame = calls_frame(conn) if frame is None else frame  # callers making several tables build it once
    columns = ["call_id", "agent_id", "agent_name", "machine_score", "score", "flagged", "reviewed_by",
               "reviewed_at", "confirmed", "dismissed", "decisions"]  # fmt: skip
    reviewed = frame[frame["reviewed"]].copy()
    confirmed, dismissed, described = [], [], []
    for call_id in reviewed["call_id"]:
        rows = conn.execute(
            """
            SELECT d.decision, d.check_id, d.fingerprint, d.reviewer, d.comment, f.text
            FROM decisions d LEFT JOIN findings f ON f.call_id = d.call_id AND f.fingerprint = d.fingerprint
            WHERE d.call_id = ? AND d.fingerprint IS NOT NULL ORDER BY d.id
            """,
            (call_id,),
        ).fetchall()
        latest = {row["fingerprint"]: row["decision"] for row in rows}  # the last one is in force
        confirmed.append(sum(d == "confirm" for d in latest.values()))
        dismissed.append(sum(d == "dismiss" for d in latest.values()))
        described.append("; ".join(_describe_decision(row) for row in rows))
    reviewed["confirmed"] = confirmed
    reviewed["dismissed"] = dismissed
    reviewed["decisions"] = described
    return reviewed[columns].reset_index(drop=True)


def spreadsheet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every text cell that a spreadsheet would read as a formula neutralized."""

    def cell(value: object) -> object:
        return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_START) else value

    return table.map(cell)


def csv_text(table: pd.DataFrame) -> str:
    """A table as the CSV text callqa serves (spreadsheet-safe; encode with CSV_ENCODING)."""
    return spreadsheet_safe(table).to_csv(index=False)


def _verdict(passed: object, listening: bool) -> str:
    if passed is None:
        return "needs_listening" if listening else ""
    return "pass" if passed else "fail"


def _review_state(reviewed: bool, worked_on: bool, flagged: bool) -> str:
    if reviewed:
        return "reviewed"
    if worked_on:
        return "in_review"
    return "to_review" if flagged else "not_flagged"


def calls_table(conn: sqlite3.Connection, frame: pd.DataFrame | None = None, link_base: str = "") -> pd.DataFrame:
    """One row per call for analysts: when recorded, how long, which batch, the score before and after
    review, why flagged, each check's verdict and points off after decisions, the review state, its page."""
    frame = calls_frame(conn) if frame is None else frame
    ids = frame_check_ids(frame)
    worked = {r[0] for r in conn.execute("SELECT DISTINCT call_id FROM decisions")}
    listening = {(r[0], r[1]) for r in conn.execute(
        "SELECT c.call_id, j.key FROM calls c, json_each(c.checks) j WHERE json_extract(j.value, '$.needs_listening') = 1")}
    out = pd.DataFrame({
        "call_id": frame["call_id"], "recorded_at": frame["recorded_at"], "duration_s": frame["duration_s"],
        "batch_id": frame["batch_id"], "scored_at": frame["scored_at"], "agent_id": frame["agent_id"],
        "agent_name": frame["agent_name"], "machine_score": frame["machine_score"], "score": frame["score"],
        "flagged": frame["flagged"], "reasons": frame["flag_reasons"].map("; ".join), "error": frame["error"],
    })
    for check_id in ids:
        out[f"{check_id}_verdict"] = [_verdict(p, (c, check_id) in listening)
                                      for c, p in zip(frame["call_id"], frame[f"passed_{check_id}"])]
        out[f"{check_id}_deduction"] = frame[f"deduction_{check_id}"]
    out["review_state"] = [_review_state(r, c in worked, f)
                           for c, r, f in zip(frame["call_id"], frame["reviewed"], frame["flagged"])]
    out["reviewed_by"] = frame["reviewed_by"]
    out["reviewed_at"] = frame["reviewed_at"]
    out["link"] = [f"{link_base.rstrip('/')}/calls/{quote(c, safe='')}" for c in frame["call_id"]]
    return out.reset_index(drop=True)


def decisions_table(conn: sqlite3.Connection) -> pd.DataFrame:
    """One row per decision, oldest first: the whole audit trail, with the words decided on
    and whether the decision is still the one in force for its finding."""
    columns = ["id", "call_id", "agent_id", "check_id", "fingerprint", "finding_text", "decision", "reason",
               "reviewer", "comment", "decided_at", "in_force"]  # fmt: skip
    rows = conn.execute(
        """
        SELECT d.id, d.call_id, c.agent_id, d.check_id, d.fingerprint, f.text AS finding_text, d.decision, d.reason,
               d.reviewer, d.comment, d.decided_at
        FROM decisions d LEFT JOIN calls c ON c.call_id = d.call_id
        LEFT JOIN findings f ON f.call_id = d.call_id AND f.fingerprint = d.fingerprint ORDER BY d.id
        """
    ).fetchall()
    table = pd.DataFrame([dict(r) for r in rows], columns=columns[:-1])
    latest: dict[tuple, int] = {}
    for row in rows:
        if row["fingerprint"] is not None and row["decision"] in ("confirm", "dismiss"):
            latest[(row["call_id"], row["fingerprint"])] = row["id"]
    table["in_force"] = [latest.get((c, f)) == i for i, c, f in zip(table["id"], table["call_id"], table["fingerprint"])]
    return table[columns]


def appeals_table(conn: sqlite3.Connection) -> pd.DataFrame:
    """One row per appeal: the finding, who confirmed it, who disputed it and why, the ruling and by whom."""
    columns = ["id", "call_id", "agent_id", "check_id", "fingerprint", "finding_text", "confirmed_by", "raised_by",
               "raised_role", "reason", "raised_at", "ruling", "ruled_by", "ruling_comment", "ruled_at"]  # fmt: skip
    rows = conn.execute(
        """
        SELECT a.*, c.agent_id, f.text AS finding_text FROM appeals a LEFT JOIN calls c ON c.call_id = a.call_id
        LEFT JOIN findings f ON f.call_id = a.call_id AND f.fingerprint = a.fingerprint ORDER BY a.id
        """
    ).fetchall()
    return pd.DataFrame([dict(r) for r in rows], columns=columns)


def write_reports(conn: sqlite3.Connection, out_dir: str | Path, link_base: str = "") -> dict[str, Path]:
    """Write agents.csv, flagged.csv, reviewed.csv, calls.csv, decisions.csv and appeals.csv into
    ``out_dir``; returns their paths. ``link_base`` (e.g. http://host:8765) prefixes calls.csv's page links."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = calls_frame(conn)  # rescoring every call with its decisions: once for all of them
    tables = {
        AGENTS_FILENAME: agents_table(conn, frame),
        FLAGGED_FILENAME: flagged_table(conn, frame),
        REVIEWED_FILENAME: reviewed_table(conn, frame),
        CALLS_FILENAME: calls_table(conn, frame, link_base),
        DECISIONS_FILENAME: decisions_table(conn),
        APPEALS_FILENAME: appeals_table(conn),
    }
    paths = {}
    for name, table in tables.items():
        path = out_dir / name
        with atomic_path(path) as tmp:  # a spreadsheet open on the file never reads half of it
            spreadsheet_safe(table).to_csv(tmp, index=False, encoding=CSV_ENCODING)
        paths[name] = path
    return paths
