//! `resyn eval`: measure a model on environments and benchmarks.
//!
//! - `resyn eval run`: query an OpenAI-compatible endpoint, write a JSON
//!   report (atomically) and print a summary table on stdout (or the report
//!   itself with `--json`). Completions are cached in a JSONL file beside the
//!   report (`--cache` to choose it), so a rerun of an interrupted or
//!   budget-limited (`--max-calls`) evaluation continues where it stopped and
//!   a re-score costs no calls. Exit 0 when every sample was scored, 1 when
//!   some are missing (failed requests, budget, Ctrl-C; rerun to complete).
//! - `resyn eval compare A.json B.json`: per suite and group, B minus A with
//!   a 95 % interval and p-value (paired bootstrap over shared items).
//! - `resyn eval html A.json [B.json ...] -o report.html`: a self-contained
//!   HTML report with plots.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use resyn_core::Category;
use resyn_eval::bench::Benchmark;
use resyn_eval::{Cache, EnvSelection, EvalItem, Report, ReportOptions, RunConfig, Sampling};
use resyn_llm::{Client, RetryPolicy};

use crate::output::Output;
use crate::registry::EnvSources;

/// Arguments of `resyn eval`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Evaluate a model on environments and/or benchmark files.
    Run(Box<RunArgs>),
    /// Compare two reports (B minus A) per suite and group, with significance.
    Compare(CompareArgs),
    /// Render one or more reports as a self-contained HTML page.
    Html(HtmlArgs),
}

/// Arguments of `resyn eval run`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("targets").required(true).multiple(true)
    .args(["env", "category", "bbh", "bbeh", "gsm8k", "aime"])))]
struct RunArgs {
    /// Endpoint base URL; requests go to `{base_url}/chat/completions`.
    #[arg(long)]
    base_url: String,
    /// Model name as the endpoint knows it.
    #[arg(long)]
    model: String,
    /// Environment variable holding the API key (none sent when absent).
    #[arg(long, value_name = "VAR")]
    api_key_env: Option<String>,

    /// Environment ids to evaluate (`all` for every one); repeatable or comma-separated.
    #[arg(long, value_delimiter = ',')]
    env: Vec<String>,
    /// Evaluate every environment of these categories.
    #[arg(long, value_delimiter = ',')]
    category: Vec<Category>,
    /// Difficulty level `D` or range `A-B` (clipped to each environment's range).
    #[arg(long, short = 'd', default_value = "1-10", value_parser = crate::cmd::generate::parse_difficulty)]
    difficulty: (u8, u8),
    /// Instances per environment and difficulty level.
    #[arg(long, default_value_t = 10)]
    per_level: u64,
    /// First instance seed; instance k of a level uses seed + k.
    #[arg(long, default_value_t = 0)]
    seed: u64,

    /// BBH: a subtask JSON file or a directory of them.
    #[arg(long, value_name = "PATH")]
    bbh: Option<PathBuf>,
    /// BBEH: a task JSON file or the benchmark_tasks directory.
    #[arg(long, value_name = "PATH")]
    bbeh: Option<PathBuf>,
    /// GSM8K: a JSONL file (e.g. test.jsonl).
    #[arg(long, value_name = "PATH")]
    gsm8k: Option<PathBuf>,
    /// AIME: a JSONL or JSON file of problems.
    #[arg(long, value_name = "PATH")]
    aime: Option<PathBuf>,
    /// Use only the first N items of each benchmark subtask.
    #[arg(long)]
    limit: Option<usize>,

    /// Samples per item (k of mean@k; pass@k is reported for k up to this).
    #[arg(long, short = 'n', default_value_t = 1)]
    samples: u32,
    /// Sampling temperature (server default when absent).
    #[arg(long)]
    temperature: Option<f64>,
    /// Nucleus sampling mass.
    #[arg(long)]
    top_p: Option<f64>,
    /// Completion token limit.
    #[arg(long)]
    max_tokens: Option<u32>,
    /// Stop sequence; repeatable.
    #[arg(long)]
    stop: Vec<String>,
    /// Sampling seed; sample s sends seed + s.
    #[arg(long)]
    sample_seed: Option<u64>,
    /// System message.
    #[arg(long)]
    system: Option<String>,

    /// Requests in flight at most.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Retries per request (429, 5xx, timeouts, connection errors).
    #[arg(long, default_value_t = 5)]
    retries: u32,
    /// Per-attempt timeout in seconds.
    #[arg(long, default_value_t = 600.0)]
    timeout: f64,
    /// Stop after this many new calls (rerun to continue).
    #[arg(long)]
    max_calls: Option<u64>,

    /// Report file (JSON, written atomically).
    #[arg(long, short = 'o')]
    out: PathBuf,
    /// Completion cache (JSONL); default: the report path with `.cache.jsonl`.
    #[arg(long, conflicts_with = "no_cache")]
    cache: Option<PathBuf>,
    /// Keep no cache (an interrupted run starts over).
    #[arg(long)]
    no_cache: bool,
    /// Keep every response text in the report.
    #[arg(long)]
    include_responses: bool,
    /// Print the report JSON on stdout instead of the summary table.
    #[arg(long)]
    json: bool,
}

/// Arguments of `resyn eval compare`.
#[derive(Debug, clap::Args)]
struct CompareArgs {
    /// Baseline report.
    a: PathBuf,
    /// Report compared against the baseline.
    b: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Arguments of `resyn eval html`.
#[derive(Debug, clap::Args)]
struct HtmlArgs {
    /// Reports; the first is the baseline.
    #[arg(required = true)]
    reports: Vec<PathBuf>,
    /// Label per report, in order (default: the model name).
    #[arg(long)]
    label: Vec<String>,
    /// Output file (written atomically); stdout when absent.
    #[arg(long, short = 'o')]
    out: Option<PathBuf>,
}

/// Run the command.
pub(crate) fn run(args: &Args, sources: &EnvSources) -> anyhow::Result<ExitCode> {
    match &args.command {
        Command::Run(a) => run_eval(a, sources),
        Command::Compare(a) => compare(a),
        Command::Html(a) => html(a),
    }
}

fn load_items(a: &RunArgs, sources: &EnvSources) -> anyhow::Result<(Vec<EvalItem>, Vec<String>)> {
    let mut items = Vec::new();
    let mut targets = Vec::new();
    let sel = EnvSelection {
        ids: a.env.clone(),
        categories: a.category.clone(),
        difficulties: a.difficulty,
        per_level: a.per_level,
        seed: a.seed,
    };
    if !sel.is_empty() {
        let registry = sources.registry()?;
        let env_items = resyn_eval::env_items(&registry, &sel)?;
        if env_items.is_empty() {
            bail!("the environment selection matches no instances");
        }
        let mut names: Vec<String> = a.env.clone();
        names.extend(a.category.iter().map(|c| format!("category {c}")));
        targets.push(format!(
            "envs: {}; difficulties {}-{}; {} per level; seed {}",
            names.join(", "),
            a.difficulty.0,
            a.difficulty.1,
            a.per_level,
            a.seed
        ));
        items.extend(env_items);
    }
    for (bench, path) in [
        (Benchmark::Bbh, &a.bbh),
        (Benchmark::Bbeh, &a.bbeh),
        (Benchmark::Gsm8k, &a.gsm8k),
        (Benchmark::Aime, &a.aime),
    ] {
        let Some(path) = path else { continue };
        let mut loaded = bench
            .load(path)
            .with_context(|| format!("loading {bench} from {}", path.display()))?;
        if let Some(limit) = a.limit {
            let mut per: std::collections::HashMap<String, usize> = Default::default();
            loaded.retain(|it| {
                let c = per.entry(it.subtask.clone()).or_default();
                *c += 1;
                *c <= limit
            });
        }
        if loaded.is_empty() {
            bail!("{}: no {bench} items", path.display());
        }
        targets.push(format!(
            "{bench}: {} ({} items)",
            path.display(),
            loaded.len()
        ));
        items.extend(loaded.into_iter().map(EvalItem::from_bench));
    }
    Ok((items, targets))
}

/// Draws an indicatif bar on stderr (hidden when stderr is not a terminal).
pub(crate) struct Bar(indicatif::ProgressBar);

/// The bar of fetching completions (also `llm_answer` dataset builds).
pub(crate) fn completion_bar() -> Bar {
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} completions, {per_sec}, eta {eta} {msg}",
        )
        // The template is a literal checked by the tests.
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    Bar(bar)
}

impl resyn_eval::Progress for Bar {
    fn begin(&self, total: u64, cached: u64) {
        self.0.set_length(total);
        self.0.set_position(cached);
        self.0.reset_eta();
        if cached > 0 {
            self.0.println(format!(
                "{cached} of {total} completions found in the cache"
            ));
        }
    }
    fn advance(&self, ok: bool) {
        if !ok {
            self.0.set_message("some requests failed");
        }
        self.0.inc(1);
    }
    fn end(&self) {
        self.0.finish_and_clear();
    }
}

fn run_eval(a: &RunArgs, sources: &EnvSources) -> anyhow::Result<ExitCode> {
    if a.samples == 0 {
        bail!("--samples must be at least 1");
    }
    if !(a.timeout > 0.0 && a.timeout.is_finite()) {
        bail!("--timeout must be a positive number of seconds");
    }
    let (items, targets) = load_items(a, sources)?;
    let mut builder = Client::builder(&a.base_url)
        .max_concurrency(a.concurrency)
        .timeout(Duration::from_secs_f64(a.timeout))
        .retry(RetryPolicy {
            max_retries: a.retries,
            ..RetryPolicy::default()
        });
    if let Some(var) = &a.api_key_env {
        builder = builder.api_key_env(var);
    }
    let client = builder.build()?;
    let config = RunConfig {
        model: a.model.clone(),
        system: a.system.clone(),
        sampling: Sampling {
            temperature: a.temperature,
            top_p: a.top_p,
            max_tokens: a.max_tokens,
            stop: a.stop.clone(),
            seed: a.sample_seed,
        },
        samples: a.samples,
        max_calls: a.max_calls,
    };
    let mut cache = if a.no_cache {
        Cache::in_memory()
    } else {
        let path = a.cache.clone().unwrap_or_else(|| default_cache(&a.out));
        let cache = Cache::open(&path)?;
        let load = cache.load_stats();
        if load.torn_bytes > 0 || load.skipped_lines > 0 {
            eprintln!(
                "cache {}: cut a torn last line ({} bytes), skipped {} unreadable lines",
                path.display(),
                load.torn_bytes,
                load.skipped_lines
            );
        }
        cache
    };
    let bar = completion_bar();
    let options = ReportOptions {
        base_url: a.base_url.clone(),
        targets,
        include_responses: a.include_responses,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(async {
        let cancel = async {
            // If the handler cannot be installed, never cancel.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            eprintln!("interrupted: completions so far are cached; rerun to continue");
        };
        resyn_eval::evaluate(&items, &config, &client, &mut cache, &bar, cancel, &options).await
    })?;
    drop(cache);
    report
        .write(&a.out)
        .with_context(|| format!("writing {}", a.out.display()))?;
    let mut out = std::io::stdout().lock();
    if a.json {
        out.write_all(report.to_json().as_bytes())?;
        writeln!(out)?;
    } else {
        out.write_all(report.summary_table().as_bytes())?;
    }
    out.flush()?;
    eprintln!("report written to {}", a.out.display());
    if report.complete {
        Ok(ExitCode::SUCCESS)
    } else {
        let u = &report.usage;
        eprintln!(
            "incomplete: {} request(s) failed and {} were not made; rerun the same command to complete (cached completions are reused)",
            u.failed, u.not_run
        );
        if let Some(e) = report
            .items
            .iter()
            .flat_map(|i| &i.samples)
            .find_map(|s| s.error.as_deref())
        {
            eprintln!("first error: {e}");
        }
        Ok(ExitCode::from(1))
    }
}

/// `report.json` → `report.cache.jsonl`.
pub(crate) fn default_cache(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map_or_else(|| "eval".into(), |s| s.to_string_lossy().into_owned());
    out.with_file_name(format!("{stem}.cache.jsonl"))
}

fn read_report(p: &Path) -> anyhow::Result<Report> {
    Ok(Report::read(p)?)
}

fn compare(a: &CompareArgs) -> anyhow::Result<ExitCode> {
    let (ra, rb) = (read_report(&a.a)?, read_report(&a.b)?);
    let cmp = resyn_eval::compare(&ra, &rb);
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &cmp)?;
        writeln!(out)?;
    } else {
        out.write_all(cmp.table().as_bytes())?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn html(a: &HtmlArgs) -> anyhow::Result<ExitCode> {
    if !a.label.is_empty() && a.label.len() != a.reports.len() {
        bail!(
            "{} labels for {} reports: give one --label per report or none",
            a.label.len(),
            a.reports.len()
        );
    }
    let reports: Vec<Report> = a
        .reports
        .iter()
        .map(|p| read_report(p))
        .collect::<anyhow::Result<_>>()?;
    let mut labels: Vec<String> = if a.label.is_empty() {
        reports.iter().map(|r| r.config.run.model.clone()).collect()
    } else {
        a.label.clone()
    };
    // Equal labels would merge in the legend: disambiguate with file names.
    for i in 0..labels.len() {
        if labels.iter().filter(|l| **l == labels[i]).count() > 1 {
            labels[i] = format!("{} ({})", labels[i], a.reports[i].display());
        }
    }
    let runs: Vec<(String, &Report)> = labels.into_iter().zip(&reports).collect();
    let page = resyn_eval::html::render(&runs);
    let mut out = Output::open(a.out.as_deref())?;
    out.write_all(page.as_bytes())?;
    out.finish()?;
    if let Some(p) = &a.out {
        eprintln!("wrote {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_path_beside_report() {
        assert_eq!(
            default_cache(Path::new("out/base.json")),
            PathBuf::from("out/base.cache.jsonl")
        );
        assert_eq!(
            default_cache(Path::new("r")),
            PathBuf::from("r.cache.jsonl")
        );
    }
}
