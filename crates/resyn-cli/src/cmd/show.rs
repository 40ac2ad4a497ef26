//! `resyn show ENV`: a stored environment's code, reports and sample instances.
//!
//! Text (default): metadata, provenance, validation and calibration reports
//! (JSON), the code, then sample instances at difficulties 1, 5 and 10. With
//! `--json`, one JSON object: the stored environment plus `samples`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use resyn_registry::{Sources, StoreSource};
use resyn_store::Store;

use crate::registry::EnvSources;

/// Arguments of `resyn show`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Environment NAME.
    env: String,
    /// Sample instances per difficulty (1, 5, 10); 0 skips the sandbox.
    #[arg(long, default_value_t = 1)]
    samples: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Run the command.
pub(crate) fn run(args: &Args, sources: &EnvSources) -> anyhow::Result<ExitCode> {
    let path = sources.store_path();
    if !path.exists() {
        anyhow::bail!(
            "store {} does not exist (give --store FILE)",
            path.display()
        );
    }
    let store = Store::open(&path).with_context(|| format!("opening store {}", path.display()))?;
    let stored = store.environment(&args.env)?;
    let mut samples = Vec::new();
    if args.samples > 0 {
        // This store alone: no environment directory is loaded for a sample.
        let store_only = Sources {
            env_dirs: Vec::new(),
            store: StoreSource::Path(path.clone()),
            sandbox: sources.sandbox_config()?,
        };
        let registry = store_only.load()?.registry;
        let env = registry.get(&args.env)?;
        for d in [1u8, 5, 10] {
            for seed in 0..args.samples {
                samples.push(
                    env.generate(seed, d)
                        .with_context(|| format!("generating seed {seed} difficulty {d}"))?,
                );
            }
        }
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut v = serde_json::to_value(&stored)?;
        v["samples"] = serde_json::to_value(&samples)?;
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let e = &stored.env;
    writeln!(out, "{} v{}  ({})", e.name, e.version, e.category)?;
    writeln!(out, "{}\n", e.description)?;
    writeln!(out, "content hash: {}", e.content_hash)?;
    writeln!(
        out,
        "provenance: {}",
        serde_json::to_string_pretty(&e.provenance)?
    )?;
    writeln!(
        out,
        "validation: {}",
        serde_json::to_string_pretty(&e.validation)?
    )?;
    match &e.calibration {
        Some(c) => writeln!(out, "calibration: {}", serde_json::to_string_pretty(c)?)?,
        None => writeln!(
            out,
            "calibration: none — uncalibrated (no solver endpoint was given); datasets leave it \
             out unless [select] include_uncalibrated = true"
        )?,
    }
    writeln!(out, "\n--- code ---\n{}", e.code.trim_end())?;
    for s in &samples {
        writeln!(
            out,
            "\n--- sample: seed {} difficulty {} ---\n{}\n--- reference ---\n{}",
            s.seed, s.difficulty, s.prompt, s.reference
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
