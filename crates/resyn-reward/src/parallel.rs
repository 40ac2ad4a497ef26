//! Order-preserving parallel map over pieces of work (std threads only).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The number of worker threads: the available parallelism, read once (on
/// Linux it reads cgroup files, too slow to repeat per call).
pub(crate) fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Piece size that gives every thread a few pieces (for balance) without
/// making pieces so small that scheduling dominates.
pub(crate) fn piece_size(items: usize) -> usize {
    items.div_ceil(threads() * 4).clamp(16, 1024)
}

/// Apply `f` to every piece on up to [`threads`] threads; results are in
/// piece order, so output never depends on scheduling. Runs inline when
/// there is one piece or one core. A panic in `f` propagates.
pub(crate) fn map<P: Sync, R: Send>(pieces: &[P], f: impl Fn(&P) -> R + Sync) -> Vec<R> {
    let threads = threads().min(pieces.len());
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
    fn order_is_preserved() {
        let items: Vec<u64> = (0..1000).collect();
        assert_eq!(
            super::map(&items, |x| x * 2),
            items.iter().map(|x| x * 2).collect::<Vec<_>>()
        );
    }
}
