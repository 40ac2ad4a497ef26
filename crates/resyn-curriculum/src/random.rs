//! Portable randomness helpers shared by the generator and the simulator.

use resyn_core::{Rng, content_hash};

/// An RNG seeded from a domain tag and 64-bit values (hashed, so nearby
/// values give unrelated streams).
pub(crate) fn seeded(domain: &[u8], values: &[u64]) -> Rng {
    let bytes: Vec<[u8; 8]> = values.iter().map(|v| v.to_le_bytes()).collect();
    let mut parts: Vec<&[u8]> = vec![domain];
    parts.extend(bytes.iter().map(|b| b.as_slice()));
    Rng::from_hash(content_hash(&parts))
}

/// A uniform draw in `[0, 1)` with 53 random bits.
pub(crate) fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}
