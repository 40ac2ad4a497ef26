//! `resyn`: synthesize, list, generate and verify reasoning environments.
//!
//! The CLI parses arguments and prints; the libraries do the work. stdout
//! carries data only (JSON/JSONL or tables); progress and summaries go to
//! stderr. Exit codes: 0 success, 1 when the check a command exists to make
//! fails, 2 usage or input error. A closed stdout pipe exits 0.

mod cmd;
mod instances;
mod jsonl;
mod llm_answers;
mod output;
mod registry;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// resyn: reasoning environments for RL with verifiable rewards.
#[derive(Debug, Parser)]
#[command(name = "resyn", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: registry::EnvSources,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the available environments.
    Envs(cmd::envs::Args),
    /// Generate instances as JSON Lines.
    Generate(cmd::generate::Args),
    /// Verify model responses against instances.
    Verify(cmd::verify::Args),
    /// Serve rewards over HTTP (verification, OpenRLHF remote reward, metrics).
    Serve(cmd::serve::Args),
    /// Synthesize environments with an LLM (or resume a run).
    Synth(Box<cmd::synth::Args>),
    /// Show a stored environment: code, reports, sample instances.
    Show(cmd::show::Args),
    /// Re-score real responses with both verifiers (and solve()); report disagreements.
    Audit(cmd::audit::Args),
    /// Run the offline validation stages on a directory of Python environments.
    Validate(cmd::validate::Args),
    /// Inspect the sandbox that runs Python environments.
    Sandbox(cmd::sandbox::Args),
    /// Evaluate a model on environments and benchmarks; compare and plot reports.
    Eval(cmd::eval::Args),
    /// Build validated datasets for RL trainers (verl parquet, JSONL).
    Dataset(cmd::dataset::Args),
    /// Browse environments and synthesis runs in a read-only web UI.
    Ui(cmd::ui::UiArgs),
    /// Export the web UI's pages as static HTML plus a GALLERY.md.
    Gallery(cmd::ui::GalleryArgs),
}

/// mimalloc instead of the system allocator: generating, verifying and
/// exporting instances makes many small, short-lived allocations, which it
/// serves faster (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Envs(a) => cmd::envs::run(a, &cli.global),
        Command::Generate(a) => cmd::generate::run(a, &cli.global),
        Command::Verify(a) => cmd::verify::run(a, &cli.global),
        Command::Serve(a) => cmd::serve::run(a, &cli.global),
        Command::Synth(a) => cmd::synth::run(a, &cli.global),
        Command::Show(a) => cmd::show::run(a, &cli.global),
        Command::Audit(a) => cmd::audit::run(a, &cli.global),
        Command::Validate(a) => cmd::validate::run(a, &cli.global),
        Command::Sandbox(a) => cmd::sandbox::run(a, &cli.global),
        Command::Eval(a) => cmd::eval::run(a, &cli.global),
        Command::Dataset(a) => cmd::dataset::run(a, &cli.global),
        Command::Ui(a) => cmd::ui::run_ui(a, &cli.global),
        Command::Gallery(a) => cmd::ui::run_gallery(a, &cli.global),
    };
    match result {
        Ok(code) => code,
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // `{e:#}` with each cause once: some errors also say their
            // source's message in their own.
            eprintln!("error: {}", resyn_core::error_chain(e.as_ref()));
            ExitCode::from(2)
        }
    }
}
