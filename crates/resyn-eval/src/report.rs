//! The JSON report: configuration, per-item results, aggregates, usage and
//! timings, and its plain-text summary table.
//!
//! Aggregates (per suite, per group, per difficulty):
//! - `mean`: mean@k, the mean over items of the fraction of an item's k
//!   samples that are correct (the paper's BBH/GSM8K/AIME numbers). For a
//!   suite, `mean` pools all items (micro average); `macro_mean` averages
//!   the groups' means (BBH's "average over subtasks").
//! - `ci`: 95 % Wilson interval over all scored samples (see [`crate::stats`]).
//! - `pass_at_k`: unbiased pass@k for k = 1, 2, 4, ... and k = samples, over
//!   items with at least k scored samples.
//! - Samples that failed or were not requested are left out of every
//!   aggregate and counted in `unscored`; `complete` is false when any exist.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::runner::{Fetched, Outcome, RunConfig};
use crate::stats::{Z95, ks_for, pass_at_k, wilson};
use crate::{EvalItem, Scored};

/// Format tag written in every report.
pub const REPORT_FORMAT: &str = "resyn-eval-report/1";

/// A complete evaluation report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`REPORT_FORMAT`].
    pub format: String,
    /// What was run.
    pub config: ReportConfig,
    /// Every sample of every item was scored.
    pub complete: bool,
    /// Calls, cache hits and tokens.
    pub usage: UsageSummary,
    /// Wall times and latencies.
    pub timings: Timings,
    /// Aggregates by suite.
    pub suites: Vec<SuiteSummary>,
    /// Per-item results.
    pub items: Vec<ItemResult>,
}

/// Configuration recorded in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportConfig {
    /// Endpoint base URL.
    pub base_url: String,
    /// Run settings (model, sampling, samples).
    #[serde(flatten)]
    pub run: RunConfig,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Human-readable description of each target (`envs: ...`, `bbh: path`).
    pub targets: Vec<String>,
    /// Unix time the run started.
    pub started_at_unix: u64,
    /// resyn version.
    pub resyn_version: String,
}

/// Calls and tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageSummary {
    /// Unique requests the evaluation needs.
    pub requests: u64,
    /// Answered from the cache.
    pub cached: u64,
    /// New calls this run that returned.
    pub new_calls: u64,
    /// New calls that failed after retries.
    pub failed: u64,
    /// Requests not made (budget or interruption).
    pub not_run: u64,
    /// HTTP attempts this run, retries included.
    pub http_attempts: u64,
    /// Retries this run.
    pub retries: u64,
    /// Prompt tokens of all completions used (cached ones included).
    pub prompt_tokens: u64,
    /// Completion tokens of all completions used (cached ones included).
    pub completion_tokens: u64,
    /// Completion tokens of new calls only.
    pub new_completion_tokens: u64,
}

/// Timings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Whole run, seconds.
    pub wall_s: f64,
    /// Fetching completions, seconds.
    pub fetch_s: f64,
    /// Scoring, seconds.
    pub score_s: f64,
    /// New calls per second of fetching.
    pub calls_per_s: f64,
    /// Latency of new calls, ms.
    pub latency_ms: Percentiles,
}

/// Latency percentiles (0 when there were no new calls).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

impl Percentiles {
    /// Percentiles of `values` (nearest rank).
    pub fn of(values: &[f64]) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Self {
            mean: v.iter().sum::<f64>() / v.len() as f64,
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            max: v[v.len() - 1],
        }
    }
}

/// Aggregate statistics of a set of items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Items with at least one scored sample.
    pub items: u64,
    /// Scored samples.
    pub samples: u64,
    /// Correct samples.
    pub correct: u64,
    /// mean@k (see the module docs).
    pub mean: f64,
    /// Mean reward (differs from `mean` only with partial credit).
    pub mean_reward: f64,
    /// 95 % Wilson interval over samples.
    pub ci: (f64, f64),
    /// Unbiased pass@k by k (JSON object keyed by k as a string).
    #[serde(with = "k_map")]
    pub pass_at_k: BTreeMap<u64, f64>,
    /// Samples with no answer found.
    pub no_answer: u64,
    /// Samples cut by the token limit (`finish_reason: length`).
    pub truncated: u64,
    /// Samples not scored (failed or not requested).
    pub unscored: u64,
}

/// `BTreeMap<u64, f64>` as a JSON object with string keys. serde_json does
/// this by itself, but not inside `#[serde(flatten)]`, which these stats use.
mod k_map {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(super) fn serialize<S: Serializer>(
        m: &BTreeMap<u64, f64>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(m.iter().map(|(k, v)| (k.to_string(), v)))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<u64, f64>, D::Error> {
        BTreeMap::<String, f64>::deserialize(d)?
            .into_iter()
            .map(|(k, v)| {
                Ok((
                    k.parse().map_err(|_| {
                        D::Error::custom(format!("pass_at_k key `{k}` is not an integer"))
                    })?,
                    v,
                ))
            })
            .collect()
    }
}

/// One difficulty level of one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelSummary {
    /// Level.
    pub difficulty: u8,
    /// Statistics.
    #[serde(flatten)]
    pub stats: Stats,
}

/// One environment or subtask.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    /// Environment id or subtask.
    pub name: String,
    /// Statistics.
    #[serde(flatten)]
    pub stats: Stats,
    /// By difficulty (environments only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_difficulty: Vec<LevelSummary>,
}

/// One suite (`envs` or a benchmark).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteSummary {
    /// Suite name.
    pub suite: String,
    /// Pooled statistics.
    #[serde(flatten)]
    pub stats: Stats,
    /// Mean of the groups' means.
    pub macro_mean: f64,
    /// Groups in name order.
    pub groups: Vec<GroupSummary>,
}

/// One item's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemResult {
    /// Item id.
    pub id: String,
    /// Suite.
    pub suite: String,
    /// Group.
    pub group: String,
    /// Difficulty (environments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difficulty: Option<u8>,
    /// Instance seed (environments): with the group and difficulty it
    /// regenerates the instance, so its completions can be scored again
    /// (`resyn audit`). Absent from reports written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Reference answer (benchmarks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// Fraction of scored samples correct.
    pub mean: f64,
    /// Samples.
    pub samples: Vec<SampleResult>,
}

/// One sample's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleResult {
    /// Sample index.
    pub index: u32,
    /// Scored (false when the request failed or was not made).
    pub scored: bool,
    /// Full marks.
    pub correct: bool,
    /// Reward.
    pub reward: f64,
    /// `ok`, `wrong`, `no_answer`, ... or `request_failed` / `not_run`.
    pub reason: String,
    /// Extracted answer (benchmarks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extracted: Option<String>,
    /// Finish reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// From the cache.
    pub cached: bool,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Latency of the call that produced it, ms.
    pub latency_ms: f64,
    /// The request error, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The response text (only with `include_responses`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
}

/// Score every fetched completion into per-item results.
///
/// Environment responses are verified with [`resyn_core::Environment::verify_batch`]
/// in chunks of [`VERIFY_CHUNK`] per environment (sandboxed backends pay a
/// per-call overhead), chunks spread over all cores; benchmark responses are
/// matched in place.
pub(crate) fn score_items(
    items: &[EvalItem],
    fetched: &Fetched,
    include_responses: bool,
) -> Vec<ItemResult> {
    let mut verdicts = verify_env_samples(items, fetched);
    items
        .iter()
        .zip(&fetched.outcomes)
        .enumerate()
        .map(|(i, (item, outcomes))| {
            let samples: Vec<SampleResult> = outcomes
                .iter()
                .enumerate()
                .map(|(s, o)| {
                    let pre = verdicts.remove(&(i, s));
                    sample_result(item, s as u32, o, include_responses, pre)
                })
                .collect();
            let scored: Vec<_> = samples.iter().filter(|s| s.scored).collect();
            let mean = if scored.is_empty() {
                0.0
            } else {
                scored.iter().filter(|s| s.correct).count() as f64 / scored.len() as f64
            };
            ItemResult {
                id: item.id.clone(),
                suite: item.suite.clone(),
                group: item.group.clone(),
                difficulty: item.difficulty,
                seed: item.seed(),
                expected: item.expected().map(str::to_string),
                mean,
                samples,
            }
        })
        .collect()
}

/// Responses per `verify_batch` call.
pub const VERIFY_CHUNK: usize = 64;

/// Verdicts of every completed environment sample, by (item, sample).
fn verify_env_samples(
    items: &[EvalItem],
    fetched: &Fetched,
) -> std::collections::HashMap<(usize, usize), Scored> {
    use crate::Target;
    let mut by_env: BTreeMap<&str, Vec<(usize, usize)>> = BTreeMap::new();
    for (i, (item, outcomes)) in items.iter().zip(&fetched.outcomes).enumerate() {
        if let Target::Env { .. } = item.target {
            for (s, o) in outcomes.iter().enumerate() {
                if matches!(o, Outcome::Done { .. }) {
                    by_env.entry(item.group.as_str()).or_default().push((i, s));
                }
            }
        }
    }
    let chunks: Vec<&[(usize, usize)]> = by_env
        .values()
        .flat_map(|jobs| jobs.chunks(VERIFY_CHUNK))
        .collect();
    let run_chunk = |chunk: &[(usize, usize)]| -> Vec<((usize, usize), Scored)> {
        let Target::Env { env, .. } = &items[chunk[0].0].target else {
            return Vec::new();
        };
        let pairs: Vec<(&resyn_core::Instance, &str)> = chunk
            .iter()
            .filter_map(
                |&(i, s)| match (&items[i].target, &fetched.outcomes[i][s]) {
                    (Target::Env { instance, .. }, Outcome::Done { record, .. }) => {
                        Some((instance.as_ref(), record.text.as_str()))
                    }
                    _ => None,
                },
            )
            .collect();
        chunk
            .iter()
            .copied()
            .zip(
                env.verify_batch(&pairs)
                    .into_iter()
                    .map(crate::item::from_verdict),
            )
            .collect()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads <= 1 || chunks.len() <= 1 {
        return chunks.into_iter().flat_map(run_chunk).collect();
    }
    let per = chunks.len().div_ceil(threads);
    std::thread::scope(|sc| {
        let handles: Vec<_> = chunks
            .chunks(per)
            .map(|group| sc.spawn(|| group.iter().flat_map(|c| run_chunk(c)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            // A panicking verifier is a bug; propagate it.
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

fn sample_result(
    item: &EvalItem,
    index: u32,
    o: &Outcome,
    with_text: bool,
    verdict: Option<Scored>,
) -> SampleResult {
    let blank = |reason: &str, error: Option<String>| SampleResult {
        index,
        scored: false,
        correct: false,
        reward: 0.0,
        reason: reason.into(),
        extracted: None,
        finish_reason: None,
        cached: false,
        prompt_tokens: 0,
        completion_tokens: 0,
        latency_ms: 0.0,
        error,
        response: None,
    };
    match o {
        Outcome::Failed(e) => blank("request_failed", Some(e.clone())),
        Outcome::NotRun => blank("not_run", None),
        Outcome::Done { record, cached } => {
            let Scored {
                reward,
                correct,
                reason,
                extracted,
                unavailable,
            } = verdict.unwrap_or_else(|| item.score(&record.text));
            SampleResult {
                index,
                // An environment that could not run judged nothing: not
                // scored (the report is incomplete), as a failed request.
                scored: unavailable.is_none(),
                correct,
                reward,
                reason,
                extracted,
                finish_reason: record.finish_reason.clone(),
                cached: *cached,
                prompt_tokens: record.prompt_tokens,
                completion_tokens: record.completion_tokens,
                latency_ms: record.latency_ms,
                error: unavailable,
                response: with_text.then(|| record.text.clone()),
            }
        }
    }
}

/// Aggregate statistics of `items`.
pub(crate) fn stats_of<'a>(items: impl IntoIterator<Item = &'a ItemResult>) -> Stats {
    let mut st = Stats {
        items: 0,
        samples: 0,
        correct: 0,
        mean: 0.0,
        mean_reward: 0.0,
        ci: (0.0, 1.0),
        pass_at_k: BTreeMap::new(),
        no_answer: 0,
        truncated: 0,
        unscored: 0,
    };
    let (mut mean_sum, mut reward_sum) = (0.0, 0.0);
    let mut per_item: Vec<(u64, u64)> = Vec::new();
    let mut max_n = 0;
    for it in items {
        let scored: Vec<&SampleResult> = it.samples.iter().filter(|s| s.scored).collect();
        st.unscored += (it.samples.len() - scored.len()) as u64;
        if scored.is_empty() {
            continue;
        }
        let n = scored.len() as u64;
        let c = scored.iter().filter(|s| s.correct).count() as u64;
        st.items += 1;
        st.samples += n;
        st.correct += c;
        st.no_answer += scored.iter().filter(|s| s.reason == "no_answer").count() as u64;
        st.truncated += scored
            .iter()
            .filter(|s| s.finish_reason.as_deref() == Some("length"))
            .count() as u64;
        mean_sum += c as f64 / n as f64;
        reward_sum += scored.iter().map(|s| s.reward).sum::<f64>() / n as f64;
        per_item.push((n, c));
        max_n = max_n.max(n);
    }
    if st.items > 0 {
        st.mean = mean_sum / st.items as f64;
        st.mean_reward = reward_sum / st.items as f64;
        st.ci = wilson(st.correct, st.samples, Z95);
        for k in ks_for(max_n) {
            let eligible: Vec<_> = per_item.iter().filter(|(n, _)| *n >= k).collect();
            if !eligible.is_empty() {
                let sum: f64 = eligible.iter().map(|(n, c)| pass_at_k(*n, *c, k)).sum();
                st.pass_at_k.insert(k, sum / eligible.len() as f64);
            }
        }
    }
    st
}

/// Suites and groups in name order (`envs` first), with difficulty curves.
pub(crate) fn summarize(items: &[ItemResult]) -> Vec<SuiteSummary> {
    let mut suites: BTreeMap<(bool, &str), BTreeMap<&str, Vec<&ItemResult>>> = BTreeMap::new();
    for it in items {
        suites
            .entry((it.suite != crate::item::ENVS_SUITE, it.suite.as_str()))
            .or_default()
            .entry(it.group.as_str())
            .or_default()
            .push(it);
    }
    suites
        .into_iter()
        .map(|((_, suite), groups)| {
            let groups: Vec<GroupSummary> = groups
                .into_iter()
                .map(|(name, its)| {
                    let mut levels: BTreeMap<u8, Vec<&ItemResult>> = BTreeMap::new();
                    for it in &its {
                        if let Some(d) = it.difficulty {
                            levels.entry(d).or_default().push(it);
                        }
                    }
                    GroupSummary {
                        name: name.to_string(),
                        stats: stats_of(its.iter().copied()),
                        by_difficulty: levels
                            .into_iter()
                            .map(|(difficulty, its)| LevelSummary {
                                difficulty,
                                stats: stats_of(its),
                            })
                            .collect(),
                    }
                })
                .collect();
            let scored_groups: Vec<_> = groups.iter().filter(|g| g.stats.items > 0).collect();
            let macro_mean = if scored_groups.is_empty() {
                0.0
            } else {
                scored_groups.iter().map(|g| g.stats.mean).sum::<f64>() / scored_groups.len() as f64
            };
            SuiteSummary {
                suite: suite.to_string(),
                stats: stats_of(items.iter().filter(|i| i.suite == suite)),
                macro_mean,
                groups,
            }
        })
        .collect()
}

impl Report {
    /// Parse a report written by [`Report::to_json`].
    ///
    /// # Errors
    /// [`crate::Error::Format`] when the text is not a report.
    pub fn from_json(path: &std::path::Path, text: &str) -> crate::Result<Self> {
        let r: Report = serde_json::from_str(text)
            .map_err(|e| crate::Error::format(path, Some(e.line()), e.to_string()))?;
        if r.format != REPORT_FORMAT {
            return Err(crate::Error::format(
                path,
                None,
                format!("not a {REPORT_FORMAT} report (format `{}`)", r.format),
            ));
        }
        Ok(r)
    }

    /// Read a report file.
    ///
    /// # Errors
    /// [`crate::Error::Io`] or [`crate::Error::Format`].
    pub fn read(path: &std::path::Path) -> crate::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| crate::Error::io(path, e))?;
        Self::from_json(path, &text)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialization cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Write atomically (temporary file + rename).
    ///
    /// # Errors
    /// [`crate::Error::Io`].
    pub fn write(&self, path: &std::path::Path) -> crate::Result<()> {
        let mut text = self.to_json();
        text.push('\n');
        resyn_core::write_atomic(path, text.as_bytes()).map_err(|e| crate::Error::io(path, e))
    }

    /// A readable summary table (one row per suite and group; environments
    /// also show their solve rate per difficulty).
    pub fn summary_table(&self) -> String {
        use std::fmt::Write;
        let k = self.config.run.samples;
        let mut out = String::new();
        let name_w = self
            .suites
            .iter()
            .flat_map(|s| s.groups.iter().map(|g| g.name.len() + 2))
            .chain(self.suites.iter().map(|s| s.suite.len() + 8))
            .max()
            .unwrap_or(10)
            .max(10);
        let _ = writeln!(
            out,
            "{:name_w$}  {:>6}  {:>7}  {:>7}  {:>15}  {:>7}  {:>7}",
            "SUITE / GROUP",
            "ITEMS",
            "SAMPLES",
            format!("MEAN@{k}"),
            "95% CI",
            "PASS@1",
            format!("PASS@{k}")
        );
        let row = |out: &mut String, name: &str, st: &Stats| {
            let pass = |kk: u64| {
                st.pass_at_k
                    .get(&kk)
                    .map_or("-".to_string(), |p| format!("{:.2}", p * 100.0))
            };
            let _ = writeln!(
                out,
                "{:name_w$}  {:>6}  {:>7}  {:>7.2}  {:>15}  {:>7}  {:>7}",
                name,
                st.items,
                st.samples,
                st.mean * 100.0,
                format!("[{:.1}, {:.1}]", st.ci.0 * 100.0, st.ci.1 * 100.0),
                pass(1),
                pass(u64::from(k)),
            );
        };
        for s in &self.suites {
            row(&mut out, &s.suite, &s.stats);
            if s.groups.len() > 1 {
                let _ = writeln!(
                    out,
                    "{:name_w$}  {:>6}  {:>7}  {:>7.2}",
                    format!("{} (macro)", s.suite),
                    s.groups.len(),
                    "",
                    s.macro_mean * 100.0
                );
            }
            if s.groups.len() > 1 || s.groups.first().is_some_and(|g| g.name != s.suite) {
                for g in &s.groups {
                    row(&mut out, &format!("  {}", g.name), &g.stats);
                    if !g.by_difficulty.is_empty() {
                        let curve: Vec<String> = g
                            .by_difficulty
                            .iter()
                            .map(|l| format!("{}:{:.0}", l.difficulty, l.stats.mean * 100.0))
                            .collect();
                        let _ = writeln!(
                            out,
                            "{:name_w$}  solve % by difficulty  {}",
                            "",
                            curve.join(" ")
                        );
                    }
                }
            }
        }
        let u = &self.usage;
        let _ = writeln!(
            out,
            "requests {} (cached {}, new {}, failed {}, not run {}); tokens {} prompt + {} completion; {:.1} s, {:.1} calls/s, latency p50 {:.0} ms p99 {:.0} ms{}",
            u.requests,
            u.cached,
            u.new_calls,
            u.failed,
            u.not_run,
            u.prompt_tokens,
            u.completion_tokens,
            self.timings.wall_s,
            self.timings.calls_per_s,
            self.timings.latency_ms.p50,
            self.timings.latency_ms.p99,
            if self.complete { "" } else { "; INCOMPLETE" }
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, group: &str, d: Option<u8>, results: &[Option<bool>]) -> ItemResult {
        ItemResult {
            id: id.into(),
            suite: if d.is_some() { "envs" } else { "bbh" }.into(),
            group: group.into(),
            difficulty: d,
            seed: d.map(|_| 0),
            expected: None,
            mean: 0.0,
            samples: results
                .iter()
                .enumerate()
                .map(|(i, r)| SampleResult {
                    index: i as u32,
                    scored: r.is_some(),
                    correct: *r == Some(true),
                    reward: f64::from(u8::from(*r == Some(true))),
                    reason: match r {
                        Some(true) => "ok",
                        Some(false) => "wrong",
                        None => "not_run",
                    }
                    .into(),
                    extracted: None,
                    finish_reason: None,
                    cached: false,
                    prompt_tokens: 0,
                    completion_tokens: 0,
                    latency_ms: 0.0,
                    error: None,
                    response: None,
                })
                .collect(),
        }
    }

    /// An incomplete report of `model` over `items` (`samples` per item).
    fn report(model: &str, samples: u32, items: Vec<ItemResult>) -> Report {
        Report {
            format: REPORT_FORMAT.into(),
            config: ReportConfig {
                base_url: "http://127.0.0.1:1/v1".into(),
                run: RunConfig {
                    model: model.into(),
                    system: None,
                    sampling: crate::Sampling::default(),
                    samples,
                    max_calls: None,
                },
                concurrency: 4,
                targets: vec![],
                started_at_unix: 0,
                resyn_version: "0".into(),
            },
            complete: false,
            usage: UsageSummary::default(),
            timings: Timings::default(),
            suites: summarize(&items),
            items,
        }
    }

    /// Two BBH groups and an environment at two difficulties; `flip` turns
    /// some answers right, as a trained model would.
    fn table_items(flip: bool) -> Vec<ItemResult> {
        let ok = |b: bool| Some(b);
        vec![
            item("b1", "date_understanding", None, &[ok(true), ok(false)]),
            item("b2", "date_understanding", None, &[ok(flip), ok(false)]),
            item("b3", "navigate", None, &[ok(false), None]),
            item("e1", "tower_of_hanoi", Some(1), &[ok(true), ok(true)]),
            item("e2", "tower_of_hanoi", Some(2), &[ok(flip), ok(false)]),
            item("e3", "tower_of_hanoi", Some(2), &[ok(false), ok(flip)]),
        ]
    }

    /// The table `resyn eval run` prints.
    #[test]
    fn summary_table_text() {
        insta::assert_snapshot!(report("base", 2, table_items(false)).summary_table());
    }

    /// The table `resyn eval compare` prints.
    #[test]
    fn comparison_table_text() {
        let a = report("base", 2, table_items(false));
        let b = report("trained", 2, table_items(true));
        insta::assert_snapshot!(crate::compare::compare(&a, &b).table());
    }

    /// A completion of an environment that could not run on this machine
    /// (verdict `unavailable`) is not scored, as a failed request: never a 0.
    #[test]
    fn an_unavailable_environment_leaves_the_sample_unscored() {
        use crate::bench::{BenchItem, Benchmark, Matcher};
        let item = EvalItem::from_bench(BenchItem {
            id: "gsm8k/0".into(),
            benchmark: Benchmark::Gsm8k,
            subtask: "gsm8k".into(),
            question: "1 + 1?".into(),
            target: "2".into(),
            matcher: Matcher::Numeric,
        });
        let done = Outcome::Done {
            record: crate::CacheRecord {
                key: "k".into(),
                model: "m".into(),
                sample: 0,
                text: "<answer>2</answer>".into(),
                finish_reason: None,
                refusal: None,
                prompt_tokens: 3,
                completion_tokens: 4,
                latency_ms: 1.0,
            },
            cached: true,
        };
        let verdict = resyn_core::Verdict::zero(
            resyn_core::ReasonCode::Unavailable,
            "the sandbox could not start",
        );
        let s = sample_result(
            &item,
            0,
            &done,
            false,
            Some(crate::item::from_verdict(verdict)),
        );
        assert!(!s.scored, "{s:?}");
        assert_eq!(s.reason, "unavailable");
        assert_eq!(s.error.as_deref(), Some("the sandbox could not start"));
        assert_eq!(s.completion_tokens, 4, "the completion itself is kept");
        // An ordinary verdict is scored.
        let wrong = resyn_core::Verdict::zero(resyn_core::ReasonCode::Wrong, "no");
        let s = sample_result(
            &item,
            0,
            &done,
            false,
            Some(crate::item::from_verdict(wrong)),
        );
        assert!(s.scored && s.error.is_none(), "{s:?}");
    }

    #[test]
    fn mean_at_k_pass_at_k_and_unscored() {
        let items = [
            item(
                "a",
                "x",
                None,
                &[Some(true), Some(false), Some(false), Some(false)],
            ),
            item(
                "b",
                "x",
                None,
                &[Some(true), Some(true), Some(true), Some(true)],
            ),
            item(
                "c",
                "y",
                None,
                &[Some(false), None, Some(false), Some(false)],
            ),
        ];
        let st = stats_of(&items);
        assert_eq!(
            (st.items, st.samples, st.correct, st.unscored),
            (3, 11, 5, 1)
        );
        // mean@4 = (1/4 + 1 + 0) / 3
        assert!((st.mean - 1.25 / 3.0).abs() < 1e-12);
        // pass@1 equals mean@k; pass@4 only over items with 4 scored samples.
        assert!((st.pass_at_k[&1] - 1.25 / 3.0).abs() < 1e-12);
        assert!((st.pass_at_k[&4] - 1.0).abs() < 1e-12);
        let suites = summarize(&items);
        assert_eq!(suites.len(), 1);
        assert_eq!(suites[0].groups.len(), 2);
        assert!((suites[0].macro_mean - (0.625 + 0.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn difficulty_curves_and_envs_first() {
        let items = [
            item("b1", "bbh_task", None, &[Some(true)]),
            item("e1", "hanoi", Some(1), &[Some(true)]),
            item("e2", "hanoi", Some(1), &[Some(true)]),
            item("e3", "hanoi", Some(2), &[Some(false)]),
        ];
        let suites = summarize(&items);
        assert_eq!(suites[0].suite, "envs");
        let g = &suites[0].groups[0];
        assert_eq!(g.by_difficulty.len(), 2);
        assert_eq!(g.by_difficulty[0].stats.mean, 1.0);
        assert_eq!(g.by_difficulty[1].stats.mean, 0.0);
    }

    #[test]
    fn report_round_trips_through_json() {
        let items = vec![
            item("a", "x", None, &[Some(true), Some(false)]),
            item("e", "hanoi", Some(3), &[Some(true), None]),
        ];
        let report = report("m", 2, items);
        let text = report.to_json();
        assert!(text.contains("\"pass_at_k\": {\n"), "{text}");
        let back = Report::from_json(std::path::Path::new("r.json"), &text).unwrap();
        // Floats may differ in the last bit (serde_json's default float parsing).
        assert_eq!(back.items, report.items);
        assert_eq!(back.config, report.config);
        for (b, r) in back.suites.iter().zip(&report.suites) {
            assert_eq!(
                b.stats.pass_at_k.keys().collect::<Vec<_>>(),
                r.stats.pass_at_k.keys().collect::<Vec<_>>()
            );
            assert!((b.stats.ci.1 - r.stats.ci.1).abs() < 1e-12);
        }
    }

    #[test]
    fn percentiles() {
        let p = Percentiles::of(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((p.p50, p.max, p.mean), (3.0, 5.0, 3.0));
        assert_eq!(Percentiles::of(&[]), Percentiles::default());
    }
}
