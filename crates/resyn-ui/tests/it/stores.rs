//! The store in every state a viewer meets: none, missing, appearing
//! later, locked by another process, of another schema, written while the
//! UI runs. Each is a page saying so (never a crash), and the environments
//! that do not need the store keep working.

use axum::http::StatusCode;
use resyn_registry::StoreSource;
use resyn_store::Store;
use resyn_test::{store_event, stored_env};
use resyn_ui::app;

use crate::fixture::{ENV, Fixture, get, module, on, state};

#[tokio::test]
async fn without_a_store_runs_say_how_to_get_one() {
    let app = app(state(StoreSource::None));
    let (s, _, html) = get(&app, "/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("sudoku") && !html.contains("notice"),
        "{html}"
    );
    let (s, _, html) = get(&app, "/runs").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(
        html.contains("No store") && html.contains("--store FILE"),
        "{html}"
    );
}

#[tokio::test]
async fn a_missing_store_is_a_notice_until_it_appears() {
    let f = Fixture::new();
    let later = f.path("later.db");
    let app = on(&later);
    let (s, _, html) = get(&app, "/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("Store not found.") && html.contains("later.db"),
        "{html}"
    );
    assert!(!html.contains(ENV));
    let (s, _, html) = get(&app, "/runs").await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(html.contains("does not exist (yet)"), "{html}");
    let (s, _, _) = get(&app, &format!("/envs/{ENV}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(!later.exists(), "looking did not create it");
    // `resyn synth` creates it: the same UI now shows its environments and
    // generates their samples.
    std::fs::copy(&f.store, &later).unwrap();
    let (_, _, html) = get(&app, "/").await;
    assert!(
        html.contains(ENV) && !html.contains("Store not found."),
        "{html}"
    );
    let (s, _, html) = get(&app, &format!("/envs/{ENV}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("What is "),
        "samples of the new store's environment"
    );
    assert_eq!(get(&app, "/runs").await.0, StatusCode::OK);
}

#[tokio::test]
async fn environments_accepted_while_the_ui_runs_appear() {
    let f = Fixture::new();
    let app = on(&f.store);
    assert!(!get(&app, "/").await.2.contains("late_add"));
    let writer = Store::open(&f.store).unwrap();
    writer
        .accept(
            &stored_env("late_add", &module("late_add", "late", "")),
            &store_event(),
        )
        .unwrap();
    assert!(get(&app, "/").await.2.contains("late_add"));
    let (s, _, html) = get(&app, "/envs/late_add?difficulty=2").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("Difficulty 2 · seed 0") && html.contains("What is "),
        "{html}"
    );
}

#[tokio::test]
async fn a_locked_store_is_a_clear_page_and_the_rest_still_works() {
    let f = Fixture::new();
    let app = on(&f.store);
    assert_eq!(get(&app, "/runs").await.0, StatusCode::OK);
    let lock = rusqlite::Connection::open(&f.store).unwrap();
    lock.execute_batch(
        "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; UPDATE runs SET status = 'x'",
    )
    .unwrap();
    let (s, _, html) = get(&app, "/runs").await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(html.contains("Store locked"), "{html}");
    let (s, _, html) = get(&app, "/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("Store locked.") && html.contains("sudoku"),
        "{html}"
    );
    // Environments assembled before the lock still generate samples.
    let (s, _, html) = get(&app, &format!("/envs/{ENV}")).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    drop(lock);
    assert_eq!(get(&app, "/runs").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_store_of_another_schema_or_not_a_store_is_named_on_the_page() {
    let f = Fixture::new();
    rusqlite::Connection::open(&f.store)
        .unwrap()
        .execute_batch("INSERT INTO schema_version VALUES (99)")
        .unwrap();
    let app = on(&f.store);
    let (s, _, html) = get(&app, "/runs").await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        html.contains("Store unreadable") && html.contains("schema version 99"),
        "{html}"
    );
    let (s, _, html) = get(&app, "/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("schema version 99"));
    let text = f.path("notes.txt");
    std::fs::write(&text, "not a database, just some text in a file").unwrap();
    let (s, _, html) = get(&on(&text), "/runs").await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(html.contains("notes.txt"), "{html}");
}
