//! The judges of one environment besides its own verifier: the second
//! verifier `resyn synth` stored with it, the tie-breaking verifier drawn
//! for its last dispute, and the module's `solve()`. All are untrusted
//! Python and run only in the registry's sandbox.

use std::collections::HashMap;

use resyn_core::{EnvMeta, Instance};
use resyn_registry::Loaded;
use resyn_sandbox::PythonEnv;
use serde_json::Value;

use crate::report::SecondStatus;
use crate::{Error, Result};

/// Where a stored environment's validation report keeps the source of its
/// second verifier (a module defining `verify(instance, answer)`).
pub const VERIFIER_CODE_POINTER: &str = "/cross_verify/verifier_code";

/// Where it keeps the tie-breaking verifier drawn for its last dispute, if
/// any (the same form).
pub const TIE_BREAKER_CODE_POINTER: &str = "/cross_verify/tie_breaker_code";

/// The second verifier of an environment.
pub(crate) enum Second {
    /// Loaded from the store.
    Stored(PythonEnv),
    /// None stored: a native or directory environment, or a store row from
    /// before second verifiers were kept.
    Missing,
    /// Stored, but it does not load (the error).
    Unloadable(String),
}

impl Second {
    /// How the report names it.
    pub(crate) fn status(&self) -> SecondStatus {
        match self {
            Second::Stored(_) => SecondStatus::Stored,
            Second::Missing => SecondStatus::None,
            Second::Unloadable(_) => SecondStatus::Unloadable,
        }
    }
}

/// Which stored verifier to load.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Which {
    Second,
    TieBreaker,
}

/// Load the second verifier (or the tie-breaker) stored with `meta`'s
/// environment, if any.
///
/// # Errors
/// [`Error::Sandbox`] when the sandbox cannot start.
pub(crate) fn stored_verifier(loaded: &Loaded, meta: &EnvMeta, which: Which) -> Result<Second> {
    let (pointer, file) = match which {
        Which::Second => (VERIFIER_CODE_POINTER, "second_verifier"),
        Which::TieBreaker => (TIE_BREAKER_CODE_POINTER, "tie_breaker"),
    };
    let code = loaded
        .stored(&meta.id)
        .and_then(|row| row.env.validation.pointer(pointer))
        .and_then(Value::as_str);
    let Some(code) = code else {
        return Ok(Second::Missing);
    };
    let source = resyn_synth::verifier_module(code, meta);
    match loaded.load_module(&format!("{}_{file}.py", meta.id), source) {
        Ok(env) => Ok(Second::Stored(env)),
        Err(e @ resyn_registry::Error::Sandbox(_)) => Err(Error::Sandbox(e)),
        Err(e) => Ok(Second::Unloadable(e.to_string())),
    }
}

/// `solve()`'s answer for each of `instances`, by instance id (an error
/// text when it failed); `None` when the environment has no `solve()` (or
/// its module does not load, which its verifier's errors report).
pub(crate) fn solutions(
    loaded: &Loaded,
    env: &str,
    instances: &[&Instance],
) -> Option<HashMap<String, std::result::Result<String, String>>> {
    let module = loaded.python(env).filter(PythonEnv::has_solve)?;
    let batch = module.try_solve_batch(instances);
    Some(
        instances
            .iter()
            .zip(batch.results)
            .map(|(i, r)| (i.id.clone(), r.map_err(|e| e.to_string())))
            .collect(),
    )
}
