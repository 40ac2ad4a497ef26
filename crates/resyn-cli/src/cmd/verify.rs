//! `resyn verify`: score responses against instances.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use resyn_core::{Instance, ReasonCode, Verdict};
use serde::{Deserialize, Serialize};

use crate::output::Output;
use crate::registry::EnvSources;

/// Arguments of `resyn verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// JSONL file of instances (as written by `resyn generate`).
    #[arg(long)]
    instances: PathBuf,
    /// JSONL file of `{"id": ..., "response": "..."}` lines.
    #[arg(long)]
    responses: PathBuf,
    /// Output file (written atomically); stdout when absent.
    #[arg(long, short = 'o')]
    out: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Response {
    id: String,
    response: String,
}

/// One output line.
#[derive(Serialize)]
struct Scored<'a> {
    id: &'a str,
    #[serde(flatten)]
    verdict: &'a Verdict,
}

/// Run the command.
pub(crate) fn run(args: &Args, sources: &EnvSources) -> anyhow::Result<ExitCode> {
    let registry = sources.registry()?;
    let instances = crate::instances::read(&args.instances, &registry)?;
    let responses = crate::jsonl::read::<Response>(&args.responses)?;
    for (line, r) in &responses {
        if !instances.contains_key(&r.id) {
            bail!(
                "{}:{line}: unknown instance id `{}` (not in {})",
                args.responses.display(),
                r.id,
                args.instances.display()
            );
        }
    }
    // Group by environment so sandboxed backends can batch, then spread the
    // pieces of every environment over all cores at once (a batch mixing
    // hundreds of Python environments keeps every core busy); keep output
    // order.
    let mut by_env: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (k, (_, r)) in responses.iter().enumerate() {
        by_env.entry(&instances[&r.id].env).or_default().push(k);
    }
    let mut pieces: Vec<(&str, &[usize])> = Vec::new();
    for (env_id, idx) in &by_env {
        pieces.extend(idx.chunks(256).map(|c| (*env_id, c)));
    }
    // Sandboxed environments work in their workers: more threads than
    // cores keep the cores busy while some threads wait for a worker.
    let threads = resyn_core::parallel::threads_for(
        by_env
            .keys()
            .filter_map(|id| registry.get(id).ok())
            .map(|e| e.as_ref()),
    );
    let results = resyn_core::parallel::map(&pieces, threads, |&(env_id, batch)| {
        let items: Vec<(&Instance, &str)> = batch
            .iter()
            .map(|&k| {
                (
                    &instances[&responses[k].1.id],
                    responses[k].1.response.as_str(),
                )
            })
            .collect();
        // Every environment was looked up when the instances were read.
        registry.get(env_id).map(|env| env.verify_batch(&items))
    });
    let mut verdicts: Vec<Option<Verdict>> = vec![None; responses.len()];
    for ((env_id, batch), vs) in pieces.iter().zip(results) {
        for (&k, v) in batch.iter().zip(vs?) {
            // The machine could not run it: no verdict to write (scoring it 0
            // would pass for the response's fault).
            if v.reason == ReasonCode::Unavailable {
                bail!(
                    "environment `{env_id}` cannot run on this machine: {}",
                    v.detail
                );
            }
            verdicts[k] = Some(v);
        }
    }
    let mut out = Output::open(args.out.as_deref())?;
    let mut summary = Summary::default();
    for ((_, r), v) in responses.iter().zip(&verdicts) {
        let v = v.as_ref().context("internal: response left unverified")?;
        summary.add(v);
        serde_json::to_writer(
            &mut out,
            &Scored {
                id: &r.id,
                verdict: v,
            },
        )?;
        out.write_all(b"\n")?;
    }
    out.finish()?;
    eprintln!("{summary}");
    Ok(ExitCode::SUCCESS)
}

#[derive(Default)]
struct Summary {
    n: usize,
    correct: usize,
    reward: f64,
    reasons: BTreeMap<&'static str, usize>,
}

impl Summary {
    fn add(&mut self, v: &Verdict) {
        self.n += 1;
        self.correct += usize::from(v.correct);
        self.reward += v.reward;
        *self.reasons.entry(v.reason.as_str()).or_default() += 1;
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mean = if self.n == 0 {
            0.0
        } else {
            self.reward / self.n as f64
        };
        write!(
            f,
            "verified {}: {} correct, mean reward {mean:.4}",
            self.n, self.correct
        )?;
        let parts: Vec<String> = self
            .reasons
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !parts.is_empty() {
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}
