//! `resyn audit`: re-score real model responses with every verifier an
//! environment has and report where they disagree.
//!
//! Inputs: JSONL files of responses (rows naming an instance by `id`, via
//! `--instances`, or carrying a dataset row's ground-truth string; verl
//! rollout dumps read as they are), and an evaluation report whose
//! completions come from its cache. The work is `resyn_audit`'s; this
//! command turns inputs into [`resyn_audit::Response`]s and prints the
//! report: a table, or JSON with `--json`. Exit 1 when an environment
//! fails, 2 on usage or input errors (naming the file and line).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use resyn_audit::{Options, Response};
use resyn_core::{GroundTruth, Instance, Registry};
use resyn_eval::{Cache, Report};
use serde::Deserialize;

use crate::registry::EnvSources;

/// Arguments of `resyn audit`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).multiple(true)
    .args(["responses", "eval"])))]
pub(crate) struct Args {
    /// JSONL files of responses (one or more, repeatable): `{"id", "response"}` rows (ids
    /// resolved through --instances) or `{"ground_truth", "response"}` rows
    /// (a dataset row's `reward_model.ground_truth` / `label` string); verl
    /// rollout dumps (`output`, `gts`) and a `label` column are read too.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    responses: Vec<PathBuf>,
    /// Instances (`resyn generate` output) resolving the ids of responses.
    #[arg(long, value_name = "FILE")]
    instances: Option<PathBuf>,
    /// An evaluation report (`resyn eval run -o`); its environment
    /// completions are read from its cache.
    #[arg(long, value_name = "REPORT")]
    eval: Option<PathBuf>,
    /// The report's completion cache [default: beside the report, as
    /// `resyn eval run` writes it].
    #[arg(long, value_name = "FILE", requires = "eval")]
    eval_cache: Option<PathBuf>,
    /// Fail (exit 1) when an environment's disagreement rate exceeds this.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    max_disagreement: f64,
    /// Examples shown per environment.
    #[arg(long, default_value_t = 3)]
    examples: usize,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// One row of a responses file. Other fields (a rollout dump's `input`,
/// `score`, `step`, reward extras) are ignored.
#[derive(Deserialize)]
struct Row {
    #[serde(default)]
    id: Option<String>,
    #[serde(default, alias = "gts", alias = "label")]
    ground_truth: Option<String>,
    #[serde(alias = "output")]
    response: String,
}

/// Run the command.
pub(crate) fn run(args: &Args, sources: &EnvSources) -> anyhow::Result<ExitCode> {
    let loaded = sources.loaded()?;
    let instances = match &args.instances {
        Some(p) => Some((p.as_path(), crate::instances::read(p, &loaded.registry)?)),
        None => None,
    };
    let mut responses = Vec::new();
    for path in &args.responses {
        for (line, row) in crate::jsonl::read::<Row>(path)? {
            let at = format!("{}:{line}", path.display());
            let instance = resolve(&row, &at, instances.as_ref())?;
            responses.push(Response {
                instance,
                response: row.response,
                origin: at,
            });
        }
    }
    if let Some(report) = &args.eval {
        responses.extend(eval_responses(
            report,
            args.eval_cache.as_deref(),
            &loaded.registry,
        )?);
    }
    if responses.is_empty() {
        bail!("no responses to audit");
    }
    let options = Options {
        max_disagreement: args.max_disagreement,
        examples: args.examples,
    };
    eprintln!("auditing {} responses", responses.len());
    let report = resyn_audit::audit(&loaded, &responses, &options)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(report.table().as_bytes())?;
    }
    out.flush()?;
    Ok(if report.failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The instance a row answers: from its ground truth (verifier mode carries
/// the instance), else its id looked up in the instances file.
fn resolve(
    row: &Row,
    at: &str,
    instances: Option<&(&Path, HashMap<String, Instance>)>,
) -> anyhow::Result<Instance> {
    let lookup = |id: &str, why: &str| -> anyhow::Result<Instance> {
        let Some((file, map)) = instances else {
            bail!(
                "{at}: {why}; pass --instances FILE (the `resyn generate` output) to resolve instance `{id}`"
            );
        };
        map.get(id).cloned().with_context(|| {
            format!(
                "{at}: unknown instance id `{id}` (not in {})",
                file.display()
            )
        })
    };
    match (&row.ground_truth, &row.id) {
        (Some(text), id) => {
            let truth = GroundTruth::from_json(text)
                .with_context(|| format!("{at}: ground_truth is not a resyn ground truth"))?;
            if let Some(id) = id.as_deref().filter(|id| *id != truth.id()) {
                bail!(
                    "{at}: `id` {id} and the ground truth's id {} differ",
                    truth.id()
                );
            }
            match truth.into_instance() {
                Ok(instance) => Ok(instance),
                Err(other) => lookup(
                    other.id(),
                    &format!("a `{}` ground truth carries no instance data", other.mode()),
                ),
            }
        }
        (None, Some(id)) => lookup(id, "the row names its instance by id"),
        (None, None) => bail!("{at}: a row needs `id` or `ground_truth` (verl: `gts`)"),
    }
}

/// The environment completions of an evaluation report, from its cache
/// (else the responses the report kept).
fn eval_responses(
    path: &Path,
    cache: Option<&Path>,
    registry: &Registry,
) -> anyhow::Result<Vec<Response>> {
    let report = Report::read(path)?;
    let cache_path = cache.map_or_else(|| crate::cmd::eval::default_cache(path), Path::to_path_buf);
    let cache = if cache.is_some() || cache_path.exists() {
        let c = Cache::read(&cache_path)?;
        let load = c.load_stats();
        if load.torn_bytes > 0 || load.skipped_lines > 0 {
            eprintln!(
                "cache {}: ignored a torn last line ({} bytes) and {} unreadable lines",
                cache_path.display(),
                load.torn_bytes,
                load.skipped_lines
            );
        }
        c
    } else {
        eprintln!(
            "no cache at {} (pass --eval-cache): using the responses the report kept",
            cache_path.display()
        );
        Cache::in_memory()
    };
    let found = resyn_eval::env_completions(&report, path, registry, &cache)?;
    if found.benchmark_items > 0 {
        eprintln!(
            "{}: {} benchmark items left out (no environment verifier)",
            path.display(),
            found.benchmark_items
        );
    }
    if found.missing > 0 {
        eprintln!(
            "warning: {}: {} scored samples have no completion in {} or the report; left out",
            path.display(),
            found.missing,
            cache_path.display()
        );
    }
    Ok(found
        .completions
        .into_iter()
        .map(|c| Response {
            origin: format!(
                "{}: item {} sample {}",
                path.display(),
                c.instance.id,
                c.sample
            ),
            instance: c.instance,
            response: c.text,
        })
        .collect())
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("`{s}` is not a rate from 0 to 1")),
    }
}
