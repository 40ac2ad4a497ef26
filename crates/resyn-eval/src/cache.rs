//! The on-disk completion cache: append-only JSON Lines.
//!
//! Each line is one [`CacheRecord`], keyed by [`cache_key`]: a hash of the
//! full request body (model, messages, sampling parameters, per-sample seed)
//! and the sample index. The base URL and API key are not part of the key,
//! so the same model served elsewhere reuses the cache.
//!
//! Invariants:
//! - Only successful completions are written; failures are retried on the
//!   next run.
//! - Each record is handed to the kernel with one `write` as soon as it
//!   arrives, so a killed process loses at most the record being written;
//!   `fsync` runs in batches (every [`SYNC_EVERY`] records or
//!   [`SYNC_INTERVAL`]) and on [`Cache::sync`], bounding what a machine crash
//!   can lose.
//! - A torn last line (no trailing newline: the writer died mid-line) is
//!   cut off on open ([`Cache::read`], for re-scoring, leaves the file
//!   untouched); any other unparsable line is skipped and counted.
//!   Later records win over earlier ones with the same key.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use resyn_llm::ChatRequest;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// fsync after this many unsynced records.
pub const SYNC_EVERY: usize = 256;
/// fsync when the oldest unsynced record is this old.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// One cached completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheRecord {
    /// [`cache_key`] of the request and sample index.
    pub key: String,
    /// Model name sent.
    pub model: String,
    /// Sample index within the item.
    pub sample: u32,
    /// Completion text.
    pub text: String,
    /// Finish reason reported by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// Refusal message, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Prompt tokens.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Completion tokens.
    #[serde(default)]
    pub completion_tokens: u64,
    /// Latency of the successful attempt, in milliseconds.
    #[serde(default)]
    pub latency_ms: f64,
}

/// The cache key of sample `sample` of `request` (32 hex digits).
pub fn cache_key(request: &ChatRequest, sample: u32) -> String {
    // Plain data with string keys: serialization cannot fail.
    let body = serde_json::to_vec(request).unwrap_or_default();
    let h = resyn_core::content_hash(&[b"resyn-eval-cache-v1", &body, &sample.to_le_bytes()]);
    h[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// What opening the cache found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheLoad {
    /// Records loaded.
    pub records: usize,
    /// Unparsable complete lines skipped.
    pub skipped_lines: usize,
    /// Bytes of a torn last line cut off.
    pub torn_bytes: u64,
}

/// The completion cache (see the module docs).
#[derive(Debug)]
pub struct Cache {
    path: Option<PathBuf>,
    file: Option<File>,
    map: HashMap<String, CacheRecord>,
    unsynced: usize,
    oldest_unsynced: Option<Instant>,
    load: CacheLoad,
}

impl Cache {
    /// A cache that keeps nothing on disk.
    pub fn in_memory() -> Self {
        Self {
            path: None,
            file: None,
            map: HashMap::new(),
            unsynced: 0,
            oldest_unsynced: None,
            load: CacheLoad::default(),
        }
    }

    /// Open (or create) the cache file at `path`, repairing a torn tail.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be opened, read or repaired.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let io = |e| Error::io(&path, e);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let mut load = CacheLoad {
            torn_bytes: (bytes.len() - complete) as u64,
            ..CacheLoad::default()
        };
        if load.torn_bytes > 0 {
            file.set_len(complete as u64).map_err(io)?;
            file.seek(SeekFrom::End(0)).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        let map = parse(&bytes[..complete], &mut load);
        Ok(Self {
            path: Some(path),
            file: Some(file),
            map,
            unsynced: 0,
            oldest_unsynced: None,
            load,
        })
    }

    /// Read the cache file at `path` without creating, repairing or ever
    /// writing it (for re-scoring what a run fetched): a torn last line is
    /// ignored and counted, records inserted later stay in memory.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read (a missing file included).
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let mut load = CacheLoad {
            torn_bytes: (bytes.len() - complete) as u64,
            ..CacheLoad::default()
        };
        let map = parse(&bytes[..complete], &mut load);
        Ok(Self {
            path: Some(path),
            file: None,
            map,
            unsynced: 0,
            oldest_unsynced: None,
            load,
        })
    }

    /// What opening found.
    pub fn load_stats(&self) -> CacheLoad {
        self.load
    }

    /// The file, if on disk.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The record for `key`.
    pub fn get(&self, key: &str) -> Option<&CacheRecord> {
        self.map.get(key)
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Append a record (one `write`), fsyncing when a batch is due.
    ///
    /// # Errors
    /// [`Error::Io`] if writing or syncing fails.
    pub fn insert(&mut self, record: CacheRecord) -> Result<()> {
        if let (Some(file), Some(path)) = (&mut self.file, &self.path) {
            let mut line = serde_json::to_vec(&record).unwrap_or_default();
            line.push(b'\n');
            file.write_all(&line).map_err(|e| Error::io(path, e))?;
            self.unsynced += 1;
            let oldest = *self.oldest_unsynced.get_or_insert_with(Instant::now);
            if self.unsynced >= SYNC_EVERY || oldest.elapsed() >= SYNC_INTERVAL {
                self.sync()?;
            }
        }
        self.map.insert(record.key.clone(), record);
        Ok(())
    }

    /// fsync everything written so far.
    ///
    /// # Errors
    /// [`Error::Io`] if syncing fails.
    pub fn sync(&mut self) -> Result<()> {
        if let (Some(file), Some(path), true) = (&self.file, &self.path, self.unsynced > 0) {
            file.sync_data().map_err(|e| Error::io(path, e))?;
        }
        self.unsynced = 0;
        self.oldest_unsynced = None;
        Ok(())
    }
}

/// The records of complete lines (later ones win), counting unparsable
/// lines in `load`.
fn parse(complete: &[u8], load: &mut CacheLoad) -> HashMap<String, CacheRecord> {
    let mut map = HashMap::new();
    for line in complete.split(|&b| b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<CacheRecord>(line) {
            Ok(r) => {
                map.insert(r.key.clone(), r);
            }
            Err(_) => load.skipped_lines += 1,
        }
    }
    load.records = map.len();
    map
}

impl Drop for Cache {
    fn drop(&mut self) {
        let _ = self.sync();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(key: &str, text: &str) -> CacheRecord {
        CacheRecord {
            key: key.into(),
            model: "m".into(),
            sample: 0,
            text: text.into(),
            finish_reason: Some("stop".into()),
            refusal: None,
            prompt_tokens: 1,
            completion_tokens: 2,
            latency_ms: 3.0,
        }
    }

    #[test]
    fn keys_depend_on_everything_that_changes_the_answer() {
        let r = ChatRequest::new("m", "p");
        let k = cache_key(&r, 0);
        assert_eq!(k.len(), 32);
        assert_eq!(k, cache_key(&r.clone(), 0));
        assert_ne!(k, cache_key(&r, 1));
        assert_ne!(k, cache_key(&ChatRequest::new("m2", "p"), 0));
        assert_ne!(k, cache_key(&ChatRequest::new("m", "p2"), 0));
        let hot = ChatRequest {
            temperature: Some(1.0),
            ..r.clone()
        };
        assert_ne!(k, cache_key(&hot, 0));
    }

    #[test]
    fn survives_torn_tail_and_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/cache.jsonl");
        {
            let mut c = Cache::open(&path).unwrap();
            c.insert(rec("a", "1")).unwrap();
            c.insert(rec("b", "2")).unwrap();
        }
        // A garbage middle line and a torn last line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"not json\n{\"key\":\"c\",\"mod").unwrap();
        drop(f);
        let mut c = Cache::open(&path).unwrap();
        let load = c.load_stats();
        assert_eq!((load.records, load.skipped_lines), (2, 1));
        assert!(load.torn_bytes > 0);
        assert_eq!(c.get("b").unwrap().text, "2");
        c.insert(rec("c", "3")).unwrap();
        c.insert(rec("a", "1b")).unwrap();
        drop(c);
        let c = Cache::open(&path).unwrap();
        assert_eq!(c.load_stats().torn_bytes, 0);
        assert_eq!(c.len(), 3);
        assert_eq!(c.get("c").unwrap().text, "3");
        assert_eq!(c.get("a").unwrap().text, "1b", "later records win");
        // Reading never writes: not a torn tail, not an insert.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"key\":\"torn").unwrap();
        drop(f);
        let before = std::fs::read(&path).unwrap();
        let mut r = Cache::read(&path).unwrap();
        assert_eq!(r.get("a").unwrap().text, "1b");
        assert_eq!((r.len(), r.load_stats().torn_bytes), (3, 12));
        r.insert(rec("d", "4")).unwrap();
        assert_eq!(r.get("d").unwrap().text, "4");
        drop(r);
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert!(Cache::read(dir.path().join("missing.jsonl")).is_err());
        assert!(!dir.path().join("missing.jsonl").exists());
        let mut m = Cache::in_memory();
        m.insert(rec("x", "y")).unwrap();
        assert_eq!(m.get("x").unwrap().text, "y");
    }
}
