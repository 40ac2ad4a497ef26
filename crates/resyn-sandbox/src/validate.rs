//! Validation of a Python environment against the environment contract.
//!
//! [`validate`] generates every `(seed, difficulty)` twice — the second time
//! in reverse order on a fresh worker, so hidden state (module-level
//! counters, time, hash order) shows up as a difference — and checks that the
//! instances are byte-identical, that every reference answer verifies to 1.0,
//! and that `solve`, when defined, produces answers that verify to 1.0 too.

use std::ops::{Range, RangeInclusive};

use resyn_core::{Environment, Instance, wrap_answer};

use crate::env::PythonEnv;
use crate::{Error, Result};

/// Counts from a passing validation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Validation {
    /// Instances generated (each twice) and checked.
    pub instances: usize,
    /// Instances whose `solve` output was verified.
    pub solved: usize,
}

/// Check determinism, references and `solve` over `seeds` × `difficulties`.
///
/// # Errors
/// The first failure: a generation error (typed, with traceback),
/// [`Error::NonDeterministic`], or [`Error::Invalid`] for a reference or
/// solution that does not verify.
pub fn validate(
    env: &PythonEnv,
    seeds: Range<u64>,
    difficulties: RangeInclusive<u8>,
) -> Result<Validation> {
    let requests: Vec<(u64, u8)> = difficulties
        .flat_map(|d| seeds.clone().map(move |s| (s, d)))
        .collect();
    let first = env.generate_with(&requests, true, false).results;
    let reversed: Vec<(u64, u8)> = requests.iter().rev().copied().collect();
    let mut second = env.generate_with(&reversed, false, true).results;
    second.reverse();
    let mut instances: Vec<Instance> = Vec::with_capacity(requests.len());
    let mut solutions = Vec::new();
    for ((a, b), &(seed, difficulty)) in first.into_iter().zip(second).zip(&requests) {
        let a = a?;
        let b = b?;
        if let Some(detail) = difference(&a.instance, &b.instance) {
            return Err(Error::NonDeterministic {
                env: env.meta().id.clone(),
                seed,
                difficulty,
                detail,
            });
        }
        if let Some(sol) = a.solution {
            solutions.push((instances.len(), sol));
        }
        instances.push(a.instance);
    }
    let id = &env.meta().id;
    let refs: Vec<(&Instance, &str)> = instances
        .iter()
        .map(|i| (i, i.reference.as_str()))
        .collect();
    for (v, inst) in env.verify_batch(&refs).into_iter().zip(&instances) {
        if !v.correct {
            return Err(Error::Invalid {
                env: id.clone(),
                message: format!(
                    "the reference answer of seed {} difficulty {} scores {} ({}: {})",
                    inst.seed, inst.difficulty, v.reward, v.reason, v.detail
                ),
            });
        }
    }
    let wrapped: Vec<String> = solutions.iter().map(|(_, s)| wrap_answer(s)).collect();
    let sols: Vec<(&Instance, &str)> = solutions
        .iter()
        .zip(&wrapped)
        .map(|((k, _), w)| (&instances[*k], w.as_str()))
        .collect();
    for (v, (inst, _)) in env.verify_batch(&sols).into_iter().zip(&sols) {
        if !v.correct {
            return Err(Error::Invalid {
                env: id.clone(),
                message: format!(
                    "solve() output for seed {} difficulty {} scores {} ({}: {})",
                    inst.seed, inst.difficulty, v.reward, v.reason, v.detail
                ),
            });
        }
    }
    Ok(Validation {
        instances: instances.len(),
        solved: sols.len(),
    })
}

/// Where two generations of one instance differ.
fn difference(a: &Instance, b: &Instance) -> Option<String> {
    let fields = [
        ("prompt", a.prompt.clone(), b.prompt.clone()),
        ("data", a.data.to_string(), b.data.to_string()),
        ("reference", a.reference.clone(), b.reference.clone()),
    ];
    fields.into_iter().find(|(_, x, y)| x != y).map(|(name, x, y)| {
        let at = x
            .char_indices()
            .zip(y.chars())
            .find(|((_, c1), c2)| c1 != c2)
            .map_or(x.len().min(y.len()), |((i, _), _)| i);
        let snip = |s: &str| s.get(at..).unwrap_or("").chars().take(60).collect::<String>();
        format!(
            "`{name}` differs at byte {at}: first run {:?}, second run (fresh worker, reverse order) {:?}",
            snip(&x),
            snip(&y)
        )
    })
}
