//! Atomic file output: write to a temporary file beside the target, then
//! rename over it. A crash, an error or Ctrl-C leaves either the old file or
//! the complete new one, never a half-written file. A target that exists and
//! is not a regular file (`/dev/null`, a named pipe) is written in place:
//! renaming over it would replace the device or pipe with a plain file.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file being written atomically; call [`AtomicFile::commit`] to publish
/// it. Dropping it uncommitted removes the temporary file.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    /// The temporary file; `None` when writing a non-regular target in place.
    tmp: Option<PathBuf>,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Start writing `target` (its directory must exist).
    ///
    /// # Errors
    /// Any I/O error creating the temporary file, with the path in the message.
    pub fn create(target: impl AsRef<Path>) -> io::Result<Self> {
        let target = target.as_ref().to_path_buf();
        let name = target
            .file_name()
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "output path has no file name")
            })?
            .to_string_lossy()
            .into_owned();
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let special = std::fs::metadata(&target).is_ok_and(|m| !m.is_file() && !m.is_dir());
        let tmp = (!special).then(|| dir.join(format!(".{name}.tmp-{}", std::process::id())));
        let path = tmp.as_deref().unwrap_or(&target);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(!special)
            .truncate(!special)
            .open(path)
            .map_err(|e| {
                io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display()))
            })?;
        Ok(Self {
            target,
            tmp,
            writer: Some(BufWriter::with_capacity(1 << 16, file)),
        })
    }

    /// Flush, fsync and rename into place.
    ///
    /// # Errors
    /// Any I/O error; the temporary file is removed and the target untouched.
    pub fn commit(mut self) -> io::Result<()> {
        let writer = self
            .writer
            .take()
            .ok_or_else(|| io::Error::other("already committed"))?;
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        let Some(tmp) = &self.tmp else {
            // Written in place: nothing to sync or rename.
            return Ok(());
        };
        file.sync_all()?;
        drop(file);
        std::fs::rename(tmp, &self.target).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot rename into {}: {e}", self.target.display()),
            )
        })
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.writer {
            Some(w) => w.write(buf),
            None => Err(io::Error::other("already committed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.writer {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.take().is_some()
            && let Some(tmp) = &self.tmp
        {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Write `bytes` to `path` atomically.
///
/// # Errors
/// Any I/O error.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_publishes_and_drop_discards() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let target = dir.join("out.txt");
        write_atomic(&target, b"old").unwrap();
        {
            let mut f = AtomicFile::create(&target).unwrap();
            f.write_all(b"half").unwrap();
            // dropped without commit
        }
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(
            std::fs::read_dir(dir).unwrap().count(),
            1,
            "temp file left behind"
        );
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
    }

    #[test]
    fn a_named_pipe_is_written_in_place_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let fifo = dir.join("out.pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write_atomic(&fifo, b"through the pipe").unwrap();
        // Checked before joining: a replaced pipe leaves the reader blocked.
        let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(kind.is_fifo(), "the pipe was replaced: {kind:?}");
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert_eq!(
            std::fs::read_dir(dir).unwrap().count(),
            1,
            "a temporary file"
        );
    }
}
