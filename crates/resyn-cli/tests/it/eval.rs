//! `resyn eval` end to end against the local test server: run, compare,
//! html, resumption after a kill and after a call budget, usage errors.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use resyn_eval::{EnvSelection, Target};
use resyn_llm::test_server::{Behavior, RecordedRequest, TestServer};
use serde_json::Value;

use super::{TempDir, resyn};

fn fixtures() -> PathBuf {
    resyn_test::fixture("eval")
}

fn gsm8k() -> PathBuf {
    fixtures().join("gsm8k/test.jsonl")
}

/// Reference answers by prompt: environments at difficulty 1-3 (4 per level,
/// as the command lines below select) and the GSM8K fixture.
fn answers() -> HashMap<String, (Option<u8>, String)> {
    let registry = resyn_envs::registry();
    let items = resyn_eval::env_items(
        &registry,
        &EnvSelection {
            ids: vec!["all".into()],
            categories: vec![],
            difficulties: (1, 3),
            per_level: 4,
            seed: 0,
        },
    )
    .unwrap();
    let mut map = HashMap::new();
    for it in items {
        if let Target::Env { instance, .. } = &it.target {
            map.insert(
                it.prompt.clone(),
                (Some(instance.difficulty), instance.reference.clone()),
            );
        }
    }
    for b in resyn_eval::bench::Benchmark::Gsm8k.load(&gsm8k()).unwrap() {
        let ans = format!("<answer>{}</answer>", b.target);
        map.insert(b.prompt(), (None, ans));
    }
    map
}

/// "base" solves environments up to difficulty 1 and GSM8K items whose
/// answer is even; "trained" solves up to difficulty 2 and all of GSM8K.
fn model_server(latency: Duration) -> TestServer {
    let answers = Arc::new(answers());
    TestServer::builder()
        .latency(latency)
        .start(move |r: &RecordedRequest| {
            let Some((difficulty, right)) = answers.get(&r.prompt) else {
                return Behavior::status(404);
            };
            let solves = match (r.model.as_str(), difficulty) {
                ("base", Some(d)) => *d <= 1,
                (_, Some(d)) => *d <= 2,
                ("base", None) => right
                    .trim_end_matches("</answer>")
                    .ends_with(['0', '2', '4', '6', '8']),
                (_, None) => true,
            };
            Behavior::answer(if solves {
                right.clone()
            } else {
                "<answer>0</answer>".into()
            })
        })
}

/// `resyn eval run` of every environment at difficulty 1-3 (4 per level)
/// and the GSM8K fixture.
fn run_args(server: &TestServer, model: &str, out: &Path) -> Vec<String> {
    let selection = ["--env", "all", "-d", "1-3", "--per-level", "4"];
    eval_run_args(server, model, out, &selection, 4)
}

/// `resyn eval run` of the environments `selection` chooses and the GSM8K
/// fixture, at temperature 0.
fn eval_run_args(
    server: &TestServer,
    model: &str,
    out: &Path,
    selection: &[&str],
    concurrency: usize,
) -> Vec<String> {
    let base_url = server.base_url();
    let concurrency = concurrency.to_string();
    let gsm = gsm8k();
    ["eval", "run", "--base-url", &base_url, "--model", model]
        .into_iter()
        .chain(selection.iter().copied())
        .chain(["--gsm8k", gsm.to_str().unwrap(), "--temperature", "0"])
        .chain(["--concurrency", &concurrency, "-o", out.to_str().unwrap()])
        .map(str::to_string)
        .collect()
}

#[test]
fn run_compare_and_html() {
    let dir = TempDir::new("eval-run");
    let server = model_server(Duration::ZERO);
    let (a, b) = (dir.join("base.json"), dir.join("trained.json"));
    let out = resyn()
        .args(run_args(&server, "base", &a))
        .assert()
        .success();
    let table = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        table.contains("SUITE / GROUP") && table.contains("gsm8k"),
        "{table}"
    );
    assert!(dir.join("base.cache.jsonl").exists());
    resyn()
        .args(run_args(&server, "trained", &b))
        .assert()
        .success();

    let report: Value = serde_json::from_slice(&std::fs::read(&a).unwrap()).unwrap();
    assert_eq!(report["format"], "resyn-eval-report/1");
    assert_eq!(report["complete"], true);
    assert_eq!(report["config"]["model"], "base");
    let envs = report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["suite"] == "envs")
        .unwrap();
    for g in envs["groups"].as_array().unwrap() {
        for l in g["by_difficulty"].as_array().unwrap() {
            let want = if l["difficulty"] == 1 { 1.0 } else { 0.0 };
            assert_eq!(l["mean"].as_f64().unwrap(), want, "{}", g["name"]);
        }
    }
    let gsm = report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["suite"] == "gsm8k")
        .unwrap();
    // Targets 72, 10 and 2300 are even, 5 is odd.
    assert_eq!(gsm["mean"].as_f64().unwrap(), 0.75);

    let out = resyn()
        .args(["eval", "compare"])
        .arg(&a)
        .arg(&b)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains("A = base") && text.contains("B = trained") && text.contains("envs"),
        "{text}"
    );
    let out = resyn()
        .args(["eval", "compare", "--json"])
        .arg(&a)
        .arg(&b)
        .assert()
        .success();
    let cmp: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let env_row = cmp["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["suite"] == "envs" && r["group"].is_null())
        .unwrap();
    assert!(env_row["difference"]["diff"].as_f64().unwrap() > 0.3);
    assert!(env_row["difference"]["p"].as_f64().unwrap() < 0.05);

    let html = dir.join("report.html");
    resyn()
        .args([
            "eval", "html", "--label", "base", "--label", "trained", "-o",
        ])
        .arg(&html)
        .arg(&a)
        .arg(&b)
        .assert()
        .success();
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("trained vs base"));
}

#[test]
fn kill_mid_run_then_resume_without_repeating_calls() {
    let dir = TempDir::new("eval-kill");
    let server = model_server(Duration::from_millis(25));
    let out = dir.join("r.json");
    let args = run_args(&server, "trained", &out);
    let total = answers().len();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("resyn"))
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while server.request_count() < (total / 2) as u64 {
        assert!(t.elapsed() < Duration::from_secs(60), "run too slow");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists(), "no report from a killed run");
    let first = server.request_count() as usize;
    let cache = std::fs::read_to_string(dir.join("r.cache.jsonl")).unwrap();
    let cached = cache
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).is_ok())
        .count();
    assert!(cached > 0 && cached < total, "{cached} of {total}");
    assert!(
        first - cached <= 4,
        "only in-flight calls lost: {first} sent, {cached} kept"
    );

    server.reset();
    resyn().args(&args).assert().success();
    let second = server.requests();
    let prompts: HashSet<&str> = second.iter().map(|r| r.prompt.as_str()).collect();
    assert_eq!(prompts.len(), second.len(), "no prompt requested twice");
    assert_eq!(
        second.len() + cached,
        total,
        "every completed call kept, every missing one made"
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(report["complete"], true);
    assert_eq!(report["usage"]["cached"].as_u64().unwrap() as usize, cached);
}

#[test]
fn call_budget_exits_1_then_rerun_completes_and_rescoring_is_free() {
    let dir = TempDir::new("eval-budget");
    let server = model_server(Duration::ZERO);
    let out = dir.join("r.json");
    let mut args = run_args(&server, "base", &out);
    args.extend(["--max-calls".to_string(), "7".to_string()]);
    let a = resyn().args(&args).assert().code(1);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("incomplete") && err.contains("rerun"), "{err}");
    assert_eq!(server.request_count(), 7);
    let report: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(report["complete"], false);

    let args = run_args(&server, "base", &out);
    resyn().args(&args).assert().success();
    let total = answers().len() as u64;
    assert_eq!(server.request_count(), total);
    let out2 = resyn().args(&args).arg("--json").assert().success();
    assert_eq!(server.request_count(), total, "re-scoring costs no calls");
    let report: Value = serde_json::from_slice(&out2.get_output().stdout).unwrap();
    assert_eq!(report["usage"]["cached"].as_u64().unwrap(), total);
}

#[test]
fn api_key_and_usage_errors() {
    let dir = TempDir::new("eval-errors");
    let server = TestServer::start(Behavior::answer("<answer>1</answer>"));
    let url = server.base_url();
    let out = dir.join("r.json");
    let gsm = gsm8k();
    let base = [
        "eval",
        "run",
        "--base-url",
        url.as_str(),
        "--model",
        "m",
        "-o",
        out.to_str().unwrap(),
    ];
    resyn()
        .args(base)
        .args([
            "--gsm8k",
            gsm.to_str().unwrap(),
            "--api-key-env",
            "RESYN_TEST_KEY",
            "--no-cache",
        ])
        .env("RESYN_TEST_KEY", "sk-local")
        .assert()
        .success();
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.authorization.as_deref() == Some("Bearer sk-local"))
    );

    let fails = |extra: &[&str], needle: &str| {
        let a = resyn()
            .args(base)
            .args(extra)
            .env_remove("RESYN_UNSET_KEY")
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains(needle), "{extra:?}: {err}");
    };
    fails(
        &["--gsm8k", "/nonexistent/gsm.jsonl"],
        "/nonexistent/gsm.jsonl",
    );
    fails(
        &[
            "--gsm8k",
            gsm.to_str().unwrap(),
            "--api-key-env",
            "RESYN_UNSET_KEY",
        ],
        "RESYN_UNSET_KEY",
    );
    fails(&["--env", "no_such_env"], "no_such_env");
    fails(&[], "required");
    fails(
        &["--gsm8k", gsm.to_str().unwrap(), "--samples", "0"],
        "--samples",
    );
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{}").unwrap();
    let a = resyn()
        .args(["eval", "compare"])
        .arg(&bad)
        .arg(&bad)
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("bad.json"));
}

/// What varies between two runs of the same evaluation becomes a
/// placeholder: the server's port, the start time, the version, the
/// checkout's location and every timing (the keys stay, so the shape is
/// still pinned).
fn stable_report(mut report: Value) -> Value {
    let config = &mut report["config"];
    config["base_url"] = "[BASE_URL]".into();
    config["started_at_unix"] = "[TIME]".into();
    config["resyn_version"] = "[VERSION]".into();
    let fixtures = fixtures().display().to_string();
    for target in config["targets"].as_array_mut().into_iter().flatten() {
        if let Some(text) = target.as_str() {
            *target = text.replace(&fixtures, "[FIXTURES]").into();
        }
    }
    if let Some(timings) = report["timings"].as_object_mut() {
        for v in timings.values_mut() {
            match v.as_object_mut() {
                Some(percentiles) => percentiles
                    .values_mut()
                    .for_each(|p| *p = "[ELAPSED]".into()),
                None => *v = "[ELAPSED]".into(),
            }
        }
    }
    for item in report["items"].as_array_mut().into_iter().flatten() {
        for sample in item["samples"].as_array_mut().into_iter().flatten() {
            sample["latency_ms"] = "[ELAPSED]".into();
        }
    }
    report
}

/// Every fractional number rounded to 9 decimals: intervals and p-values go
/// through the platform's `exp`/`sqrt`, whose last bits may differ.
fn rounded(v: &mut Value) {
    match v {
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            *v = ((x * 1e9).round() / 1e9).into();
        }
        Value::Array(items) => items.iter_mut().for_each(rounded),
        Value::Object(fields) => fields.values_mut().for_each(rounded),
        _ => {}
    }
}

/// The JSON users parse: the report (`eval run --json`, the same as the
/// file written) and the comparison (`eval compare --json`), on a run small
/// enough to read: one environment at two levels and the GSM8K fixture.
#[test]
fn run_and_compare_json() {
    let dir = TempDir::new("eval-json");
    let server = model_server(Duration::ZERO);
    let run = |model: &str| {
        let path = dir.join(format!("{model}.json"));
        let selection = ["--env", "tower_of_hanoi", "-d", "1-2", "--per-level", "2"];
        let out = resyn()
            .args(eval_run_args(&server, model, &path, &selection, 1))
            .arg("--json")
            .assert()
            .success();
        let printed: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        let written: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(printed, written);
        (path, printed)
    };
    let (base, report) = run("base");
    let (trained, _) = run("trained");
    let mut report = stable_report(report);
    rounded(&mut report);
    insta::assert_json_snapshot!("eval_run_json", report);
    let out = resyn()
        .args(["eval", "compare", "--json"])
        .arg(&base)
        .arg(&trained)
        .assert()
        .success();
    let mut comparison: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    rounded(&mut comparison);
    insta::assert_json_snapshot!("eval_compare_json", comparison);
}
