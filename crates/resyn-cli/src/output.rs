//! Where command output goes: a file written atomically, or stdout.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use resyn_core::AtomicFile;

/// An output sink; [`Output::finish`] publishes a file atomically.
pub(crate) enum Output {
    /// Buffered stdout.
    Stdout(BufWriter<io::Stdout>),
    /// A file being written atomically.
    File(AtomicFile),
}

impl Output {
    /// A file when `path` is given, else stdout.
    pub(crate) fn open(path: Option<&Path>) -> anyhow::Result<Self> {
        Ok(match path {
            Some(p) => Self::File(
                AtomicFile::create(p).with_context(|| format!("opening output {}", p.display()))?,
            ),
            None => Self::Stdout(BufWriter::with_capacity(1 << 16, io::stdout())),
        })
    }

    /// Flush stdout or commit the file.
    pub(crate) fn finish(self) -> anyhow::Result<()> {
        match self {
            Self::Stdout(mut w) => w.flush().context("writing to stdout"),
            Self::File(f) => {
                let target = f.target().to_path_buf();
                f.commit()
                    .with_context(|| format!("writing {}", target.display()))
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Stdout(w) => w.write(buf),
            Self::File(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Stdout(w) => w.flush(),
            Self::File(f) => f.flush(),
        }
    }
}

/// Whether an error chain ends in a closed pipe (e.g. `resyn ... | head`).
pub(crate) fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        let kind = c
            .downcast_ref::<io::Error>()
            .map(io::Error::kind)
            .or_else(|| {
                c.downcast_ref::<serde_json::Error>()
                    .and_then(|j| j.io_error_kind())
            });
        kind == Some(io::ErrorKind::BrokenPipe)
    })
}
