"""A reproducible random sample of calls for human scoring: how often does the machine miss?

Only flagged calls are heard in the ordinary queue, so nobody learns what the
machine let through. ``draw_sample`` picks N calls per agent at random (only
unflagged ones with ``unflagged``) and puts them in the queue. Each agent's
draw uses its own generator seeded by (seed, agent id) over the agent's call
ids in order, so the same seed over the same calls draws the same sample,
and a new agent's calls don't change anyone else's draw. Drawing again adds
nothing already drawn.
"""

from __future__ import annotations

import random
import sqlite3
from collections import defaultdict

from ..reports.db import transaction, utc_now

__all__ = ["draw_sample", "sampled_call_ids"]


def _candidates(conn: sqlite3.Connection, unflagged: bool) -> dict[str, list[str]]:
    sql = "SELECT call_id, COALESCE(agent_id, '') AS agent FROM calls WHERE error IS NULL"
    if unflagged:
        sql += " AND flagged = 0"
    by_agent: dict[str, list[str]] = defaultdict(list)
    for row in conn.execute(sql + " ORDER BY call_id"):
        by_agent[row["agent"]].append(row["call_id"])
    return by_agent


def draw_sample(conn: sqlite3.Connection, per_agent: int, *, unflagged: bool = False, seed: int = 0,
                drawn_by: str = "callqa sample") -> list[str]:
    """Draw ``per_agent`` calls per agent into the sample; returns the calls drawn (old and new), in order."""
    if per_agent < 1:
        raise ValueError("--per-agent must be at least 1")
    drawn: list[str] = []
    for agent, call_ids in sorted(_candidates(conn, unflagged).items()):
        rng = random.Random(f"{seed}:{agent}")
        drawn.extend(sorted(rng.sample(call_ids, min(per_agent, len(call_ids)))))
    now = utc_now()
    with transaction(conn):
        conn.executemany(
            "INSERT OR IGNORE INTO samples(call_id, drawn_at, drawn_by, seed, per_agent, unflagged) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(call_id, now, drawn_by, seed, per_agent, int(unflagged)) for call_id in drawn],
        )
    return drawn


def sampled_call_ids(conn: sqlite3.Connection) -> list[str]:
    return [r["call_id"] for r in conn.execute("SELECT call_id FROM samples ORDER BY call_id")]
