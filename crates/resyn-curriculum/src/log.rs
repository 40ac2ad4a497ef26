//! The decision log as JSON Lines.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::Path;

use crate::Decision;

/// Write decisions as JSON Lines, one [`Decision`] per line (its field
/// order is documented on the type).
///
/// # Errors
/// I/O errors of `out`.
pub fn write_decisions(decisions: &[Decision], mut out: impl Write) -> io::Result<()> {
    for d in decisions {
        serde_json::to_writer(&mut out, d)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Append decisions to the JSON Lines file at `path` (created if missing)
/// in one write, so a crash leaves whole lines.
///
/// # Errors
/// I/O errors opening or writing the file.
pub fn append_decisions(path: &Path, decisions: &[Decision]) -> io::Result<()> {
    if decisions.is_empty() {
        return Ok(());
    }
    let mut buf = Vec::new();
    write_decisions(decisions, &mut buf)?;
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(&buf)?;
    f.flush()
}
