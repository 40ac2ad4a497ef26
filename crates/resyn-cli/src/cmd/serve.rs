//! `resyn serve`: the reward server (crate `resyn-serve`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use resyn_core::Instance;
use resyn_core::Registry;
use resyn_reward::{RewardConfig, Scorer};
use resyn_serve::{AppState, Limits, Online};

use crate::registry::EnvSources;

/// Arguments of `resyn serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
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
    /// Serve online instances (`/curriculum/*`, `"report": true` on
    /// `/verify`): a dataset config whose `[select]`, `seed`, `[difficulty]`
    /// and `[curriculum]` define the run (docs/curriculum.md).
    #[arg(long, value_name = "CONFIG")]
    curriculum: Option<PathBuf>,
    /// Save the curriculum state to FILE after every draw and report; when
    /// FILE exists at start, resume the run it holds.
    #[arg(long, value_name = "FILE", requires = "curriculum")]
    curriculum_state: Option<PathBuf>,
    /// Append every curriculum decision to FILE (JSON Lines).
    #[arg(long, value_name = "FILE", requires = "curriculum")]
    curriculum_log: Option<PathBuf>,
}

/// Run the command: serve until Ctrl-C or SIGTERM.
pub(crate) fn run(args: &Args, sources: &EnvSources) -> anyhow::Result<ExitCode> {
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
    let online = args
        .curriculum
        .as_deref()
        .map(|config| online(args, config, &registry))
        .transpose()?;
    let mut state = AppState::new(Scorer::new(registry), instances, reward, limits).with_context(
        || match &args.instances {
            Some(p) => format!("loading {}", p.display()),
            None => "starting the server".into(),
        },
    )?;
    let mut curriculum = String::new();
    if let Some((online, position)) = online {
        curriculum = format!(", curriculum at instance {position}");
        state = state.with_curriculum(online);
    }
    resyn_serve::run(args.addr, state, |addr| {
        eprintln!(
            "resyn serve: listening on http://{addr} ({n_envs} environments, {n_inst} \
             instances{curriculum}); Ctrl-C to stop"
        );
    })
    .with_context(|| format!("serving on {}", args.addr))?;
    eprintln!("resyn serve: stopped");
    Ok(ExitCode::SUCCESS)
}

/// The online curriculum of `--curriculum CONFIG` (resumed from
/// `--curriculum-state` when that file exists), and its stream position.
fn online(args: &Args, config: &Path, registry: &Registry) -> anyhow::Result<(Online, u64)> {
    let config = resyn_data::DatasetConfig::from_path(config)?;
    let state = args.curriculum_state.as_deref();
    let generator = resyn_data::online_generator(&config, registry, state)
        .context("starting the curriculum")?;
    let position = generator.position();
    let mut online = Online::new(generator);
    if let Some(p) = state {
        online = online.state_file(p);
    }
    if let Some(p) = &args.curriculum_log {
        online = online.decision_log(p);
    }
    Ok((online, position))
}
