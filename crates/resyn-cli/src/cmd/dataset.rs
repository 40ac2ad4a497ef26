//! `resyn dataset build [CONFIG]`: a validated, trainer-ready dataset
//! (verl parquet, JSONL for TRL/OpenRLHF, manifest.json).
//!
//! stdout stays empty unless `--json`, which prints the manifest. The
//! progress bar (only on a terminal) and the human summary go to stderr.
//! Exit codes: 0 built (excluded environments are warnings), 1 every
//! environment failed validation so nothing was built, 2 config or usage
//! errors, and failures of the `llm_answer` endpoint (answers received
//! before the failure stay cached).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use resyn_data::{BuildReport, DatasetBuilder, DatasetConfig, Progress, RewardMode, Split};

use crate::llm_answers::LlmAnswers;
use crate::registry::EnvSources;

/// Arguments of `resyn dataset`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Build a dataset from a TOML config (built-in defaults when omitted;
    /// see configs/default.toml).
    Build(BuildArgs),
}

#[derive(Debug, clap::Args)]
struct BuildArgs {
    /// Config file (TOML). Without one, the defaults: every registered
    /// environment, 40 instances each, difficulties 1-10, verifier rewards.
    config: Option<PathBuf>,
    /// Output directory (overrides `output.dir`); replaced atomically.
    #[arg(long, short = 'o')]
    out: Option<PathBuf>,
    /// Print the manifest as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Worker threads (default: all cores); the output does not depend on it.
    #[arg(long)]
    threads: Option<usize>,
}

/// Run the command.
pub(crate) fn run(args: &Args, sources: &EnvSources) -> anyhow::Result<ExitCode> {
    match &args.command {
        Command::Build(b) => build(b, sources),
    }
}

fn build(args: &BuildArgs, sources: &EnvSources) -> anyhow::Result<ExitCode> {
    let mut config = match &args.config {
        Some(p) => DatasetConfig::from_path(p)?,
        None => DatasetConfig::default(),
    };
    if let Some(out) = &args.out {
        config.output.dir = out.clone();
    }
    let answers = match (&config.llm_answer, config.reward) {
        (Some(l), RewardMode::LlmAnswer) => Some(LlmAnswers::new(l)?),
        _ => None,
    };
    let registry = sources.registry()?;
    let bar = Bar::new();
    let mut builder = DatasetBuilder::new(config, &registry).progress(&bar);
    if let Some(a) = &answers {
        builder = builder.answers(a);
    }
    if let Some(n) = args.threads {
        builder = builder.threads(n);
    }
    let result = builder.build();
    bar.0.finish_and_clear();
    if let Some(a) = &answers {
        let c = a.counts();
        eprintln!(
            "llm_answer: {} answers from the cache, {} new calls",
            c.cached, c.calls
        );
    }
    let report = match result {
        Ok(r) => r,
        Err(e @ resyn_data::Error::Empty(_)) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
        Err(e) => {
            return Err(match &args.config {
                Some(p) => e.with_config_path(p),
                None => e,
            }
            .into());
        }
    };
    eprint!("{}", summary(&report));
    if args.json {
        let mut out = std::io::stdout().lock();
        out.write_all(report.manifest.to_json_pretty().as_bytes())
            .context("writing the manifest to stdout")?;
        out.flush().context("writing the manifest to stdout")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// An indicatif bar on stderr, hidden when stderr is not a terminal.
struct Bar(ProgressBar);

impl Bar {
    fn new() -> Self {
        if !std::io::stderr().is_terminal() {
            return Self(ProgressBar::hidden());
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        // The template is a constant; fall back to the default style if it
        // were ever rejected.
        let style = ProgressStyle::with_template(
            "[{elapsed_precise}] {bar:40} {human_pos}/{human_len} instances ({per_sec}, eta {eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        Self(bar)
    }
}

impl Progress for Bar {
    fn set_total(&self, total: u64) {
        self.0.set_length(total);
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn environment(&self, id: &str) {
        self.0.set_message(id.to_string());
    }
    fn restart(&self, reason: &str) {
        self.0.suspend(|| {
            eprintln!("warning: an environment failed after its rows were written; rebuilding without it ({reason})");
        });
        self.0.set_position(0);
    }
}

/// The human summary printed on stderr.
fn summary(r: &BuildReport) -> String {
    use std::fmt::Write as _;
    let m = &r.manifest;
    let t = &m.totals;
    let mut s = String::new();
    let rows = |sp: Split| m.splits.get(&sp).map_or(0, |x| x.rows);
    let _ = writeln!(
        s,
        "dataset {} ({} rewards)",
        r.out_dir.display(),
        m.config.reward.as_str()
    );
    let _ = writeln!(
        s,
        "  {} rows: train {}, validation {}, test {}; {} duplicate prompts dropped",
        t.instances,
        rows(Split::Train),
        rows(Split::Validation),
        rows(Split::Test),
        t.duplicates_dropped
    );
    let _ = writeln!(
        s,
        "  {} environments, {} excluded; {} instances generated and verified",
        t.environments, t.excluded_environments, t.generated
    );
    // Which kinds of environment the rows come from (native, the Python
    // corpus, what `resyn synth` stored).
    let mut by_source: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for e in &m.environments {
        let v = by_source.entry(e.source.as_str()).or_default();
        v.0 += 1;
        v.1 += e.rows;
    }
    let parts: Vec<String> = by_source
        .iter()
        .map(|(src, (envs, rows))| format!("{src} {envs} environments / {rows} rows"))
        .collect();
    let _ = writeln!(s, "  by source: {}", parts.join(", "));
    let mut by_cat: BTreeMap<&str, [u64; 3]> = BTreeMap::new();
    for sp in Split::ALL {
        if let Some(x) = m.splits.get(&sp) {
            for (cat, n) in &x.by_category {
                by_cat.entry(cat.as_str()).or_default()[sp.index()] += n;
            }
        }
    }
    let _ = writeln!(s, "  by category (train/validation/test):");
    for (cat, c) in &by_cat {
        let _ = writeln!(
            s,
            "    {cat:<24} {:>8}  ({}/{}/{})",
            c.iter().sum::<u64>(),
            c[0],
            c[1],
            c[2]
        );
    }
    const MAX_ENVS: usize = 40;
    let _ = writeln!(
        s,
        "  by environment (rows of requested, duplicates dropped):"
    );
    for e in m.environments.iter().take(MAX_ENVS) {
        let _ = writeln!(
            s,
            "    {:<32} {:<24} {:>7} of {:<7} {:>5} dup",
            e.id,
            e.category.as_str(),
            e.rows,
            e.requested,
            e.duplicates_dropped
        );
    }
    if m.environments.len() > MAX_ENVS {
        let _ = writeln!(
            s,
            "    ... {} more (see manifest.json)",
            m.environments.len() - MAX_ENVS
        );
    }
    if let Some(l) = &m.llm_answer {
        let _ = writeln!(
            s,
            "  llm_answer labels by {}: {} answered ({} accepted by the verifier), {} without an answer",
            l.model, l.answered, l.verified_correct, l.unanswered
        );
    }
    if !m.excluded.is_empty() {
        let _ = writeln!(s, "  excluded:");
        for x in &m.excluded {
            let _ = writeln!(s, "    {}: {}", x.id, x.reason);
        }
    }
    let secs = r.elapsed.as_secs_f64();
    let _ = writeln!(
        s,
        "  built in {secs:.2}s ({:.0} instances/s){}",
        t.generated as f64 / secs.max(1e-9),
        if r.restarts > 0 {
            format!(", {} restart(s)", r.restarts)
        } else {
            String::new()
        }
    );
    s
}
