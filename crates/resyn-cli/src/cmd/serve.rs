//! `resyn serve`: the reward server (crate `resyn-serve`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use resyn_core::Instance;
use resyn_reward::{RewardConfig, Scorer};
use resyn_serve::{AppState, Limits};

use crate::registry::EnvSources;

/// Arguments of `resyn serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port; the bound address is
    /// printed on stderr).
    #[arg(long, default_value = "127.0.0.1:8000")]
    addr: SocketAddr,
    /// JSONL file of instances (as written by `resyn generate`) that requests
    /// may refer to by id.
    #[arg(long)]
    instances: Option<PathBuf>,
    /// Weight of the verifier's reward in the score.
    #[arg(long, default_value_t = 1.0)]
    verifier_weight: f64,
    /// Added to the score when the response passes the format check (one
    /// `<think>` block, then exactly one `<answer>` block).
    #[arg(long, default_value_t = 0.0)]
    format_weight: f64,
    /// Largest request body, in MiB.
    #[arg(long, default_value_t = 64)]
    max_body_mib: usize,
    /// Most items (or queries) per request.
    #[arg(long, default_value_t = 65_536)]
    max_batch: usize,
    /// Per-request time limit in seconds, queueing included.
    #[arg(long, default_value_t = 60.0)]
    timeout_secs: f64,
    /// Scoring requests served at once; more wait in a queue.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
}

/// Run the command: serve until Ctrl-C or SIGTERM.
pub fn run(args: &Args, sources: &EnvSources) -> anyhow::Result<ExitCode> {
    let registry = sources.registry()?;
    let mut instances: Vec<Instance> = Vec::new();
    if let Some(path) = &args.instances {
        instances = crate::jsonl::read::<Instance>(path)?
            .into_iter()
            .map(|(_, i)| i)
            .collect();
    }
    let timeout = Duration::try_from_secs_f64(args.timeout_secs)
        .ok()
        .filter(|t| !t.is_zero())
        .context("--timeout-secs must be a positive number of seconds")?;
    let limits = Limits {
        max_body_bytes: args.max_body_mib.saturating_mul(1 << 20),
        max_batch: args.max_batch,
        timeout,
        concurrency: args.concurrency,
    };
    let reward = RewardConfig {
        verifier_weight: args.verifier_weight,
        format_weight: args.format_weight,
    };
    let n_envs = registry.len();
    let n_inst = instances.len();
    let state = AppState::new(Scorer::new(registry), instances, reward, limits).with_context(
        || match &args.instances {
            Some(p) => format!("loading {}", p.display()),
            None => "starting the server".into(),
        },
    )?;
    resyn_serve::run(args.addr, state, |addr| {
        eprintln!(
            "resyn serve: listening on http://{addr} ({n_envs} environments, {n_inst} instances); \
             Ctrl-C to stop"
        );
    })
    .with_context(|| format!("serving on {}", args.addr))?;
    eprintln!("resyn serve: stopped");
    Ok(ExitCode::SUCCESS)
}
