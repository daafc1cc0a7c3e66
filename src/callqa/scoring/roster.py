"""The agent roster: who each ``agent_id`` is and the employee ID they must state.

A CSV with the header ``agent_id,name,employee_id``. Employee IDs are digit
strings and stay strings, so ``0802`` keeps its leading zero.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

ROSTER_COLUMNS = ("agent_id", "name", "employee_id")


class RosterError(UsageError):
    """A roster file that cannot be used; the message names the file, row and column."""


@dataclass(frozen=True)
class RosterEntry:
    agent_id: str
    name: str
    employee_id: str  # digits, leading zeros kept


@dataclass
class Roster:
    entries: dict[str, RosterEntry]

    def get(self, agent_id: str | None) -> RosterEntry | None:
        return None if agent_id is None else self.entries.get(agent_id)

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self.entries

    def __len__(self) -> int:
        return len(self.entries)


def load_roster(path: str | Path) -> Roster:
    """Read and validate a roster CSV (UTF-8, a BOM from Excel is fine)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterError(f"{path}: roster file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise RosterError(f"{path}: cannot read roster: {e}") from None

    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ROSTER_COLUMNS if c not in header]
    if missing:
        raise RosterError(
            f"{path}: missing column(s) {', '.join(missing)}; a roster needs the header {','.join(ROSTER_COLUMNS)}"
        )
    reader.fieldnames = header

    entries: dict[str, RosterEntry] = {}
    for row_number, row in enumerate(reader, start=2):  # line 1 is the header
        values = {c: (row.get(c) or "").strip() for c in ROSTER_COLUMNS}
        if not any(values.values()):
            continue  # blank line
        where = f"{path}: row {row_number}"
        if not values["agent_id"]:
            raise RosterError(f"{where}, column agent_id: empty")
        if not values["name"]:
            raise RosterError(f"{where}, column name: empty for agent {values['agent_id']!r}")
        employee_id = values["employee_id"]
        if not (employee_id.isascii() and employee_id.isdigit()):
            raise RosterError(
                f"{where}, column employee_id: {employee_id!r} is not digits (agent {values['agent_id']!r})"
            )
        if values["agent_id"] in entries:
            raise RosterError(f"{where}, column agent_id: {values['agent_id']!r} appears twice")
        entries[values["agent_id"]] = RosterEntry(values["agent_id"], values["name"], employee_id)
    if not entries:
        raise RosterError(f"{path}: the roster lists no agents")
    return Roster(entries)
