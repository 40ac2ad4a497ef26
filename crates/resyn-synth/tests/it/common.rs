//! Shared helpers.
use std::sync::OnceLock;

use resyn_sandbox::{Sandbox, SandboxConfig};

/// One sandbox per test binary with default limits (seed environments).
pub(crate) fn sandbox() -> &'static Sandbox {
    static SB: OnceLock<Sandbox> = OnceLock::new();
    SB.get_or_init(|| Sandbox::new(SandboxConfig::default()).expect("sandbox"))
}

/// A sandbox with a short call timeout, so looping fixtures fail fast.
pub(crate) fn fast_sandbox() -> &'static Sandbox {
    static SB: OnceLock<Sandbox> = OnceLock::new();
    SB.get_or_init(|| {
        let mut cfg = SandboxConfig::default();
        cfg.limits.call_timeout = std::time::Duration::from_secs(2);
        Sandbox::new(cfg).expect("sandbox")
    })
}
