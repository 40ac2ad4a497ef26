//! Finding the real Python interpreter.
//!
//! `python3` on `PATH` may be a shell shim (pyenv, asdf) that execs the real
//! binary through a shell script; inside the sandbox neither the shim nor its
//! shell is visible. So the interpreter is resolved once, outside the sandbox
//! (trusted code, our own one-liner), to its real executable and the prefixes
//! the sandbox must expose read-only.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{Error, Result};

/// A resolved interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PythonInfo {
    /// The real executable (canonical path).
    pub executable: PathBuf,
    /// `X.Y.Z`.
    pub version: String,
    /// What compiled code depends on: the implementation's cache tag and the
    /// bytecode magic number (`cpython-311-a70d0d0a`). Keys the code cache.
    pub code_tag: String,
    /// Directories the interpreter needs (its prefixes), canonical and deduplicated.
    pub prefixes: Vec<PathBuf>,
}

const QUERY: &str = "import sys, json; print(json.dumps({'executable': sys.executable, \
'version': sys.version.split()[0], \
'code_tag': '%s-%s' % (sys.implementation.cache_tag, \
__import__('_frozen_importlib_external').MAGIC_NUMBER.hex()), 'prefixes': sorted({sys.prefix, sys.base_prefix, \
sys.exec_prefix, sys.base_exec_prefix})}))";

/// Resolve `explicit`, else `$RESYN_PYTHON`, else `python3` on `PATH`.
pub(crate) fn resolve(explicit: Option<&Path>) -> Result<PythonInfo> {
    let candidate: PathBuf = match explicit {
        Some(p) => p.to_path_buf(),
        None => match std::env::var_os("RESYN_PYTHON") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => PathBuf::from("python3"),
        },
    };
    let out = Command::new(&candidate)
        .args(["-S", "-c", QUERY])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| {
            Error::Python(format!(
                "cannot run `{}` ({e}); install Python 3 or set RESYN_PYTHON",
                candidate.display()
            ))
        })?;
    if !out.status.success() {
        return Err(Error::Python(format!(
            "`{}` failed ({}): {}",
            candidate.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    #[derive(serde::Deserialize)]
    struct Reply {
        executable: String,
        version: String,
        code_tag: String,
        prefixes: Vec<String>,
    }
    let r: Reply = serde_json::from_slice(&out.stdout).map_err(|e| {
        Error::Python(format!(
            "`{}` printed an unexpected answer ({e})",
            candidate.display()
        ))
    })?;
    if r.executable.is_empty() {
        return Err(Error::Python(format!(
            "`{}` does not know its own executable",
            candidate.display()
        )));
    }
    let executable = std::fs::canonicalize(&r.executable)
        .map_err(|e| Error::Python(format!("cannot resolve {}: {e}", r.executable)))?;
    let major_minor: Vec<u32> = r
        .version
        .split('.')
        .take(2)
        .filter_map(|p| p.parse().ok())
        .collect();
    if major_minor.len() < 2 || (major_minor[0], major_minor[1]) < (3, 8) {
        return Err(Error::Python(format!(
            "`{}` is Python {}; 3.8 or newer is needed",
            executable.display(),
            r.version
        )));
    }
    let mut prefixes: Vec<PathBuf> = r
        .prefixes
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    prefixes.sort();
    prefixes.dedup();
    // Drop prefixes nested in another (a venv inside the base install).
    let all = prefixes.clone();
    prefixes.retain(|p| !all.iter().any(|q| q != p && p.starts_with(q)));
    Ok(PythonInfo {
        executable,
        version: r.version,
        code_tag: r.code_tag,
        prefixes,
    })
}
