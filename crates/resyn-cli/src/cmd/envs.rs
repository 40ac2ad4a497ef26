//! `resyn envs`: list environments.

use std::io::Write;
use std::process::ExitCode;

use crate::registry::EnvSources;

/// Arguments of `resyn envs`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Print a JSON array of environment metadata instead of a table.
    #[arg(long)]
    json: bool,
}

/// Run the command.
pub(crate) fn run(args: &Args, sources: &EnvSources) -> anyhow::Result<ExitCode> {
    let metas = sources.registry()?.metas();
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &metas)?;
        writeln!(out)?;
    } else {
        let w = metas.iter().map(|m| m.id.len()).max().unwrap_or(2).max(2);
        writeln!(
            out,
            "{:w$}  {:>3}  {:23}  {:6}  DIFFICULTY",
            "ID", "VER", "CATEGORY", "SOURCE"
        )?;
        for m in &metas {
            writeln!(
                out,
                "{:w$}  {:>3}  {:23}  {:6}  {}-{}{}",
                m.id,
                m.version,
                m.category.as_str(),
                m.source.as_str(),
                m.min_difficulty,
                m.max_difficulty,
                if m.calibrated == Some(false) {
                    "  uncalibrated"
                } else {
                    ""
                }
            )?;
        }
        let uncalibrated = metas.iter().filter(|m| m.calibrated == Some(false)).count();
        if uncalibrated > 0 {
            eprintln!(
                "{} environments ({uncalibrated} synthesized without a solver: uncalibrated, \
                 left out of datasets unless [select] include_uncalibrated = true)",
                metas.len()
            );
        } else {
            eprintln!("{} environments", metas.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}
