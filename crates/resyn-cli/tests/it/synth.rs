//! `resyn synth`, `show`, `envs --store` and `validate` end to end, against
//! the local replay server (never the network).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use resyn_llm::test_server::TestServer;
use resyn_store::{CandidateStatus, RunStatus, Store};
use resyn_synth::replay::{self, EXPECTED, KEYWORDS, Replay};
use serde_json::Value;

fn resyn() -> Command {
    Command::cargo_bin("resyn").expect("binary built")
}

pub(crate) struct Setup {
    pub(crate) dir: tempfile::TempDir,
}

impl Setup {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keywords.txt"), KEYWORDS).unwrap();
        std::fs::create_dir(dir.path().join("examples")).unwrap();
        Self { dir }
    }
    pub(crate) fn store(&self) -> PathBuf {
        self.dir.path().join("resyn.db")
    }
    pub(crate) fn args(&self, base_url: &str) -> Vec<String> {
        let p = |f: &str| self.dir.path().join(f).display().to_string();
        [
            "synth",
            "--base-url",
            base_url,
            "--model",
            "fixture-model",
            "--target",
            "100",
            "--concurrency",
            "4",
            "--keywords",
            &p("keywords.txt"),
            "--no-builtin-keywords",
            "--examples",
            &p("examples"),
            "--repair-rounds",
            "1",
            "--call-timeout",
            "3",
            "--retry-base-ms",
            "20",
            "--validation-seeds",
            "6",
            "--store",
            &p("resyn.db"),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }
}

fn key_of(title: &str) -> String {
    title
        .split("[fixture:")
        .nth(1)
        .and_then(|r| r.split(']').next())
        .unwrap_or("")
        .to_string()
}

fn by_key(store: &Store, run: i64) -> HashMap<String, resyn_store::Candidate> {
    store
        .candidates(run)
        .unwrap()
        .into_iter()
        .map(|c| (key_of(&c.title), c))
        .collect()
}

#[test]
fn synth_accepts_and_rejects_each_fixture_at_the_right_stage() {
    let server = TestServer::builder().workers(2).start(Replay::new());
    let s = Setup::new();
    let out = resyn()
        .args(s.args(&server.base_url()))
        .arg("--json")
        .assert()
        .success();
    let summary: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    // The summary users parse. Candidates run concurrently, so the order in
    // which stages first failed varies (sorted here), and so does wall time.
    let mut shown = summary.clone();
    if let Some(first_failed) = shown["stage_failures"].as_array_mut() {
        first_failed.sort_by_key(|v| v.to_string());
    }
    insta::with_settings!({filters => vec![(r#""wall_ms": \d+"#, r#""wall_ms": "[ELAPSED]""#)]}, {
        insta::assert_json_snapshot!("synth_json", shown);
    });
    let run = summary["run_id"].as_i64().unwrap();
    let store = Store::open(s.store()).unwrap();
    let cands = by_key(&store, run);
    for (key, name, stage, reason) in EXPECTED {
        let c = cands
            .get(*key)
            .unwrap_or_else(|| panic!("no candidate for fixture {key}"));
        if name.is_empty() {
            assert_eq!(c.status, CandidateStatus::Rejected, "{key}: {c:?}");
            assert_eq!(
                c.stage, *stage,
                "{key}: {} / {}\n{}",
                c.stage, c.reason, c.detail
            );
            assert!(
                c.reason.starts_with(reason),
                "{key}: reason {} detail {}",
                c.reason,
                c.detail
            );
        } else {
            assert_eq!(
                c.status,
                CandidateStatus::Accepted,
                "{key}: {} {} {}",
                c.stage,
                c.reason,
                c.detail
            );
            assert_eq!(c.env_name.as_deref(), Some(*name));
        }
    }
    // Of each pair, one is stored and the other rejected as its duplicate:
    // a renamed copy by its prompt template, a paraphrase (other words,
    // other template, other description) by behaviour, since the stored
    // one's verifier accepts its references.
    for (pair, reason) in [
        (["good_modexp", "modexp_copy"], "template_duplicate"),
        (
            ["chatter_good", "depth_paraphrase"],
            "behavioural_duplicate",
        ),
    ] {
        let twins = pair.map(|k| &cands[k]);
        let accepted: Vec<_> = twins
            .iter()
            .filter(|c| c.status == CandidateStatus::Accepted)
            .collect();
        let dup: Vec<_> = twins.iter().filter(|c| c.stage == "dedup").collect();
        assert_eq!((accepted.len(), dup.len()), (1, 1), "{twins:?}");
        assert_eq!(dup[0].reason, reason, "{}", dup[0].detail);
    }
    // The funnel: every stage the run had, candidates that passed it.
    let funnel: Vec<(String, u64)> =
        serde_json::from_value(summary["passed_by_stage"].clone()).unwrap();
    let passed = |stage: &str| funnel.iter().find(|(s, _)| s == stage).map(|(_, n)| *n);
    assert_eq!(passed("store"), Some(5), "{funnel:?}");
    assert!(
        passed("validate").unwrap() > passed("cross_verify").unwrap(),
        "{funnel:?}"
    );
    assert_eq!(summary["uncalibrated"], 5);
    // The keyword with an unparseable proposal reply is recorded as failed.
    assert_eq!(summary["keyword_failures"], 1);
    assert_eq!(summary["accepted"], 5);
    assert_eq!(store.environments().unwrap().len(), 5);

    // Repair sends the precise error back: the syntax error with its line.
    let reqs = server.requests();
    let repair = reqs
        .iter()
        .find(|r| {
            r.prompt
                .contains("failed resyn's `validate` check (reason: parse:syntax_error)")
        })
        .expect("a repair request for the syntax error");
    assert!(
        repair.prompt.contains("# fixture: syntax_fix") && repair.prompt.contains("line "),
        "{}",
        repair.prompt
    );
    assert!(
        reqs.iter()
            .any(|r| r.prompt.contains("(reason: cross_verify")
                || r.prompt.contains("`cross_verify` check"))
    );
    // 429 and 500 were retried until the reply came.
    let flaky = reqs
        .iter()
        .filter(|r| {
            r.prompt.contains("[fixture:http_flaky]") && r.prompt.contains("### Task to implement")
        })
        .count();
    assert_eq!(flaky, 3);
    // Every call is recorded for audit, with tokens.
    let calls = store.calls(run).unwrap();
    assert!(calls.len() >= 20, "{}", calls.len());
    assert!(calls.iter().all(|c| c.status == "ok" && c.reply.is_some()));
    assert_eq!(summary["llm_calls"].as_u64().unwrap(), calls.len() as u64);
    assert!(summary["completion_tokens"].as_u64().unwrap() > 0);

    // Accepted environments are usable like any other.
    let store_arg = s.store().display().to_string();
    let out = resyn()
        .args(["envs", "--json", "--store", &store_arg])
        .assert()
        .success();
    let envs: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let synth: Vec<&Value> = envs
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "synth")
        .collect();
    assert_eq!(synth.len(), 5);
    assert!(synth.iter().all(|e| e["calibrated"] == false), "{envs}");
    let out = resyn()
        .args(["envs", "--store", &store_arg])
        .assert()
        .success();
    let listing = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert_eq!(listing.matches("uncalibrated").count(), 5, "{listing}");
    let inst = s.dir.path().join("inst.jsonl");
    resyn()
        .args([
            "generate",
            "gcd_fixture",
            "--count",
            "3",
            "--difficulty",
            "1-2",
            "--store",
            &store_arg,
            "-o",
        ])
        .arg(&inst)
        .assert()
        .success();
    let lines: Vec<Value> = std::fs::read_to_string(&inst)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    let responses = s.dir.path().join("resp.jsonl");
    let resp: String = lines
        .iter()
        .map(|l| {
            format!(
                "{}\n",
                serde_json::json!({"id": l["id"], "response": l["reference"]})
            )
        })
        .collect();
    std::fs::write(&responses, resp).unwrap();
    let out = resyn()
        .args(["verify", "--store", &store_arg, "--instances"])
        .arg(&inst)
        .arg("--responses")
        .arg(&responses)
        .assert()
        .success();
    let scores = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert_eq!(scores.matches("\"reward\":1.0").count(), 6, "{scores}");
    // `resyn audit` finds the second verifier the run stored and runs it.
    let out = resyn()
        .args(["audit", "--json", "--store", &store_arg, "--instances"])
        .arg(&inst)
        .arg("--responses")
        .arg(&responses)
        .assert()
        .success();
    let audit: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let gcd = &audit["environments"][0];
    assert_eq!(gcd["env"], "gcd_fixture", "{audit}");
    assert_eq!(gcd["second_verifier"], "stored", "{audit}");
    assert_eq!(
        (gcd["compared"].as_u64(), gcd["disagreements"].as_u64()),
        (Some(6), Some(0)),
        "{audit}"
    );
    // The main job: `dataset build` picks up the default store (`resyn.db`
    // in the working directory) with no flag. This run had no solver, so
    // the environments are uncalibrated: left out unless the config opts in.
    let config = |opt_in: bool| {
        format!(
            "instances_per_env = 4\n[select]\nsources = [\"synth\"]\n\
             include_uncalibrated = {opt_in}\n\
             [difficulty]\nmin = 1\nmax = 2\n[output]\nformats = [\"jsonl\"]\n"
        )
    };
    std::fs::write(s.dir.path().join("synth.toml"), config(false)).unwrap();
    let out = resyn()
        .current_dir(s.dir.path())
        .env_remove("RESYN_STORE")
        .args(["dataset", "build", "synth.toml", "--out", "ds"])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(
        stderr.contains("uncalibrated") && stderr.contains("include_uncalibrated = true"),
        "{stderr}"
    );
    std::fs::write(s.dir.path().join("synth.toml"), config(true)).unwrap();
    let out = resyn()
        .current_dir(s.dir.path())
        .env_remove("RESYN_STORE")
        .args(["dataset", "build", "synth.toml", "--out", "ds", "--json"])
        .assert()
        .success();
    let manifest: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(
        stderr.contains("by source: synth 5 environments"),
        "{stderr}"
    );
    let built = manifest["environments"].as_array().unwrap();
    assert_eq!(built.len(), 5, "{manifest}");
    assert!(built.iter().any(|e| e["id"] == "gcd_fixture"), "{manifest}");
    assert!(
        manifest["totals"]["instances"].as_u64().unwrap() >= 10,
        "{manifest}"
    );
    let out = resyn()
        .args(["show", "gcd_fixture", "--store", &store_arg])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains("def verify")
            && text.contains("greatest common divisor")
            && text.contains("fixture-model"),
        "{text}"
    );
    let out = resyn()
        .args(["show", "gcd_fixture", "--json", "--store", &store_arg])
        .assert()
        .success();
    let mut shown: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    // Placeholders for what varies between runs: the row id (acceptance
    // order), times, the server's port (in every endpoint); hashes are
    // pinned by their length.
    shown["id"] = "[ID]".into();
    shown["created_at"] = "[TIME]".into();
    shown["validation"]["offline"]["elapsed_ms"] = "[ELAPSED]".into();
    for call in shown["provenance"]["calls"].as_array_mut().unwrap() {
        call["request_hash"] = "[SHA256]".into();
    }
    for key in ["description", "behaviour"] {
        let minhash = &mut shown["fingerprint"][key];
        *minhash = format!("[{} MINHASH VALUES]", minhash.as_array().unwrap().len()).into();
    }
    insta::with_settings!({filters => vec![(r"http://127\.0\.0\.1:\d+/v1", "[BASE_URL]")]}, {
        insta::assert_json_snapshot!("show_json", shown);
    });
}

fn wait_for(store: &Path, pred: impl Fn(&Store) -> bool, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(s) = Store::open(store)
            && pred(&s)
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn killed_run_resumes_without_duplicates() {
    // Every reply takes 300 ms, so the run is still busy when it is killed.
    let server = TestServer::builder()
        .workers(2)
        .latency(Duration::from_millis(300))
        .start(Replay::new().slow(Duration::from_millis(500)));
    let s = Setup::new();
    let bin = assert_cmd::cargo::cargo_bin("resyn");
    let mut child = StdCommand::new(&bin)
        .args(s.args(&server.base_url()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let got_one = wait_for(
        &s.store(),
        |st| st.environments().map(|e| !e.is_empty()).unwrap_or(false),
        Duration::from_secs(180),
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(got_one, "no environment was accepted before the deadline");
    let before = Store::open(s.store()).unwrap();
    let accepted_before: Vec<String> = before
        .environments()
        .unwrap()
        .into_iter()
        .map(|e| e.env.name)
        .collect();
    let calls_before = before.calls(1).unwrap().len();
    drop(before);
    let out = resyn()
        .args([
            "synth",
            "--resume",
            "1",
            "--json",
            "--call-timeout",
            "3",
            "--store",
        ])
        .arg(s.store())
        .assert()
        .success();
    let summary: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(summary["pending"], 0, "{summary}");
    let store = Store::open(s.store()).unwrap();
    let envs = store.environments().unwrap();
    let names: std::collections::BTreeSet<_> = envs.iter().map(|e| e.env.name.clone()).collect();
    assert_eq!(names.len(), envs.len());
    for n in &accepted_before {
        assert!(names.contains(n), "{n} lost");
    }
    let cands = store.candidates(1).unwrap();
    let accepted = cands
        .iter()
        .filter(|c| c.status == CandidateStatus::Accepted)
        .count();
    assert_eq!(accepted, envs.len());
    // Same outcome as an uninterrupted run: 5 environments, no duplicates.
    assert_eq!(envs.len(), 5, "{names:?}");
    // Candidates finished before the kill were not processed again.
    for c in cands
        .iter()
        .filter(|c| accepted_before.contains(c.env_name.as_ref().unwrap_or(&String::new())))
    {
        let stores = store
            .stage_events(c.id)
            .unwrap()
            .iter()
            .filter(|e| e.stage == "store")
            .count();
        assert_eq!(stores, 1, "{c:?}");
    }
    assert!(store.calls(1).unwrap().len() >= calls_before);
}

#[test]
fn validate_reports_first_failing_check_and_exits_1() {
    // The modules the replay server answers for these fixture keys.
    let write = |dir: &Path, file: &str, key: &str| {
        std::fs::write(dir.join(file), replay::fixture_code(key).unwrap()).unwrap();
    };
    let dir = tempfile::tempdir().unwrap();
    for (file, key) in [
        ("modexp.py", "good_modexp"),
        ("gcd.py", "slow_good"),
        ("accepts_anything.py", "accepts_anything"),
        ("hostile.py", "hostile"),
    ] {
        write(dir.path(), file, key);
    }
    let out = resyn()
        .args(["validate", "--json", "--seeds", "4", "--env-dir"])
        .arg(dir.path())
        .assert()
        .code(1);
    let recs: Vec<Value> = String::from_utf8_lossy(&out.get_output().stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The records users parse, in file-name order (wall times vary).
    insta::with_settings!({filters => vec![(r#""elapsed_ms": \d+"#, r#""elapsed_ms": "[ELAPSED]""#)]}, {
        insta::assert_json_snapshot!("validate_json", recs);
    });
    let get = |f: &str| recs.iter().find(|r| r["file"] == f).unwrap().clone();
    assert_eq!(get("modexp.py")["accepted"], true);
    assert_eq!(get("gcd.py")["accepted"], true);
    assert_eq!(get("accepts_anything.py")["check"], "probes");
    assert_eq!(get("hostile.py")["check"], "imports");
    assert_eq!(get("hostile.py")["reason"], "forbidden_import");
    let ok = tempfile::tempdir().unwrap();
    write(ok.path(), "modexp.py", "good_modexp");
    resyn()
        .args(["validate", "--seeds", "4", "--env-dir"])
        .arg(ok.path())
        .assert()
        .success();
}

#[test]
fn keywords_can_be_derived_from_example_problems() {
    let server = TestServer::builder().workers(2).start(Replay::new());
    let s = Setup::new();
    let examples = s.dir.path().join("examples.txt");
    std::fs::write(&examples, "What is 3^4 mod 5?\n\nIs 17 prime?\n").unwrap();
    let mut args = s.args(&server.base_url());
    args.retain(|a| !a.ends_with("keywords.txt"));
    let k = args.iter().position(|a| a == "--keywords").unwrap();
    args.remove(k);
    let out = resyn()
        .args(args)
        .args(["--max-candidates", "1", "--json", "--derive-keywords"])
        .arg(&examples)
        .assert()
        .success();
    let summary: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let store = Store::open(s.store()).unwrap();
    let cands = store
        .candidates(summary["run_id"].as_i64().unwrap())
        .unwrap();
    // The derived keyword "fixture alpha" was proposed for.
    assert!(
        cands.iter().all(|c| c.keyword == "fixture alpha"),
        "{cands:?}"
    );
    assert!(!cands.is_empty());
    let derive = server
        .requests()
        .into_iter()
        .find(|r| r.prompt.starts_with("Below are example problems"))
        .unwrap();
    assert!(derive.prompt.contains("Is 17 prime?"));
}

/// `resyn synth` against a real small model (SmolLM2-135M-Instruct served
/// by llama.cpp's OpenAI-compatible server). Such a model writes mostly
/// broken environments: the pipeline must run to completion, record every
/// call, and accept nothing that fails validation. Needs the server:
/// `scripts/test_llama.sh` sets it up and runs this test.
#[test]
#[ignore = "needs a llama.cpp server: run scripts/test_llama.sh"]
fn synth_against_a_real_small_model() {
    let base_url = std::env::var("RESYN_LLAMA_BASE_URL")
        .expect("RESYN_LLAMA_BASE_URL (scripts/test_llama.sh sets it)");
    let model = std::env::var("RESYN_LLAMA_MODEL").unwrap_or_else(|_| "smollm2".into());
    let dir = tempfile::tempdir().unwrap();
    let kw = dir.path().join("keywords.txt");
    std::fs::write(
        &kw,
        "algorithmic: greatest common divisor\nlogic: boolean formula evaluation\n\
         math: sum of digits\nspatial: grid path counting\n",
    )
    .unwrap();
    let store = dir.path().join("resyn.db");
    let corpus = resyn_test::repo_path("envs/python");
    let out = resyn()
        .args(["synth", "--base-url", &base_url, "--model", &model])
        .args([
            "--target",
            "1",
            "--max-candidates",
            "4",
            "--tasks-per-keyword",
            "2",
        ])
        .args([
            "--concurrency",
            "2",
            "--repair-rounds",
            "1",
            "--max-tokens",
            "1024",
        ])
        .args(["--validation-seeds", "3", "--no-builtin-keywords", "--json"])
        // llama-cpp-python's server constrains the reply to the schema, so
        // proposals parse and candidates reach implementation and validation.
        .args(["--structured-proposals", "json-object"])
        .arg("--keywords")
        .arg(&kw)
        .arg("--examples")
        .arg(&corpus)
        .arg("--store")
        .arg(&store)
        .timeout(Duration::from_secs(1500))
        .assert()
        .success();
    let summary: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let store = Store::open(&store).unwrap();
    let run = summary["run_id"].as_i64().unwrap();
    // Every call is recorded, with the reply or the error.
    let calls = store.calls(run).unwrap();
    assert!(calls.len() >= 4, "one proposal call per keyword at least");
    assert_eq!(summary["llm_calls"].as_u64().unwrap(), calls.len() as u64);
    for c in &calls {
        assert!(
            c.reply.is_some() || c.error.is_some(),
            "call {} has neither reply nor error",
            c.purpose
        );
        assert!(!c.request.is_null());
    }
    assert!(
        calls
            .iter()
            .any(|c| c.reply.as_deref().is_some_and(|r| !r.is_empty()))
    );
    // Every candidate reached a decision with a reason; the run is finished.
    let cands = store.candidates(run).unwrap();
    for c in &cands {
        assert_ne!(c.status, CandidateStatus::Pending, "{c:?}");
        if c.status == CandidateStatus::Rejected {
            assert!(!c.stage.is_empty() && !c.reason.is_empty(), "{c:?}");
        }
    }
    // Schema-constrained proposals parse even from this model.
    assert!(!cands.is_empty(), "no candidate was proposed: {summary}");
    // Whatever was accepted passed full validation: check it again offline.
    let accepted = store.environments().unwrap();
    assert_eq!(summary["accepted"].as_u64().unwrap(), accepted.len() as u64);
    if !accepted.is_empty() {
        let envdir = dir.path().join("accepted");
        std::fs::create_dir(&envdir).unwrap();
        for e in &accepted {
            std::fs::write(envdir.join(format!("{}.py", e.env.name)), &e.env.code).unwrap();
        }
        resyn()
            .args(["validate", "--env-dir"])
            .arg(&envdir)
            .assert()
            .success();
    }
    let status = store.run(run).unwrap().status;
    assert!(
        matches!(status, RunStatus::Finished | RunStatus::Exhausted),
        "{status}: {summary}"
    );
}
