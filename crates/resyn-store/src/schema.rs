//! Schema migrations. `MIGRATIONS[i]` takes the schema from version `i` to
//! `i + 1`; never edit a released migration, append a new one.

/// The oldest schema version a read-only open can read as is: the
/// migrations after it only add indexes, which change no query's result.
/// Raise it to the new version when a migration changes tables or columns.
/// (Version 2 added the candidates' adjudication columns.)
pub(crate) const READABLE_FROM: i64 = 2;

/// The migrations, in order.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    r#"
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    status      TEXT NOT NULL,
    config      TEXT NOT NULL,
    wall_ms     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE keywords (
    id        INTEGER PRIMARY KEY,
    run_id    INTEGER NOT NULL REFERENCES runs(id),
    ord       INTEGER NOT NULL,
    keyword   TEXT NOT NULL,
    category  TEXT NOT NULL,
    status    TEXT NOT NULL DEFAULT 'pending',
    detail    TEXT NOT NULL DEFAULT '',
    UNIQUE (run_id, keyword)
);
CREATE TABLE candidates (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES runs(id),
    keyword       TEXT NOT NULL,
    title         TEXT NOT NULL,
    proposal      TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending',
    stage         TEXT NOT NULL DEFAULT 'proposed',
    reason        TEXT NOT NULL DEFAULT '',
    detail        TEXT NOT NULL DEFAULT '',
    round         INTEGER NOT NULL DEFAULT 0,
    code          TEXT,
    review_passed INTEGER NOT NULL DEFAULT 0,
    cross_code    TEXT,
    env_name      TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX candidates_run ON candidates (run_id, status);
CREATE TABLE stage_events (
    id            INTEGER PRIMARY KEY,
    candidate_id  INTEGER NOT NULL REFERENCES candidates(id),
    run_id        INTEGER NOT NULL,
    stage         TEXT NOT NULL,
    passed        INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    detail        TEXT NOT NULL,
    round         INTEGER NOT NULL,
    at            INTEGER NOT NULL
);
CREATE INDEX stage_events_candidate ON stage_events (candidate_id);
CREATE TABLE environments (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    version       INTEGER NOT NULL,
    content_hash  TEXT NOT NULL UNIQUE,
    category      TEXT NOT NULL,
    description   TEXT NOT NULL,
    code          TEXT NOT NULL,
    provenance    TEXT NOT NULL,
    validation    TEXT NOT NULL,
    calibration   TEXT,
    fingerprint   TEXT NOT NULL,
    run_id        INTEGER,
    candidate_id  INTEGER,
    created_at    INTEGER NOT NULL
);
CREATE TABLE llm_calls (
    id                 INTEGER PRIMARY KEY,
    run_id             INTEGER,
    candidate_id       INTEGER,
    purpose            TEXT NOT NULL,
    request_hash       TEXT NOT NULL,
    request            TEXT NOT NULL,
    reply              TEXT,
    finish_reason      TEXT,
    prompt_tokens      INTEGER NOT NULL DEFAULT 0,
    completion_tokens  INTEGER NOT NULL DEFAULT 0,
    latency_ms         INTEGER NOT NULL DEFAULT 0,
    status             TEXT NOT NULL,
    error              TEXT,
    at                 INTEGER NOT NULL
);
CREATE INDEX llm_calls_hash ON llm_calls (run_id, request_hash);
"#,
    // 2: adjudication state of a candidate's checkpoint.
    r#"
ALTER TABLE candidates ADD COLUMN cross_draws INTEGER NOT NULL DEFAULT 0;
ALTER TABLE candidates ADD COLUMN settled TEXT NOT NULL DEFAULT '[]';
"#,
    // 3: the pipeline's per-keyword and per-candidate lookups (picking up a
    // proposal's candidates, an accepted candidate's calls) use indexes
    // instead of scanning a run's rows.
    r#"
CREATE INDEX candidates_keyword ON candidates (run_id, keyword);
CREATE INDEX llm_calls_candidate ON llm_calls (candidate_id);
"#,
];
