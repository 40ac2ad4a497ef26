//! [`TempDir`]: named temporary directories for tests.

use std::path::{Path, PathBuf};

/// A temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    /// A new empty directory under the system temporary directory, its name
    /// starting with `resyn-{name}-` (so a leftover says which test made it).
    ///
    /// # Panics
    /// When the directory cannot be created: a test cannot run without it.
    pub fn new(name: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(&format!("resyn-{name}-"))
            .tempdir()
            .unwrap_or_else(|e| panic!("creating a temporary directory for {name}: {e}"));
        Self(dir)
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        self.0.path()
    }

    /// `file` inside the directory.
    pub fn join(&self, file: impl AsRef<Path>) -> PathBuf {
        self.0.path().join(file)
    }

    /// The names of the directory's entries, sorted.
    ///
    /// # Panics
    /// When the directory cannot be read.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.root())
            .unwrap_or_else(|e| panic!("reading {}: {e}", self.root().display()))
            .map(|e| {
                e.unwrap_or_else(|e| panic!("reading {}: {e}", self.root().display()))
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }
}
