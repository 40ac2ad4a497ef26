//! End-to-end tests of the `resyn` binary.
#![allow(clippy::unwrap_used)]

mod audit;
mod outputs;
mod synth;
mod ui;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use resyn_test::TempDir;
use serde_json::Value;

mod eval;
mod serve;

fn resyn() -> Command {
    Command::cargo_bin("resyn").expect("binary built")
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn generate(dir: &TempDir, extra: &[&str]) -> PathBuf {
    let out = dir.join("instances.jsonl");
    let mut cmd = resyn();
    cmd.args([
        "generate",
        "--count",
        "4",
        "--seed",
        "10",
        "--difficulty",
        "1-3",
        "-o",
    ])
    .arg(&out)
    .args(extra);
    cmd.assert().success();
    out
}

fn all_env_ids() -> Vec<String> {
    let out = resyn().args(["envs", "--json"]).assert().success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn envs_json_has_documented_fields() {
    let out = resyn().args(["envs", "--json"]).assert().success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let envs = v.as_array().unwrap();
    assert!(!envs.is_empty());
    for e in envs {
        for key in [
            "id",
            "version",
            "category",
            "description",
            "min_difficulty",
            "max_difficulty",
            "source",
        ] {
            assert!(e.get(key).is_some(), "missing {key} in {e}");
        }
        assert_eq!(e["source"], "native");
    }
}

#[test]
fn generate_is_deterministic_and_complete() {
    let ids = all_env_ids();
    let mut args = vec!["generate"];
    args.extend(ids.iter().map(String::as_str));
    args.extend(["--count", "3", "--seed", "1", "--difficulty", "1-10"]);
    let a = resyn()
        .args(&args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let b = resyn()
        .args(&args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(a, b, "two runs differ");
    let insts = lines(&a);
    assert_eq!(insts.len(), ids.len() * 3 * 10);
    for i in &insts {
        for key in [
            "id",
            "env",
            "env_version",
            "seed",
            "difficulty",
            "prompt",
            "data",
            "reference",
        ] {
            assert!(i.get(key).is_some(), "missing {key}");
        }
    }
}

fn write_responses(path: &Path, instances: &Path, f: impl Fn(usize, &Value) -> String) {
    let text = std::fs::read_to_string(instances).unwrap();
    let mut out = String::new();
    for (k, line) in text.lines().enumerate() {
        let inst: Value = serde_json::from_str(line).unwrap();
        out += &serde_json::json!({"id": inst["id"], "response": f(k, &inst)}).to_string();
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn verify_scores_references_and_wrong_answers() {
    let dir = TempDir::new("verify");
    let ids = all_env_ids();
    let inst = generate(&dir, &ids.iter().map(String::as_str).collect::<Vec<_>>());
    let resp = dir.join("responses.jsonl");
    write_responses(&resp, &inst, |k, i| {
        if k % 2 == 0 {
            i["reference"].as_str().unwrap().to_string()
        } else {
            "<answer>nonsense</answer>".into()
        }
    });
    let out = dir.join("scores.jsonl");
    let a = resyn()
        .args(["verify", "--instances"])
        .arg(&inst)
        .arg("--responses")
        .arg(&resp)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(stderr.contains("verified"), "{stderr}");
    let scores = lines(&std::fs::read(&out).unwrap());
    assert_eq!(scores.len(), ids.len() * 12);
    for (k, s) in scores.iter().enumerate() {
        assert_eq!(s["correct"], k % 2 == 0, "{s}");
        assert_eq!(s["reward"], if k % 2 == 0 { 1.0 } else { 0.0 });
        assert!(s["reason"].is_string());
    }
}

#[test]
fn verify_errors_name_file_and_line_and_write_nothing() {
    let dir = TempDir::new("verify-errors");
    let inst = generate(&dir, &["tower_of_hanoi"]);
    let resp = dir.join("responses.jsonl");
    let out = dir.join("scores.jsonl");
    let cases: [(&str, &str); 3] = [
        (
            "{\"id\": \"nope\", \"response\": \"x\"}\n",
            "responses.jsonl:2: unknown instance id `nope`",
        ),
        ("{not json\n", "responses.jsonl:2: malformed line"),
        ("{\"id\": 5}\n", "responses.jsonl:2: malformed line"),
    ];
    for (bad, expect) in cases {
        let first = std::fs::read_to_string(&inst).unwrap();
        let first: Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
        let good = serde_json::json!({"id": first["id"], "response": "x"}).to_string();
        std::fs::write(&resp, format!("{good}\n{bad}")).unwrap();
        let a = resyn()
            .args(["verify", "--instances"])
            .arg(&inst)
            .arg("--responses")
            .arg(&resp)
            .arg("-o")
            .arg(&out)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(stderr.contains(expect), "expected `{expect}` in: {stderr}");
        assert!(!out.exists(), "output written despite error");
    }
    // An instance of an unknown environment names the instances file and line.
    std::fs::write(&inst, "{\"id\":\"x\",\"env\":\"ghost\",\"env_version\":1,\"seed\":0,\"difficulty\":1,\"prompt\":\"\",\"data\":null,\"reference\":\"\"}\n").unwrap();
    let a = resyn()
        .args(["verify", "--instances"])
        .arg(&inst)
        .arg("--responses")
        .arg(&resp)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        stderr.contains("instances.jsonl:1") && stderr.contains("ghost"),
        "{stderr}"
    );
    assert!(
        std::fs::read_dir(dir.root()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with('.')),
        "temp files left"
    );
}

#[test]
fn bad_arguments_exit_2() {
    resyn().args(["generate", "no_such_env"]).assert().code(2);
    resyn()
        .args(["generate", "tower_of_hanoi", "--difficulty", "0"])
        .assert()
        .code(2);
    resyn()
        .args(["generate", "tower_of_hanoi", "--difficulty", "7-3"])
        .assert()
        .code(2);
}

fn python_env_dir() -> PathBuf {
    resyn_test::repo_path("envs/python")
}

#[test]
fn env_dir_adds_python_environments() {
    let out = resyn()
        .args(["envs", "--json", "--env-dir"])
        .arg(python_env_dir())
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let python: Vec<&Value> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["source"] == "python")
        .collect();
    // Every bundled module loads (files starting with `_` are not environments).
    let modules = std::fs::read_dir(python_env_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".py") && !n.starts_with('_'))
        .count();
    assert_eq!(python.len(), modules, "{v}");
    assert!(python.iter().any(|m| m["id"] == "robot_walk"));
    // The same through RESYN_ENV_DIRS.
    let out = resyn()
        .args(["envs", "--json"])
        .env("RESYN_ENV_DIRS", python_env_dir())
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "latin_square" && m["source"] == "python")
    );
}

#[test]
fn python_environments_generate_and_verify_like_native_ones() {
    let dir = TempDir::new("python");
    let dir_arg = python_env_dir();
    let out = dir.join("instances.jsonl");
    resyn()
        .args([
            "generate",
            "robot_walk",
            "liar_island",
            "-n",
            "3",
            "-d",
            "2-3",
            "-o",
        ])
        .arg(&out)
        .arg("--env-dir")
        .arg(&dir_arg)
        .assert()
        .success();
    let instances = lines(&std::fs::read(&out).unwrap());
    assert_eq!(instances.len(), 12);
    let responses = dir.join("responses.jsonl");
    write_responses(&responses, &out, |k, inst| {
        if k % 2 == 0 {
            inst["reference"].as_str().unwrap().to_string()
        } else {
            "<answer>nonsense</answer>".to_string()
        }
    });
    let scored = resyn()
        .args(["verify", "--env-dir"])
        .arg(&dir_arg)
        .arg("--instances")
        .arg(&out)
        .arg("--responses")
        .arg(&responses)
        .assert()
        .success();
    let verdicts = lines(&scored.get_output().stdout);
    assert_eq!(verdicts.len(), 12);
    for (k, v) in verdicts.iter().enumerate() {
        assert_eq!(v["correct"], k % 2 == 0, "{v}");
    }
}

#[test]
fn verify_fails_when_a_python_environment_cannot_run() {
    // Instances made with a working sandbox; verified where the sandbox
    // cannot start (no such interpreter): an error naming the environment
    // and why, a failing exit code (2, as every error), no output file (not
    // a 0 for every response).
    let dir = TempDir::new("unavailable");
    let dir_arg = python_env_dir();
    let insts = dir.join("instances.jsonl");
    resyn()
        .args(["generate", "robot_walk", "-n", "2", "-o"])
        .arg(&insts)
        .arg("--env-dir")
        .arg(&dir_arg)
        .assert()
        .success();
    let responses = dir.join("responses.jsonl");
    write_responses(&responses, &insts, |_, inst| {
        inst["reference"].as_str().unwrap().to_string()
    });
    let out = dir.join("scores.jsonl");
    let failed = resyn()
        .env("RESYN_PYTHON", dir.join("no-such-python"))
        .args(["verify", "--env-dir"])
        .arg(&dir_arg)
        .arg("--instances")
        .arg(&insts)
        .arg("--responses")
        .arg(&responses)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&failed.get_output().stderr);
    assert!(
        stderr.contains("environment `robot_walk` cannot run on this machine")
            && stderr.contains("no-such-python"),
        "{stderr}"
    );
    assert!(!out.exists(), "no scores may be written");
}

#[test]
fn broken_python_modules_are_skipped_with_a_warning() {
    let dir = TempDir::new("broken");
    std::fs::write(dir.join("broken.py"), "NAME = 'broken'\ndef generate(:\n").unwrap();
    std::fs::copy(
        python_env_dir().join("robot_walk.py"),
        dir.join("robot_walk.py"),
    )
    .unwrap();
    let out = resyn()
        .args(["envs", "--json", "--env-dir"])
        .arg(dir.root())
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(
        stderr.contains("broken.py") && stderr.contains("syntax"),
        "{stderr}"
    );
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "robot_walk")
    );
    resyn()
        .args(["envs", "--env-dir", "/nonexistent/dir"])
        .assert()
        .code(2);
}

#[test]
fn sandbox_doctor_reports_every_layer() {
    let out = resyn()
        .args(["sandbox", "doctor", "--json"])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let layers = v["layers"].as_array().unwrap();
    assert!(layers.len() >= 9);
    for l in layers {
        assert_eq!(l["status"], "enforced", "{l}");
    }
    // Where a worker may write is stated (issue 12).
    let private = layers.iter().find(|l| l["layer"] == "private_tmp").unwrap();
    assert!(
        private["detail"]
            .as_str()
            .unwrap()
            .contains("private tmpfs per worker"),
        "{private}"
    );
    // Which process model runs the modules (issue 14).
    let model = layers
        .iter()
        .find(|l| l["layer"] == "module_isolation")
        .unwrap();
    assert!(
        model["detail"]
            .as_str()
            .unwrap()
            .starts_with("shared zygote"),
        "{model}"
    );
    // The fields and layers users parse; what the host reports varies.
    insta::with_settings!({filters => vec![
        (r#""backend": ".*""#, r#""backend": "[BACKEND]""#),
        (r#""python": ".*""#, r#""python": "[PYTHON]""#),
        (r#""detail": ".*""#, r#""detail": "[DETAIL]""#),
    ]}, {
        insta::assert_json_snapshot!("sandbox_doctor_json", v);
    });
    let text = resyn()
        .args(["sandbox", "doctor"])
        .env("RESYN_CODE_CACHE", "/nonexistent/code-cache")
        .assert()
        .success();
    let said = String::from_utf8_lossy(&text.get_output().stderr).into_owned();
    let text = String::from_utf8_lossy(&text.get_output().stdout).into_owned();
    assert!(text.contains("net_ns"), "{text}");
    assert!(text.contains("private_tmp"), "{text}");
    // Where compiled module code is kept.
    assert!(said.contains("cached in /nonexistent/code-cache"), "{said}");
    let off = resyn()
        .args(["sandbox", "doctor"])
        .env("RESYN_CODE_CACHE", "off")
        .assert()
        .success();
    let said = String::from_utf8_lossy(&off.get_output().stderr).into_owned();
    assert!(said.contains("not cached"), "{said}");
}

#[test]
fn the_sandbox_pool_size_is_a_flag_and_a_variable() {
    let dir = python_env_dir();
    let dir = dir.to_str().unwrap();
    // A pool of one worker still runs every environment (evicting).
    let out = resyn()
        .args([
            "generate",
            "base_conversion",
            "bin_packing",
            "--env-dir",
            dir,
        ])
        .args(["--count", "2", "--sandbox-workers", "1"])
        .assert()
        .success();
    assert_eq!(
        String::from_utf8_lossy(&out.get_output().stdout)
            .lines()
            .count(),
        4
    );
    resyn()
        .args(["envs", "--sandbox-workers", "0"])
        .assert()
        .code(2);
    let out = resyn()
        .args(["envs", "--env-dir", dir])
        .env("RESYN_SANDBOX_WORKERS", "lots")
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("RESYN_SANDBOX_WORKERS"), "{err}");
}

// ---- resyn dataset build -------------------------------------------------

fn small_dataset_config(dir: &TempDir, extra: &str) -> PathBuf {
    let cfg = dir.join("ds.toml");
    std::fs::write(
        &cfg,
        format!("instances_per_env = 6\n{extra}\n[difficulty]\nmax = 3\n"),
    )
    .unwrap();
    cfg
}

#[test]
fn dataset_build_writes_files_and_keeps_stdout_clean() {
    let dir = TempDir::new("dataset-build");
    let cfg = small_dataset_config(&dir, "");
    let out = dir.join("ds");
    let run = resyn()
        .args(["dataset", "build"])
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert!(run.get_output().stdout.is_empty(), "stdout is data only");
    let stderr = String::from_utf8_lossy(&run.get_output().stderr);
    assert!(
        stderr.contains("by category") && stderr.contains("built in"),
        "{stderr}"
    );
    for f in [
        "manifest.json",
        "train.parquet",
        "validation.parquet",
        "test.parquet",
        "train.jsonl",
        "validation.jsonl",
        "test.jsonl",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    // --json prints the manifest, equal to manifest.json.
    let run = resyn()
        .args(["dataset", "build", "--json", "--threads", "1"])
        .arg(&cfg)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let printed: Value = serde_json::from_slice(&run.get_output().stdout).unwrap();
    let file: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(printed, file);
    let n_envs = all_env_ids().len() as u64;
    assert_eq!(printed["totals"]["environments"], n_envs);
    assert_eq!(printed["config"]["output"]["dir"], out.to_str().unwrap());
}

#[test]
fn dataset_build_without_config_uses_the_defaults() {
    let dir = TempDir::new("dataset-default");
    let out = dir.join("ds");
    let run = resyn()
        .args(["dataset", "build", "--json", "--out"])
        .arg(&out)
        .assert()
        .success();
    let m: Value = serde_json::from_slice(&run.get_output().stdout).unwrap();
    // Every registered environment, 40 instances each, verifier rewards.
    let ids: Vec<String> = m["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    let excluded = m["excluded"].as_array().unwrap().len();
    assert_eq!(ids.len() + excluded, all_env_ids().len());
    assert_eq!(m["config"]["reward"], "verifier");
    assert_eq!(m["config"]["instances_per_env"], 40);
}

#[test]
fn dataset_build_fails_when_a_python_environment_cannot_run() {
    // Not an excluded environment and a dataset without it: the machine
    // cannot run it (no such interpreter), so the build stops, writes
    // nothing, and says why.
    let dir = TempDir::new("dataset-unavailable");
    let out = dir.join("ds");
    let cfg = small_dataset_config(&dir, "[select]\nids = [\"tower_of_hanoi\", \"robot_walk\"]");
    let run = resyn()
        .env("RESYN_PYTHON", dir.join("no-such-python"))
        .args(["dataset", "build"])
        .arg(&cfg)
        .arg("--env-dir")
        .arg(python_env_dir())
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr);
    assert!(
        stderr.contains("environment `robot_walk` cannot run on this machine")
            && stderr.contains("no-such-python"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing may be written");
}

#[test]
fn dataset_config_errors_exit_2_and_name_the_field() {
    let dir = TempDir::new("dataset-errors");
    let out = dir.join("ds");
    for (extra, needle) in [
        ("[split]\ntrain = 2.0", "split.train"),
        ("colour = 1", "colour"),
        ("[select]\nids = [\"no_such_env\"]", "select.ids[0]"),
        (
            "reward = \"llm_answer\"",
            "needs an [llm_answer] section with base_url and model",
        ),
    ] {
        let cfg = small_dataset_config(&dir, extra);
        let run = resyn()
            .args(["dataset", "build"])
            .arg(&cfg)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&run.get_output().stderr);
        assert!(stderr.contains(needle), "{extra}: {stderr}");
        assert!(
            stderr.contains("ds.toml"),
            "{extra}: names the file: {stderr}"
        );
    }
    assert!(!out.exists(), "nothing written");
    resyn()
        .args(["dataset", "build"])
        .arg(dir.join("missing.toml"))
        .assert()
        .code(2);
}

#[test]
fn killed_dataset_build_leaves_the_previous_output() {
    let dir = TempDir::new("dataset-kill");
    let out = dir.join("ds");
    let small = small_dataset_config(&dir, "");
    resyn()
        .args(["dataset", "build"])
        .arg(&small)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let before = std::fs::read(out.join("train.parquet")).unwrap();
    let manifest = std::fs::read(out.join("manifest.json")).unwrap();
    // A build large enough to still be running when killed.
    let big = dir.join("big.toml");
    std::fs::write(&big, "instances_per_env = 2000000\n").unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("resyn"))
        .args(["dataset", "build"])
        .arg(&big)
        .arg("--out")
        .arg(&out)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the big build finished too soon"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(std::fs::read(out.join("train.parquet")).unwrap(), before);
    assert_eq!(std::fs::read(out.join("manifest.json")).unwrap(), manifest);
    // The killed build's staging directory is left behind; the next build
    // removes it.
    let leftovers = |d: &TempDir| {
        std::fs::read_dir(d.root())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".ds.")
            })
            .count()
    };
    assert_eq!(leftovers(&dir), 1);
    resyn()
        .args(["dataset", "build"])
        .arg(&small)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(leftovers(&dir), 0);
    assert_eq!(std::fs::read(out.join("train.parquet")).unwrap(), before);
}

/// `reward = "llm_answer"` against a local server: labels are the model's
/// answers, fetched once and cached, and a rebuild needs no server.
#[test]
fn llm_answer_build_labels_rows_with_cached_answers() {
    use resyn_llm::test_server::{Behavior, RecordedRequest, TestServer};
    use std::collections::HashMap;
    use std::sync::Arc;

    let dir = TempDir::new("dataset-llm");
    // The right answer of every prompt the build can ask about.
    let reg = resyn_envs::registry();
    let env = reg.get("tower_of_hanoi").unwrap();
    let base = resyn_data::seed_base(0);
    let mut right: HashMap<String, String> = HashMap::new();
    for seed in base..base + 100 {
        for d in 1..=3 {
            let inst = env.generate(seed, d).unwrap();
            let a = resyn_core::probes::reference_answer(&inst).to_string();
            right.insert(inst.prompt, a);
        }
    }
    let right = Arc::new(right);
    let r2 = Arc::clone(&right);
    // By prompt length: right, wrong, or no answer at all; the first
    // request gets a 500 (retried).
    let server = TestServer::start(move |r: &RecordedRequest| {
        if r.seq == 0 {
            return Behavior::status(500);
        }
        match (r2.get(&r.prompt), r.prompt.len() % 3) {
            (None, _) => Behavior::status(404),
            (Some(a), 0) => Behavior::answer(format!("<think>t</think><answer>{a}</answer>")),
            (Some(_), 1) => Behavior::answer("<answer>A->C</answer>"),
            (Some(_), _) => Behavior::answer("I am not sure."),
        }
    });
    let cache = dir.join("answers.jsonl");
    let cfg = dir.join("llm.toml");
    let write_cfg = |url: &str, extra: &str| {
        std::fs::write(
            &cfg,
            format!(
                "reward = \"llm_answer\"\ninstances_per_env = 24\n\
                 [select]\nids = [\"tower_of_hanoi\"]\n[difficulty]\nmax = 3\n\
                 [output]\nformats = [\"jsonl\"]\n\
                 [llm_answer]\nbase_url = \"{url}\"\nmodel = \"labeller\"\nconcurrency = 4\ncache = \"{}\"\n{extra}",
                cache.display()
            ),
        )
        .unwrap();
    };
    write_cfg(&server.base_url(), "");
    let build = |out: &str| {
        let run = resyn()
            .args(["dataset", "build"])
            .arg(&cfg)
            .arg("--out")
            .arg(dir.join(out))
            .arg("--json")
            .assert()
            .success();
        serde_json::from_slice::<Value>(&run.get_output().stdout).unwrap()
    };
    let m = build("ds");
    let rows: Vec<Value> = ["train", "validation", "test"]
        .iter()
        .flat_map(|s| {
            std::fs::read_to_string(dir.join(format!("ds/{s}.jsonl")))
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(rows.len(), 24);
    // One retried 500, then one request per row.
    assert_eq!(server.request_count(), 25);
    let (mut answered, mut unanswered, mut correct) = (0, 0, 0);
    for row in &rows {
        let gt: Value = serde_json::from_str(row["label"].as_str().unwrap()).unwrap();
        assert_eq!(gt["reward_mode"], "llm_answer");
        assert_eq!(gt["model"], "labeller");
        let prompt = row["prompt"][1]["content"].as_str().unwrap();
        match prompt.len() % 3 {
            0 => {
                assert_eq!(gt["answer"], right[prompt].as_str());
                answered += 1;
                correct += 1;
            }
            1 => {
                assert_eq!(gt["answer"], "A->C");
                answered += 1;
            }
            _ => {
                assert!(gt["answer"].is_null(), "{gt}");
                unanswered += 1;
            }
        }
    }
    assert!(correct > 0 && unanswered > 0 && answered > correct);
    let l = &m["llm_answer"];
    assert_eq!(l["answered"], answered);
    assert_eq!(l["unanswered"], unanswered);
    assert_eq!(l["verified_correct"], correct);
    // A rebuild with the server gone reads everything from the cache and
    // writes the same bytes.
    drop(server);
    write_cfg("http://127.0.0.1:9/v1", "max_retries = 0\n");
    build("ds2");
    for f in ["train.jsonl", "validation.jsonl", "test.jsonl"] {
        assert_eq!(
            std::fs::read(dir.join(format!("ds/{f}"))).unwrap(),
            std::fs::read(dir.join(format!("ds2/{f}"))).unwrap(),
            "{f}"
        );
    }
    // Without the cache and without a server, the build fails clearly
    // (exit 2) and writes nothing.
    std::fs::remove_file(&cache).unwrap();
    let run = resyn()
        .args(["dataset", "build"])
        .arg(&cfg)
        .arg("--out")
        .arg(dir.join("ds3"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr);
    assert!(
        stderr.contains("llm_answer") && stderr.contains("127.0.0.1:9"),
        "{stderr}"
    );
    assert!(!dir.join("ds3").exists());
}
