//! Atomic replacement of the output directory.
//!
//! A build writes into a fresh staging directory beside the target
//! (`.<name>.tmp-<pid>`). Only a complete build is published: the old
//! target, if any, is renamed aside (`.<name>.old-<pid>`), the staging
//! directory renamed into place, and the old one removed. An error, a
//! panic or an early return drops the [`Staging`] guard, which deletes the
//! staging directory and leaves the previous output untouched. A process
//! killed outright leaves its staging directory behind (never a partial
//! target).
//!
//! Between the two renames the target path briefly does not exist; if the
//! process dies exactly there, the previous output survives as
//! `.<name>.old-<pid>`. The next build for the same target cleans up after
//! dead builds (on systems with `/proc`): it deletes their staging
//! directories and puts an orphaned `.old` directory back in place when the
//! target is missing.

use std::fs;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Refuse to replace a directory that is not a previous dataset.
///
/// # Errors
/// [`Error::RefuseOverwrite`] when `target` is a non-empty directory
/// without `manifest.json`, or a file.
pub(crate) fn check_replaceable(target: &Path) -> Result<()> {
    match fs::metadata(target) {
        Err(_) => Ok(()),
        Ok(m) if !m.is_dir() => Err(Error::RefuseOverwrite(target.to_path_buf())),
        Ok(_) => {
            if target.join("manifest.json").is_file() {
                return Ok(());
            }
            let mut entries = fs::read_dir(target).map_err(|e| Error::io(target, e))?;
            if entries.next().is_none() {
                Ok(())
            } else {
                Err(Error::RefuseOverwrite(target.to_path_buf()))
            }
        }
    }
}

/// A staging directory; [`Staging::publish`] moves it into place, dropping
/// it deletes it.
#[derive(Debug)]
pub(crate) struct Staging {
    target: PathBuf,
    dir: PathBuf,
    parent: PathBuf,
    name: String,
    published: bool,
}

impl Staging {
    /// Create an empty staging directory beside `target` (creating the
    /// parent directories as needed).
    pub(crate) fn create(target: &Path) -> Result<Self> {
        let name = target
            .file_name()
            .ok_or_else(|| {
                Error::config(
                    "output.dir",
                    format!("`{}` has no directory name", target.display()),
                )
            })?
            .to_string_lossy()
            .into_owned();
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        recover(&parent, &name, target)?;
        let dir = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if dir.exists() {
            // Left by an earlier, killed process that had our pid.
            fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        fs::create_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(Self {
            target: target.to_path_buf(),
            dir,
            parent,
            name,
            published: false,
        })
    }

    /// The staging directory to write into.
    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }

    /// Move the staging directory into place, replacing the target.
    pub(crate) fn publish(mut self) -> Result<()> {
        sync_dir(&self.dir)?;
        let old = self
            .parent
            .join(format!(".{}.old-{}", self.name, std::process::id()));
        let had_old = self.target.exists();
        if had_old {
            if old.exists() {
                fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
            }
            fs::rename(&self.target, &old).map_err(|e| Error::io(&self.target, e))?;
        }
        if let Err(e) = fs::rename(&self.dir, &self.target) {
            if had_old {
                // Put the previous output back before reporting.
                let _ = fs::rename(&old, &self.target);
            }
            return Err(Error::io(&self.target, e));
        }
        self.published = true;
        sync_dir(&self.parent)?;
        if had_old {
            fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.published {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Clean up after builds of `target` whose process is gone (see the module
/// docs). Does nothing where liveness cannot be checked.
fn recover(parent: &Path, name: &str, target: &Path) -> Result<()> {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return Ok(());
    }
    let Ok(entries) = fs::read_dir(parent) else {
        return Ok(());
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    // `.old` before `.tmp`, deterministic order.
    names.sort();
    for entry in names {
        let Some(rest) = entry.strip_prefix(&format!(".{name}.")) else {
            continue;
        };
        let (kind, pid) = match rest.split_once('-') {
            Some((k @ ("old" | "tmp"), pid)) if pid.bytes().all(|b| b.is_ascii_digit()) => (k, pid),
            _ => continue,
        };
        if proc.join(pid).exists() {
            continue; // a live build (or our own pid: handled by the caller)
        }
        let path = parent.join(&entry);
        if kind == "old" && !target.exists() {
            fs::rename(&path, target).map_err(|e| Error::io(&path, e))?;
        } else {
            fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

/// fsync a directory so renames in it are durable.
fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_replaces_and_drop_discards() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let target = root.join("ds");
        let s = Staging::create(&target).unwrap();
        fs::write(s.path().join("manifest.json"), "1").unwrap();
        s.publish().unwrap();
        assert_eq!(
            fs::read_to_string(target.join("manifest.json")).unwrap(),
            "1"
        );

        let s = Staging::create(&target).unwrap();
        fs::write(s.path().join("manifest.json"), "2").unwrap();
        drop(s);
        assert_eq!(
            fs::read_to_string(target.join("manifest.json")).unwrap(),
            "1"
        );

        let s = Staging::create(&target).unwrap();
        fs::write(s.path().join("manifest.json"), "3").unwrap();
        s.publish().unwrap();
        assert_eq!(
            fs::read_to_string(target.join("manifest.json")).unwrap(),
            "3"
        );
        let names: Vec<_> = fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("ds")],
            "leftovers: {names:?}"
        );
    }

    #[test]
    fn leftovers_of_dead_builds_are_recovered() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let target = root.join("ds");
        // A pid that cannot be running (above the kernel's pid_max).
        let dead = 4_194_305;
        fs::create_dir(root.join(format!(".ds.old-{dead}"))).unwrap();
        fs::write(root.join(format!(".ds.old-{dead}/manifest.json")), "prev").unwrap();
        fs::create_dir(root.join(format!(".ds.tmp-{dead}"))).unwrap();
        fs::create_dir(root.join(".other.tmp-1")).unwrap();
        drop(Staging::create(&target).unwrap());
        assert_eq!(
            fs::read_to_string(target.join("manifest.json")).unwrap(),
            "prev"
        );
        let mut names: Vec<_> = fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".other.tmp-1", "ds"]);
    }

    #[test]
    fn refuses_foreign_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        assert!(check_replaceable(&root.join("absent")).is_ok());
        fs::create_dir(root.join("empty")).unwrap();
        assert!(check_replaceable(&root.join("empty")).is_ok());
        fs::create_dir(root.join("home")).unwrap();
        fs::write(root.join("home/notes.txt"), "x").unwrap();
        assert!(matches!(
            check_replaceable(&root.join("home")),
            Err(Error::RefuseOverwrite(_))
        ));
        fs::write(root.join("file"), "x").unwrap();
        assert!(check_replaceable(&root.join("file")).is_err());
    }
}
