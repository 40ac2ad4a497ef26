//! Paths tests read: shared fixtures and files of the repository.

use std::path::{Path, PathBuf};

/// A shared fixture: `rel` under this crate's `fixtures/` directory.
pub fn fixture(rel: impl AsRef<Path>) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

/// A file or directory of the repository (`rel` from the workspace root).
pub fn repo_path(rel: impl AsRef<Path>) -> PathBuf {
    // This crate is `crates/resyn-test` in the workspace.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.ancestors().nth(2).unwrap_or(manifest).join(rel)
}
