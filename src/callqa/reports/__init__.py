"""Reports: calls.jsonl, agents.csv, flagged.csv, reviewed.csv, the SQLite results database, eval.

    write_calls_jsonl(path, scores)       calls.jsonl (reports/calls.schema.json is its contract)
    open_db / save_calls / record_decision   the results database and the reviewers' audit trail (db.py)
    write_reports(conn, out_dir)          the CSVs, from the database, decisions applied (tables.py)
    calls_frame(conn)                     one row per call, each check's verdict after decisions (tables.py; each
                                          call's derivation kept between requests by verdicts.py)
    load_labels / evaluate                verdicts against labels: precision, recall, F1 per check (eval.py)
"""

from .._exports import lazy_exports

__all__ = ["evaluate", "load_labels", "open_db", "record_decision", "save_calls", "write_calls_jsonl",
           "write_reports"]

__getattr__ = lazy_exports(__name__, {
    "evaluate": "eval",
    "load_labels": "eval",
    "open_db": "db",
    "record_decision": "db",
    "save_calls": "db",
    "write_calls_jsonl": "jsonl",
    "write_reports": "tables",
})
