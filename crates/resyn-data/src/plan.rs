//! Which environments a build uses, and which `(seed, difficulty)`
//! requests it makes of each.
//!
//! Invariants:
//! - The requests of an environment depend only on the config's `seed`,
//!   the environment id, its difficulty range and its instance quota, never
//!   on which other environments are selected.
//! - Instance seeds of every environment are consecutive from
//!   [`seed_base`] (below 2^53, so JSON tools that read numbers as doubles
//!   keep them exact); refills continue the sequence.
//! - The difficulty counts are exact (largest remainder over the weights)
//!   and their order is a seeded shuffle, so any prefix of the requests is
//!   a fair sample of the levels.

use std::collections::BTreeMap;
use std::sync::Arc;

use resyn_core::{Environment, Registry, Rng, content_hash};

use crate::{DatasetConfig, Error, Result};

/// The first instance seed for a config seed: SplitMix64 of it, cut to 52
/// bits, so the seeds of a build (base + k) stay below 2^53.
pub fn seed_base(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) >> 12
}

/// The selected environments in the order the build tries them.
///
/// Without `max_environments`: every match, in id order. With it: every
/// match ranked round-robin over categories (in [`resyn_core::Category`]
/// order), each category's environments ordered by a hash of the config
/// seed and the id; the build takes environments from the front until it
/// has `max_environments` that pass validation.
///
/// # Errors
/// [`Error::Config`] for an unknown id in `select.ids` / `select.exclude`,
/// [`Error::NoEnvironments`] when nothing matches.
pub(crate) fn select(
    config: &DatasetConfig,
    registry: &Registry,
) -> Result<Vec<Arc<dyn Environment>>> {
    let sel = &config.select;
    for (field, ids) in [("select.ids", &sel.ids), ("select.exclude", &sel.exclude)] {
        for (k, id) in ids.iter().enumerate() {
            if registry.get(id).is_err() {
                return Err(Error::config(
                    format!("{field}[{k}]"),
                    format!("unknown environment `{id}` (run `resyn envs` to list them)"),
                ));
            }
        }
    }
    let matches: Vec<Arc<dyn Environment>> = registry
        .iter()
        .filter(|e| {
            let m = e.meta();
            (sel.ids.is_empty() || sel.ids.contains(&m.id))
                && !sel.exclude.contains(&m.id)
                && (sel.categories.is_empty() || sel.categories.contains(&m.category))
                && (sel.sources.is_empty() || sel.sources.contains(&m.source))
        })
        .cloned()
        .collect();
    if matches.is_empty() {
        return Err(Error::NoEnvironments(format!(
            "{} registered environments, none passes [select] (ids {:?}, exclude {:?}, \
             categories {:?}, sources {:?})",
            registry.len(),
            sel.ids,
            sel.exclude,
            sel.categories,
            sel.sources
        )));
    }
    if config.max_environments.is_none() {
        return Ok(matches);
    }
    type Keyed = Vec<([u8; 32], Arc<dyn Environment>)>;
    let mut by_cat: BTreeMap<_, Keyed> = BTreeMap::new();
    for e in matches {
        let key = content_hash(&[
            b"resyn-dataset-select-v1",
            &config.seed.to_le_bytes(),
            e.meta().id.as_bytes(),
        ]);
        by_cat.entry(e.meta().category).or_default().push((key, e));
    }
    let mut queues: Vec<std::vec::IntoIter<_>> = by_cat
        .into_values()
        .map(|mut v| {
            v.sort_by_key(|a| a.0);
            v.into_iter()
        })
        .collect();
    let mut ranked = Vec::new();
    loop {
        let before = ranked.len();
        for q in &mut queues {
            if let Some((_, e)) = q.next() {
                ranked.push(e);
            }
        }
        if ranked.len() == before {
            return Ok(ranked);
        }
    }
}

/// Why a selected environment is left out before anything is generated:
/// it is synthesized and uncalibrated, and the config does not opt in.
pub(crate) fn left_out(config: &DatasetConfig, env: &dyn Environment) -> Option<String> {
    (env.meta().calibrated == Some(false) && !config.select.include_uncalibrated).then(|| {
        "uncalibrated: synthesized without a solver endpoint, so its difficulty scaling and \
         its verifier on real model answers were never checked (set [select] \
         include_uncalibrated = true to use it)"
            .to_string()
    })
}

/// The instance quota of the `slot`-th accepted environment (0-based) out
/// of `slots`.
pub(crate) fn quota(config: &DatasetConfig, slot: usize, slots: usize) -> u64 {
    match config.total_instances {
        None => config.instances_per_env,
        Some(total) => {
            let slots = slots.max(1) as u64;
            total / slots + u64::from((slot as u64) < total % slots)
        }
    }
}

/// The difficulty levels and weights `env` supports out of the config's, or
/// why none.
pub(crate) fn levels_for(
    weights: &[(u8, f64)],
    env: &dyn Environment,
) -> Result<Vec<(u8, f64)>, String> {
    let m = env.meta();
    let ok: Vec<(u8, f64)> = weights
        .iter()
        .copied()
        .filter(|(d, _)| (m.min_difficulty..=m.max_difficulty).contains(d))
        .collect();
    if ok.is_empty() {
        let asked: Vec<String> = weights.iter().map(|(d, _)| d.to_string()).collect();
        return Err(format!(
            "supports difficulty {}-{} only; the config asks for {}",
            m.min_difficulty,
            m.max_difficulty,
            asked.join(",")
        ));
    }
    Ok(ok)
}

/// Exact per-level counts for `n` instances (largest remainder; ties go to
/// the lower level).
pub(crate) fn apportion(n: u64, levels: &[(u8, f64)]) -> Vec<(u8, u64)> {
    let total: f64 = levels.iter().map(|l| l.1).sum();
    let mut out: Vec<(u8, u64, f64)> = levels
        .iter()
        .map(|&(d, w)| {
            let exact = n as f64 * w / total;
            (d, exact.floor() as u64, exact - exact.floor())
        })
        .collect();
    let assigned: u64 = out.iter().map(|o| o.1).sum();
    let mut order: Vec<usize> = (0..out.len()).collect();
    // Stable sort: equal remainders keep level order.
    order.sort_by(|&a, &b| out[b].2.total_cmp(&out[a].2));
    for &i in order
        .iter()
        .cycle()
        .take(n.saturating_sub(assigned) as usize)
    {
        out[i].1 += 1;
    }
    out.into_iter().map(|(d, c, _)| (d, c)).collect()
}

/// An environment's first-round requests for `n` instances over `levels`:
/// consecutive seeds from [`seed_base`], difficulties in their seeded order.
pub(crate) fn requests(seed: u64, env_id: &str, levels: &[(u8, f64)], n: u64) -> Vec<(u64, u8)> {
    let base = seed_base(seed);
    difficulty_order(seed, env_id, &apportion(n, levels))
        .into_iter()
        .zip(base..)
        .map(|(d, s)| (s, d))
        .collect()
}

/// The difficulties of an environment's `n` planned instances, in their
/// seeded random order.
pub(crate) fn difficulty_order(seed: u64, env_id: &str, counts: &[(u8, u64)]) -> Vec<u8> {
    let mut v: Vec<u8> = counts
        .iter()
        .flat_map(|&(d, c)| std::iter::repeat_n(d, c as usize))
        .collect();
    let h = content_hash(&[
        b"resyn-dataset-order-v1",
        &seed.to_le_bytes(),
        env_id.as_bytes(),
    ]);
    let mut s = [0u8; 8];
    s.copy_from_slice(&h[..8]);
    Rng::from_seed(u64::from_le_bytes(s)).shuffle(&mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_is_exact() {
        let lv: Vec<(u8, f64)> = (1..=10).map(|d| (d, 1.0)).collect();
        let a = apportion(40, &lv);
        assert!(a.iter().all(|&(_, c)| c == 4));
        let a = apportion(13, &lv);
        assert_eq!(a.iter().map(|x| x.1).sum::<u64>(), 13);
        assert_eq!(a[0], (1, 2));
        assert_eq!(a[3], (4, 1));
        let a = apportion(10, &[(2, 3.0), (7, 1.0)]);
        assert_eq!(a, vec![(2, 8), (7, 2)]);
        assert_eq!(apportion(0, &[(2, 1.0)]), vec![(2, 0)]);
    }

    #[test]
    fn seeds_are_json_safe() {
        for s in [0, 1, u64::MAX, 12345] {
            assert!(seed_base(s) < 1 << 52);
        }
        assert_ne!(seed_base(0), seed_base(1));
    }

    #[test]
    fn quotas_spread_the_budget() {
        let c = DatasetConfig {
            total_instances: Some(10),
            ..DatasetConfig::default()
        };
        let q: Vec<u64> = (0..4).map(|s| quota(&c, s, 4)).collect();
        assert_eq!(q, vec![3, 3, 2, 2]);
    }
}
