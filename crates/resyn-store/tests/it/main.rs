//! Integration tests of the store: decisions, uniqueness, crash safety.
// Helpers outside #[test] functions unwrap too: a failed setup is a failed test.
#![allow(clippy::unwrap_used)]

use resyn_store::{
    Accepted, CallRecord, CandidateStatus, Checkpoint, Error, NewCandidate, NewEnvironment,
    RunStatus, StageEvent, Store,
};
use serde_json::json;

mod read_only;

fn env(name: &str, hash: &str, run: i64, cand: i64) -> NewEnvironment {
    NewEnvironment {
        name: name.into(),
        version: 1,
        content_hash: hash.into(),
        category: "logic".into(),
        description: "d".into(),
        code: "NAME = 'x'".into(),
        provenance: json!({"model": "m"}),
        validation: json!({"ok": true}),
        calibration: None,
        fingerprint: json!([]),
        run_id: Some(run),
        candidate_id: Some(cand),
    }
}

fn ev(stage: &str, passed: bool) -> StageEvent {
    StageEvent {
        stage: stage.into(),
        passed,
        reason: if passed { "ok".into() } else { "boom".into() },
        detail: String::new(),
        round: 0,
    }
}

fn setup(store: &Store) -> (i64, Vec<i64>) {
    let run = store.create_run(&json!({"target": 2})).unwrap();
    store
        .add_keywords(
            run,
            &[("a".into(), "logic".into()), ("b".into(), "math".into())],
        )
        .unwrap();
    // Adding again is idempotent.
    store
        .add_keywords(run, &[("a".into(), "logic".into())])
        .unwrap();
    let kws = store.pending_keywords(run).unwrap();
    assert_eq!(kws.len(), 2);
    let cands: Vec<NewCandidate> = (0..3)
        .map(|k| NewCandidate {
            keyword: "a".into(),
            title: format!("t{k}"),
            proposal: json!({"title": format!("t{k}")}),
        })
        .collect();
    let ids = store.finish_keyword(kws[0].id, &cands).unwrap();
    assert_eq!(store.pending_keywords(run).unwrap().len(), 1);
    (run, ids)
}

#[test]
fn decisions_are_recorded_and_summarized() {
    let store = Store::open_in_memory().unwrap();
    let (run, ids) = setup(&store);
    let cp = Checkpoint {
        code: Some("code".into()),
        round: 1,
        review_passed: true,
        cross_code: None,
        cross_draws: 3,
        settled: vec![resyn_store::Finding {
            seed: 7,
            difficulty: 2,
            answer: "4\n5".into(),
            correct: true,
        }],
    };
    store
        .record_stage(ids[0], &ev("validate", false), Some(&cp))
        .unwrap();
    let c = store.candidate(ids[0]).unwrap().unwrap();
    assert_eq!(c.checkpoint, cp);
    assert_eq!((c.stage.as_str(), c.reason.as_str()), ("validate", "boom"));
    assert_eq!(
        store
            .accept(&env("e1", "h1", run, ids[0]), &ev("store", true))
            .unwrap(),
        Accepted::Stored(1)
    );
    store
        .finish_candidate(ids[1], CandidateStatus::Rejected, &ev("review", false))
        .unwrap();
    store
        .record_call(&CallRecord {
            run_id: Some(run),
            purpose: "implement".into(),
            request_hash: "abc".into(),
            request: json!({"model": "m"}),
            reply: Some("hi".into()),
            status: "ok".into(),
            prompt_tokens: 10,
            completion_tokens: 5,
            ..Default::default()
        })
        .unwrap();
    let last = store.last_call_id().unwrap();
    assert_eq!(store.replay(run, "abc", last).unwrap().unwrap().0, "hi");
    assert!(store.replay(run, "abc", last - 1).unwrap().is_none());
    assert!(store.replay(run, "zzz", last).unwrap().is_none());
    let s = store.summary(run).unwrap();
    assert_eq!(
        (s.candidates, s.accepted, s.rejected, s.pending),
        (3, 1, 1, 1)
    );
    assert_eq!(s.failures, vec![("review".into(), "boom".into(), 1)]);
    assert_eq!(
        s.stage_failures,
        vec![("validate".into(), 1), ("review".into(), 1)]
    );
    assert_eq!(
        (s.llm_calls, s.prompt_tokens, s.completion_tokens, s.repairs),
        (1, 10, 5, 1)
    );
    assert_eq!(store.stage_events(ids[0]).unwrap().len(), 2);
    assert_eq!(store.titles().unwrap(), vec!["t0", "t1", "t2"]);
    // The funnel counts candidates (not events) per passed stage; stored
    // without calibration = uncalibrated; adjudications by resolution.
    assert_eq!(s.passed_by_stage, vec![("store".into(), 1)]);
    assert_eq!(s.uncalibrated, 1);
    for (how, passed) in [("upheld", true), ("overruled", false), ("upheld", true)] {
        let mut e = ev("adjudicate", passed);
        e.reason = how.into();
        store.record_stage(ids[2], &e, None).unwrap();
    }
    let s = store.summary(run).unwrap();
    assert_eq!(
        s.disagreements,
        vec![("overruled".into(), 1), ("upheld".into(), 2)]
    );
    assert_eq!(
        s.passed_by_stage,
        vec![("store".into(), 1), ("adjudicate".into(), 1)]
    );
}

#[test]
fn duplicates_are_refused_by_name_and_hash() {
    let store = Store::open_in_memory().unwrap();
    let (run, ids) = setup(&store);
    store
        .accept(&env("e1", "h1", run, ids[0]), &ev("store", true))
        .unwrap();
    assert_eq!(
        store
            .accept(&env("e1", "h2", run, ids[1]), &ev("store", true))
            .unwrap(),
        Accepted::Duplicate {
            key: "name",
            existing: "e1".into()
        }
    );
    assert_eq!(
        store
            .accept(&env("e2", "h1", run, ids[1]), &ev("store", true))
            .unwrap(),
        Accepted::Duplicate {
            key: "content_hash",
            existing: "e1".into()
        }
    );
    assert_eq!(store.environments().unwrap().len(), 1);
    assert_eq!(store.environment("e1").unwrap().env.content_hash, "h1");
    assert!(store.environment("nope").is_err());
    // The duplicate attempt left the candidate pending.
    assert_eq!(
        store.candidate(ids[1]).unwrap().unwrap().status,
        CandidateStatus::Pending
    );
    assert_eq!(store.accepted_count(run).unwrap(), 1);
}

#[test]
fn committed_decisions_survive_reopening_and_a_killed_writer() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("resyn.db");
    let (run, ids) = {
        let store = Store::open(&p).unwrap();
        let r = setup(&store);
        store
            .accept(&env("e1", "h1", r.0, r.1[0]), &ev("store", true))
            .unwrap();
        r
    };
    // A second process holding an open write transaction and then dying must
    // not lose the committed rows nor keep the database locked.
    let store = Store::open(&p).unwrap();
    assert_eq!(store.environments().unwrap().len(), 1);
    assert_eq!(
        store.candidate(ids[0]).unwrap().unwrap().status,
        CandidateStatus::Accepted
    );
    assert_eq!(store.run(run).unwrap().status, RunStatus::Running);
    store.update_run(run, RunStatus::Finished, 1500).unwrap();
    assert_eq!(store.run(run).unwrap().wall_ms, 1500);
    assert_eq!(store.runs().unwrap().len(), 1);
}

fn call(run: i64, candidate: Option<i64>, purpose: &str) -> CallRecord {
    CallRecord {
        run_id: Some(run),
        candidate_id: candidate,
        purpose: purpose.into(),
        request_hash: format!("{purpose}-{candidate:?}"),
        request: json!({"purpose": purpose}),
        reply: Some("reply".into()),
        status: "ok".into(),
        ..Default::default()
    }
}

#[test]
fn keyword_candidates_are_the_proposals_of_one_keyword_of_one_run() {
    let store = Store::open_in_memory().unwrap();
    let (run, ids) = setup(&store);
    // Keyword `b` of the same run, and keyword `a` of another run.
    let b = store.pending_keywords(run).unwrap();
    let new = |kw: &str, title: &str| NewCandidate {
        keyword: kw.into(),
        title: title.into(),
        proposal: json!({}),
    };
    let b_ids = store
        .finish_keyword(b[0].id, &[new("b", "b0"), new("b", "b1")])
        .unwrap();
    let other = store.create_run(&json!({})).unwrap();
    store
        .add_keywords(other, &[("a".into(), "logic".into())])
        .unwrap();
    let kw = store.pending_keywords(other).unwrap();
    store.finish_keyword(kw[0].id, &[new("a", "x")]).unwrap();

    let ids_of = |run, kw| -> Vec<i64> {
        store
            .keyword_candidates(run, kw)
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect()
    };
    assert_eq!(ids_of(run, "a"), ids);
    assert_eq!(ids_of(run, "b"), b_ids);
    assert_eq!(ids_of(other, "a").len(), 1);
    assert!(ids_of(run, "zzz").is_empty());
    // The same rows `candidates` returns, field for field.
    let all = store.candidates(run).unwrap();
    assert_eq!(store.keyword_candidates(run, "b").unwrap(), all[3..]);
}

#[test]
fn candidate_calls_are_the_calls_of_one_candidate_in_order() {
    let store = Store::open_in_memory().unwrap();
    let (run, ids) = setup(&store);
    for rec in [
        call(run, None, "proposal"),
        call(run, Some(ids[0]), "implement"),
        call(run, Some(ids[1]), "implement"),
        call(run, Some(ids[0]), "code_review"),
    ] {
        store.record_call(&rec).unwrap();
    }
    let purposes = |cand| -> Vec<String> {
        store
            .candidate_calls(cand)
            .unwrap()
            .into_iter()
            .map(|c| c.purpose)
            .collect()
    };
    assert_eq!(purposes(ids[0]), ["implement", "code_review"]);
    assert_eq!(purposes(ids[1]), ["implement"]);
    assert!(purposes(ids[2]).is_empty());
    // The same records `calls` returns for the run, filtered.
    let of_first: Vec<CallRecord> = store
        .calls(run)
        .unwrap()
        .into_iter()
        .filter(|c| c.candidate_id == Some(ids[0]))
        .collect();
    assert_eq!(store.candidate_calls(ids[0]).unwrap(), of_first);
}

#[test]
fn every_run_status_round_trips_through_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("resyn.db");
    let store = Store::open(&p).unwrap();
    let run = store.create_run(&json!({})).unwrap();
    assert_eq!(store.run(run).unwrap().status, RunStatus::Running);
    for status in RunStatus::ALL {
        store.update_run(run, status, 1).unwrap();
        assert_eq!(store.run(run).unwrap().status, status);
        assert_eq!(Store::open(&p).unwrap().run(run).unwrap().status, status);
        // The JSON name is the stored name.
        assert_eq!(
            serde_json::to_value(status).unwrap(),
            json!(status.as_str())
        );
    }
    let names: Vec<&str> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(names, ["running", "finished", "exhausted", "interrupted"]);
}

#[test]
fn every_candidate_status_round_trips_through_the_file() {
    let store = Store::open_in_memory().unwrap();
    let (_, ids) = setup(&store);
    for status in CandidateStatus::ALL {
        store
            .finish_candidate(ids[0], status, &ev("skip", false))
            .unwrap();
        assert_eq!(store.candidate(ids[0]).unwrap().unwrap().status, status);
    }
}

/// Overwrite a status column the way a newer resyn (or a corrupt file) could.
fn set_status(path: &std::path::Path, table: &str, id: i64, status: &str) {
    let c = rusqlite::Connection::open(path).unwrap();
    let n = c
        .execute(
            &format!("UPDATE {table} SET status = ?2 WHERE id = ?1"),
            rusqlite::params![id, status],
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn an_unknown_run_status_is_an_error_naming_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("resyn.db");
    let store = Store::open(&p).unwrap();
    let run = store.create_run(&json!({})).unwrap();
    set_status(&p, "runs", run, "paused");
    let e = store.run(run).unwrap_err();
    assert!(
        matches!(&e, Error::UnknownStatus { table: "runs", row, value, .. } if *row == run && value == "paused"),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("row {run} of table `runs`"))
            && msg.contains("`paused`")
            && msg.contains("running, finished, exhausted, interrupted")
            && msg.contains(&p.display().to_string()),
        "{msg}"
    );
    assert!(store.runs().is_err());
    assert!(store.summary(run).is_err());
}

#[test]
fn an_unknown_candidate_status_is_an_error_naming_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("resyn.db");
    let store = Store::open(&p).unwrap();
    let (run, ids) = setup(&store);
    set_status(&p, "candidates", ids[1], "frozen");
    for e in [
        store.candidate(ids[1]).unwrap_err(),
        store.candidates(run).unwrap_err(),
        store.keyword_candidates(run, "a").unwrap_err(),
        store.summary(run).unwrap_err(),
    ] {
        assert!(
            matches!(&e, Error::UnknownStatus { table: "candidates", row, value, .. } if *row == ids[1] && value == "frozen"),
            "{e:?}"
        );
    }
    // Other rows still read.
    assert_eq!(
        store.candidate(ids[0]).unwrap().unwrap().status,
        CandidateStatus::Pending
    );
}
