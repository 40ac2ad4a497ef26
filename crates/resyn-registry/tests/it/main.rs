//! `Sources::load`: what each source contributes, and the errors that name
//! the file at fault.
// Helpers outside #[test] functions unwrap too: a failed setup is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use resyn_core::Source;
use resyn_registry::{Error, Sources, StoreSource};
use resyn_store::{Accepted, Store};
use resyn_test::{add_module, store_event, stored_env};

/// A store holding one accepted environment with this code.
fn store_with(path: &Path, name: &str, code: &str) {
    let store = Store::open(path).unwrap();
    assert!(matches!(
        store
            .accept(&stored_env(name, code), &store_event())
            .unwrap(),
        Accepted::Stored(_)
    ));
}

/// An instance of the add module `env` (1 + 2), for verifying by hand.
fn add_instance(env: &str) -> resyn_core::Instance {
    resyn_core::Instance {
        id: "x".into(),
        env: env.into(),
        env_version: 1,
        seed: 1,
        difficulty: 1,
        prompt: String::new(),
        data: serde_json::json!({"a": 1, "b": 2}),
        reference: String::new(),
    }
}

fn sources(env_dirs: &[&Path], store: StoreSource) -> Sources {
    Sources {
        env_dirs: env_dirs.iter().map(|d| d.to_path_buf()).collect(),
        store,
        ..Sources::default()
    }
}

#[test]
fn without_dirs_or_store_the_registry_is_the_native_one() {
    let loaded = sources(&[], StoreSource::None).load().unwrap();
    assert_eq!(
        loaded.registry.metas(),
        resyn_envs::registry().metas(),
        "only native environments"
    );
    assert!(loaded.skipped.is_empty());
}

#[test]
fn a_missing_directory_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let err = sources(&[&missing], StoreSource::None).load().unwrap_err();
    assert!(
        matches!(&err, Error::MissingDir { path } if *path == missing),
        "{err}"
    );
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn a_named_store_that_does_not_exist_is_an_error_not_an_empty_list() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing.db");
    let err = sources(&[], StoreSource::Path(missing.clone()))
        .load()
        .unwrap_err();
    assert!(
        matches!(&err, Error::MissingStore { path } if *path == missing),
        "{err}"
    );
    assert!(!missing.exists(), "loading must not create the store");
}

#[test]
fn a_file_that_is_not_a_store_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let bogus = tmp.path().join("bogus.db");
    std::fs::write(
        &bogus,
        "this is not SQLite, it is plain text of some length",
    )
    .unwrap();
    let err = sources(&[], StoreSource::Path(bogus.clone()))
        .load()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Store { path, .. } if *path == bogus),
        "{err}"
    );
}

#[test]
fn reading_a_store_never_writes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("resyn.db");
    store_with(&db, "stored_add", &add_module("stored_add"));
    let before = std::fs::read(&db).unwrap();
    let reg = sources(&[], StoreSource::Path(db.clone()))
        .load()
        .unwrap()
        .registry;
    assert!(reg.get("stored_add").is_ok());
    assert_eq!(std::fs::read(&db).unwrap(), before);
    // A SQLite file that is not a store is refused, not given resyn's tables.
    let other = tmp.path().join("other.db");
    std::fs::write(&other, "").unwrap();
    let err = sources(&[], StoreSource::Path(other.clone()))
        .load()
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Store {
                source: resyn_store::Error::NotAStore { .. },
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(std::fs::read(&other).unwrap(), b"");
}

#[test]
fn stored_environments_join_with_source_synth_and_score() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("resyn.db");
    store_with(&db, "stored_add", &add_module("stored_add"));
    let reg = sources(&[], StoreSource::Path(db)).load().unwrap().registry;
    assert_eq!(reg.len(), resyn_envs::registry().len() + 1);
    let env = reg.get("stored_add").unwrap();
    assert_eq!(env.meta().source, Source::Synth);
    let inst = env.generate(3, 2).unwrap();
    assert_eq!(inst.env, "stored_add");
    assert_eq!(env.verify(&inst, &inst.reference).reward, 1.0);
    let sum = inst.data["a"].as_i64().unwrap() + inst.data["b"].as_i64().unwrap();
    let wrong = format!("<answer>{}</answer>", sum + 1);
    assert_eq!(env.verify(&inst, &wrong).reward, 0.0);
}

#[test]
fn directory_modules_join_and_broken_ones_are_skipped_with_their_file() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("dir_add.py"), add_module("dir_add")).unwrap();
    std::fs::write(
        tmp.path().join("broken.py"),
        "NAME = 'broken'\ndef generate(:\n",
    )
    .unwrap();
    let loaded = sources(&[tmp.path()], StoreSource::None).load().unwrap();
    let env = loaded.registry.get("dir_add").unwrap();
    assert_eq!(env.meta().source, Source::Python);
    let inst = env.generate(1, 1).unwrap();
    assert_eq!(env.verify(&inst, &inst.reference).reward, 1.0);
    assert_eq!(
        loaded.files.get("dir_add"),
        Some(&tmp.path().join("dir_add.py"))
    );
    assert_eq!(loaded.files.len(), 1, "{:?}", loaded.files);
    assert_eq!(loaded.skipped.len(), 1);
    assert!(
        loaded.skipped[0].to_string().contains("broken.py"),
        "{}",
        loaded.skipped[0]
    );
}

#[test]
fn one_id_from_two_sources_is_an_error_naming_the_second() {
    let tmp = tempfile::tempdir().unwrap();
    // A module that takes a native environment's id.
    let dir = tmp.path().join("envs");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("impostor.py"), add_module("sudoku")).unwrap();
    let err = sources(&[&dir], StoreSource::None).load().unwrap_err();
    assert!(
        matches!(&err, Error::Clash { id, origin } if id == "sudoku" && origin.ends_with("impostor.py")),
        "{err}"
    );

    // A stored environment that takes a directory module's id.
    let dir2 = tmp.path().join("envs2");
    std::fs::create_dir(&dir2).unwrap();
    std::fs::write(dir2.join("twin.py"), add_module("twin_add")).unwrap();
    let db = tmp.path().join("s.db");
    store_with(&db, "twin_add", &add_module("twin_add"));
    let err = sources(&[&dir2], StoreSource::Path(db.clone()))
        .load()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Clash { id, origin } if id == "twin_add" && origin.contains("s.db")),
        "{err}"
    );
}

#[test]
fn listing_a_store_does_not_start_the_sandbox() {
    // A sandbox that cannot start (no such interpreter): the store's
    // environments are still listed; using one reports why it cannot run.
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("resyn.db");
    store_with(&db, "lazy_add", &add_module("lazy_add"));
    let mut s = sources(&[], StoreSource::Path(db));
    s.sandbox.python = Some(tmp.path().join("no-such-python"));
    let reg = s.load().unwrap().registry;
    let env = reg.get("lazy_add").unwrap();
    assert_eq!(env.meta().description, "Add two integers.");
    let err = env.generate(1, 1).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("sandbox") && text.contains("no-such-python"),
        "{text}"
    );
    // The sandbox's own error is kept in the chain, not only its text.
    let kept = std::iter::successors(std::error::Error::source(&err), |e| e.source())
        .find_map(|e| e.downcast_ref::<std::sync::Arc<resyn_sandbox::Error>>());
    assert!(kept.is_some_and(|e| e.is_infra()), "{err:?}");
    let inst = add_instance("lazy_add");
    let v = env.verify(&inst, "<answer>3</answer>");
    assert_eq!(
        v.reward, 0.0,
        "an environment that cannot run never rewards"
    );
    // ... and says so: scorers raise this reason instead of scoring 0.
    assert_eq!(v.reason, resyn_core::ReasonCode::Unavailable, "{v:?}");
    assert!(v.detail.contains("no-such-python"), "{v:?}");
    // Nothing to verify or generate: nothing to start, no result (this
    // used to panic on a sandbox that cannot start).
    assert!(env.verify_batch(&[]).is_empty());
    assert!(env.generate_batch(&[]).is_empty());
    // Generating says it cannot run, not that the environment failed.
    let err = env.generate_batch(&[(1, 1), (2, 1)]);
    assert!(
        err.iter()
            .all(|r| matches!(r, Err(resyn_core::Error::Unavailable { .. }))),
        "{err:?}"
    );
}

#[test]
fn audits_reach_store_rows_modules_and_extra_sources_through_the_sandbox() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("resyn.db");
    let store = Store::open(&db).unwrap();
    let row = resyn_store::NewEnvironment {
        validation: serde_json::json!({"cross_verify": {"agreement": 1.0}}),
        ..stored_env("stored_add", &add_module("stored_add"))
    };
    store.accept(&row, &store_event()).unwrap();
    drop(store);
    let dir = tmp.path().join("envs");
    std::fs::create_dir(&dir).unwrap();
    let solving = format!(
        "{}\n\ndef solve(instance):\n    d = instance[\"data\"]\n    return str(d[\"a\"] + d[\"b\"])\n",
        add_module("dir_add")
    );
    std::fs::write(dir.join("dir_add.py"), solving).unwrap();
    let loaded = sources(&[&dir], StoreSource::Path(db)).load().unwrap();

    let stored = loaded.stored("stored_add").unwrap();
    assert_eq!(stored.env.validation["cross_verify"]["agreement"], 1.0);
    assert!(loaded.stored("dir_add").is_none() && loaded.stored("sudoku").is_none());

    // The module behind each Python environment; none behind a native one.
    assert!(loaded.python("sudoku").is_none());
    assert!(loaded.python("no_such_env").is_none());
    let dir_add = loaded.python("dir_add").unwrap();
    assert!(dir_add.has_solve());
    let inst = loaded
        .registry
        .get("dir_add")
        .unwrap()
        .generate(4, 2)
        .unwrap();
    let solved = dir_add.try_solve_batch(&[&inst]).results.remove(0).unwrap();
    assert_eq!(
        inst.reference,
        resyn_core::wrap_answer(&solved),
        "solve() agrees with the reference"
    );
    let stored_add = loaded.python("stored_add").unwrap();
    assert!(!stored_add.has_solve());
    assert_eq!(stored_add.meta().id, "stored_add");

    // Extra source runs in the same sandbox; a broken one is an error naming it.
    let extra = loaded
        .load_module("extra.py", add_module("stored_add"))
        .unwrap();
    use resyn_core::Environment;
    let sinst = loaded
        .registry
        .get("stored_add")
        .unwrap()
        .generate(1, 1)
        .unwrap();
    assert!(extra.verify(&sinst, &sinst.reference).correct);
    let err = loaded
        .load_module("broken_extra.py", "def verify(:\n".into())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Module { id, .. } if id == "broken_extra.py"),
        "{err}"
    );
}

#[test]
fn listing_a_directory_does_not_start_the_sandbox() {
    // Metadata is read from the modules' source: no interpreter needed to
    // list them, however many there are.
    let tmp = tempfile::tempdir().unwrap();
    for k in 0..50 {
        std::fs::write(
            tmp.path().join(format!("m{k}.py")),
            add_module(&format!("listed_{k}")),
        )
        .unwrap();
    }
    let mut s = sources(&[tmp.path()], StoreSource::None);
    s.sandbox.python = Some(tmp.path().join("no-such-python"));
    let loaded = s.load().unwrap();
    assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
    let env = loaded.registry.get("listed_7").unwrap();
    assert_eq!(env.meta().source, Source::Python);
    let err = env.generate(1, 1).unwrap_err().to_string();
    assert!(err.contains("sandbox"), "{err}");
}

#[test]
fn a_stored_environment_whose_code_disagrees_with_the_store_never_rewards() {
    // The store says `labelled`; the module says `other`. Its metadata
    // comes from the store, and running it reports the disagreement.
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("resyn.db");
    store_with(&db, "labelled", &add_module("other"));
    let reg = sources(&[], StoreSource::Path(db)).load().unwrap().registry;
    let env = reg.get("labelled").unwrap();
    let err = env.generate(1, 1).unwrap_err().to_string();
    assert!(
        err.contains("\"other\"") && err.contains("labelled"),
        "{err}"
    );
    let inst = add_instance("labelled");
    assert_eq!(env.verify(&inst, "<answer>3</answer>").reward, 0.0);
}

#[test]
fn the_pool_size_comes_from_the_environment_and_bad_values_are_errors() {
    // Setting the variable here would race with the other tests (they run
    // in parallel threads): a child process of this binary reads it.
    let run = |value: &str| {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "pool_size_probe",
                "--nocapture",
                "--include-ignored",
            ])
            .env(resyn_registry::SANDBOX_WORKERS_VAR, value)
            .output()
            .unwrap()
    };
    let ok = run("37");
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(
        out.contains("POOL=Ok(Some(37))") && out.contains("MAX=37"),
        "{out}"
    );
    let bad = run("many");
    let out = String::from_utf8_lossy(&bad.stdout);
    assert!(
        out.contains("POOL=Err") && out.contains("RESYN_SANDBOX_WORKERS"),
        "{out}"
    );
    let zero = run("0");
    assert!(String::from_utf8_lossy(&zero.stdout).contains("POOL=Err"));
}

/// Run by `the_pool_size_comes_from_the_environment_and_bad_values_are_errors`
/// in a child process.
#[test]
#[ignore = "run by another test with the variable set"]
fn pool_size_probe() {
    let got = resyn_registry::sandbox_workers_from_env().map_err(|e| e.to_string());
    println!("POOL={got:?}");
    if let Ok(s) = resyn_registry::Sources::from_env() {
        println!("MAX={}", s.sandbox.max_workers);
    }
}
