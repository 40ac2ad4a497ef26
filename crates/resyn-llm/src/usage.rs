//! Usage accounting shared by every clone of a [`crate::Client`].
//!
//! Counters are relaxed atomics: each is exact, but a snapshot taken while
//! requests are in flight may mix counts from slightly different moments.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Default)]
pub(crate) struct Counters {
    attempts: AtomicU64,
    succeeded: AtomicU64,
    failed: AtomicU64,
    retries: AtomicU64,
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
    latency_us: AtomicU64,
}

impl Counters {
    pub(crate) fn attempt(&self) {
        self.attempts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn failure(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn success(&self, prompt: u64, completion: u64, latency: Duration) {
        self.succeeded.fetch_add(1, Ordering::Relaxed);
        self.prompt_tokens.fetch_add(prompt, Ordering::Relaxed);
        self.completion_tokens
            .fetch_add(completion, Ordering::Relaxed);
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency_us.fetch_add(us, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> UsageSnapshot {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        UsageSnapshot {
            attempts: g(&self.attempts),
            succeeded: g(&self.succeeded),
            failed: g(&self.failed),
            retries: g(&self.retries),
            prompt_tokens: g(&self.prompt_tokens),
            completion_tokens: g(&self.completion_tokens),
            latency_ms_total: g(&self.latency_us) / 1000,
        }
    }
}

/// Totals since the client was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageSnapshot {
    /// HTTP requests sent, retries included.
    pub attempts: u64,
    /// Calls that returned a response.
    pub succeeded: u64,
    /// Calls that returned an error (after any retries).
    pub failed: u64,
    /// Retries made.
    pub retries: u64,
    /// Prompt tokens of successful calls.
    pub prompt_tokens: u64,
    /// Completion tokens of successful calls.
    pub completion_tokens: u64,
    /// Sum of successful attempts' latencies, in milliseconds.
    pub latency_ms_total: u64,
}
