//! `resyn synth`: run (or resume) the synthesis pipeline.
//!
//! Progress goes to stderr (bars when stderr is a terminal, otherwise one
//! line per accepted or rejected candidate), then a summary table. stdout
//! stays empty unless `--json`, which prints the run summary as one JSON
//! object (fields of `resyn_store::Summary`: `run_id`, `candidates`,
//! `accepted`, `rejected`, `skipped`, `pending`, `failures` as
//! `[stage, reason, count]`, `stage_failures`, `repairs`, `llm_calls`,
//! `llm_errors`, `prompt_tokens`, `completion_tokens`, `wall_ms`, plus
//! `keyword_failures`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use resyn_store::{Store, Summary};
use resyn_synth::keywords::{self, Keyword};
use resyn_synth::validate::{Thresholds, ValidationConfig, Validator};
use resyn_synth::{Event, Observer, Pipeline, Stage, StructuredOutput, SynthConfig};

use crate::registry::EnvSources;

/// Arguments of `resyn synth`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Generator endpoint, e.g. http://127.0.0.1:8000/v1.
    #[arg(long, required_unless_present = "resume", conflicts_with = "resume")]
    base_url: Option<String>,
    /// Generator model name.
    #[arg(long, required_unless_present = "resume", conflicts_with = "resume")]
    model: Option<String>,
    /// Environment variable holding the generator's API key.
    #[arg(long, value_name = "VAR")]
    api_key_env: Option<String>,
    /// Environments to accept.
    #[arg(long, default_value_t = 10)]
    target: u64,
    /// Solver endpoint for difficulty calibration.
    #[arg(long, requires = "solver_model")]
    solver_base_url: Option<String>,
    /// Solver model.
    #[arg(long, requires = "solver_base_url")]
    solver_model: Option<String>,
    /// Environment variable holding the solver's API key.
    #[arg(long, value_name = "VAR")]
    solver_api_key_env: Option<String>,
    /// Candidates and LLM requests in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Resume run RUN (its stored configuration is used; other options are ignored).
    #[arg(long, value_name = "RUN")]
    resume: Option<i64>,
    /// Repair rounds per candidate.
    #[arg(long, default_value_t = 2)]
    repair_rounds: u32,
    /// Tasks proposed per keyword.
    #[arg(long, default_value_t = 4)]
    tasks_per_keyword: usize,
    /// Most candidates to process (default 20 × target).
    #[arg(long, default_value_t = 0)]
    max_candidates: u64,
    /// Keyword file(s): one keyword per line, optionally `category: keyword`.
    #[arg(long = "keywords", value_name = "FILE")]
    keyword_files: Vec<PathBuf>,
    /// Example problems (blank-line separated, or JSONL with a string field
    /// per record) from which the LLM derives keywords.
    #[arg(long, value_name = "FILE")]
    derive_keywords: Option<PathBuf>,
    /// Do not use the built-in keyword taxonomy.
    #[arg(long)]
    no_builtin_keywords: bool,
    /// Seed environments (few-shot examples); default envs/python when present.
    #[arg(long, value_name = "DIR")]
    examples: Option<PathBuf>,
    /// Benchmark file(s) generated prompts must not overlap (decontamination).
    #[arg(long = "benchmark", value_name = "FILE")]
    benchmarks: Vec<PathBuf>,
    /// Seed for keyword order and few-shot choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Skip the LLM review.
    #[arg(long)]
    no_review: bool,
    /// Reviewer endpoint for the review and for judging disputed answers
    /// (default: the generator's). A model judging its own code is weak.
    #[arg(long)]
    review_base_url: Option<String>,
    /// Reviewer model (default: the generator model).
    #[arg(long)]
    review_model: Option<String>,
    /// Environment variable holding the reviewer's API key (default: the
    /// generator's).
    #[arg(long, value_name = "VAR")]
    review_api_key_env: Option<String>,
    /// Reviewer sampling temperature.
    #[arg(long, default_value_t = 0.0)]
    review_temperature: f64,
    /// Skip cross-verification.
    #[arg(long)]
    no_cross_verify: bool,
    /// Verifier disagreements without a majority (after a tie-breaking
    /// verifier and an LLM judge) an environment may keep; they are listed
    /// in its stored report.
    #[arg(long, default_value_t = 0)]
    cross_max_unresolved: usize,
    /// Solver samples per difficulty level.
    #[arg(long, default_value_t = 4)]
    calibration_samples: u32,
    /// Generation temperature.
    #[arg(long, default_value_t = 0.7)]
    temperature: f64,
    /// Generation max_tokens.
    #[arg(long, default_value_t = 8192)]
    max_tokens: u32,
    /// Seeds per difficulty in validation.
    #[arg(long, default_value_t = 12)]
    validation_seeds: u64,
    /// Per-call wall-clock limit of environment code, seconds.
    #[arg(long, default_value_t = 10)]
    call_timeout: u64,
    /// Retries of failed LLM calls (429/5xx/timeouts).
    #[arg(long, default_value_t = 5)]
    max_retries: u32,
    /// First retry backoff, milliseconds.
    #[arg(long, default_value_t = 500)]
    retry_base_ms: u64,
    /// Ask for proposals as schema-constrained JSON: `json-schema`
    /// (OpenAI, vLLM, SGLang, llama.cpp server) or `json-object`
    /// (llama-cpp-python's server). Helps small models; default none.
    #[arg(long, value_enum, default_value_t = Structured::None)]
    structured_proposals: Structured,
    /// Print the run summary as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// `--structured-proposals` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Structured {
    None,
    JsonSchema,
    JsonObject,
}

impl From<Structured> for StructuredOutput {
    fn from(s: Structured) -> Self {
        match s {
            Structured::None => StructuredOutput::None,
            Structured::JsonSchema => StructuredOutput::JsonSchema,
            Structured::JsonObject => StructuredOutput::JsonObject,
        }
    }
}

/// Run the command.
pub(crate) fn run(args: &Args, sources: &EnvSources) -> anyhow::Result<ExitCode> {
    let path = sources.store_path();
    let store =
        Arc::new(Store::open(&path).with_context(|| format!("opening store {}", path.display()))?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (run, cfg) = match args.resume {
        Some(id) => {
            let r = store.run(id)?;
            let cfg: SynthConfig =
                serde_json::from_value(r.config).context("stored run configuration")?;
            eprintln!("resuming run {id} ({})", r.status);
            (id, cfg)
        }
        None => {
            let cfg = config(args)?;
            let kws = rt.block_on(gather_keywords(args, &cfg))?;
            if kws.is_empty() {
                bail!("no keywords: give --keywords FILE or drop --no-builtin-keywords");
            }
            let run = resyn_synth::create_run(&store, &cfg, &kws)?;
            eprintln!(
                "run {run}: {} keywords, target {}, store {}",
                kws.len(),
                cfg.target,
                path.display()
            );
            (run, cfg)
        }
    };
    let mut sb = sources.sandbox_config()?;
    sb.limits.call_timeout = std::time::Duration::from_secs(args.call_timeout.max(1));
    let sandbox = resyn_sandbox::Sandbox::new(sb).context("starting the sandbox")?;
    let validator = Validator::new(sandbox, cfg.validation.clone());
    // Native environments: reserved names, told to proposals, deduplicated against.
    let natives: Vec<_> = resyn_envs::registry().iter().cloned().collect();
    let progress = Arc::new(Progress::new(cfg.target));
    let pipeline = Arc::new(Pipeline::new(
        store.clone(),
        run,
        validator,
        natives,
        progress.clone(),
    )?);
    let started = std::time::Instant::now();
    let result = rt.block_on(pipeline.clone().run());
    progress.finish();
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!(
                "run {run} stopped (resume with `resyn synth --resume {run}`)"
            )));
        }
    };
    eprint!("\n{}", summary_table(&summary, started.elapsed()));
    if args.json {
        println!("{}", summary_json(&summary));
    }
    Ok(ExitCode::SUCCESS)
}

fn config(args: &Args) -> anyhow::Result<SynthConfig> {
    let examples = args.examples.clone().or_else(|| {
        let d = PathBuf::from("envs/python");
        d.is_dir().then_some(d)
    });
    let canon = |p: &PathBuf| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
    Ok(SynthConfig {
        base_url: args.base_url.clone().unwrap_or_default(),
        model: args.model.clone().unwrap_or_default(),
        api_key_env: args.api_key_env.clone(),
        solver_base_url: args.solver_base_url.clone(),
        solver_model: args.solver_model.clone(),
        solver_api_key_env: args.solver_api_key_env.clone(),
        target: args.target,
        concurrency: args.concurrency.max(1),
        repair_rounds: args.repair_rounds,
        tasks_per_keyword: args.tasks_per_keyword.max(1),
        max_candidates: args.max_candidates,
        seed: args.seed,
        examples_dir: examples.as_ref().map(canon),
        temperature: Some(args.temperature),
        max_tokens: Some(args.max_tokens),
        review: !args.no_review,
        review_base_url: args.review_base_url.clone(),
        review_model: args.review_model.clone(),
        review_api_key_env: args.review_api_key_env.clone(),
        review_temperature: Some(args.review_temperature),
        cross_verify: !args.no_cross_verify,
        cross_max_unresolved: args.cross_max_unresolved,
        calibration_samples: args.calibration_samples.max(1),
        benchmark_files: args.benchmarks.iter().map(canon).collect(),
        validation: ValidationConfig {
            thresholds: Thresholds {
                seeds: args.validation_seeds.max(1),
                ..Thresholds::default()
            },
            ..ValidationConfig::default()
        },
        max_retries: args.max_retries,
        retry_base_ms: args.retry_base_ms,
        structured_proposals: args.structured_proposals.into(),
        ..SynthConfig::default()
    })
}

async fn gather_keywords(args: &Args, cfg: &SynthConfig) -> anyhow::Result<Vec<Keyword>> {
    let mut all = Vec::new();
    for f in &args.keyword_files {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("reading keyword file {}", f.display()))?;
        all.extend(
            keywords::parse_keyword_file(&text, resyn_core::Category::Logic)
                .with_context(|| f.display().to_string())?,
        );
    }
    if let Some(f) = &args.derive_keywords {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("reading example problems {}", f.display()))?;
        let examples = split_examples(&text);
        let mut b = resyn_llm::Client::builder(&cfg.base_url);
        if let Some(k) = &cfg.api_key_env {
            b = b.api_key_env(k);
        }
        let client = b.build()?;
        let req = resyn_llm::ChatRequest::new(&cfg.model, keywords::derive_prompt(&examples));
        let resp = client
            .chat(&req)
            .await
            .context("deriving keywords from example problems")?;
        let derived = keywords::parse_derived(resp.text());
        eprintln!(
            "derived {} keywords from {} example problems",
            derived.len(),
            examples.len()
        );
        all.extend(derived);
    }
    if !args.no_builtin_keywords {
        all.extend(keywords::builtin());
    }
    Ok(keywords::order(all, cfg.seed))
}

fn split_examples(text: &str) -> Vec<String> {
    let jsonl: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            v.as_object()?
                .values()
                .filter_map(|x| x.as_str())
                .max_by_key(|s| s.len())
                .map(str::to_string)
        })
        .collect();
    if !jsonl.is_empty() {
        return jsonl;
    }
    text.split("\n\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Progress bar plus per-stage counters.
struct Progress {
    bar: ProgressBar,
    counts: Mutex<Counts>,
    target: u64,
    tty: bool,
}

#[derive(Default)]
struct Counts {
    stages: BTreeMap<String, (u64, u64)>,
    accepted: u64,
    rejected: u64,
}

impl Progress {
    fn new(target: u64) -> Self {
        let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let bar = ProgressBar::with_draw_target(Some(target), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} accepted  {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        Self {
            bar,
            counts: Mutex::new(Counts::default()),
            target,
            tty,
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for Progress {
    fn event(&self, e: &Event) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let line = match e {
            Event::Stage { stage, passed, .. } => {
                let s = c.stages.entry(stage.clone()).or_default();
                if *passed {
                    s.0 += 1
                } else {
                    s.1 += 1
                }
                None
            }
            Event::Accepted { candidate, name } => {
                c.accepted += 1;
                self.bar.set_position(c.accepted.min(self.target));
                Some(format!("accepted  candidate {candidate}: {name}"))
            }
            Event::Rejected {
                candidate,
                stage,
                reason,
            } => {
                c.rejected += 1;
                Some(format!(
                    "rejected  candidate {candidate} at {stage}: {reason}"
                ))
            }
            Event::Proposed {
                keyword,
                candidates,
            } => Some(format!("proposed  {candidates} tasks for \"{keyword}\"")),
            Event::ProposalFailed { keyword, reason } => {
                Some(format!("proposal failed for \"{keyword}\": {reason}"))
            }
            _ => None,
        };
        let done = c.accepted + c.rejected;
        #[allow(clippy::cast_precision_loss)]
        let yield_pct = if done > 0 {
            100.0 * c.accepted as f64 / done as f64
        } else {
            0.0
        };
        let stages: Vec<String> = c
            .stages
            .iter()
            .map(|(s, (p, f))| format!("{s} {p}✓{f}✗"))
            .collect();
        self.bar
            .set_message(format!("yield {yield_pct:.0}%  {}", stages.join(" ")));
        if let Some(l) = line {
            if self.tty {
                self.bar.println(l);
            } else {
                eprintln!("{l}");
            }
        }
    }
}

/// The summary table printed on stderr after a run; `wall` is this
/// session's time.
fn summary_table(s: &Summary, wall: std::time::Duration) -> String {
    use std::fmt::Write as _;
    let mut t = String::new();
    let _ = writeln!(t, "run {}: summary", s.run_id);
    let _ = writeln!(t, "  {:<28} {:>8}", "candidates", s.candidates);
    let _ = writeln!(t, "  {:<28} {:>8}", "accepted", s.accepted);
    let _ = writeln!(t, "  {:<28} {:>8}", "rejected", s.rejected);
    if s.skipped > 0 {
        let _ = writeln!(t, "  {:<28} {:>8}", "skipped (target reached)", s.skipped);
    }
    if s.pending > 0 {
        let _ = writeln!(t, "  {:<28} {:>8}", "pending (resumable)", s.pending);
    }
    if s.candidates > 0 {
        #[allow(clippy::cast_precision_loss)]
        let y = 100.0 * s.accepted as f64 / s.candidates as f64;
        let _ = writeln!(t, "  {:<28} {:>7.1}%", "yield", y);
    }
    if s.uncalibrated > 0 {
        let _ = writeln!(
            t,
            "  {:<28} {:>8}  (no solver: left out of datasets unless include_uncalibrated)",
            "  of which uncalibrated", s.uncalibrated
        );
    }
    funnel(&mut t, s);
    let _ = writeln!(t, "  {:<28} {:>8}", "repair rounds", s.repairs);
    let _ = writeln!(t, "  {:<28} {:>8}", "keywords failed", s.keyword_failures);
    let _ = writeln!(
        t,
        "  {:<28} {:>8} ({} failed)",
        "LLM calls", s.llm_calls, s.llm_errors
    );
    let _ = writeln!(
        t,
        "  {:<28} {:>8} prompt + {} completion",
        "tokens", s.prompt_tokens, s.completion_tokens
    );
    let _ = writeln!(
        t,
        "  {:<28} {:>7.1}s (this session {:.1}s)",
        "wall time",
        s.wall_ms as f64 / 1000.0,
        wall.as_secs_f64()
    );
    if !s.failures.is_empty() {
        let _ = writeln!(t, "  rejections by stage and reason:");
        for (stage, reason, n) in &s.failures {
            let _ = writeln!(t, "    {:<14} {:<40} {:>6}", stage, reason, n);
        }
    }
    if !s.stage_failures.is_empty() {
        let _ = writeln!(t, "  stage failures (including repaired):");
        for (stage, n) in &s.stage_failures {
            let _ = writeln!(t, "    {:<14} {:>6}", stage, n);
        }
    }
    t
}

/// Candidates that passed each stage, in pipeline order (stages this run
/// did not have are left out), and how verifier disagreements ended.
fn funnel(t: &mut String, s: &Summary) {
    use std::fmt::Write as _;
    let passed = |stage: Stage| {
        s.passed_by_stage
            .iter()
            .find(|(name, _)| name == stage.as_str())
            .map(|(_, n)| *n)
    };
    let _ = writeln!(t, "  funnel (candidates that passed):");
    let _ = writeln!(t, "    {:<26} {:>8}", "proposed", s.candidates);
    for stage in Stage::FUNNEL {
        if let Some(n) = passed(stage) {
            let _ = writeln!(t, "    {:<26} {:>8}", stage.funnel_label(), n);
        }
    }
    let total: u64 = s.disagreements.iter().map(|(_, n)| n).sum();
    if total > 0 {
        let parts: Vec<String> = s
            .disagreements
            .iter()
            .map(|(how, n)| format!("{n} {how}"))
            .collect();
        let _ = writeln!(
            t,
            "  {:<28} {:>8}  ({})",
            "verifier disagreements",
            total,
            parts.join(", ")
        );
    }
}

fn summary_json(s: &Summary) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "{}".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> Summary {
        Summary {
            run_id: 3,
            candidates: 14,
            accepted: 5,
            rejected: 8,
            skipped: 1,
            pending: 0,
            failures: vec![
                ("validate".into(), "probes:accepted_empty".into(), 3),
                ("review".into(), "code_review".into(), 2),
            ],
            stage_failures: vec![("validate".into(), 6), ("review".into(), 2)],
            passed_by_stage: vec![
                ("extract".into(), 13),
                ("validate".into(), 9),
                ("dedup".into(), 8),
                ("review".into(), 6),
                ("cross_verify".into(), 5),
                ("store".into(), 5),
            ],
            disagreements: vec![("overruled".into(), 1), ("upheld".into(), 2)],
            uncalibrated: 5,
            keyword_failures: 1,
            repairs: 4,
            llm_calls: 41,
            llm_errors: 2,
            prompt_tokens: 52_000,
            completion_tokens: 18_500,
            wall_ms: 83_400,
        }
    }

    #[test]
    fn summary_table_text() {
        insta::assert_snapshot!(summary_table(
            &summary(),
            std::time::Duration::from_millis(12_300)
        ));
    }

    #[test]
    fn summary_table_of_an_empty_run_omits_yield_and_breakdowns() {
        let s = Summary {
            run_id: 1,
            ..Summary::default()
        };
        insta::assert_snapshot!(summary_table(&s, std::time::Duration::ZERO), @r"
        run 1: summary
          candidates                          0
          accepted                            0
          rejected                            0
          funnel (candidates that passed):
            proposed                          0
          repair rounds                       0
          keywords failed                     0
          LLM calls                           0 (0 failed)
          tokens                              0 prompt + 0 completion
          wall time                        0.0s (this session 0.0s)
        ");
    }

    #[test]
    fn summary_json_fields() {
        let v: serde_json::Value = serde_json::from_str(&summary_json(&summary())).unwrap();
        insta::assert_json_snapshot!(v);
    }
}
