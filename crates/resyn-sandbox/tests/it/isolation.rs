//! Modules cannot influence one another (issue 14). A hostile module
//! vandalizes its own interpreter (builtins, json, float, random, math, the
//! harness) and attacks every process and file it can reach — the zygote, the
//! other workers, their memory, their files — while a well-behaved module's
//! instances and verdicts stay byte-identical, in the worker that was
//! resident during the attack and in one forked afterwards. Under the shared
//! zygote (bubblewrap and the direct backend) and with a zygote per worker.

use std::path::PathBuf;

use resyn_core::{Environment, Instance, Verdict};
use resyn_sandbox::{
    Backend, Layer, LayerStatus, ProcessModel, PythonEnv, Sandbox, SandboxConfig, SandboxPolicy,
    Zygotes,
};
use serde_json::{Value, json};

use crate::common::{config, fixture};

fn sandbox(backend: Backend, zygotes: Zygotes) -> Sandbox {
    let direct = backend == Backend::Direct;
    let sb = Sandbox::new(SandboxConfig {
        backend,
        zygotes,
        policy: if direct {
            SandboxPolicy::allow_weak()
        } else {
            SandboxPolicy::strict()
        },
        limits: resyn_sandbox::Limits {
            output_chars: 256 << 10,
            ..config().limits
        },
        ..config()
    })
    .unwrap_or_else(|e| panic!("sandbox: {e}"));
    let report = sb.enforcement();
    assert_eq!(
        report.status(Layer::ModuleIsolation),
        LayerStatus::Enforced,
        "{}",
        report.to_text()
    );
    sb
}

fn open(sb: &Sandbox, file: &str, as_name: &str) -> PythonEnv {
    let src = std::fs::read_to_string(fixture(&format!("isolation/{file}"))).unwrap();
    PythonEnv::from_source(as_name, src, sb).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The victim's instances and verdicts (references and wrong answers), as
/// JSON text; and what its worker printed (token and directory).
fn victim_results(env: &PythonEnv) -> (String, Value) {
    let reqs: Vec<(u64, u8)> = (0..12).flat_map(|s| (1..=5).map(move |d| (s, d))).collect();
    let b = env.try_generate_batch(&reqs, false);
    let insts: Vec<Instance> = b.results.into_iter().map(|r| r.unwrap().instance).collect();
    let wrong: Vec<String> = insts
        .iter()
        .map(|i| {
            format!(
                "<answer>{}1</answer>",
                i.reference.trim_end_matches("</answer>")
            )
        })
        .collect();
    let mut items: Vec<(&Instance, &str)> =
        insts.iter().map(|i| (i, i.reference.as_str())).collect();
    items.extend(insts.iter().zip(&wrong).map(|(i, w)| (i, w.as_str())));
    let verdicts: Vec<Verdict> = env.verify_batch(&items);
    let n = insts.len();
    assert!(
        verdicts[..n].iter().all(|v| v.correct),
        "{:?}",
        &verdicts[..n]
    );
    assert!(
        verdicts[n..].iter().all(|v| v.reward == 0.0),
        "{:?}",
        &verdicts[n..]
    );
    let printed: Value = serde_json::from_str(b.stdout.lines().next().unwrap()).unwrap();
    (
        serde_json::to_string(&json!({"instances": insts, "verdicts": verdicts})).unwrap(),
        printed,
    )
}

/// Run the attacker against `targets`; its report.
fn attack(attacker: &PythonEnv, targets: &[String]) -> Value {
    let inst = attacker.generate(1, 1).unwrap();
    let inst = Instance {
        data: json!({ "targets": targets }),
        ..inst
    };
    let b = attacker.try_verify_batch(&[(&inst, "<answer>attack</answer>")]);
    assert!(b.results[0].is_ok(), "{:?}", b.results[0]);
    serde_json::from_str(b.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", b.stdout))
}

fn check_isolation(sb: &Sandbox) {
    let victim = open(sb, "victim.py", "victim.py");
    let (before, seen) = victim_results(&victim);
    let token = seen["token"].clone();
    let victim_dir = PathBuf::from(seen["cwd"].as_str().unwrap());

    let attacker = open(sb, "attacker.py", "attacker.py");
    let mut targets = vec![victim_dir.join("scratch.json").display().to_string()];
    if victim_dir != std::path::Path::new("/tmp") {
        // Direct backend: the victim's directory is on the host.
        targets.push(victim_dir.display().to_string());
    }
    let report = attack(&attacker, &targets);
    // Nothing outside the attacker's own process was reached. (Its own
    // private /tmp holds its own files; the victim's are elsewhere.)
    let neighbours = report["neighbours"].as_object().unwrap();
    for (pid, r) in neighbours {
        for (action, got) in r.as_object().unwrap() {
            assert_ne!(got, "done", "{action} on pid {pid}: {report}");
        }
    }
    for (path, r) in report["paths"].as_object().unwrap() {
        if victim_dir.as_os_str() == "/tmp" {
            // Each worker's /tmp is its own tmpfs: the victim's file does
            // not exist in the attacker's (whatever it writes stays there).
            if path.ends_with("scratch.json") {
                assert_eq!(r["read"], "errno 2", "{path}: {report}");
            }
        } else if path.starts_with(&victim_dir.display().to_string()) {
            assert_ne!(r["read"], "done", "{path}: {report}");
            assert_ne!(r["write"], "done", "{path}: {report}");
        }
    }
    // The attacker wrecks its own interpreter and harness, many times over.
    let inst = attacker.generate(2, 2).unwrap();
    let v = attacker.verify_batch(&vec![(&inst, "<answer>vandalize</answer>"); 20]);
    assert_eq!(v.len(), 20);
    let _ = attacker.try_generate_batch(&[(3, 3), (4, 4)], false);

    // The victim's resident worker (same token: neither the signals nor
    // anything else killed or replaced it) gives byte-identical results...
    let (after, seen) = victim_results(&victim);
    assert_eq!(seen["token"], token, "the victim's worker was replaced");
    assert_eq!(after, before, "the victim's results changed");
    // ...and so does a worker forked after the attack (a new module key).
    let fresh = open(sb, "victim.py", "victim_again.py");
    let (again, seen) = victim_results(&fresh);
    assert_ne!(seen["token"], token, "a new module key is a new process");
    assert_eq!(again, before, "a worker forked after the attack differs");
    if victim_dir.as_os_str() != "/tmp" {
        assert_eq!(
            std::fs::read_dir(&victim_dir).unwrap().count(),
            1,
            "only the victim's own scratch file"
        );
    }
}

#[test]
fn a_module_cannot_influence_another_under_the_shared_zygote() {
    let sb = sandbox(Backend::Auto, Zygotes::Auto);
    assert_eq!(sb.process_model(), &ProcessModel::SharedZygote);
    assert!(sb.enforcement().backend.starts_with("bubblewrap"));
    check_isolation(&sb);
}

#[test]
fn a_module_cannot_influence_another_under_the_direct_backend() {
    let sb = sandbox(Backend::Direct, Zygotes::Auto);
    assert_eq!(sb.process_model(), &ProcessModel::SharedZygote);
    check_isolation(&sb);
}

#[test]
fn a_module_cannot_influence_another_with_a_zygote_per_worker() {
    let sb = sandbox(Backend::Auto, Zygotes::PerWorker);
    assert!(
        matches!(sb.process_model(), ProcessModel::ZygotePerWorker { .. }),
        "{:?}",
        sb.process_model()
    );
    let detail = &sb
        .enforcement()
        .layers
        .iter()
        .find(|l| l.layer == Layer::ModuleIsolation)
        .unwrap()
        .detail;
    assert!(detail.contains("per worker"), "{detail}");
    check_isolation(&sb);
}
