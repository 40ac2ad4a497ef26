//! Shared fixtures: one sandbox per test binary, with short limits.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use resyn_sandbox::{CodeCache, Error, Limits, PythonEnv, Sandbox, SandboxConfig, SandboxPolicy};

/// Wall-clock limit per call in tests.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_millis(2500);

pub(crate) fn config() -> SandboxConfig {
    SandboxConfig {
        limits: Limits {
            call_timeout: CALL_TIMEOUT,
            memory_bytes: 256 << 20,
            output_chars: 2048,
            ..Limits::default()
        },
        policy: SandboxPolicy::strict(),
        max_workers: 8,
        // Shared by every test process and kept between runs, so that the
        // whole suite runs with both cache misses and hits.
        code_cache: CodeCache::Dir(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("code-cache")),
        ..SandboxConfig::default()
    }
}

/// The shared sandbox (strict policy: every non-optional layer enforced).
pub(crate) fn sandbox() -> &'static Sandbox {
    static SB: OnceLock<Sandbox> = OnceLock::new();
    SB.get_or_init(|| Sandbox::new(config()).unwrap_or_else(|e| panic!("sandbox: {e}")))
}

pub(crate) fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

pub(crate) fn load(rel: &str) -> PythonEnv {
    sandbox()
        .load(fixture(rel))
        .unwrap_or_else(|e| panic!("load {rel}: {e}"))
}

pub(crate) fn hostile(name: &str) -> PythonEnv {
    load(&format!("hostile/{name}.py"))
}

/// The error of `generate(seed=1, difficulty=1)`, which must fail.
pub(crate) fn generate_error(env: &PythonEnv) -> Error {
    generate_error_at(env, 1, 1)
}

/// The error of `generate(seed, difficulty)`, which must fail.
pub(crate) fn generate_error_at(env: &PythonEnv, seed: u64, difficulty: u8) -> Error {
    let mut b = env.try_generate_batch(&[(seed, difficulty)], false);
    match b.results.pop() {
        Some(Err(e)) => e,
        other => panic!("{env:?}: expected an error, got {other:?}"),
    }
}

/// The well-behaved fixture still works (the pool keeps serving).
pub(crate) fn assert_pool_serves() {
    use resyn_core::Environment;
    let env = load("good/add.py");
    let inst = env.generate(11, 2).expect("good env generates");
    assert!(env.verify(&inst, &inst.reference).correct);
}
