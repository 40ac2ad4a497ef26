//! Snapshots of the output users parse or read: `resyn envs --json`, the
//! instances of `resyn generate` and the scores and summary of `resyn
//! verify`, the `resyn dataset build` summary and `--json` manifest. (The
//! other commands' are beside their tests: `synth.rs`, `eval.rs`,
//! `main.rs`.) A change to them
//! fails here until its snapshot is reviewed (`cargo insta review`, or
//! rerun with `INSTA_UPDATE=always` and inspect the diff).
//!
//! Runs happen in an empty temporary directory with `RESYN_ENV_DIRS` and
//! `RESYN_STORE` unset, so only the native environments are seen. Paths,
//! timings, versions and hashes are replaced by placeholders.

use assert_cmd::Command;
use serde_json::Value;

use super::{TempDir, lines, resyn, write_responses};

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

/// Instances are byte-identical on every run and platform, so they are
/// pinned as they are; one reference and one wrong answer are scored.
#[test]
fn generate_instances_and_verify_scores() {
    let dir = TempDir::new("snap-verify");
    let instances = dir.join("instances.jsonl");
    isolated(&dir)
        .args(["generate", "tower_of_hanoi", "--count", "2", "--seed", "0"])
        .args(["--difficulty", "1", "-o"])
        .arg(&instances)
        .assert()
        .success();
    let generated = lines(&std::fs::read(&instances).unwrap());
    insta::assert_json_snapshot!("generate_instances", generated);
    let responses = dir.join("responses.jsonl");
    write_responses(&responses, &instances, |k, inst| match k {
        0 => inst["reference"].as_str().unwrap().to_string(),
        _ => "<answer>nonsense</answer>".into(),
    });
    let out = isolated(&dir)
        .args(["verify", "--instances"])
        .arg(&instances)
        .arg("--responses")
        .arg(&responses)
        .assert()
        .success();
    let scores = lines(&out.get_output().stdout);
    insta::assert_json_snapshot!("verify_scores", scores);
    let summary = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    insta::assert_snapshot!(summary, @"verified 2: 1 correct, mean reward 0.5000 (ok=1, parse_error=1)");
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
