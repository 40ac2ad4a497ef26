//! Order-preserving parallel map over chunks (std threads only).

use std::sync::atomic::{AtomicUsize, Ordering};

/// Apply `f` to each `chunk`-sized piece of `items` on up to `threads`
/// threads and concatenate the results in input order, so the output
/// never depends on scheduling. A panic in `f` propagates.
pub(crate) fn map_chunks<T: Sync, R: Send>(
    items: &[T],
    chunk: usize,
    threads: usize,
    f: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    let pieces: Vec<&[T]> = items.chunks(chunk.max(1)).collect();
    if threads <= 1 || pieces.len() <= 1 {
        return pieces.into_iter().flat_map(&f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<Vec<R>>> = (0..pieces.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.min(pieces.len()))
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(piece) = pieces.get(i) else { break };
                        out.push((i, f(piece)));
                    }
                    out
                })
            })
            .collect();
        for h in handles {
            // A panic in `f` is a bug; re-raise it instead of hiding it.
            let done = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            for (i, r) in done {
                slots[i] = Some(r);
            }
        }
    });
    slots.into_iter().flatten().flatten().collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn order_is_preserved() {
        let items: Vec<u32> = (0..1000).collect();
        let out = super::map_chunks(&items, 7, 4, |c| c.iter().map(|x| x * 2).collect());
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
    }
}
