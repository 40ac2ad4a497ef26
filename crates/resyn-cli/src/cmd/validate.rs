//! `resyn validate --env-dir DIR`: the offline validation stages on
//! hand-written Python environments (every `*.py` of each `--env-dir` /
//! `RESYN_ENV_DIRS` directory whose name does not start with `_`).
//!
//! Output (stdout): one line per environment file, in file-name order —
//! `FILE  NAME  accepted`, or `FILE  NAME  rejected  CHECK(REASON)` followed
//! by the indented detail. With `--json`, JSON Lines instead, one
//! [`Record`] per file. Exit code 1 if any environment fails.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use resyn_synth::validate::{Thresholds, ValidationConfig, ValidationReport, Validator};
use serde::Serialize;

use crate::registry::EnvSources;

/// Arguments of `resyn validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Print JSON Lines (one record per environment) instead of text.
    #[arg(long)]
    json: bool,
    /// Seeds per difficulty level.
    #[arg(long, default_value_t = 12)]
    seeds: u64,
    /// Per-call wall-clock limit of environment code, seconds.
    #[arg(long, default_value_t = 10)]
    call_timeout: u64,
}

/// One `--json` line.
///
/// Fields: `file`, `name` (`NAME`, null if the module did not load),
/// `accepted`, `check` / `reason` / `detail` of the first failure (null when
/// accepted), and the full `report` (`passed_checks`, `stats`, `elapsed_ms`, ...).
#[derive(Debug, Serialize)]
pub(crate) struct Record<'a> {
    file: String,
    name: Option<&'a str>,
    accepted: bool,
    check: Option<&'static str>,
    reason: Option<&'a str>,
    detail: Option<&'a str>,
    report: &'a ValidationReport,
}

/// Run the command.
pub(crate) fn run(args: &Args, sources: &EnvSources) -> anyhow::Result<ExitCode> {
    let dirs = sources.dirs();
    if dirs.is_empty() {
        anyhow::bail!("give the environments to validate with --env-dir DIR");
    }
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in &dirs {
        let in_dir = resyn_sandbox::env_files(dir)
            .with_context(|| format!("reading environment directory {}", dir.display()))?;
        files.extend(in_dir);
    }
    if files.is_empty() {
        anyhow::bail!("no environment modules (*.py) in the given directories");
    }
    let mut sb = sources.sandbox_config()?;
    sb.limits.call_timeout = std::time::Duration::from_secs(args.call_timeout.max(1));
    let sandbox = resyn_sandbox::Sandbox::new(sb).context("starting the sandbox")?;
    let cfg = ValidationConfig {
        thresholds: Thresholds {
            seeds: args.seeds.max(1),
            ..Thresholds::default()
        },
        ..ValidationConfig::default()
    };
    let validator = Validator::new(sandbox, cfg);
    let mut out = std::io::stdout().lock();
    let mut failed = 0usize;
    let mut names: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for f in &files {
        let (mut report, _) = validator
            .validate_file(f)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let file = f
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        if let (Some(name), None) = (&report.name, &report.failure) {
            if let Some(first) = names.get(name) {
                report.passed = false;
                report.failure = Some(resyn_synth::validate::Failure::new(
                    resyn_synth::validate::Check::Api,
                    "duplicate_name",
                    format!("NAME `{name}` is already used by {first}"),
                ));
            } else {
                names.insert(name.clone(), file.clone());
            }
        }
        let fail = report.failure.as_ref();
        if fail.is_some() {
            failed += 1;
        }
        if args.json {
            let rec = Record {
                file: file.clone(),
                name: report.name.as_deref(),
                accepted: fail.is_none(),
                check: fail.map(|f| f.check.as_str()),
                reason: fail.map(|f| f.reason.as_str()),
                detail: fail.map(|f| f.detail.as_str()),
                report: &report,
            };
            serde_json::to_writer(&mut out, &rec)?;
            writeln!(out)?;
        } else {
            let name = report.name.as_deref().unwrap_or("-");
            match fail {
                None => writeln!(
                    out,
                    "{file}  {name}  accepted  ({} instances, {} probes rejected, {} ms)",
                    report.stats.instances, report.stats.probes_rejected, report.elapsed_ms
                )?,
                Some(f) => {
                    writeln!(
                        out,
                        "{file}  {name}  rejected  {}({})",
                        f.check.as_str(),
                        f.reason
                    )?;
                    for line in f.detail.lines().take(40) {
                        writeln!(out, "    {line}")?;
                    }
                }
            }
        }
        out.flush()?;
    }
    eprintln!(
        "{} of {} environments accepted",
        files.len() - failed,
        files.len()
    );
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
