//! SHA-256 for the dataset: a writer that hashes and counts what passes
//! through it (the manifest gets every file's hash without reading the file
//! back), and the prompt hash that deduplicates rows.

use std::io::{self, Write};

use sha2::{Digest, Sha256};

/// Hashes and counts the bytes written to `inner`.
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The inner writer, the lowercase hex SHA-256 and the byte count.
    pub(crate) fn finish(self) -> (W, String, u64) {
        (self.inner, hex(&self.hasher.finalize()), self.bytes)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// 64-bit hash of a prompt after whitespace normalization (runs of
/// whitespace collapsed to one space, ends trimmed): the first 8 bytes of
/// its SHA-256, little-endian. Prompts equal up to whitespace hash equal.
pub fn normalized_prompt_hash(prompt: &str) -> u64 {
    let mut h = Sha256::new();
    let mut first = true;
    for word in prompt.split_whitespace() {
        if !first {
            h.update(b" ");
        }
        first = false;
        h.update(word.as_bytes());
    }
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_what_it_writes() {
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"abc").unwrap();
        let (inner, sha, n) = w.finish();
        assert_eq!(inner, b"abc");
        assert_eq!(n, 3);
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn prompt_hash_ignores_whitespace_only() {
        let a = normalized_prompt_hash("Solve  this:\n\n x = 1 ");
        assert_eq!(a, normalized_prompt_hash("Solve this: x = 1"));
        assert_ne!(a, normalized_prompt_hash("Solve this: x = 2"));
        assert_ne!(a, normalized_prompt_hash("solve this: x = 1"));
    }
}
