//! `resyn audit` end to end on the fixture store (`resyn_test::audit`):
//! every input format, the table and JSON, exit codes 0/1/2, errors that
//! name the file and line.

use std::path::{Path, PathBuf};

use resyn_core::Instance;
use resyn_core::ground_truth::{code_json, verifier_json};
use resyn_llm::test_server::{Behavior, RecordedRequest, TestServer};
use resyn_test::audit::{AGREE, HACKED, PLAIN, audit_store};
use serde_json::{Value, json};

use super::{TempDir, lines, resyn};

struct Setup {
    dir: TempDir,
    store: String,
    instances: PathBuf,
}

impl Setup {
    /// The fixture store and 6 instances (difficulty 2) of each of its
    /// AGREE, HACKED and PLAIN environments.
    fn new(name: &str) -> Self {
        let dir = TempDir::new(name);
        let store = dir.join("resyn.db");
        audit_store(&store);
        let store = store.display().to_string();
        let instances = dir.join("instances.jsonl");
        resyn()
            .args(["generate", AGREE, HACKED, PLAIN, "--count", "6", "-d", "2"])
            .args(["--store", &store, "-o"])
            .arg(&instances)
            .assert()
            .success();
        Self {
            dir,
            store,
            instances,
        }
    }

    fn instances(&self, env: &str) -> Vec<Instance> {
        lines(&std::fs::read(&self.instances).unwrap())
            .into_iter()
            .map(|v| serde_json::from_value::<Instance>(v).unwrap())
            .filter(|i| i.env == env)
            .collect()
    }

    fn write(&self, name: &str, rows: &[Value]) -> PathBuf {
        let path = self.dir.join(name);
        let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn audit(&self) -> assert_cmd::Command {
        let mut cmd = resyn();
        cmd.args(["audit", "--store", &self.store])
            .env_remove("RESYN_ENV_DIRS");
        cmd
    }
}

fn sum(i: &Instance) -> i64 {
    i.data["a"].as_i64().unwrap() + i.data["b"].as_i64().unwrap()
}

fn answer(x: i64) -> String {
    format!("<think>adding up</think><answer>{x}</answer>")
}

/// `{"id", "response"}` rows: the right sum and the sum with its sign
/// flipped, per instance.
fn id_rows(insts: &[Instance]) -> Vec<Value> {
    insts
        .iter()
        .flat_map(|i| [sum(i), -sum(i)].map(|x| json!({"id": i.id, "response": answer(x)})))
        .collect()
}

fn ground_truth(i: &Instance) -> String {
    verifier_json(i, &serde_json::to_string(&i.data).unwrap())
}

fn stdout(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stdout).to_string()
}

fn stderr(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stderr).to_string()
}

fn env<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["env"] == id)
        .unwrap_or_else(|| panic!("no {id} in {report}"))
}

fn table_row<'a>(table: &'a str, id: &str) -> Vec<&'a str> {
    table
        .lines()
        .find(|l| l.starts_with(&format!("{id} ")))
        .unwrap_or_else(|| panic!("no row for {id} in\n{table}"))
        .split_whitespace()
        .collect()
}

#[test]
fn agreeing_verifiers_pass_and_a_hacked_one_fails_with_examples() {
    let s = Setup::new("audit-exit");
    let nonzero = s.instances(HACKED).iter().filter(|i| sum(i) != 0).count();
    assert!(
        nonzero >= 3,
        "the fixture needs flipped answers that differ"
    );

    // Both verifiers agree, and no second verifier is not a failure: exit 0.
    let mut rows = id_rows(&s.instances(AGREE));
    rows.extend(id_rows(&s.instances(PLAIN)));
    let ok = s.write("ok.jsonl", &rows);
    let out = s
        .audit()
        .arg("--instances")
        .arg(&s.instances)
        .arg("--responses")
        .arg(&ok)
        .assert()
        .code(0);
    let table = stdout(&out);
    assert_eq!(
        table_row(&table, AGREE),
        [
            "agree_add",
            "synth",
            "stored",
            "12",
            "12",
            "0",
            "0.00%",
            "0",
            "0",
            "ok"
        ]
    );
    assert_eq!(
        table_row(&table, PLAIN)[2..],
        [
            "none", "12", "-", "-", "-", "-", "0", "no", "second", "verifier"
        ]
    );
    assert!(
        table.contains("24 responses in 2 environments: 0 failed"),
        "{table}"
    );

    // The hacked verifier accepts every flipped sum: exit 1, with examples.
    let bad = s.write("bad.jsonl", &id_rows(&s.instances(HACKED)));
    let args = |extra: &[&str]| {
        let mut cmd = s.audit();
        cmd.arg("--instances")
            .arg(&s.instances)
            .arg("--responses")
            .arg(&ok)
            .arg("--responses")
            .arg(&bad)
            .args(extra);
        cmd
    };
    let out = args(&[]).assert().code(1);
    let table = stdout(&out);
    let row = table_row(&table, HACKED);
    assert_eq!(row[5], nonzero.to_string(), "{table}");
    assert_eq!(row.last(), Some(&"FAIL"));
    assert!(
        table.contains(&format!(
            "hacked_add:\n  disagreements: {nonzero} of 12 compared"
        )),
        "{table}"
    );
    assert_eq!(
        table.matches("  example ").count(),
        3,
        "three examples by default:\n{table}"
    );
    assert!(table.contains("bad.jsonl:2  instance"), "{table}");
    assert!(table.contains("    question: What is "), "{table}");
    assert!(
        table.contains(
            "verify(): accepted   second verifier: rejected (wrong)   tie-breaker: rejected (wrong)"
        ),
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "  tie-breaker: sided with the second verifier on {nonzero} (verify() outvoted), with verify() on 0"
        )),
        "{table}"
    );

    // JSON: the same findings, as data.
    let out = args(&["--json", "--examples", "1"]).assert().code(1);
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["failed"], true);
    assert_eq!(report["responses"], 36);
    assert_eq!(report["max_disagreement"], 0.0);
    let h = env(&report, HACKED);
    assert_eq!(h["second_verifier"], "stored");
    assert_eq!(h["scored"], 12);
    assert_eq!(h["compared"], 12);
    assert_eq!(h["disagreements"], nonzero);
    assert_eq!(h["module_only_accepts"], nonzero);
    assert_eq!(h["disagreement_rate"], nonzero as f64 / 12.0);
    assert_eq!(h["failed"], true);
    let x = &h["examples"].as_array().unwrap()[..];
    assert_eq!(x.len(), 1);
    assert!(
        x[0]["origin"].as_str().unwrap().ends_with("bad.jsonl:2"),
        "{x:?}"
    );
    assert_eq!(x[0]["verify"]["correct"], true);
    assert_eq!(x[0]["second"]["correct"], false);
    let inst = s
        .instances(HACKED)
        .into_iter()
        .find(|i| i.id == x[0]["instance"])
        .unwrap();
    assert_eq!(x[0]["answer"], (-sum(&inst)).to_string());
    assert!(x[0]["question"].as_str().unwrap().starts_with("What is "));
    let p = env(&report, PLAIN);
    assert_eq!(
        (
            p["second_verifier"].as_str(),
            p["disagreement_rate"].is_null()
        ),
        (Some("none"), true)
    );
    assert_eq!(env(&report, AGREE)["failed"], false);

    // A threshold above the rate passes.
    let out = args(&["--max-disagreement", "0.9"]).assert().code(0);
    assert!(table_row(&stdout(&out), HACKED).last() == Some(&"ok"));
}

#[test]
fn ground_truth_rows_and_verl_rollout_dumps_are_read_as_they_are() {
    let s = Setup::new("audit-formats");
    let hacked = s.instances(HACKED);
    let nonzero = hacked.iter().filter(|i| sum(i) != 0).count();
    // A dataset-style file: the ground-truth string and the response.
    let gt: Vec<Value> = hacked
        .iter()
        .map(|i| json!({"ground_truth": ground_truth(i), "response": answer(-sum(i))}))
        .collect();
    // verl's `trainer.rollout_data_dir` dump: input, output, gts, score, step
    // and reward extras.
    let verl: Vec<Value> = hacked
        .iter()
        .map(|i| {
            json!({"input": format!("user\n{}\nassistant\n", i.prompt), "output": answer(sum(i)),
                   "gts": ground_truth(i), "score": 1.0, "step": 3, "acc": true})
        })
        .collect();
    // TRL/OpenRLHF JSONL rows keep the ground truth in `label`.
    let label: Vec<Value> = s
        .instances(AGREE)
        .iter()
        .map(|i| json!({"label": ground_truth(i), "response": answer(sum(i)), "prompt": []}))
        .collect();
    let files = [
        s.write("gt.jsonl", &gt),
        s.write("verl.jsonl", &verl),
        s.write("label.jsonl", &label),
    ];
    // Several files after one flag (a shell glob), and the flag repeated.
    let out = s
        .audit()
        .arg("--responses")
        .args(&files[..2])
        .arg("--responses")
        .arg(&files[2])
        .arg("--json")
        .assert()
        .code(1);
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["responses"], 18);
    let h = env(&report, HACKED);
    assert_eq!(
        (h["scored"].as_u64(), h["disagreements"].as_u64()),
        (Some(12), Some(nonzero as u64))
    );
    let x = &h["examples"][0];
    assert!(x["origin"].as_str().unwrap().ends_with("gt.jsonl:1"), "{x}");
    // The question of an instance rebuilt from its ground truth is generated again.
    assert!(
        x["question"].as_str().unwrap().starts_with("What is "),
        "{x}"
    );
    let a = env(&report, AGREE);
    assert_eq!(
        (a["scored"].as_u64(), a["disagreements"].as_u64()),
        (Some(6), Some(0))
    );
    assert_eq!(a["solve_matches"], 6, "solve() agrees with every right sum");
}

#[test]
fn an_evaluations_completions_are_audited_from_its_cache() {
    let s = Setup::new("audit-eval");
    // A "model" that flips the sign of every sum.
    let server = TestServer::start(|r: &RecordedRequest| {
        let q = r.prompt.strip_prefix("What is ").unwrap_or("");
        let q = q.split('?').next().unwrap_or("");
        let Some((a, b)) = q.split_once(" + ") else {
            return Behavior::status(404);
        };
        let (a, b): (i64, i64) = (a.trim().parse().unwrap(), b.trim().parse().unwrap());
        Behavior::answer(answer(-(a + b)))
    });
    let report = s.dir.join("r.json");
    let eval = |out: &Path, extra: &[&str]| {
        resyn()
            .args([
                "eval",
                "run",
                "--base-url",
                &server.base_url(),
                "--model",
                "m",
            ])
            .args([
                "--env",
                &format!("{HACKED},{AGREE}"),
                "-d",
                "2",
                "--per-level",
                "6",
            ])
            .args(["--store", &s.store, "-o"])
            .arg(out)
            .args(extra)
            .assert()
            .success();
    };
    eval(&report, &[]);
    let nonzero = s.instances(HACKED).iter().filter(|i| sum(i) != 0).count();
    let check = |out: &assert_cmd::assert::Assert| {
        let r: Value = serde_json::from_str(&stdout(out)).unwrap();
        let h = env(&r, HACKED);
        assert_eq!(
            (h["scored"].as_u64(), h["disagreements"].as_u64()),
            (Some(6), Some(nonzero as u64)),
            "{r}"
        );
        assert_eq!(env(&r, AGREE)["disagreements"], 0);
    };
    let out = s
        .audit()
        .arg("--eval")
        .arg(&report)
        .arg("--json")
        .assert()
        .code(1);
    check(&out);
    let origin = serde_json::from_str::<Value>(&stdout(&out)).unwrap();
    let origin = env(&origin, HACKED)["examples"][0]["origin"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        origin.contains("r.json: item ") && origin.contains(" sample 0"),
        "{origin}"
    );

    // Without a cache the responses the report kept are used.
    let kept = s.dir.join("kept.json");
    eval(&kept, &["--no-cache", "--include-responses"]);
    assert!(!s.dir.join("kept.cache.jsonl").exists());
    let out = s
        .audit()
        .arg("--eval")
        .arg(&kept)
        .arg("--json")
        .assert()
        .code(1);
    check(&out);

    // A named cache that does not exist is an input error.
    let out = s
        .audit()
        .arg("--eval")
        .arg(&report)
        .args(["--eval-cache", "/nonexistent/c.jsonl"])
        .assert()
        .code(2);
    assert!(
        stderr(&out).contains("/nonexistent/c.jsonl"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_input_exits_2_naming_the_file_and_line() {
    let s = Setup::new("audit-errors");
    let inst = &s.instances(AGREE)[0];
    let good = json!({"id": inst.id, "response": answer(sum(inst))});
    let cases: Vec<(&str, Vec<Value>, bool, &str)> = vec![
        (
            "unknown.jsonl",
            vec![good.clone(), json!({"id": "0000", "response": "x"})],
            true,
            "unknown.jsonl:2: unknown instance id `0000`",
        ),
        (
            "noinst.jsonl",
            vec![good.clone()],
            false,
            "noinst.jsonl:1: the row names its instance by id; pass --instances",
        ),
        (
            "neither.jsonl",
            vec![good.clone(), good.clone(), json!({"response": "x"})],
            true,
            "neither.jsonl:3: a row needs `id` or `ground_truth`",
        ),
        (
            "badgt.jsonl",
            vec![json!({"ground_truth": "{\"reward_mode\":\"magic\"}", "response": "x"})],
            true,
            "badgt.jsonl:1: ground_truth is not a resyn ground truth",
        ),
        (
            "code.jsonl",
            vec![json!({"ground_truth": code_json(inst, "3"), "response": "x"})],
            false,
            "code.jsonl:1: a `code` ground truth carries no instance data",
        ),
        (
            "clash.jsonl",
            vec![json!({"id": "other", "ground_truth": ground_truth(inst), "response": "x"})],
            true,
            "clash.jsonl:1: `id` other and the ground truth's id",
        ),
        (
            "version.jsonl",
            vec![
                json!({"ground_truth": ground_truth(&Instance { env_version: 9, ..inst.clone() }), "response": "x"}),
            ],
            false,
            "version.jsonl:1: instance",
        ),
        ("empty.jsonl", vec![], false, "no responses to audit"),
    ];
    for (name, rows, with_instances, want) in cases {
        let f = s.write(name, &rows);
        let mut cmd = s.audit();
        if with_instances {
            cmd.arg("--instances").arg(&s.instances);
        }
        let out = cmd.arg("--responses").arg(&f).assert().code(2);
        let err = stderr(&out);
        assert!(err.contains(want), "{name}: want {want:?} in {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // A malformed line: JSON that does not parse, and a row without a response.
    std::fs::write(
        s.dir.join("broken.jsonl"),
        format!("{good}\n{{\"id\": \"x\", \"resp\n{good}\n"),
    )
    .unwrap();
    std::fs::write(
        s.dir.join("noresp.jsonl"),
        format!("{good}\n\n{{\"id\": \"x\"}}\n"),
    )
    .unwrap();
    for (name, want) in [
        ("broken.jsonl", "broken.jsonl:2: malformed line"),
        (
            "noresp.jsonl",
            "noresp.jsonl:3: malformed line: missing field `response`",
        ),
    ] {
        let out = s
            .audit()
            .arg("--instances")
            .arg(&s.instances)
            .arg("--responses")
            .arg(s.dir.join(name))
            .assert()
            .code(2);
        let err = stderr(&out);
        assert!(err.contains(want), "want {want:?} in {err}");
    }
    // Usage errors.
    let out = s.audit().assert().code(2);
    assert!(stderr(&out).contains("--responses"), "{}", stderr(&out));
    let f = s.write("one.jsonl", &[good]);
    let out = s
        .audit()
        .arg("--responses")
        .arg(&f)
        .args(["--max-disagreement", "1.5"])
        .assert()
        .code(2);
    assert!(
        stderr(&out).contains("not a rate from 0 to 1"),
        "{}",
        stderr(&out)
    );
    let out = s
        .audit()
        .arg("--responses")
        .arg(s.dir.join("missing.jsonl"))
        .assert()
        .code(2);
    assert!(stderr(&out).contains("missing.jsonl"), "{}", stderr(&out));
}
