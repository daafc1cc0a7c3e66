"""Reports: calls.jsonl, agents.csv, flagged.csv, the SQLite results database, eval."""
