//! The environment completions behind a report, to score them again.
//!
//! A report records, per environment item, the environment (its group), the
//! seed and the difficulty; regenerating the instance gives its prompt, so
//! [`RunConfig::request`](crate::RunConfig::request) and [`cache_key`] find
//! each sample's completion in the run's cache. This is how `resyn audit`
//! re-scores an evaluation with other verifiers without any call.

use std::collections::BTreeMap;
use std::path::Path;

use resyn_core::{Instance, Registry};

use crate::cache::{Cache, cache_key};
use crate::{ENVS_SUITE, Error, Report, Result};

/// One fetched completion of an environment item.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvCompletion {
    /// The instance, regenerated.
    pub instance: Instance,
    /// Sample index within the item.
    pub sample: u32,
    /// The completion text.
    pub text: String,
}

/// What [`env_completions`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvCompletions {
    /// Every completion found, in report order.
    pub completions: Vec<EnvCompletion>,
    /// Scored samples whose text is neither in the cache nor in the report
    /// (a cache deleted or not the run's).
    pub missing: usize,
    /// Benchmark items, which have no environment and are not returned.
    pub benchmark_items: usize,
}

/// The completions of every environment item of `report` (read from
/// `path`): the text from `cache`, else the report's own copy (runs with
/// `--include-responses`).
///
/// # Errors
/// [`Error::Format`] naming `path` and the item when an item has no seed
/// (reports written before seeds were recorded), names an unknown
/// environment, or no longer regenerates the same instance (the
/// environment changed since the run).
pub fn env_completions(
    report: &Report,
    path: &Path,
    registry: &Registry,
    cache: &Cache,
) -> Result<EnvCompletions> {
    let bad =
        |id: &str, message: String| Error::format(path, None, format!("item {id}: {message}"));
    let mut found = EnvCompletions::default();
    // Generate per environment in one batch; keep report order.
    let mut by_env: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (k, item) in report.items.iter().enumerate() {
        if item.suite == ENVS_SUITE {
            by_env.entry(item.group.as_str()).or_default().push(k);
        } else {
            found.benchmark_items += 1;
        }
    }
    let mut instances: Vec<Option<Instance>> = vec![None; report.items.len()];
    for (env_id, ks) in by_env {
        let env = registry.get(env_id).map_err(|_| {
            bad(
                &report.items[ks[0]].id,
                format!("unknown environment `{env_id}`"),
            )
        })?;
        let mut requests = Vec::with_capacity(ks.len());
        for &k in &ks {
            let item = &report.items[k];
            let (Some(seed), Some(d)) = (item.seed, item.difficulty) else {
                return Err(bad(
                    &item.id,
                    "no seed recorded (the report predates it); rerun the same `resyn eval run` \
                     command to rewrite the report (cached completions cost no calls)"
                        .into(),
                ));
            };
            requests.push((seed, d));
        }
        for ((&k, &(seed, d)), generated) in
            ks.iter().zip(&requests).zip(env.generate_batch(&requests))
        {
            let item = &report.items[k];
            let inst = generated.map_err(|e| {
                bad(
                    &item.id,
                    format!("regenerating {env_id} seed {seed} difficulty {d}: {e}"),
                )
            })?;
            if inst.id != item.id {
                return Err(bad(
                    &item.id,
                    format!(
                        "{env_id} v{} seed {seed} difficulty {d} now gives instance {}: the \
                         environment changed since this evaluation",
                        inst.env_version, inst.id
                    ),
                ));
            }
            instances[k] = Some(inst);
        }
    }
    let run = &report.config.run;
    for (item, inst) in report.items.iter().zip(instances) {
        let Some(inst) = inst else { continue };
        for s in &item.samples {
            let key = cache_key(&run.request(&inst.prompt, s.index), s.index);
            let text = cache
                .get(&key)
                .map(|r| r.text.clone())
                .or_else(|| s.response.clone());
            match text {
                Some(text) => found.completions.push(EnvCompletion {
                    instance: inst.clone(),
                    sample: s.index,
                    text,
                }),
                None if s.scored => found.missing += 1,
                None => {}
            }
        }
    }
    Ok(found)
}
