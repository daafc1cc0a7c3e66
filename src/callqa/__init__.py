"""callqa: speech quality assurance for recorded Mandarin customer-service calls.

The pipeline reads left to right, one folder per stage:

    audio/     decode recordings, read manifests
    asr/       Whisper transcripts with speaker roles  -> Transcript
    checks/    service-standard checks                 -> CheckResult / Finding
    scoring/   scorecard and per-call score            -> CallScore
    reports/   calls.jsonl, agents.csv, flagged.csv, SQLite results, eval
    review/    the supervisors' web app over the results database

No module imports from a stage to its right.
"""

__version__ = "0.1.0"
