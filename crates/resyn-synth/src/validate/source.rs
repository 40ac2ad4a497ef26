//! Source checks, before any of the module's code runs: size, parse,
//! imports, api. A trusted checker module (`checker.py`) parses the source
//! with Python's `ast` inside the sandbox; the candidate is not executed.

use std::collections::BTreeMap;

use resyn_sandbox::{PythonEnv, Sandbox};
use serde::Deserialize;
use serde_json::Value;

use super::{Check, Failure, InfraError, ValidationConfig, ValidationReport};

const CHECKER: &str = include_str!("checker.py");

type Step<T> = Result<T, Failure>;

/// Run the source checks, recording what passes in `report` (and whether the
/// module declares `MULTIPLE_SOLUTIONS = True`).
pub(super) fn check(
    sandbox: &Sandbox,
    cfg: &ValidationConfig,
    source: &str,
    report: &mut ValidationReport,
) -> Result<Step<()>, InfraError> {
    // 1. size
    if source.trim().is_empty() {
        return Ok(Err(Failure::new(
            Check::Size,
            "empty",
            "the module is empty",
        )));
    }
    if source.len() > cfg.max_code_bytes {
        return Ok(Err(Failure::new(
            Check::Size,
            "too_large",
            format!(
                "the module is {} bytes, over the {}-byte limit",
                source.len(),
                cfg.max_code_bytes
            ),
        )));
    }
    report.passed_checks.push(Check::Size);
    // 2. parse (static checker in the sandbox)
    let analysis = match analyse(sandbox, source)? {
        Ok(a) => a,
        Err(f) => return Ok(Err(f)),
    };
    if let Some(s) = &analysis.syntax {
        return Ok(Err(Failure::new(
            Check::Parse,
            "syntax_error",
            format!(
                "line {}, column {}: {}\n    {}",
                s.line, s.col, s.msg, s.text
            ),
        )));
    }
    report.passed_checks.push(Check::Parse);
    // 3. imports
    for (m, line) in &analysis.imports {
        let top = m.split('.').next().unwrap_or("");
        if m.starts_with('.') || !cfg.allowed_imports.iter().any(|a| a == top) {
            return Ok(Err(Failure::new(
                Check::Imports,
                "forbidden_import",
                format!(
                    "line {line}: `import {m}` is not allowed; allowed modules: {}",
                    cfg.allowed_imports.join(", ")
                ),
            )));
        }
    }
    if let Some((name, line)) = analysis.forbidden.first() {
        return Ok(Err(Failure::new(
            Check::Imports,
            "forbidden_name",
            format!("line {line}: `{name}` is not allowed in environment code"),
        )));
    }
    report.passed_checks.push(Check::Imports);
    // 4. api
    let mut missing = Vec::new();
    for k in ["NAME", "CATEGORY", "DESCRIPTION"] {
        if !analysis.assigned.iter().any(|a| a == k) {
            missing.push(format!("{k} is not assigned at module level"));
        }
    }
    for f in ["generate", "verify"] {
        match analysis.functions.get(f) {
            None => missing.push(format!("no top-level function {f}() (2 arguments)")),
            Some(i) if i.is_async => {
                missing.push(format!("{f}() (line {}) must not be async", i.line))
            }
            Some(i) if i.positional < 2 && !i.vararg => missing.push(format!(
                "{f}() (line {}) takes {} positional argument(s), needs 2",
                i.line, i.positional
            )),
            _ => {}
        }
    }
    if let Some(i) = analysis.functions.get("solve")
        && i.positional < 1
        && !i.vararg
    {
        missing.push(format!("solve() (line {}) must take the instance", i.line));
    }
    if !missing.is_empty() {
        return Ok(Err(Failure::new(
            Check::Api,
            "missing_api",
            missing.join("; "),
        )));
    }
    report.multiple_solutions =
        analysis.constants.get("MULTIPLE_SOLUTIONS") == Some(&Value::Bool(true));
    report.passed_checks.push(Check::Api);
    Ok(Ok(()))
}

/// What the static checker found.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Analysis {
    syntax: Option<SyntaxInfo>,
    imports: Vec<(String, u32)>,
    forbidden: Vec<(String, u32)>,
    functions: BTreeMap<String, FnInfo>,
    assigned: Vec<String>,
    constants: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SyntaxInfo {
    msg: String,
    line: u32,
    col: u32,
    text: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FnInfo {
    positional: u32,
    vararg: bool,
    is_async: bool,
    line: u32,
}

/// Run the trusted static checker on `source` inside the sandbox.
fn analyse(sandbox: &Sandbox, source: &str) -> Result<Step<Analysis>, InfraError> {
    // A JSON string literal is a valid Python string literal.
    let literal = serde_json::to_string(source).unwrap_or_else(|_| "\"\"".into());
    let checker = format!("{CHECKER}\nSOURCE = {literal}\n");
    let env = match PythonEnv::from_source("resyn_static_check.py", checker, sandbox) {
        Ok(e) => e,
        Err(e) => {
            if e.is_infra() {
                return Err(InfraError::Sandbox(e));
            }
            return Ok(Err(Failure::new(
                Check::Parse,
                "checker_failed",
                e.to_string(),
            )));
        }
    };
    let r = env.try_generate_batch(&[(0, 1)], false);
    match r.results.into_iter().next() {
        Some(Ok(g)) => match serde_json::from_value::<Analysis>(g.instance.data) {
            Ok(a) => Ok(Ok(a)),
            Err(e) => Ok(Err(Failure::new(
                Check::Parse,
                "checker_failed",
                e.to_string(),
            ))),
        },
        Some(Err(e)) => {
            if e.is_infra() {
                return Err(InfraError::Sandbox(e));
            }
            Ok(Err(Failure::new(
                Check::Parse,
                "unparseable",
                e.to_string(),
            )))
        }
        None => Ok(Err(Failure::new(
            Check::Parse,
            "checker_failed",
            "no result",
        ))),
    }
}
