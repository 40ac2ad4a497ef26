//! CPU-time limits: workers are recycled before their budget runs out, and
//! the budget itself (RLIMIT_CPU) stops runaway code the wall clock would not.

use std::time::Duration;

use resyn_core::Environment;
use resyn_sandbox::{Error, Limits, PythonEnv, Sandbox, SandboxConfig};

use crate::common::{config, generate_error_at};

const BURNER: &str = r#"
import os, time

NAME = "burner"
CATEGORY = "math"
DESCRIPTION = "Burns CPU on request; reports which worker it runs in."
TOKEN = os.urandom(8).hex()  # differs per worker

def generate(rng, difficulty):
    end = time.process_time() + {"1": 0.0, "2": 0.7, "3": 1e9}[str(difficulty)]
    while time.process_time() < end:
        pass
    return {"prompt": TOKEN, "data": TOKEN, "reference": TOKEN}

def verify(instance, answer):
    return 0.0
"#;

#[test]
fn workers_are_recycled_at_half_their_cpu_budget_and_killed_at_the_limit() {
    let cfg = SandboxConfig {
        limits: Limits {
            cpu_seconds: 1,
            call_timeout: Duration::from_secs(6),
            ..config().limits
        },
        ..config()
    };
    let sb = Sandbox::new(cfg).unwrap();
    let env = PythonEnv::from_source("burner.py", BURNER.into(), &sb).unwrap();
    let token = |d: u8| {
        env.generate(0, d)
            .unwrap()
            .data
            .as_str()
            .unwrap()
            .to_string()
    };
    let a = token(1);
    assert_eq!(a, token(1), "a cheap call reuses the worker");
    let b = token(2);
    assert_eq!(
        a, b,
        "the call that crosses half the budget still completes"
    );
    assert_ne!(
        b,
        token(1),
        "a worker past half its CPU budget is not reused"
    );
    // An endless CPU burner is stopped by RLIMIT_CPU before the 6 s wall clock.
    let t = std::time::Instant::now();
    let e = generate_error_at(&env, 0, 3);
    assert!(matches!(e, Error::Crash { .. }), "{e}");
    assert!(
        e.to_string().contains("SIGXCPU") || e.to_string().contains("SIGKILL"),
        "{e}"
    );
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}
