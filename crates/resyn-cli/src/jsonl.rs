//! Reading JSON Lines input with errors that name the file and line.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::{Context, bail};
use serde::de::DeserializeOwned;

/// Read every non-blank line of `path` as a `T`; the error names
/// `file:line` and what was wrong.
pub(crate) fn read<T: DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<(usize, T)>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let n = i + 1;
        let line = line.with_context(|| format!("{}:{n}: cannot read line", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&line) {
            Ok(v) => out.push((n, v)),
            Err(e) => bail!("{}:{n}: malformed line: {e}", path.display()),
        }
    }
    Ok(out)
}
