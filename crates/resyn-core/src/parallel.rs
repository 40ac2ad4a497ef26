//! Order-preserving parallel map over pieces of work (std threads only),
//! shared by the dataset builder, reward scoring and the CLI: results come
//! back in input order, so output never depends on scheduling.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{Environment, Source};

/// The available parallelism, read once (on Linux it reads cgroup files,
/// too slow to repeat per call).
pub fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Threads for pieces that mostly wait for other processes (sandboxed
/// environments, whose work runs in their workers): a few per core, so that
/// while some wait for a worker to start or answer, others keep the cores
/// busy.
pub fn waiting_threads() -> usize {
    threads() * 4
}

/// Threads for pieces of work on `envs` (repeats allowed): one per distinct
/// sandboxed environment (not [`Source::Native`]), at least [`threads`] and
/// at most [`waiting_threads`]. A sandboxed environment's thread mostly
/// waits for its worker, so a batch mixing many of them gets threads beyond
/// the cores; one environment gets no more than the cores (every further
/// thread would start another worker for it).
pub fn threads_for<'a>(envs: impl Iterator<Item = &'a dyn Environment>) -> usize {
    let mut ids: Vec<&str> = envs
        .map(Environment::meta)
        .filter(|m| m.source != Source::Native)
        .map(|m| m.id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len().clamp(threads(), waiting_threads())
}

/// Apply `f` to every piece on up to `threads` threads (the calling thread
/// included), each taking the next unclaimed piece; results are in piece
/// order. Runs inline for one piece or one thread. A panic in `f`
/// propagates.
pub fn map<P: Sync, R: Send>(pieces: &[P], threads: usize, f: impl Fn(&P) -> R + Sync) -> Vec<R> {
    let threads = threads.min(pieces.len());
    if threads <= 1 {
        return pieces.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<R>> = (0..pieces.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let work = || {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(p) = pieces.get(i) else { break };
                out.push((i, f(p)));
            }
            out
        };
        let handles: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        // The calling thread works too instead of idling in `join`.
        let mine = work();
        let all = handles
            .into_iter()
            // A panic in `f` is a bug; re-raise it instead of hiding it.
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        for (i, r) in std::iter::once(mine).chain(all).flatten() {
            slots[i] = Some(r);
        }
    });
    // Every index below `pieces.len()` was claimed exactly once.
    slots.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn order_is_preserved_whatever_the_thread_count() {
        let items: Vec<u64> = (0..1000).collect();
        let expected: Vec<u64> = items.iter().map(|x| x * 2).collect();
        for threads in [1, 2, 3, 8] {
            assert_eq!(super::map(&items, threads, |x| x * 2), expected);
        }
        assert!(super::map(&[] as &[u64], 4, |x| *x).is_empty());
    }

    #[test]
    fn threads_grow_with_distinct_sandboxed_environments() {
        use crate::{Category, EnvMeta, Environment, Instance, Result, Source, Verdict};
        struct Env(EnvMeta);
        impl Environment for Env {
            fn meta(&self) -> &EnvMeta {
                &self.0
            }
            fn generate(&self, _: u64, _: u8) -> Result<Instance> {
                unreachable!()
            }
            fn verify(&self, _: &Instance, _: &str) -> Verdict {
                unreachable!()
            }
        }
        let env = |id: usize, source| {
            Env(EnvMeta {
                id: format!("e{id}"),
                version: 1,
                category: Category::Logic,
                description: String::new(),
                min_difficulty: 1,
                max_difficulty: 10,
                source,
                calibrated: None,
            })
        };
        let native: Vec<Env> = (0..100).map(|k| env(k, Source::Native)).collect();
        let python: Vec<Env> = (0..100).map(|k| env(k, Source::Python)).collect();
        let count = |envs: &[&Env]| super::threads_for(envs.iter().map(|e| *e as &dyn Environment));
        let (cores, most) = (super::threads(), super::waiting_threads());
        assert_eq!(count(&native.iter().collect::<Vec<_>>()), cores);
        // One sandboxed environment, however many pieces: the cores.
        assert_eq!(count(&[&python[0]; 50]), cores);
        // Many: one thread each, up to the bound.
        let many: Vec<&Env> = python.iter().chain(&native).collect();
        assert_eq!(count(&many), most);
        assert_eq!(
            count(&python[..cores + 1].iter().collect::<Vec<_>>()),
            (cores + 1).min(most)
        );
    }

    #[test]
    #[should_panic(expected = "boom")]
    fn a_panic_propagates() {
        let items: Vec<u64> = (0..100).collect();
        super::map(&items, 4, |&x| if x == 57 { panic!("boom") } else { x });
    }
}
