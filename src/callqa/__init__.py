"""callqa: speech quality assurance for recorded Mandarin customer-service calls.

The pipeline reads left to right, one folder per stage:

    audio/     decode recordings, read manifests           -> DecodedAudio, CallInput
    text/      Mandarin normalization, pinyin, spoken digits (shared by the stages that read words)
    asr/       Whisper transcripts with speaker roles      -> Transcript
    checks/    service-standard checks                     -> CheckResult / Finding
    scoring/   scorecard and per-call score                -> CallScore
    reports/   calls.jsonl, agents.csv, flagged.csv, SQLite results, eval
    review/    the supervisors' web app over the results database
    cli/       the `callqa` command

errors.py (user errors and exit codes) and files.py (digests, atomic writes)
serve every stage. No module imports from a stage to its right, and no
import goes round a loop (tests/test_architecture.py); docs/architecture.md
says where to add a check, a backend or an engine.
"""

__version__ = "0.1.0"
