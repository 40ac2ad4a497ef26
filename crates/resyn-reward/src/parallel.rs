//! Piece sizes for scoring batches on all cores ([`resyn_core::parallel`]).

use resyn_core::parallel::threads;

/// Piece size that gives every thread a few pieces (for balance) without
/// making pieces so small that scheduling dominates.
pub(crate) fn piece_size(items: usize) -> usize {
    items.div_ceil(threads() * 4).clamp(16, 1024)
}

/// [`resyn_core::parallel::map`] on all cores.
pub(crate) fn map<P: Sync, R: Send>(pieces: &[P], f: impl Fn(&P) -> R + Sync) -> Vec<R> {
    resyn_core::parallel::map(pieces, threads(), f)
}
