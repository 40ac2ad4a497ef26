//! Look-ahead over small environments: while the build consumes one
//! environment (dedup, splits, writing: sequential, in order), the first
//! round of the next few is generated and verified on other threads.
//!
//! A build over hundreds of environments of a few dozen instances each
//! would otherwise run one environment at a time, each too small to fill
//! the cores (and a sandboxed one starting its worker in between).
//!
//! Invariants:
//! - A job is an environment and the exact requests the build expects to
//!   make of it; the build takes a job's result only when the requests it
//!   then plans are identical (an excluded environment shifts the quotas of
//!   the ones after it), and computes them itself otherwise. A result
//!   depends only on the environment and the requests, so the output is the
//!   same with or without look-ahead.
//! - At most `window` environments beyond the one being consumed are
//!   prepared or held, so memory stays bounded.
//! - Dropping the [`Lookahead`] (also on an early error return) stops its
//!   threads before the scope that runs them ends.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use resyn_core::Environment;

/// One environment's expected first round.
pub(crate) struct Job<'e> {
    pub env: &'e Arc<dyn Environment>,
    pub requests: Vec<(u64, u8)>,
}

enum Slot<R> {
    /// Not claimed by a thread yet.
    Waiting,
    /// A thread is preparing it.
    Running,
    Done(R),
    /// Taken by the consumer, or given up.
    Gone,
}

struct State<R> {
    slots: Vec<Slot<R>>,
    /// The next job a thread claims.
    next: usize,
    /// The job the consumer is at.
    at: usize,
    stop: bool,
}

/// Jobs prepared ahead of the consumer by threads of a
/// [`std::thread::scope`].
pub(crate) struct Lookahead<'e, R> {
    jobs: Vec<Option<Job<'e>>>,
    state: Mutex<State<R>>,
    cv: Condvar,
    window: usize,
}

impl<'e, R: Send> Lookahead<'e, R> {
    /// Jobs indexed like the build's candidates (`None`: nothing to prepare
    /// ahead for that one).
    pub(crate) fn new(jobs: Vec<Option<Job<'e>>>, window: usize) -> Self {
        let slots = jobs
            .iter()
            .map(|j| {
                if j.is_some() {
                    Slot::Waiting
                } else {
                    Slot::Gone
                }
            })
            .collect();
        Self {
            jobs,
            state: Mutex::new(State {
                slots,
                next: 0,
                at: 0,
                stop: false,
            }),
            cv: Condvar::new(),
            window: window.max(1),
        }
    }

    /// Whether any job is worth threads.
    pub(crate) fn has_jobs(&self) -> bool {
        self.jobs.iter().any(Option::is_some)
    }

    /// Whether candidate `k` is (or was) prepared ahead.
    pub(crate) fn covers(&self, k: usize) -> bool {
        self.jobs.get(k).is_some_and(Option::is_some)
    }

    fn lock(&self) -> MutexGuard<'_, State<R>> {
        // Plain indices and results: still consistent after a panic elsewhere.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A thread's loop: claim the next job within the window, prepare it
    /// with `prepare`, store the result; until every job is claimed or the
    /// look-ahead is stopped.
    pub(crate) fn run(&self, prepare: impl Fn(&Job<'e>) -> R) {
        loop {
            let k = {
                let mut st = self.lock();
                loop {
                    if st.stop || st.next >= self.jobs.len() {
                        return;
                    }
                    if st.next > st.at + self.window {
                        st = self.cv.wait(st).unwrap_or_else(|p| p.into_inner());
                        continue;
                    }
                    let k = st.next;
                    st.next += 1;
                    if matches!(st.slots[k], Slot::Waiting) {
                        st.slots[k] = Slot::Running;
                        break k;
                    }
                }
            };
            // Only `Waiting` slots, which have a job, are claimed.
            let Some(job) = &self.jobs[k] else { continue };
            let r = prepare(job);
            let mut st = self.lock();
            if matches!(st.slots[k], Slot::Running) {
                st.slots[k] = Slot::Done(r);
            }
            drop(st);
            self.cv.notify_all();
        }
    }

    /// The consumer is at candidate `k`: its prepared result if its job's
    /// requests are `requests` (waiting for a thread still on it), else
    /// `None` (the job is dropped). Jobs before `k` are dropped too.
    pub(crate) fn take(&self, k: usize, requests: &[(u64, u8)]) -> Option<R> {
        let mut st = self.lock();
        let end = k.min(st.slots.len());
        let start = st.at.min(end);
        for s in &mut st.slots[start..end] {
            *s = Slot::Gone;
        }
        st.at = st.at.max(k);
        self.cv.notify_all();
        let matches = self
            .jobs
            .get(k)
            .and_then(Option::as_ref)
            .is_some_and(|j| j.requests == requests);
        loop {
            match std::mem::replace(st.slots.get_mut(k)?, Slot::Gone) {
                Slot::Done(r) if matches => return Some(r),
                Slot::Running if matches => {
                    st.slots[k] = Slot::Running;
                    st = self.cv.wait(st).unwrap_or_else(|p| p.into_inner());
                }
                // Not prepared ahead, not claimed yet (the consumer
                // prepares it itself, on every thread), or other requests.
                _ => return None,
            }
        }
    }

    fn stop(&self) {
        self.lock().stop = true;
        self.cv.notify_all();
    }
}

/// Stops the look-ahead's threads when dropped.
pub(crate) struct StopGuard<'a, 'e, R: Send>(pub &'a Lookahead<'e, R>);

impl<R: Send> Drop for StopGuard<'_, '_, R> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Runs `threads` look-ahead threads whose result for a job is the sum
    /// of its seeds, while the consumer takes `wanted` in order; what the
    /// consumer got, and how many jobs were prepared.
    fn consume(
        jobs: Vec<Option<Job<'_>>>,
        wanted: &[Option<Vec<(u64, u8)>>],
        threads: usize,
        window: usize,
    ) -> (Vec<Option<u64>>, usize) {
        let la = Lookahead::new(jobs, window);
        let calls = AtomicUsize::new(0);
        let got = std::thread::scope(|s| {
            let _stop = StopGuard(&la);
            for _ in 0..threads {
                s.spawn(|| {
                    la.run(|j| {
                        calls.fetch_add(1, Ordering::Relaxed);
                        j.requests.iter().map(|r| r.0).sum()
                    })
                });
            }
            wanted
                .iter()
                .enumerate()
                .map(|(k, w)| w.as_ref().and_then(|w| la.take(k, w)))
                .collect()
        });
        (got, calls.into_inner())
    }

    /// `n` jobs of one request each, seeds 0..n.
    fn seed_jobs(env: &Arc<dyn Environment>, n: u64) -> Vec<Option<Job<'_>>> {
        (0..n)
            .map(|k| {
                Some(Job {
                    env,
                    requests: vec![(k, 1)],
                })
            })
            .collect()
    }

    #[test]
    fn a_result_is_taken_only_for_the_requests_prepared() {
        let registry = resyn_envs::registry();
        let env = registry.get("tower_of_hanoi").unwrap();
        let reqs = |k: u64| vec![(k, 1), (k + 100, 2)];
        for threads in [1, 3] {
            // No job for every fifth; the consumer asks for other requests
            // at 7 and skips 11.
            let jobs = (0..20u64)
                .map(|k| {
                    (k % 5 != 3).then(|| Job {
                        env,
                        requests: reqs(k),
                    })
                })
                .collect();
            let wanted: Vec<_> = (0..20u64)
                .map(|k| match k {
                    7 => Some(reqs(70)),
                    11 => None,
                    _ => Some(reqs(k)),
                })
                .collect();
            let (got, calls) = consume(jobs, &wanted, threads, 2);
            for (k, g) in got.iter().enumerate() {
                let k = k as u64;
                if k % 5 == 3 || k == 7 || k == 11 {
                    assert_eq!(*g, None, "job {k}, {threads} threads");
                } else if let Some(v) = g {
                    assert_eq!(*v, 2 * k + 100, "job {k}, {threads} threads");
                }
            }
            assert!(calls <= 16, "{calls} jobs prepared");
        }
    }

    #[test]
    fn the_consumer_gets_what_the_threads_prepared() {
        let registry = resyn_envs::registry();
        let env = registry.get("tower_of_hanoi").unwrap();
        let jobs = seed_jobs(env, 8);
        // The consumer starts only once every job is within the window and
        // has been prepared (it waits for running ones).
        let la = Lookahead::new(jobs, 8);
        std::thread::scope(|s| {
            let _stop = StopGuard(&la);
            s.spawn(|| la.run(|j| j.requests[0].0 * 10));
            for k in 0..8u64 {
                while matches!(la.lock().slots[k as usize], Slot::Waiting) {
                    std::thread::yield_now();
                }
                assert_eq!(la.take(k as usize, &[(k, 1)]), Some(k * 10));
            }
        });
    }

    #[test]
    fn the_window_bounds_the_work_ahead_and_an_early_stop_ends_the_threads() {
        let registry = resyn_envs::registry();
        let env = registry.get("tower_of_hanoi").unwrap();
        let jobs = seed_jobs(env, 100);
        // The consumer takes one job and returns: the scope must end.
        let (_, calls) = consume(jobs, &[Some(vec![(0, 1)])], 2, 3);
        assert!(calls <= 4, "{calls} jobs prepared with a window of 3");
    }
}
