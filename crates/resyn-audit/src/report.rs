//! What an audit found, per environment, and its table.
//!
//! The JSON form (`resyn audit --json`) is [`Report`] serialized: one
//! [`EnvAudit`] per environment in id order; counts are of responses.

use std::fmt::Write as _;

use resyn_core::{ReasonCode, Source, Verdict};
use serde::{Deserialize, Serialize};

/// The audit of every environment that had responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The disagreement rate above which an environment fails.
    pub max_disagreement: f64,
    /// Responses audited.
    pub responses: usize,
    /// Whether any environment failed.
    pub failed: bool,
    /// One entry per environment, in id order.
    pub environments: Vec<EnvAudit>,
}

/// Whether an environment has a second verifier to compare with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SecondStatus {
    /// Stored with the environment, and loaded.
    Stored,
    /// None: a native or directory environment, or a store row from before
    /// `resyn synth` kept them. Not part of any disagreement rate.
    None,
    /// Stored, but it does not load (see `errors.first`).
    Unloadable,
}

/// The audit of one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvAudit {
    /// Environment id.
    pub env: String,
    /// Its version.
    pub version: u32,
    /// Where it comes from.
    pub source: Source,
    /// Its second verifier.
    pub second_verifier: SecondStatus,
    /// The tie-breaking verifier, loaded when there were disagreements
    /// (`none` when there were none or none is stored).
    pub tie_breaker: SecondStatus,
    /// Whether its module defines `solve()`.
    pub has_solve: bool,
    /// Responses scored by its own verifier.
    pub scored: usize,
    /// Responses both verifiers judged without an error.
    pub compared: usize,
    /// Compared responses one verifier accepts and the other rejects.
    pub disagreements: usize,
    /// `disagreements / compared`; `None` when nothing was compared.
    pub disagreement_rate: Option<f64>,
    /// Disagreements the environment's verifier accepts and the second
    /// rejects: a possible false accept, i.e. reward hacking.
    pub module_only_accepts: usize,
    /// Disagreements the second verifier accepts and the environment's
    /// rejects: a possible false reject.
    pub second_only_accepts: usize,
    /// Disagreements on which the tie-breaker sides with the second verifier:
    /// the environment's `verify()` is outvoted two to one (likely wrong).
    pub module_outvoted: usize,
    /// Disagreements on which the tie-breaker sides with `verify()`: the
    /// second verifier is outvoted.
    pub second_outvoted: usize,
    /// Responses whose extracted answer equals `solve()`'s answer (after
    /// trimming whitespace). A correct verifier accepts every one; a
    /// different answer proves nothing (a task may have several solutions).
    pub solve_matches: usize,
    /// Of those, rejected by the environment's verifier.
    pub solve_rejected_by_module: usize,
    /// Of those, rejected by the second verifier.
    pub solve_rejected_by_second: usize,
    /// Verifier and `solve()` failures.
    pub errors: Errors,
    /// The disagreement rate exceeds the threshold, or a verifier rejected
    /// `solve()`'s own answer.
    pub failed: bool,
    /// The first disagreements and `solve()` rejections, in input order.
    pub examples: Vec<Example>,
}

/// Failures (exceptions, timeouts, bad rewards) while judging, counted in
/// responses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Errors {
    /// The environment's own verifier.
    pub module: usize,
    /// The second verifier (every response when it does not load).
    pub second: usize,
    /// The tie-breaker (every disagreement when it does not load).
    pub tie_breaker: usize,
    /// `solve()`.
    pub solve: usize,
    /// The first error, saying whose.
    pub first: Option<String>,
}

/// How a response's answer relates to `solve()`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SolveCheck {
    /// Equal after trimming whitespace: a correct verifier must accept it.
    Equal,
    /// Different (or no answer): proves nothing.
    Differs,
    /// No `solve()`, or it failed on this instance.
    Unavailable,
}

/// One finding: a disagreement, or a verifier rejecting `solve()`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// Where the response came from (`file:line`, or the eval report item).
    pub origin: String,
    /// Instance id.
    pub instance: String,
    /// Instance seed.
    pub seed: u64,
    /// Difficulty level.
    pub difficulty: u8,
    /// The start of the question.
    pub question: String,
    /// The extracted answer (capped), `None` when the response has none.
    pub answer: Option<String>,
    /// The environment's own verifier.
    pub verify: Verdict,
    /// The second verifier, when there is one.
    pub second: Option<Verdict>,
    /// The tie-breaker, on a disagreement when one is stored.
    pub tie_breaker: Option<Verdict>,
    /// The answer against `solve()`'s.
    pub solve: SolveCheck,
}

impl Errors {
    /// Failures of every judge together.
    pub fn total(&self) -> usize {
        self.module + self.second + self.tie_breaker + self.solve
    }
}

impl EnvAudit {
    /// Responses on which some verifier contradicts `solve()`.
    pub fn solve_rejections(&self) -> usize {
        self.solve_rejected_by_module + self.solve_rejected_by_second
    }

    fn result(&self) -> &'static str {
        match (self.failed, self.second_verifier) {
            (true, _) => "FAIL",
            (false, SecondStatus::Stored) => "ok",
            (false, SecondStatus::None) => "no second verifier",
            (false, SecondStatus::Unloadable) => "second verifier unloadable",
        }
    }
}

impl Report {
    /// A readable table, one row per environment, then the examples of
    /// each environment with findings and a summary line.
    pub fn table(&self) -> String {
        let w = self
            .environments
            .iter()
            .map(|e| e.env.len())
            .max()
            .unwrap_or(0)
            .max(3);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<w$}  {:<6}  {:<10}  {:>6}  {:>8}  {:>8}  {:>7}  {:>9}  {:>6}  result",
            "env",
            "source",
            "second",
            "scored",
            "compared",
            "disagree",
            "rate",
            "solve-rej",
            "errors"
        );
        for e in &self.environments {
            let stored = e.second_verifier == SecondStatus::Stored;
            let dash = |v: String, show: bool| if show { v } else { "-".into() };
            let _ = writeln!(
                out,
                "{:<w$}  {:<6}  {:<10}  {:>6}  {:>8}  {:>8}  {:>7}  {:>9}  {:>6}  {}",
                e.env,
                e.source.as_str(),
                second_name(e.second_verifier),
                e.scored,
                dash(e.compared.to_string(), stored),
                dash(e.disagreements.to_string(), stored),
                e.disagreement_rate.map_or_else(|| "-".into(), percent),
                dash(e.solve_rejections().to_string(), e.has_solve),
                e.errors.total(),
                e.result()
            );
        }
        for e in &self.environments {
            write_findings(&mut out, e, self.max_disagreement);
        }
        let failed = self.environments.iter().filter(|e| e.failed).count();
        let without = self
            .environments
            .iter()
            .filter(|e| e.second_verifier != SecondStatus::Stored)
            .count();
        let _ = writeln!(
            out,
            "\n{} responses in {} environments: {failed} failed, {without} without a usable second verifier (max disagreement {})",
            self.responses,
            self.environments.len(),
            percent(self.max_disagreement)
        );
        out
    }
}

fn second_name(s: SecondStatus) -> &'static str {
    match s {
        SecondStatus::Stored => "stored",
        SecondStatus::None => "none",
        SecondStatus::Unloadable => "unloadable",
    }
}

/// A rate as a percentage; a non-zero rate never prints as zero.
fn percent(rate: f64) -> String {
    let p = rate * 100.0;
    if p > 0.0 && p < 0.005 {
        "<0.01%".into()
    } else {
        format!("{p:.2}%")
    }
}

fn write_findings(out: &mut String, e: &EnvAudit, max: f64) {
    let errors = e.errors.total();
    if e.disagreements == 0 && e.solve_rejections() == 0 && errors == 0 {
        return;
    }
    let _ = writeln!(out, "\n{}:", e.env);
    if e.disagreements > 0 {
        let rate = e.disagreement_rate.unwrap_or(0.0);
        let _ = writeln!(
            out,
            "  disagreements: {} of {} compared ({} {} max {}); {} accepted only by verify(), {} only by the second verifier",
            e.disagreements,
            e.compared,
            percent(rate),
            if rate > max { ">" } else { "<=" },
            percent(max),
            e.module_only_accepts,
            e.second_only_accepts
        );
    }
    if e.module_outvoted + e.second_outvoted > 0 {
        let _ = writeln!(
            out,
            "  tie-breaker: sided with the second verifier on {} (verify() outvoted), with verify() on {}",
            e.module_outvoted, e.second_outvoted
        );
    }
    if e.solve_rejections() > 0 {
        let _ = writeln!(
            out,
            "  solve(): of {} answers equal to its own, verify() rejected {}, the second verifier {}",
            e.solve_matches, e.solve_rejected_by_module, e.solve_rejected_by_second
        );
    }
    if errors > 0 {
        let first = e.errors.first.as_deref().unwrap_or("");
        let _ = writeln!(
            out,
            "  errors: {} in verify(), {} in the second verifier, {} in the tie-breaker, {} in solve(); first: {}",
            e.errors.module,
            e.errors.second,
            e.errors.tie_breaker,
            e.errors.solve,
            crate::audit::excerpt(first.lines().next().unwrap_or(""), 200)
        );
    }
    for x in &e.examples {
        let _ = writeln!(
            out,
            "  example {}  instance {} (seed {}, difficulty {})\n    question: {}\n    answer:   {}\n    verify(): {}   second verifier: {}{}   solve(): {}",
            x.origin,
            x.instance,
            x.seed,
            x.difficulty,
            x.question,
            x.answer
                .as_deref()
                .map_or_else(|| "(none)".into(), |a| format!("{a:?}")),
            judgement(&x.verify),
            x.second.as_ref().map_or_else(|| "-".into(), judgement),
            x.tie_breaker
                .as_ref()
                .map_or_else(String::new, |t| format!("   tie-breaker: {}", judgement(t))),
            match x.solve {
                SolveCheck::Equal => "equal",
                SolveCheck::Differs => "differs",
                SolveCheck::Unavailable => "-",
            }
        );
    }
}

fn judgement(v: &Verdict) -> String {
    match v.reason {
        _ if v.correct => "accepted".into(),
        ReasonCode::EnvError | ReasonCode::Unavailable => format!(
            "error ({})",
            crate::audit::excerpt(v.detail.lines().next().unwrap_or(""), 120)
        ),
        reason => format!("rejected ({reason})"),
    }
}
