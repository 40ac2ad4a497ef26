//! Python environments under the conformance checks of
//! [`resyn_core::conformance`]: typed sandbox errors become reason codes,
//! captured output joins failure details, and the determinism check runs on
//! a fresh worker.

use resyn_core::conformance::{CallError, Generation, Scored, Subject, excerpt};
use resyn_core::{EnvMeta, Environment, Instance};

use crate::Error;
use crate::env::{Batch, Generated, PythonEnv};

impl From<&Error> for CallError {
    fn from(e: &Error) -> Self {
        CallError {
            reason: e.reason().to_string(),
            message: e.to_string(),
            infra: e.is_infra(),
        }
    }
}

fn generation(batch: Batch<Generated>) -> Generation {
    let mut output = String::new();
    for (name, text) in [("stdout", &batch.stdout), ("stderr", &batch.stderr)] {
        if !text.trim().is_empty() {
            output.push_str(&format!("\n[{name}] {}", excerpt(text)));
        }
    }
    Generation {
        results: batch
            .results
            .into_iter()
            .map(|r| {
                r.map(|g| (g.instance, g.solution))
                    .map_err(|e| CallError::from(&e))
            })
            .collect(),
        output,
    }
}

impl Subject for PythonEnv {
    fn meta(&self) -> &EnvMeta {
        Environment::meta(self)
    }

    fn generate(&self, requests: &[(u64, u8)], with_solutions: bool) -> Generation {
        generation(self.try_generate_batch(requests, with_solutions))
    }

    fn generate_fresh(&self, requests: &[(u64, u8)]) -> Generation {
        generation(self.generate_with(requests, false, true))
    }

    fn verify(&self, items: &[(&Instance, &str)]) -> Vec<Result<Scored, CallError>> {
        self.try_verify_batch(items)
            .results
            .into_iter()
            .map(|r| match r {
                Ok(Ok(reward)) => Ok(Scored::Reward(reward)),
                Ok(Err(verdict)) => Ok(Scored::Unreadable(verdict)),
                Err(e) => Err(CallError::from(&e)),
            })
            .collect()
    }
}
