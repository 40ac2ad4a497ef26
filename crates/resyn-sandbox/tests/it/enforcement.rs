//! On this host every non-optional layer must be enforced, observed from
//! inside a worker.

use resyn_sandbox::{
    Backend, Enforcement, Error, Layer, LayerStatus, PythonEnv, Sandbox, SandboxConfig,
    SandboxPolicy,
};

use crate::common::{config, fixture, generate_error, sandbox};

fn assert_status(rep: &Enforcement, layer: Layer, enforced: bool) {
    let status = rep.status(layer);
    assert_eq!(
        status == LayerStatus::Enforced,
        enforced,
        "{layer}: {status}\n{}",
        rep.to_text()
    );
}

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
    for layer in [Layer::NetNs, Layer::Seccomp, Layer::Rlimits] {
        assert_status(rep, layer, true);
    }
    for layer in [Layer::MountNs, Layer::PidNs] {
        assert_status(rep, layer, false);
    }
    // It runs environments, with the same network and process guarantees.
    let good = weak.load(fixture("good/add.py")).unwrap();
    use resyn_core::Environment;
    let inst = good.generate(5, 4).unwrap();
    assert!(good.verify(&inst, &inst.reference).correct);
    for name in ["net_connect", "fork_bomb"] {
        let env = weak.load(fixture(&format!("hostile/{name}.py"))).unwrap();
        let e = generate_error(&env);
        assert!(matches!(e, Error::Forbidden { .. }), "{name}: {e}");
    }
    // Without a mount namespace, Landlock is what keeps writes inside the
    // worker's private directory. The targets are outside it wherever the
    // checkout and the host's temporary directory are (even when the target
    // directory itself is under /tmp).
    assert_status(rep, Layer::Landlock, true);
    assert_status(rep, Layer::PrivateTmp, true);
    let outside = [
        tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap(),
        tempfile::tempdir().unwrap(),
    ];
    for dir in &outside {
        let target = dir.path().join("landlock-probe.txt");
        let src = format!(
            "NAME = 'writer'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\n\
             def generate(rng, difficulty):\n    open({:?}, 'w').write('x')\n\
             def verify(instance, answer):\n    return 0.0\n",
            target.display().to_string()
        );
        let writer = PythonEnv::from_source("writer.py", src, &weak).unwrap();
        let e = generate_error(&writer);
        assert!(matches!(e, Error::Forbidden { .. }), "{e}");
        assert!(!target.exists(), "{} was written", target.display());
    }
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
