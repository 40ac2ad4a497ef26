//! Order-preserving parallel map over pieces of work (std threads only),
//! shared by the dataset builder, reward scoring and the CLI: results come
//! back in input order, so output never depends on scheduling.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

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
    #[should_panic(expected = "boom")]
    fn a_panic_propagates() {
        let items: Vec<u64> = (0..100).collect();
        super::map(&items, 4, |&x| if x == 57 { panic!("boom") } else { x });
    }
}
