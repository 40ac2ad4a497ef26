//! `Store::open_read_only` and the viewer queries: nothing is written, a
//! running writer does not block reading, and files that are not a store
//! of this schema are refused with a clear error.

use std::path::Path;
use std::time::{Duration, Instant};

use resyn_store::{CallRecord, CandidateStatus, EnvMarker, Error, RunStatus, StageCount, Store};
use serde_json::json;

use super::{env, ev, setup};

/// A store file with one run: candidate 0 failed `validate`, was repaired
/// and accepted; candidate 1 rejected at `review`; candidate 2 pending; two
/// LLM calls. Returns the run id and the candidate ids.
fn populated(path: &Path) -> (i64, Vec<i64>) {
    let store = Store::open(path).unwrap();
    let (run, ids) = setup(&store);
    store
        .record_stage(ids[0], &ev("validate", false), None)
        .unwrap();
    store
        .record_stage(ids[0], &ev("validate", true), None)
        .unwrap();
    store
        .record_stage(ids[1], &ev("validate", true), None)
        .unwrap();
    store
        .finish_candidate(ids[1], CandidateStatus::Rejected, &ev("review", false))
        .unwrap();
    store
        .accept(&env("e1", "h1", run, ids[0]), &ev("store", true))
        .unwrap();
    for (purpose, status) in [("implement", "ok"), ("repair", "error")] {
        store
            .record_call(&CallRecord {
                run_id: Some(run),
                candidate_id: Some(ids[0]),
                purpose: purpose.into(),
                request_hash: purpose.into(),
                request: json!({"messages": [{"role": "user", "content": purpose}]}),
                reply: (status == "ok").then(|| "the reply".to_string()),
                status: status.into(),
                prompt_tokens: 100,
                completion_tokens: 20,
                latency_ms: 1234,
                error: (status != "ok").then(|| "HTTP 500".to_string()),
                ..Default::default()
            })
            .unwrap();
    }
    (run, ids)
}

#[test]
fn read_only_open_reads_everything_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("resyn.db");
    let (run, ids) = populated(&p);
    // Closing the last writer checkpointed the WAL into the main file.
    let before = std::fs::read(&p).unwrap();
    let store = Store::open_read_only(&p).unwrap();
    assert_eq!(store.runs().unwrap().len(), 1);
    assert_eq!(store.environments().unwrap().len(), 1);
    assert_eq!(
        store.env_marker().unwrap(),
        EnvMarker {
            count: 1,
            max_id: 1
        }
    );
    let count = |stage: &str, passed, failed, failures| StageCount {
        stage: stage.into(),
        passed,
        failed,
        failures,
    };
    assert_eq!(
        store.stage_counts(run).unwrap(),
        vec![
            count("validate", 2, 1, 1),
            count("review", 0, 1, 1),
            count("store", 1, 0, 0),
        ]
    );
    let outcomes = store.candidate_outcomes(run).unwrap();
    assert_eq!(outcomes.len(), 3);
    assert_eq!(outcomes[0].status, CandidateStatus::Accepted);
    assert_eq!(outcomes[0].env_name.as_deref(), Some("e1"));
    assert_eq!(
        (
            outcomes[1].status,
            outcomes[1].stage.as_str(),
            outcomes[1].reason.as_str()
        ),
        (CandidateStatus::Rejected, "review", "boom")
    );
    assert_eq!(outcomes[2].status, CandidateStatus::Pending);
    let log = store.call_log(run).unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (
            log[1].purpose.as_str(),
            log[1].status.as_str(),
            log[1].latency_ms
        ),
        ("repair", "error", 1234)
    );
    assert_eq!(log[0].candidate_id, Some(ids[0]));
    let detail = store.call_detail(log[0].id).unwrap().unwrap();
    assert_eq!(detail.reply.as_deref(), Some("the reply"));
    assert_eq!(detail.request["messages"][0]["content"], "implement");
    assert!(store.call_detail(9999).unwrap().is_none());
    assert!(store.last_activity(run).unwrap() > 0);
    assert!(matches!(
        store.last_activity(77).unwrap_err(),
        Error::UnknownRun(77)
    ));
    drop(store);
    assert_eq!(std::fs::read(&p).unwrap(), before, "the file changed");
}

#[test]
fn a_running_writer_does_not_block_readers() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("resyn.db");
    let (run, _) = populated(&p);
    let writer = Store::open(&p).unwrap();
    // An uncommitted write transaction, as `resyn synth` holds between
    // statements.
    let raw = rusqlite::Connection::open(&p).unwrap();
    raw.execute_batch("BEGIN IMMEDIATE; UPDATE runs SET status = 'finished'")
        .unwrap();
    let start = Instant::now();
    let reader = Store::open_read_only(&p).unwrap();
    assert_eq!(reader.run(run).unwrap().status, RunStatus::Running);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "the reader waited"
    );
    raw.execute_batch("COMMIT").unwrap();
    assert_eq!(reader.run(run).unwrap().status, RunStatus::Finished);
    // Rows the writer adds later are seen by the same reader.
    writer.create_run(&json!({})).unwrap();
    assert_eq!(reader.runs().unwrap().len(), 2);
}

#[test]
fn an_exclusive_lock_answers_busy_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("resyn.db");
    populated(&p);
    let raw = rusqlite::Connection::open(&p).unwrap();
    raw.execute_batch(
        "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; UPDATE runs SET status = 'x'",
    )
    .unwrap();
    let start = Instant::now();
    let e = Store::open_read_only(&p)
        .and_then(|s| s.runs())
        .unwrap_err();
    assert!(e.is_busy(), "{e}");
    assert!(start.elapsed() < Duration::from_secs(10));
    drop(raw);
    assert!(Store::open_read_only(&p).unwrap().runs().is_ok());
}

#[test]
fn files_that_are_not_a_store_of_this_schema_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Missing: an error, and nothing is created.
    let missing = dir.path().join("missing.db");
    let e = Store::open_read_only(&missing).unwrap_err();
    assert!(matches!(e, Error::Sqlite { .. }), "{e}");
    assert!(!missing.exists());
    // SQLite, but not resyn's.
    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let e = Store::open_read_only(&other).unwrap_err();
    assert!(matches!(e, Error::NotAStore { .. }), "{e}");
    assert!(e.to_string().contains("not a resyn store"), "{e}");
    // Not SQLite at all.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello, this is not a database file at all........").unwrap();
    assert!(Store::open_read_only(&text).is_err());
    // Another schema version, either way.
    let p = dir.path().join("resyn.db");
    populated(&p);
    let raw = rusqlite::Connection::open(&p).unwrap();
    raw.execute_batch("INSERT INTO schema_version VALUES (99)")
        .unwrap();
    let e = Store::open_read_only(&p).unwrap_err();
    assert!(matches!(e, Error::NewerSchema { found: 99, .. }), "{e}");
    raw.execute_batch("DELETE FROM schema_version").unwrap();
    let e = Store::open_read_only(&p).unwrap_err();
    assert!(matches!(e, Error::OlderSchema { found: 0, .. }), "{e}");
    assert!(e.to_string().contains("does not migrate"), "{e}");
}

/// A store written before the index migration is read as it is: migration 3
/// only adds indexes, which change no query's result. One from before the
/// columns of migration 2 is refused.
#[test]
fn a_store_missing_only_index_migrations_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("resyn.db");
    let (run, ids) = populated(&p);
    let raw = rusqlite::Connection::open(&p).unwrap();
    raw.execute_batch(
        "DROP INDEX candidates_keyword; DROP INDEX llm_calls_candidate;
         DELETE FROM schema_version WHERE version > 2;",
    )
    .unwrap();
    let reader = Store::open_read_only(&p).unwrap();
    assert_eq!(reader.schema_version().unwrap(), 2);
    assert_eq!(reader.candidates(run).unwrap().len(), ids.len());
    assert_eq!(reader.keyword_candidates(run, "a").unwrap().len(), 3);
    assert_eq!(reader.candidate_calls(ids[0]).unwrap().len(), 2);
    // Opening it to write brings it up to date.
    drop(reader);
    let writer = Store::open(&p).unwrap();
    assert!(writer.schema_version().unwrap() > 2);
    drop(writer);
    raw.execute_batch("DELETE FROM schema_version WHERE version > 1;")
        .unwrap();
    let e = Store::open_read_only(&p).unwrap_err();
    assert!(matches!(e, Error::OlderSchema { found: 1, .. }), "{e}");
    assert!(e.to_string().contains("reads versions 2 to"), "{e}");
}
