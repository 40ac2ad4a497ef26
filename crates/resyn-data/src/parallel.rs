//! Chunked, order-preserving parallel map ([`resyn_core::parallel`]).

/// Apply `f` to each `chunk`-sized piece of `items` on up to `threads`
/// threads and concatenate the results in input order.
pub(crate) fn map_chunks<T: Sync, R: Send>(
    items: &[T],
    chunk: usize,
    threads: usize,
    f: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    let pieces: Vec<&[T]> = items.chunks(chunk.max(1)).collect();
    resyn_core::parallel::map(&pieces, threads, |p| f(p))
        .into_iter()
        .flatten()
        .collect()
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
