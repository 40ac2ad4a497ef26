//! The decision log as JSON Lines.

use std::io::{self, Write};

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
