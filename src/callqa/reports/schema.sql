-- callqa results database (SQLite). Written by `callqa score`, read and
-- annotated by `callqa serve`. Decisions are an append-only audit trail.
PRAGMA foreign_keys = ON;

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL              -- e.g. schema_version, scorecard (TOML text), flag_below
);

-- One row per `callqa score` run; calls.batch_id is the run that last scored the call.
CREATE TABLE IF NOT EXISTS batches (
    batch_id   INTEGER PRIMARY KEY,
    scored_at  TEXT NOT NULL,         -- ISO 8601 UTC
    source     TEXT,                  -- the INPUT given to `callqa score`
    input_root TEXT,                  -- the folder its recordings were read from; audio is served only from inside it
    scorecard  TEXT NOT NULL,         -- TOML text the batch was scored with
    flag_below REAL,                  -- its flag threshold (recompute_call uses it)
    calls      INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS calls (
    call_id       TEXT PRIMARY KEY,
    file          TEXT NOT NULL,      -- as written in the manifest
    audio_path    TEXT,               -- resolved path, NULL unless it decoded as audio; served only by call_id
    audio_sha256  TEXT,               -- digest of the transcribed bytes: a file changed since is not served
    agent_id      TEXT,
    agent_name    TEXT,
    duration_s    REAL,
    machine_score REAL,               -- as scored, before any review
    score         REAL,               -- after reviewers' decisions
    flagged       INTEGER NOT NULL DEFAULT 0,
    flag_reasons  TEXT NOT NULL DEFAULT '[]',   -- JSON list of strings
    error         TEXT,               -- why the call could not be scored, or NULL
    transcript    TEXT NOT NULL DEFAULT '[]',   -- JSON list of {role,start,end,text,raw_text,confidence}
    checks        TEXT NOT NULL DEFAULT '{}',   -- JSON object as in calls.jsonl
    scored_at     TEXT NOT NULL,
    reviewed      INTEGER NOT NULL DEFAULT 0,
    reviewed_by   TEXT,
    reviewed_at   TEXT,
    batch_id      INTEGER REFERENCES batches(batch_id),  -- added in schema version 2 (db.py migrates older files)
    recorded_at   TEXT,               -- when the call was recorded (manifest column, else the file's mtime); v4
    prompt_echoes TEXT NOT NULL DEFAULT '[]'  -- JSON list of {role,start,end,text}: Whisper wrote its prompt, not the speech
);

CREATE TABLE IF NOT EXISTS findings (
    id             INTEGER PRIMARY KEY,
    call_id        TEXT NOT NULL REFERENCES calls(call_id) ON DELETE CASCADE,
    check_id       TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,     -- stable across re-scoring: see checks.base.finding_fingerprint
    utterance      INTEGER,
    start          REAL NOT NULL,
    "end"          REAL NOT NULL,
    role           TEXT NOT NULL,
    text           TEXT NOT NULL,
    detail         TEXT NOT NULL,
    deduction      REAL NOT NULL DEFAULT 0,
    critical       INTEGER NOT NULL DEFAULT 0,
    low_confidence INTEGER NOT NULL DEFAULT 0,
    extra          TEXT NOT NULL DEFAULT '{}',
    UNIQUE (call_id, fingerprint)
);

-- One row per reviewer action; the latest row per (call_id, fingerprint) is in force.
CREATE TABLE IF NOT EXISTS decisions (
    id          INTEGER PRIMARY KEY,
    call_id     TEXT NOT NULL,
    fingerprint TEXT,                 -- NULL for call-level actions
    check_id    TEXT,
    decision    TEXT NOT NULL CHECK (decision IN ('confirm', 'dismiss', 'reviewed', 'reopen')),
    reviewer    TEXT NOT NULL,
    comment     TEXT,
    decided_at  TEXT NOT NULL,        -- ISO 8601 UTC
    reason      TEXT                  -- why a finding was dismissed (review/decisions.py DISMISS_REASONS, or 'appeal'); v4
);

-- An agent's dispute of a confirmed finding, and the ruling on it by a second reviewer (final).
-- An overturned finding is dismissed by a decisions row that names the appeal, so scores and
-- reports follow it through the one path every decision takes.
CREATE TABLE IF NOT EXISTS appeals (
    id          INTEGER PRIMARY KEY,
    call_id     TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    check_id    TEXT,
    confirmed_by TEXT,                -- the reviewer whose confirmation is disputed: may not rule on it
    raised_by   TEXT NOT NULL,
    raised_role TEXT NOT NULL,        -- agent, or supervisor on the agent's behalf
    reason      TEXT NOT NULL,
    raised_at   TEXT NOT NULL,
    ruling      TEXT CHECK (ruling IN ('upheld', 'overturned')),   -- NULL while open
    ruled_by    TEXT,
    ruling_comment TEXT,
    ruled_at    TEXT
);

-- Calls drawn at random for human scoring (`callqa sample`); the same seed draws the same calls.
CREATE TABLE IF NOT EXISTS samples (
    call_id     TEXT NOT NULL,
    drawn_at    TEXT NOT NULL,
    drawn_by    TEXT NOT NULL,
    seed        INTEGER NOT NULL,
    per_agent   INTEGER NOT NULL,
    unflagged   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (call_id)
);

-- A reviewer's own verdict on a check of a sampled call: what the machine missed, or that it was right.
CREATE TABLE IF NOT EXISTS check_verdicts (
    id          INTEGER PRIMARY KEY,
    call_id     TEXT NOT NULL,
    check_id    TEXT NOT NULL,
    verdict     TEXT NOT NULL CHECK (verdict IN ('pass', 'fail')),
    reviewer    TEXT NOT NULL,
    comment     TEXT,
    decided_at  TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS findings_by_call ON findings(call_id);
CREATE INDEX IF NOT EXISTS decisions_by_call ON decisions(call_id, fingerprint, id);
CREATE INDEX IF NOT EXISTS appeals_by_call ON appeals(call_id, fingerprint);
CREATE INDEX IF NOT EXISTS verdicts_by_call ON check_verdicts(call_id, check_id, id);
-- Indexes on columns added by a migration are made in db.py's _migrate, after the column exists.
