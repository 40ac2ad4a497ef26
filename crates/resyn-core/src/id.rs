//! Stable content hashes: instance ids and RNG seeds derive from these.
//!
//! The encoding is length-prefixed so that no two different tuples hash the
//! same input bytes (`("ab", "c")` vs `("a", "bc")`).

use sha2::{Digest, Sha256};

/// SHA-256 of length-prefixed parts.
pub fn content_hash(parts: &[&[u8]]) -> [u8; 32] {
    // Short inputs (every instance hash) are assembled on the stack and
    // hashed in one call: the same bytes, without a buffered update per part.
    let total: usize = parts.iter().map(|p| 8 + p.len()).sum();
    let mut buf = [0u8; 256];
    if total <= buf.len() {
        let mut at = 0;
        for p in parts {
            buf[at..at + 8].copy_from_slice(&(p.len() as u64).to_le_bytes());
            buf[at + 8..at + 8 + p.len()].copy_from_slice(p);
            at += 8 + p.len();
        }
        return Sha256::digest(&buf[..at]).into();
    }
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// The content hash behind both [`instance_id`] and [`crate::Rng::for_instance`];
/// generators that need both compute it once and use [`id_from_hash`] and
/// [`crate::Rng::from_hash`].
pub fn instance_hash(env: &str, version: u32, seed: u64, difficulty: u8) -> [u8; 32] {
    content_hash(&[
        b"resyn-instance-v1",
        env.as_bytes(),
        &version.to_le_bytes(),
        &seed.to_le_bytes(),
        &[difficulty],
    ])
}

/// The stable id of an instance: 16 hex digits (64 bits) of the content hash
/// of env id, env version, seed and difficulty. The same on every platform.
pub fn instance_id(env: &str, version: u32, seed: u64, difficulty: u8) -> String {
    id_from_hash(&instance_hash(env, version, seed, difficulty))
}

/// The instance id for an [`instance_hash`].
pub fn id_from_hash(h: &[u8; 32]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(16);
    for &b in &h[..8] {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_stable_and_distinguishes_fields() {
        // Pinned value: changing the hash scheme silently would change every
        // dataset's ids, so it must be a deliberate, visible change.
        assert_eq!(instance_id("sudoku", 1, 0, 1), "7114b8d683a9390f");
        let a = instance_id("sudoku", 1, 0, 1);
        assert_eq!(a.len(), 16);
        assert_ne!(a, instance_id("sudoku", 2, 0, 1));
        assert_ne!(a, instance_id("sudoku", 1, 1, 1));
        assert_ne!(a, instance_id("sudoku", 1, 0, 2));
        assert_ne!(a, instance_id("sudokU", 1, 0, 1));
        assert_ne!(content_hash(&[b"ab", b"c"]), content_hash(&[b"a", b"bc"]));
        // Short inputs are hashed from one stack buffer, long ones part by
        // part: both are SHA-256 of the same length-prefixed bytes.
        for len in [0usize, 1, 100, 200, 239, 240, 241, 500] {
            let long = vec![7u8; len];
            let parts: [&[u8]; 2] = [b"x", &long];
            let mut bytes = Vec::new();
            for p in parts {
                bytes.extend_from_slice(&(p.len() as u64).to_le_bytes());
                bytes.extend_from_slice(p);
            }
            let want: [u8; 32] = Sha256::digest(&bytes).into();
            assert_eq!(content_hash(&parts), want, "len {len}");
        }
        let h: [u8; 32] = std::array::from_fn(|i| (i * 37 + 5) as u8);
        let hex: String = h[..8].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(id_from_hash(&h), hex);
    }
}
