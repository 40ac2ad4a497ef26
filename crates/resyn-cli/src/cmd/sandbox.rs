//! `resyn sandbox`: inspect the Python sandbox.

use std::io::Write;
use std::process::ExitCode;

use resyn_sandbox::{CodeCache, Sandbox, SandboxConfig};

use crate::registry::EnvSources;

/// Arguments of `resyn sandbox`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: SandboxCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SandboxCommand {
    /// Report which isolation layers this host enforces, observed from inside
    /// a sandboxed worker. Exits 1 when a required layer is missing.
    Doctor {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Run the command.
pub(crate) fn run(args: &Args, sources: &EnvSources) -> anyhow::Result<ExitCode> {
    let SandboxCommand::Doctor { json } = &args.command;
    let sandbox = Sandbox::probe(SandboxConfig {
        policy: sources.policy(),
        ..SandboxConfig::default()
    })?;
    let report = sandbox.enforcement();
    let mut out = std::io::stdout().lock();
    if *json {
        serde_json::to_writer_pretty(&mut out, report)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", report.to_text())?;
    }
    match CodeCache::Auto.dir() {
        Some(d) => eprintln!(
            "compiled module code is cached in {} (RESYN_CODE_CACHE=DIR or off)",
            d.display()
        ),
        None => eprintln!("compiled module code is not cached (RESYN_CODE_CACHE)"),
    }
    let missing = report.missing_required();
    if missing.is_empty() {
        eprintln!("all required layers are enforced");
        Ok(ExitCode::SUCCESS)
    } else {
        let names: Vec<_> = missing.iter().map(|l| l.as_str()).collect();
        eprintln!(
            "required layer(s) not enforced: {}; Python environments will not run here \
             (install bubblewrap, or pass --allow-weak-sandbox)",
            names.join(", ")
        );
        Ok(ExitCode::from(1))
    }
}
