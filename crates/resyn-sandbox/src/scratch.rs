//! Private scratch directories for workers of the direct backend.
//!
//! Bubblewrap gives every worker a private tmpfs at `/tmp`. Without it there
//! is no mount namespace, so each worker gets its own host directory instead,
//! `<parent>/resyn-sandbox-<pid>-<n>/w<k>` (`<parent>`: the host's temporary
//! directory unless configured): its working directory, `HOME` and `TMPDIR`,
//! and the only place Landlock lets it write. The host's `/tmp` and the other
//! workers' directories are outside it.
//!
//! Invariants:
//! - directories are created by resyn with mode 0700 (`mkdir` fails on an
//!   existing name, so nothing planted in a shared `/tmp` is reused);
//! - a worker's directory is removed once the worker is dead, on every path
//!   (recycling, faults, start-up errors, the pool being dropped), and the
//!   per-sandbox root when the sandbox is dropped;
//! - a root holds a `.lock` file that its process keeps locked (`flock`) for
//!   the root's whole life. The kernel drops the lock when the process dies,
//!   however it dies, so a root whose lock can be taken is stale: the next
//!   sandbox started with the same parent removes it. The lock is taken under
//!   another name and renamed into place, so no live root ever shows a free
//!   `.lock`. A root without `.lock` (a crash between `mkdir` and the rename)
//!   is empty, owner-only and left alone.

use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Name prefix of per-sandbox roots.
pub(crate) const ROOT_PREFIX: &str = "resyn-sandbox-";
const LOCK: &str = ".lock";
const LOCK_NEW: &str = ".lock.new";

/// One sandbox's directory of worker directories.
#[derive(Debug)]
pub(crate) struct ScratchRoot {
    path: PathBuf,
    next: AtomicU64,
    /// Held (locked) for the root's life; see the module invariants.
    _lock: File,
}

/// One worker's directory; removed on drop (drop it only once the worker is
/// dead).
#[derive(Debug)]
pub(crate) struct ScratchDir {
    path: PathBuf,
}

impl ScratchRoot {
    /// Remove stale roots under `parent`, then create a fresh one.
    pub(crate) fn create(parent: &Path) -> io::Result<ScratchRoot> {
        // Real paths: they are compared with what the worker sees as its cwd.
        let parent = fs::canonicalize(parent)?;
        // The path travels to the worker as a JSON string.
        if parent.to_str().is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "the directory for private worker directories, {}, is not valid UTF-8",
                    parent.display()
                ),
            ));
        }
        remove_stale(&parent);
        let pid = std::process::id();
        for n in 0..1000 {
            let path = parent.join(format!("{ROOT_PREFIX}{pid}-{n}"));
            match DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => {}
                // A live sandbox of this process, or a stale root of an
                // earlier process with the same pid.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
            return match take_lock(&path) {
                Ok(lock) => Ok(ScratchRoot {
                    path,
                    next: AtomicU64::new(0),
                    _lock: lock,
                }),
                Err(e) => {
                    remove_tree(&path);
                    Err(e)
                }
            };
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "1000 names {ROOT_PREFIX}{pid}-* are taken in {}",
                parent.display()
            ),
        ))
    }

    /// The root directory.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A fresh, empty directory for one worker.
    pub(crate) fn worker_dir(&self) -> io::Result<ScratchDir> {
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        let path = self.path.join(format!("w{k}"));
        DirBuilder::new().mode(0o700).create(&path)?;
        Ok(ScratchDir { path })
    }
}

impl Drop for ScratchRoot {
    fn drop(&mut self) {
        remove_tree(&self.path);
    }
}

impl ScratchDir {
    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        remove_tree(&self.path);
    }
}

/// Create `root/.lock`, already locked.
fn take_lock(root: &Path) -> io::Result<File> {
    let new = root.join(LOCK_NEW);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&new)?;
    f.try_lock().map_err(io::Error::from)?;
    writeln!(
        f,
        "Private worker directories of resyn's Python sandbox in process {}. \
         Removed when that process ends; if it crashed, by the next sandbox that starts.",
        std::process::id()
    )?;
    fs::rename(&new, root.join(LOCK))?;
    Ok(f)
}

/// Remove roots under `parent` that belong to this user and whose lock is
/// free (their process is gone).
fn remove_stale(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let (uid, _) = crate::sys::ids();
    for e in entries.flatten() {
        let ours = e
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(ROOT_PREFIX));
        // `DirEntry::metadata` does not follow symlinks.
        let owned_dir = e.metadata().is_ok_and(|m| m.is_dir() && m.uid() == uid);
        if !ours || !owned_dir {
            continue;
        }
        let Ok(lock) = File::open(e.path().join(LOCK)) else {
            continue;
        };
        if lock.try_lock().is_ok() {
            remove_tree(&e.path());
        }
    }
}

/// Remove a tree a hostile worker may have made awkward. `chmod` is no
/// Landlock right, so a worker can take the permission bits off its own
/// subdirectories, which makes a plain removal fail for a non-root host:
/// restore them and try again. `remove_dir_all` never follows symlinks.
fn remove_tree(path: &Path) {
    if fs::remove_dir_all(path).is_ok() || fs::symlink_metadata(path).is_err() {
        return;
    }
    restore_dir_permissions(path);
    let _ = fs::remove_dir_all(path);
}

fn restore_dir_permissions(dir: &Path) {
    let _ = fs::set_permissions(dir, Permissions::from_mode(0o700));
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        // Not following symlinks: only real subdirectories.
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            restore_dir_permissions(&e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_dirs_are_private_and_removed_with_their_owner() {
        let parent = tempfile::tempdir().unwrap();
        let root = ScratchRoot::create(parent.path()).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(root.path()), 0o700);
        let a = root.worker_dir().unwrap();
        let b = root.worker_dir().unwrap();
        assert_ne!(a.path(), b.path());
        assert_eq!(mode(a.path()), 0o700);
        fs::create_dir(a.path().join("sub")).unwrap();
        fs::write(a.path().join("sub/f"), "x").unwrap();
        let (pa, pb, pr) = (
            a.path().to_owned(),
            b.path().to_owned(),
            root.path().to_owned(),
        );
        drop(a);
        assert!(!pa.exists());
        assert!(pb.exists());
        drop(b);
        drop(root);
        assert!(!pr.exists());
    }

    #[test]
    fn stale_roots_are_removed_and_live_ones_kept() {
        let parent = tempfile::tempdir().unwrap();
        // A live root of "another process": its lock is held.
        let live = ScratchRoot::create(parent.path()).unwrap();
        let live_dir = live.worker_dir().unwrap();
        // A crashed process's root: lock file present, nobody holds it.
        let stale = parent.path().join(format!("{ROOT_PREFIX}999999-0"));
        fs::create_dir_all(stale.join("w0")).unwrap();
        fs::write(stale.join("w0/left-over"), "x").unwrap();
        fs::write(stale.join(LOCK), "").unwrap();
        // Interrupted before its lock existed: left alone.
        let unlocked = parent.path().join(format!("{ROOT_PREFIX}999999-1"));
        fs::create_dir(&unlocked).unwrap();
        // Not ours by name.
        let other = parent.path().join("other-program");
        fs::create_dir(&other).unwrap();
        fs::write(other.join(LOCK), "").unwrap();

        let fresh = ScratchRoot::create(parent.path()).unwrap();
        assert!(!stale.exists(), "the stale root is removed");
        assert!(live_dir.path().exists(), "a live root is kept");
        assert!(unlocked.exists());
        assert!(other.exists());
        assert_ne!(fresh.path(), live.path());
    }
}
