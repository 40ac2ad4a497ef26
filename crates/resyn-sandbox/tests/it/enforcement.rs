//! On this host every non-optional layer must be enforced, observed from
//! inside a worker.

use resyn_sandbox::{Backend, Layer, LayerStatus, Sandbox, SandboxConfig, SandboxPolicy};

use crate::common::{config, sandbox};

#[test]
fn every_layer_is_enforced_here() {
    let report = sandbox().enforcement();
    for r in &report.layers {
        // Landlock is optional in general, but this host has ABI 7.
        assert_eq!(
            r.status,
            LayerStatus::Enforced,
            "{}: {}\n{}",
            r.layer,
            r.detail,
            report.to_text()
        );
    }
    assert!(
        report.backend.starts_with("bubblewrap"),
        "{}",
        report.backend
    );
    let json = serde_json::to_value(report).unwrap();
    assert_eq!(json["layers"][0]["layer"], "env_scrub");
    assert_eq!(json["layers"][0]["status"], "enforced");
}

#[test]
fn direct_backend_reports_what_it_lacks_and_policy_refuses() {
    // Without bubblewrap there is no mount or pid namespace: the report says
    // so, and a policy requiring them refuses with a fix-it message.
    let cfg = SandboxConfig {
        backend: Backend::Direct,
        policy: SandboxPolicy::allow_weak(),
        ..config()
    };
    let weak = Sandbox::new(cfg.clone()).expect("allow_weak accepts the direct backend");
    let rep = weak.enforcement();
    assert_eq!(
        rep.status(Layer::NetNs),
        LayerStatus::Enforced,
        "{}",
        rep.to_text()
    );
    assert_eq!(
        rep.status(Layer::Seccomp),
        LayerStatus::Enforced,
        "{}",
        rep.to_text()
    );
    assert_eq!(
        rep.status(Layer::Rlimits),
        LayerStatus::Enforced,
        "{}",
        rep.to_text()
    );
    assert_ne!(
        rep.status(Layer::MountNs),
        LayerStatus::Enforced,
        "{}",
        rep.to_text()
    );
    assert_ne!(
        rep.status(Layer::PidNs),
        LayerStatus::Enforced,
        "{}",
        rep.to_text()
    );
    // It runs environments, with the same network and process guarantees.
    let good = weak.load(crate::common::fixture("good/add.py")).unwrap();
    use resyn_core::Environment;
    let inst = good.generate(5, 4).unwrap();
    assert!(good.verify(&inst, &inst.reference).correct);
    let net = weak
        .load(crate::common::fixture("hostile/net_connect.py"))
        .unwrap();
    let e = net
        .try_generate_batch(&[(1, 1)], false)
        .results
        .pop()
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, resyn_sandbox::Error::Forbidden { .. }), "{e}");
    let fork = weak
        .load(crate::common::fixture("hostile/fork_bomb.py"))
        .unwrap();
    let e = fork
        .try_generate_batch(&[(1, 1)], false)
        .results
        .pop()
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, resyn_sandbox::Error::Forbidden { .. }), "{e}");
    // Without a mount namespace, Landlock is what keeps writes inside /tmp.
    assert_eq!(
        rep.status(Layer::Landlock),
        LayerStatus::Enforced,
        "{}",
        rep.to_text()
    );
    let target = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("landlock-probe.txt");
    let _ = std::fs::remove_file(&target);
    let src = format!(
        "NAME = 'writer'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\n\
         def generate(rng, difficulty):\n    open({:?}, 'w').write('x')\n\
         def verify(instance, answer):\n    return 0.0\n",
        target.display().to_string()
    );
    let writer = resyn_sandbox::PythonEnv::from_source("writer.py", src, &weak).unwrap();
    let e = writer
        .try_generate_batch(&[(1, 1)], false)
        .results
        .pop()
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, resyn_sandbox::Error::Forbidden { .. }), "{e}");
    assert!(!target.exists(), "the host file must not have been written");
    // Network isolation and limits hold, so the default policy accepts it.
    Sandbox::new(SandboxConfig {
        policy: SandboxPolicy::default(),
        ..cfg.clone()
    })
    .expect("default policy: net + rlimits + seccomp are enforced");
    let err = Sandbox::new(SandboxConfig {
        policy: SandboxPolicy::strict(),
        ..cfg
    })
    .expect_err("strict policy must refuse the direct backend");
    let msg = err.to_string();
    assert!(
        msg.contains("refusing") && msg.contains("mount_ns") && msg.contains("bubblewrap"),
        "{msg}"
    );
    assert!(msg.contains("--allow-weak-sandbox"), "{msg}");
}

#[test]
fn a_missing_bwrap_binary_is_a_clear_start_up_error() {
    let cfg = SandboxConfig {
        backend: Backend::Bubblewrap("/nonexistent/bwrap".into()),
        ..config()
    };
    let err = Sandbox::new(cfg).expect_err("no such bwrap");
    assert!(err.to_string().contains("/nonexistent/bwrap"), "{err}");
}
