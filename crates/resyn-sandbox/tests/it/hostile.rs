//! Hostile environments: each is contained with a precise error, and the pool
//! keeps serving other environments afterwards.

use resyn_core::{Environment, ReasonCode};
use resyn_sandbox::Error;
use serde_json::json;

use crate::common::{CALL_TIMEOUT, assert_pool_serves, generate_error, hostile, sandbox};

fn gen_err(name: &str) -> Error {
    generate_error(&hostile(name))
}

fn gen_data(name: &str) -> serde_json::Value {
    let env = hostile(name);
    env.generate(1, 1)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .data
}

#[test]
fn network_connect_is_forbidden() {
    let e = gen_err("net_connect");
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("PermissionError") && msg.contains("create_connection"),
        "{msg}"
    );
    assert_pool_serves();
}

#[test]
fn dns_lookup_fails_without_network() {
    let e = gen_err("dns_lookup");
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    assert!(e.to_string().contains("gaierror"), "{e}");
    assert_pool_serves();
}

#[test]
fn fork_bomb_and_subprocess_are_denied() {
    for name in ["fork_bomb", "subprocess_spawn"] {
        let e = gen_err(name);
        assert!(matches!(e, Error::Forbidden { .. }), "{name}: {e}");
        assert!(
            e.to_string().contains("Operation not permitted"),
            "{name}: {e}"
        );
    }
    assert_pool_serves();
}

#[test]
fn exec_is_denied_by_the_second_stage_filter() {
    let e = gen_err("exec_shell");
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    assert!(e.to_string().contains("execv"), "{e}");
    assert!(
        sandbox()
            .enforcement()
            .layers
            .iter()
            .any(|l| l.detail.contains("execve denied")),
        "{}",
        sandbox().enforcement().to_text()
    );
    assert_pool_serves();
}

#[test]
fn memory_bomb_is_a_memory_error() {
    let e = gen_err("memory_bomb");
    match &e {
        Error::Memory {
            limit_bytes,
            exception,
            ..
        } => {
            assert_eq!(*limit_bytes, 256 << 20);
            assert_eq!(exception.type_name, "MemoryError");
        }
        other => panic!("expected Memory, got {other}"),
    }
    assert!(e.to_string().contains("256 MiB"), "{e}");
    assert_pool_serves();
}

#[test]
fn infinite_loop_in_generate_times_out() {
    let t = std::time::Instant::now();
    let e = gen_err("loop_generate");
    assert!(
        matches!(e, Error::Timeout { limit, .. } if limit == CALL_TIMEOUT),
        "{e}"
    );
    assert!(
        e.to_string().contains("generate(seed=1, difficulty=1)"),
        "{e}"
    );
    assert!(t.elapsed() < CALL_TIMEOUT * 4, "took {:?}", t.elapsed());
    assert_pool_serves();
}

#[test]
fn infinite_loop_in_verify_is_an_env_error_and_the_batch_goes_on() {
    let env = hostile("loop_verify");
    let inst = env.generate(3, 2).unwrap();
    let items = [
        (&inst, "<answer>ok</answer>"),
        (&inst, "<answer>hang</answer>"),
        (&inst, "<answer>ok</answer>"),
        (&inst, "<answer>no</answer>"),
    ];
    let v = env.verify_batch(&items);
    assert!(v[0].correct);
    assert_eq!(v[1].reason, ReasonCode::EnvError);
    assert_eq!(v[1].reward, 0.0);
    assert!(v[1].detail.contains("wall-clock limit"), "{}", v[1].detail);
    assert!(
        v[2].correct,
        "items after the hang run on a fresh worker: {:?}",
        v[2]
    );
    assert_eq!(v[3].reason, ReasonCode::Wrong);
    assert_pool_serves();
}

#[test]
fn gigabytes_of_output_are_capped() {
    let env = hostile("stdout_flood");
    let b = env.try_generate_batch(&[(1, 1)], false);
    assert!(b.results[0].is_ok(), "{:?}", b.results[0]);
    assert!(
        b.stdout.len() <= 2048,
        "stdout kept {} bytes",
        b.stdout.len()
    );
    assert!(b.stderr.starts_with("done"), "{:?}", b.stderr);
    assert_pool_serves();
}

#[test]
fn deep_recursion_crashes_only_its_worker() {
    // C-level recursion past the C stack: SIGSEGV on 3.11 (newer versions
    // raise RecursionError from their own C-stack guard).
    let e = gen_err("deep_recursion");
    let crashed = matches!(&e, Error::Crash { .. }) && e.to_string().contains("SIGSEGV");
    let guarded =
        matches!(&e, Error::Exception { exception, .. } if exception.type_name == "RecursionError");
    assert!(crashed || guarded, "{e}");
    let e = gen_err("plain_recursion");
    assert!(
        matches!(&e, Error::Exception { exception, .. } if exception.type_name == "RecursionError"),
        "{e}"
    );
    assert_pool_serves();
}

#[test]
fn exits_are_crashes_with_their_status() {
    let e = gen_err("os_exit");
    assert!(matches!(e, Error::Crash { .. }), "{e}");
    assert!(e.to_string().contains("status 3"), "{e}");

    let env = hostile("sys_exit");
    let inst = env.generate(1, 1).unwrap();
    let v = env.verify(&inst, "<answer>ok</answer>");
    assert_eq!(v.reason, ReasonCode::EnvError);
    assert!(v.detail.contains("sys.exit(5)"), "{}", v.detail);
    assert_pool_serves();
}

#[test]
fn signals_cannot_reach_outside_the_sandbox() {
    // The parent inside the pid namespace is bubblewrap's init, which ignores
    // signals it has no handler for; kill(-1) reaches nobody; Landlock scopes
    // signals to the sandbox. The call completes and the test process is
    // obviously alive.
    // (With Landlock's signal scoping the kill is refused outright.)
    let data = gen_data("kill_parent");
    for target in ["parent", "pid1", "everyone"] {
        let got = data[target].as_str().unwrap();
        assert!(
            got == "sent" || got == "errno 1" || got == "errno 3",
            "{target}: {data}"
        );
    }
    let e = gen_err("kill_group");
    assert!(matches!(e, Error::Crash { .. }), "{e}");
    assert!(e.to_string().contains("signal 9"), "{e}");
    assert_pool_serves();
}

#[test]
fn printing_fake_replies_forges_nothing() {
    let env = hostile("fake_reply");
    let inst = env.generate(1, 1).unwrap();
    let b = env.try_verify_batch(&[(&inst, "<answer>ok</answer>")]);
    assert_eq!(b.results[0].as_ref().unwrap().as_ref().unwrap(), &0.0);
    assert!(
        b.stdout.contains("\"items\": [1.0]"),
        "printed text is captured: {}",
        b.stdout
    );
    // The worker stays healthy and consistent for the next call.
    let v = env.verify(&inst, "<answer>ok</answer>");
    assert_eq!(v.reward, 0.0);
    assert_pool_serves();
}

#[test]
fn tampering_with_the_harness_is_a_protocol_error() {
    let e = gen_err("tamper");
    assert!(matches!(e, Error::Protocol { .. }), "{e}");
    assert!(e.to_string().contains("999"), "{e}");

    let env = hostile("tamper_late");
    let inst = env.generate(1, 1).unwrap();
    let v = env.verify_batch(&[(&inst, "<answer>a</answer>")]);
    assert_eq!(v[0].reward, 0.0);
    // The broken harness answers garbage next time: detected, worker replaced.
    let v = env.verify_batch(&[(&inst, "<answer>a</answer>"), (&inst, "<answer>b</answer>")]);
    assert!(v.iter().all(|v| v.reward == 0.0));
    assert_pool_serves();
}

#[test]
fn ctypes_calls_into_libc_are_filtered() {
    let data = gen_data("ctypes_libc");
    let eperm = 1;
    for call in ["fork", "socket", "unshare", "ptrace", "mount"] {
        assert_eq!(data[call], json!([-1, eperm]), "{call}: {data}");
    }
    let e = gen_err("ctypes_segfault");
    assert!(e.to_string().contains("SIGSEGV"), "{e}");
    assert_pool_serves();
}

#[test]
fn writes_outside_tmp_fail() {
    let data = gen_data("write_outside");
    for (path, got) in data.as_object().unwrap() {
        if path == "/tmp/fine" {
            assert_eq!(got, "scratch space works");
        } else {
            assert!(got.as_str().unwrap().starts_with("errno"), "{path}: {got}");
        }
    }
    let e = gen_err("write_outside_raise");
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    assert!(e.to_string().contains("Read-only file system"), "{e}");
    let e = gen_err("big_file");
    assert!(
        e.to_string().contains("File too large"),
        "RLIMIT_FSIZE: {e}"
    );
    assert_pool_serves();
}

#[test]
fn host_secrets_are_invisible() {
    // A canary on the host, plus the usual suspects.
    let dir = tempfile::tempdir().unwrap();
    let canary = dir.path().join("canary.txt");
    std::fs::write(&canary, "CANARY-7f3a").unwrap();
    let cwd = std::env::current_dir().unwrap().join("Cargo.toml");
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let paths = [
        canary.display().to_string(),
        cwd.display().to_string(),
        "/etc/shadow".into(),
        "/etc/passwd".into(),
        format!("{home}/.bash_history"),
        format!("{home}/.cargo/config.toml"),
        "/work".into(),
        "/proc/1/environ".into(),
    ];
    let src = format!(
        r#"
NAME = "read_secrets"
CATEGORY = "logic"
DESCRIPTION = "Hostile fixture: read host files."
PATHS = {paths:?}

def generate(rng, difficulty):
    out = {{}}
    for p in PATHS:
        try:
            with open(p, "rb") as f:
                out[p] = "read:" + f.read(200).decode("latin-1")
        except OSError as e:
            out[p] = "errno %d" % e.errno
    return {{"prompt": "Say ok.", "data": out, "reference": "ok"}}

def verify(instance, answer):
    return 0.0
"#
    );
    let env = resyn_sandbox::PythonEnv::from_source("read_secrets.py", src, sandbox()).unwrap();
    let data = env.generate(1, 1).unwrap().data;
    for p in &paths {
        let got = data[p.as_str()].as_str().unwrap();
        if p == "/proc/1/environ" {
            // pid 1 is the sandbox's own init, with the scrubbed environment.
            assert!(
                !got.contains("CARGO") && !got.contains("PATH="),
                "{p}: {got}"
            );
        } else {
            assert!(
                got.starts_with("errno 2"),
                "{p} should not exist inside: {got}"
            );
        }
    }
    assert_pool_serves();
}
