//! Synthesis runs: the list, and per run the stage funnel, rejection
//! reasons with examples, candidates, LLM calls with latency and tokens,
//! and, while the run is going, a live region that refreshes itself.
//!
//! Totals are read from the store's run summary as JSON (fields it lacks
//! are left out, fields it gains are still shown); counts per stage and
//! reason come from the store's light queries.

use std::collections::BTreeMap;

use maud::{Markup, html};
use resyn_store::{CallEntry, CandidateOutcome, CandidateStatus, RunStatus, StageCount, Store};
use serde_json::Value;

use crate::fmt::{date, duration_ms, int, truncate};
use crate::html::{Nav, Page, badge, facts, pre};
use crate::json::{i64_at, str_at, u64_at, view};
use crate::pages::banners;
use crate::pages::env::other_fields;
use crate::state::Ctx;
use crate::svg::{FunnelRow, funnel};
use crate::{UiError, store_error};

/// Seconds between refreshes of a running run.
const REFRESH_SECS: u32 = 5;
/// Calls listed one by one (the newest); the per-purpose totals count all.
const MAX_CALLS_LISTED: usize = 500;

/// The pipeline's stages in order; stages a newer pipeline adds keep the
/// place where they first occurred.
const STAGE_ORDER: &[&str] = &[
    "proposal",
    "implement",
    "extract",
    "validate",
    "name",
    "review",
    "cross_verifier",
    "cross_verify",
    "calibrate",
    "dedup",
    "decontaminate",
    "store",
];

fn status_badge(status: RunStatus) -> Markup {
    let kind = match status {
        RunStatus::Finished => "good",
        RunStatus::Running => "info",
        RunStatus::Interrupted => "warn",
        _ => "muted",
    };
    badge(status.as_str(), kind)
}

/// A run's summary as JSON (`Value::Null` when it cannot be read).
fn summary(store: &Store, run: i64) -> Value {
    store
        .summary(run)
        .ok()
        .and_then(|s| serde_json::to_value(s).ok())
        .unwrap_or(Value::Null)
}

/// `GET /runs`.
pub(crate) fn list(ctx: &Ctx) -> Result<Page, UiError> {
    let store = ctx.store.require()?;
    let runs = store.runs().map_err(store_error)?;
    let body = html! {
        h1 { "Runs" }
        (banners(ctx))
        @if runs.is_empty() {
            p { "No synthesis run in this store yet: " code { "resyn synth" } " starts one." }
        } @else {
            div.scroll {
                table #runs {
                    caption.visually-hidden { "Synthesis runs" }
                    thead { tr {
                        th scope="col" { "Run" } th scope="col" { "Status" } th scope="col" { "Started" }
                        th scope="col" { "Model" } th scope="col" { "Candidates" } th scope="col" { "Accepted" }
                        th scope="col" { "Rejected" } th scope="col" { "LLM calls" } th scope="col" { "Tokens" }
                        th scope="col" { "Wall time" }
                    } }
                    tbody {
                        @for r in runs.iter().rev() {
                            @let s = summary(store, r.id);
                            @let n = |k: &str| u64_at(&s, k).map_or_else(|| "–".to_string(), int);
                            @let tokens = u64_at(&s, "prompt_tokens").unwrap_or(0) + u64_at(&s, "completion_tokens").unwrap_or(0);
                            tr {
                                th scope="row" { a href=(ctx.links.run(r.id)) { "run " (r.id) } }
                                td { (status_badge(r.status)) }
                                td { (date(r.created_at)) }
                                td { (str_at(&r.config, "model").unwrap_or("")) }
                                td.num { (n("candidates")) }
                                td.num { (n("accepted")) }
                                td.num { (n("rejected")) }
                                td.num { (n("llm_calls")) }
                                td.num { (int(tokens)) }
                                td.num { (duration_ms(r.wall_ms)) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(Page::new("Runs", Nav::Runs, body))
}

/// `GET /runs/{id}`.
pub(crate) fn detail(ctx: &Ctx, id: i64) -> Result<Page, UiError> {
    let store = ctx.store.require()?;
    let run = match store.run(id) {
        Ok(r) => r,
        Err(resyn_store::Error::UnknownRun(_)) => {
            return Err(UiError::not_found(
                "Run not found",
                format!("There is no run {id} in this store."),
            ));
        }
        Err(e) => return Err(store_error(e)),
    };
    let s = summary(store, id);
    let stages = store.stage_counts(id).map_err(store_error)?;
    let outcomes = store.candidate_outcomes(id).map_err(store_error)?;
    let calls = store.call_log(id).map_err(store_error)?;
    let last = store.last_activity(id).ok();
    let live = run.status == RunStatus::Running && !ctx.links.is_static();
    let cfg = &run.config;
    let n = |k: &str| u64_at(&s, k).map(|v| html! { (int(v)) });
    let body = html! {
        h1 { "Run " (id) " " (status_badge(run.status)) }
        (banners(ctx))
        @if live {
            div.live-controls {
                input #autorefresh type="checkbox" checked hidden;
                label for="autorefresh" hidden { "Refresh every " (REFRESH_SECS) " seconds" }
                noscript { "This page reloads every " (REFRESH_SECS * 2) " seconds while the run is going." }
            }
        }
        div #live data-refresh=[live.then_some(REFRESH_SECS)] {
            (facts(&[
                ("Started", Some(html! { (date(run.created_at)) })),
                ("Last activity", last.map(|t| html! { (date(t)) })),
                ("Wall time", Some(html! { (duration_ms(run.wall_ms)) })),
                ("Model", str_at(cfg, "model").map(|m| html! { (m) })),
                ("Endpoint", str_at(cfg, "base_url").map(|u| html! { code { (u) } })),
                ("Solver", str_at(cfg, "solver_model").map(|m| html! { (m) })),
                ("Target", u64_at(cfg, "target").map(|t| html! { (t) " environments" })),
            ]))
            h2 { "Totals" }
            (facts(&[
                ("Candidates proposed", n("candidates")),
                ("Accepted", n("accepted")),
                ("Rejected", n("rejected")),
                ("Skipped (target reached)", n("skipped")),
                ("Still pending", n("pending")),
                ("Repair rounds", n("repairs")),
                ("Keywords whose proposals failed", n("keyword_failures")),
                ("LLM calls", n("llm_calls")),
                ("Failed LLM calls", n("llm_errors")),
                ("Prompt tokens", n("prompt_tokens")),
                ("Completion tokens", n("completion_tokens")),
            ]))
            (other_fields(&s, &["run_id", "candidates", "accepted", "rejected", "skipped", "pending", "repairs",
                "keyword_failures", "llm_calls", "llm_errors", "prompt_tokens", "completion_tokens", "wall_ms",
                "failures", "stage_failures"]))
            (accepted(ctx, &outcomes))
            (funnel_section(&stages, &outcomes))
            (rejections(ctx, &outcomes))
            (calls_section(ctx, &calls))
            (candidates(ctx, &outcomes))
        }
        details {
            summary { "Run configuration" }
            (view(cfg))
        }
    };
    let mut page = Page::new(format!("Run {id}"), Nav::Runs, body);
    if live {
        page.refresh_secs = Some(REFRESH_SECS * 2);
    }
    Ok(page)
}

fn accepted(ctx: &Ctx, outcomes: &[CandidateOutcome]) -> Markup {
    let envs: Vec<&str> = outcomes
        .iter()
        .filter_map(|o| o.env_name.as_deref())
        .collect();
    html! {
        h2 { "Accepted environments" }
        @if envs.is_empty() { p.muted { "None yet." } }
        @else { ul.inline { @for e in envs { li { a href=(ctx.links.env(e)) { (e) } } } } }
    }
}

/// Funnel rows in pipeline order: per stage, candidates that passed it and
/// candidates finally rejected there.
pub(crate) fn funnel_rows(
    stages: &[StageCount],
    outcomes: &[CandidateOutcome],
) -> Vec<(FunnelRow, StageCount)> {
    let mut rejected: BTreeMap<&str, u64> = BTreeMap::new();
    for o in outcomes
        .iter()
        .filter(|o| o.status == CandidateStatus::Rejected)
    {
        *rejected.entry(o.stage.as_str()).or_default() += 1;
    }
    let mut rows: Vec<StageCount> = stages.to_vec();
    for stage in rejected.keys() {
        if !rows.iter().any(|r| r.stage == *stage) {
            rows.push(StageCount {
                stage: (*stage).to_string(),
                passed: 0,
                failed: 0,
                failures: 0,
            });
        }
    }
    // Known stages by pipeline position; an unknown one stays just after
    // the stage it first followed.
    let mut key = 0.0;
    let mut keyed: Vec<(f64, StageCount)> = rows
        .into_iter()
        .map(|r| {
            key = match STAGE_ORDER.iter().position(|s| *s == r.stage) {
                #[allow(clippy::cast_precision_loss)] // a dozen stages
                Some(k) => k as f64,
                None => key + 0.01,
            };
            (key, r)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
    keyed
        .into_iter()
        .map(|(_, c)| {
            (
                FunnelRow {
                    stage: c.stage.clone(),
                    passed: c.passed,
                    rejected: rejected.get(c.stage.as_str()).copied().unwrap_or(0),
                },
                c,
            )
        })
        .collect()
}

fn funnel_section(stages: &[StageCount], outcomes: &[CandidateOutcome]) -> Markup {
    let rows = funnel_rows(stages, outcomes);
    let total = u64::try_from(outcomes.len()).unwrap_or(u64::MAX);
    let proposed = FunnelRow {
        stage: "proposed".into(),
        passed: total,
        rejected: 0,
    };
    let bars: Vec<FunnelRow> = std::iter::once(proposed)
        .chain(rows.iter().map(|(f, _)| f.clone()))
        .collect();
    html! {
        section aria-labelledby="h-funnel" {
            h2 #h-funnel { "Stage funnel" }
            @if rows.is_empty() {
                p.muted { "No stage outcome recorded yet." }
            } @else {
                figure.chart {
                    (funnel("funnel", total, &bars))
                    figcaption { (total) " candidates proposed; bars show how many passed each stage and how many were finally rejected there." }
                }
                div.scroll {
                    table.compact #funnel-table {
                        thead { tr {
                            th scope="col" { "Stage" } th scope="col" { "Passed" } th scope="col" { "Rejected here" }
                            th scope="col" { "Failed at least once" } th scope="col" { "Failures (all rounds)" }
                        } }
                        tbody { @for (f, c) in &rows {
                            tr { th scope="row" { (f.stage) } td.num { (f.passed) } td.num { (f.rejected) } td.num { (c.failed) } td.num { (c.failures) } }
                        } }
                    }
                }
            }
        }
    }
}

fn rejections(ctx: &Ctx, outcomes: &[CandidateOutcome]) -> Markup {
    let mut groups: BTreeMap<(&str, &str), Vec<&CandidateOutcome>> = BTreeMap::new();
    for o in outcomes
        .iter()
        .filter(|o| o.status == CandidateStatus::Rejected)
    {
        groups
            .entry((o.stage.as_str(), o.reason.as_str()))
            .or_default()
            .push(o);
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    html! {
        section aria-labelledby="h-rej" {
            h2 #h-rej { "Rejection reasons" }
            @if groups.is_empty() { p.muted { "No candidate rejected." } }
            @else {
                div.scroll {
                    table #rejections {
                        thead { tr { th scope="col" { "Stage" } th scope="col" { "Reason" } th scope="col" { "Count" } th scope="col" { "Examples" } } }
                        tbody {
                            @for ((stage, reason), cands) in &groups {
                                tr {
                                    td { (stage) }
                                    th scope="row" { (reason) }
                                    td.num { (cands.len()) }
                                    td {
                                        ul.examples { @for c in cands.iter().take(3) {
                                            li {
                                                a href=(ctx.links.candidate(c.id)) { (truncate(&c.title, 80)) }
                                                @if !c.detail.is_empty() {
                                                    details { summary { "why" } (pre(&truncate(&c.detail, 4000))) }
                                                }
                                            }
                                        } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn calls_section(ctx: &Ctx, calls: &[CallEntry]) -> Markup {
    #[derive(Default)]
    struct Agg {
        calls: u64,
        errors: u64,
        prompt: u64,
        completion: u64,
        latency: u64,
        max_latency: u64,
    }
    let mut by: BTreeMap<&str, Agg> = BTreeMap::new();
    for c in calls {
        let a = by.entry(c.purpose.as_str()).or_default();
        a.calls += 1;
        a.errors += u64::from(c.status != "ok");
        a.prompt += c.prompt_tokens;
        a.completion += c.completion_tokens;
        a.latency += c.latency_ms;
        a.max_latency = a.max_latency.max(c.latency_ms);
    }
    let ms = |v: u64| duration_ms(i64::try_from(v).unwrap_or(i64::MAX));
    html! {
        section aria-labelledby="h-calls" {
            h2 #h-calls { "LLM calls" }
            @if calls.is_empty() { p.muted { "No LLM call recorded yet." } }
            @else {
                div.scroll {
                    table.compact #calls-by-purpose {
                        thead { tr {
                            th scope="col" { "Purpose" } th scope="col" { "Calls" } th scope="col" { "Failed" }
                            th scope="col" { "Prompt tokens" } th scope="col" { "Completion tokens" }
                            th scope="col" { "Mean latency" } th scope="col" { "Max latency" }
                        } }
                        tbody { @for (p, a) in &by {
                            tr {
                                th scope="row" { (p.replace('_', " ")) } td.num { (int(a.calls)) } td.num { (int(a.errors)) }
                                td.num { (int(a.prompt)) } td.num { (int(a.completion)) }
                                td.num { (ms(a.latency / a.calls.max(1))) } td.num { (ms(a.max_latency)) }
                            }
                        } }
                    }
                }
                @let listed = &calls[calls.len().saturating_sub(MAX_CALLS_LISTED)..];
                details {
                    summary {
                        @if listed.len() < calls.len() { "The last " (listed.len()) " of " (calls.len()) " calls" }
                        @else { "Every call (" (calls.len()) ")" }
                    }
                    div.scroll {
                        table.compact #call-log {
                            thead { tr {
                                th scope="col" { "Call" } th scope="col" { "Candidate" } th scope="col" { "Purpose" }
                                th scope="col" { "Status" } th scope="col" { "Finish" } th scope="col" { "Prompt tok." }
                                th scope="col" { "Completion tok." } th scope="col" { "Latency" } th scope="col" { "Error" }
                            } }
                            tbody { @for c in listed {
                                tr {
                                    th scope="row" {
                                        @match ctx.links.call(c.id) {
                                            Some(href) => a href=(href) { "#" (c.id) },
                                            None => { "#" (c.id) },
                                        }
                                    }
                                    td { @if let Some(k) = c.candidate_id { a href=(ctx.links.candidate(k)) { (k) } } }
                                    td { (c.purpose) }
                                    td { @if c.status == "ok" { (badge("ok", "good")) } @else { (badge(&c.status, "bad")) } }
                                    td { (c.finish_reason.as_deref().unwrap_or("")) }
                                    td.num { (int(c.prompt_tokens)) }
                                    td.num { (int(c.completion_tokens)) }
                                    td.num { (ms(c.latency_ms)) }
                                    td { (truncate(c.error.as_deref().unwrap_or(""), 120)) }
                                }
                            } }
                        }
                    }
                }
            }
        }
    }
}

fn candidates(ctx: &Ctx, outcomes: &[CandidateOutcome]) -> Markup {
    html! {
        section aria-labelledby="h-cands" {
            h2 #h-cands { "Candidates" }
            details open[outcomes.len() <= 100] {
                summary { (outcomes.len()) " candidates" }
                div.scroll {
                    table.compact #candidates {
                        thead { tr {
                            th scope="col" { "Candidate" } th scope="col" { "Keyword" } th scope="col" { "Title" }
                            th scope="col" { "Status" } th scope="col" { "Stage" } th scope="col" { "Reason" }
                            th scope="col" { "Repairs" } th scope="col" { "Environment" }
                        } }
                        tbody { @for o in outcomes {
                            tr {
                                th scope="row" { a href=(ctx.links.candidate(o.id)) { (o.id) } }
                                td { (o.keyword) }
                                td { (truncate(&o.title, 80)) }
                                td { (outcome_badge(o.status)) }
                                td { (o.stage) }
                                td { (o.reason) }
                                td.num { (o.round) }
                                td { @if let Some(e) = &o.env_name { a href=(ctx.links.env(e)) { (e) } } }
                            }
                        } }
                    }
                }
            }
        }
    }
}

/// A candidate status as a badge.
pub(crate) fn outcome_badge(s: CandidateStatus) -> Markup {
    let (text, kind) = match s {
        CandidateStatus::Accepted => ("accepted", "good"),
        CandidateStatus::Rejected => ("rejected", "bad"),
        CandidateStatus::Skipped => ("skipped", "muted"),
        _ => ("pending", "info"),
    };
    badge(text, kind)
}

/// The run a candidate belongs to, for links (as JSON, defensively).
pub(crate) fn run_of(candidate: &Value) -> Option<i64> {
    i64_at(candidate, "run_id")
}
