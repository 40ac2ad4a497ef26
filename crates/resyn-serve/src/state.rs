//! [`AppState`]: what every request handler shares.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use resyn_core::Instance;
use resyn_reward::{RewardConfig, Scorer};

use crate::{Error, Metrics, Online};

/// Request limits; each is enforced by a tower layer or at the start of a
/// handler, before any scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Most items (or OpenRLHF queries) in one request (413 beyond).
    pub max_batch: usize,
    /// Time for one request, queueing included (503 beyond).
    pub timeout: Duration,
    /// Scoring requests served at once; more wait in a queue.
    pub concurrency: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 << 20,
            max_batch: 65_536,
            timeout: Duration::from_secs(60),
            concurrency: 64,
        }
    }
}

/// Shared server state: cheap to clone (every field is an `Arc` or `Copy`).
#[derive(Debug, Clone)]
pub struct AppState {
    /// Scores responses.
    pub scorer: Arc<Scorer>,
    /// Instances loaded at startup, by id (for `{"id": ...}` items and
    /// OpenRLHF labels that are instance ids).
    pub instances: Arc<HashMap<String, Arc<Instance>>>,
    /// Reward weights used when a request gives none.
    pub reward: RewardConfig,
    /// Request limits.
    pub limits: Limits,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The online curriculum (`/curriculum/*` routes), if any.
    pub curriculum: Option<Arc<Online>>,
}

impl AppState {
    /// Build the state, indexing `instances` by id.
    ///
    /// # Errors
    /// [`Error::DuplicateInstance`], [`Error::UnknownEnvironment`] for an
    /// instance whose environment the scorer lacks, [`Error::Config`] for a
    /// zero limit or a non-finite weight.
    pub fn new(
        scorer: Scorer,
        instances: Vec<Instance>,
        reward: RewardConfig,
        limits: Limits,
    ) -> Result<Self, Error> {
        reward
            .validate()
            .map_err(|e| Error::Config(e.to_string()))?;
        if limits.max_body_bytes == 0 || limits.max_batch == 0 || limits.concurrency == 0 {
            return Err(Error::Config(
                "max_body_bytes, max_batch and concurrency must be positive".into(),
            ));
        }
        if limits.timeout.is_zero() {
            return Err(Error::Config("timeout must be positive".into()));
        }
        let mut by_id: HashMap<String, Arc<Instance>> = HashMap::with_capacity(instances.len());
        for inst in instances {
            if scorer.registry().get(&inst.env).is_err() {
                return Err(Error::UnknownEnvironment {
                    id: inst.id,
                    env: inst.env,
                });
            }
            if let Some(prev) = by_id.get(&inst.id) {
                if **prev != inst {
                    return Err(Error::DuplicateInstance(inst.id));
                }
                continue;
            }
            by_id.insert(inst.id.clone(), Arc::new(inst));
        }
        let metrics = Arc::new(Metrics::default());
        Ok(Self {
            // Per-environment latency goes to /metrics.
            scorer: Arc::new(scorer.with_observer(metrics.clone())),
            instances: Arc::new(by_id),
            reward,
            limits,
            metrics,
            curriculum: None,
        })
    }

    /// Serve online instances from `online` (the `/curriculum/*` routes and
    /// `"report": true` on `/verify`).
    pub fn with_curriculum(mut self, online: Online) -> Self {
        self.curriculum = Some(Arc::new(online));
        self
    }
}
