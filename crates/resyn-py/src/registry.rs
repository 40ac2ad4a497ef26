//! The process-wide scorer: one registry of environments per process,
//! built on first use and shared by every thread (verl's reward loop calls
//! `compute_score` from a thread pool).

use std::sync::OnceLock;

use resyn_reward::Scorer;

/// The scorer over every environment this process knows: the native ones.
pub(crate) fn scorer() -> &'static Scorer {
    static SCORER: OnceLock<Scorer> = OnceLock::new();
    SCORER.get_or_init(|| Scorer::new(resyn_envs::registry()))
}
