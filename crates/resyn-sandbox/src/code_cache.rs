//! Compiled module code kept on disk between runs ([`crate::CodeCache`]).
//!
//! A module's start-up is a fork, its layers, compiling its source, running
//! its top-level code and its first call; compiling is about half of it
//! (~1.5 ms of ~3 ms for the bundled modules). A one-shot command over
//! hundreds of modules pays that for each, every run, so the code a worker
//! compiled is kept here and handed to the module's next worker, which
//! unmarshals it instead.
//!
//! Trust: the host never interprets an entry; it is base64 text of the
//! `marshal` of the code object, produced by the harness right after
//! `compile` and sent *before* any of the module's code runs, and read only
//! by a worker of the same module (the key is the interpreter's bytecode
//! version, the file name and the source). The host accepts that frame only
//! from a worker it asked to compile, as the first frame after the hello
//! (see [`crate::worker`]), so a module cannot write its own entry. A worker
//! that cannot use an entry compiles the source and says so, and the entry
//! is removed. Entries are written to a temporary name and renamed, without
//! fsync: a torn entry after a power loss is one that gets rejected.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use crate::worker::ModuleKey;

/// Largest entry kept (base64 text); bigger modules are compiled each time.
const MAX_ENTRY: u64 = 8 << 20;
/// Entries kept at most; beyond it the least recently used are removed
/// (checked every [`PRUNE_EVERY`] writes of a process).
const MAX_ENTRIES: usize = 4096;
const PRUNE_EVERY: u64 = 256;

/// The cache directory of one sandbox (one interpreter).
#[derive(Debug)]
pub(crate) struct CodeStore {
    dir: Option<PathBuf>,
    /// The interpreter's bytecode version ([`crate::python::PythonInfo::code_tag`]).
    tag: String,
    writes: AtomicU64,
}

impl CodeStore {
    pub(crate) fn new(dir: Option<PathBuf>, tag: &str) -> Self {
        Self {
            dir,
            tag: tag.to_string(),
            writes: AtomicU64::new(0),
        }
    }

    /// Whether entries are read and written at all.
    pub(crate) fn enabled(&self) -> bool {
        self.dir.is_some()
    }

    fn path(&self, module: &ModuleKey) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let key = resyn_core::content_hash(&[b"resyn-python-code", self.tag.as_bytes(), module]);
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        Some(dir.join(format!("{hex}.b64")))
    }

    /// The module's compiled code, if an entry exists. A hit marks the entry
    /// recently used.
    pub(crate) fn get(&self, module: &ModuleKey) -> Option<String> {
        let path = self.path(module)?;
        let file = std::fs::File::open(&path).ok()?;
        let mut text = String::new();
        file.take(MAX_ENTRY + 1).read_to_string(&mut text).ok()?;
        let plausible = !text.is_empty()
            && text.len() as u64 <= MAX_ENTRY
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\n'));
        if !plausible {
            let _ = std::fs::remove_file(&path);
            return None;
        }
        if let Ok(f) = std::fs::File::options().write(true).open(&path) {
            let _ = f.set_modified(SystemTime::now());
        }
        Some(text)
    }

    /// Keep `code` (base64 text from the harness) for the module. Failures
    /// are ignored: a cache that cannot be written is a cache that misses.
    pub(crate) fn put(&self, module: &ModuleKey, code: &str) {
        let Some(path) = self.path(module) else {
            return;
        };
        if code.is_empty() || code.len() as u64 > MAX_ENTRY {
            return;
        }
        let Some(dir) = path.parent() else {
            return;
        };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        // Unique per process and write: two workers of one module may
        // finish compiling at the same time.
        let n = self.writes.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".tmp-{}-{n}", std::process::id()));
        if std::fs::write(&tmp, code).is_err() || std::fs::rename(&tmp, &path).is_err() {
            let _ = std::fs::remove_file(&tmp);
            return;
        }
        if (n + 1).is_multiple_of(PRUNE_EVERY) {
            self.prune();
        }
    }

    /// Remove the module's entry (a worker could not use it).
    pub(crate) fn forget(&self, module: &ModuleKey) {
        if let Some(path) = self.path(module) {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Keep the [`MAX_ENTRIES`] most recently used entries.
    fn prune(&self) {
        let Some(dir) = &self.dir else {
            return;
        };
        let Ok(read) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<(SystemTime, PathBuf)> = read
            .filter_map(|e| {
                let e = e.ok()?;
                let path = e.path();
                (path.extension()? == "b64").then_some(())?;
                Some((e.metadata().ok()?.modified().ok()?, path))
            })
            .collect();
        if entries.len() <= MAX_ENTRIES {
            return;
        }
        entries.sort();
        let excess = entries.len() - MAX_ENTRIES;
        for (_, path) in entries.into_iter().take(excess) {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_per_interpreter_and_bad_ones_are_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("nested").join("cache");
        let a = CodeStore::new(Some(dir.clone()), "cpython-311-a70d0d0a");
        let other = CodeStore::new(Some(dir.clone()), "cpython-312-cb0d0d0a");
        let key = [7u8; 32];
        assert_eq!(a.get(&key), None);
        a.put(&key, "YWJj\n");
        assert_eq!(a.get(&key).as_deref(), Some("YWJj\n"));
        // Another interpreter's bytecode never matches.
        assert_eq!(other.get(&key), None);
        a.forget(&key);
        assert_eq!(a.get(&key), None);
        // Text that cannot be base64 is removed, not handed to a worker.
        a.put(&key, "not base64 {}");
        assert_eq!(a.get(&key), None);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        // Off: nothing is written anywhere.
        let off = CodeStore::new(None, "t");
        off.put(&key, "YWJj");
        assert_eq!(off.get(&key), None);
        assert!(!off.enabled());
    }

    #[test]
    fn pruning_keeps_the_most_recent_entries() {
        let tmp = tempfile::tempdir().unwrap();
        let store = CodeStore::new(Some(tmp.path().to_path_buf()), "t");
        let old = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        for i in 0..MAX_ENTRIES + 10 {
            let mut key = [0u8; 32];
            key[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let path = store.path(&key).unwrap();
            std::fs::write(&path, "YWJj").unwrap();
            let when = old + std::time::Duration::from_secs(i as u64);
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(when)
                .unwrap();
        }
        store.prune();
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), MAX_ENTRIES);
        let mut first = [0u8; 32];
        first[..8].copy_from_slice(&0u64.to_le_bytes());
        assert!(!store.path(&first).unwrap().exists(), "the oldest goes");
        let mut last = [0u8; 32];
        last[..8].copy_from_slice(&((MAX_ENTRIES + 9) as u64).to_le_bytes());
        assert!(store.path(&last).unwrap().exists(), "the newest stays");
    }
}
