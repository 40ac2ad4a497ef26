//! Snapshots of the output users parse or read: `resyn envs --json`, the
//! `resyn dataset build` summary and `--json` manifest. A change to them
//! fails here until its snapshot is reviewed (`cargo insta review`, or
//! rerun with `INSTA_UPDATE=always` and inspect the diff).
//!
//! Runs happen in an empty temporary directory with `RESYN_ENV_DIRS` and
//! `RESYN_STORE` unset, so only the native environments are seen. Paths,
//! timings, versions and hashes are replaced by placeholders.

use assert_cmd::Command;
use serde_json::Value;

use super::{TempDir, resyn};

/// `resyn` in `dir`, seeing only the native environments.
fn isolated(dir: &TempDir) -> Command {
    let mut cmd = resyn();
    cmd.current_dir(dir.root())
        .env_remove("RESYN_ENV_DIRS")
        .env_remove("RESYN_STORE");
    cmd
}

#[test]
fn envs_json() {
    let dir = TempDir::new("snap-envs");
    let out = isolated(&dir).args(["envs", "--json"]).assert().success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    insta::assert_json_snapshot!(v);
}

#[test]
fn dataset_build_summary_and_manifest() {
    let dir = TempDir::new("snap-dataset");
    std::fs::write(
        dir.join("ds.toml"),
        "instances_per_env = 6\n[select]\nids = [\"tower_of_hanoi\", \"sudoku\"]\n[difficulty]\nmax = 3\n",
    )
    .unwrap();
    let out = isolated(&dir)
        .args([
            "dataset",
            "build",
            "ds.toml",
            "--json",
            "--threads",
            "1",
            "-o",
        ])
        .arg(dir.join("ds"))
        .assert()
        .success();
    let temp = dir.root().display().to_string();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).replace(&temp, "[TEMP_DIR]");
    insta::with_settings!({filters => vec![
        (r"built in \d+\.\d+s \(\d+ instances/s\)", "built in [ELAPSED]"),
    ]}, {
        insta::assert_snapshot!("dataset_build_summary", stderr);
    });
    let manifest: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    // File sizes and hashes: parquet files carry the writer's version, and
    // the bytes themselves are covered by the builder's determinism tests.
    insta::with_settings!({filters => vec![
        (r#""resyn_version": ".*""#, r#""resyn_version": "[VERSION]""#),
        (r#""dir": ".*""#, r#""dir": "[TEMP_DIR]/ds""#),
        (r#""bytes": \d+"#, r#""bytes": "[BYTES]""#),
        (r#""sha256": "[0-9a-f]{64}""#, r#""sha256": "[SHA256]""#),
    ]}, {
        insta::assert_json_snapshot!("dataset_build_manifest", manifest);
    });
}
