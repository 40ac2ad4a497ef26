//! One environment: description, live samples with the answer box,
//! calibration curve, validation report check by check, probe verdicts,
//! cross-verification, provenance with its LLM cost, stage history and the
//! highlighted code.
//!
//! Everything about a synthesized environment is read from its store row
//! as JSON ([`crate::json`]): known fields get a dedicated view, any other
//! field is still shown, generically.

use std::collections::BTreeMap;

use maud::{Markup, html};
use resyn_core::Environment;
use serde_json::Value;

use crate::fmt::{date, duration_ms, int, pct};
use crate::html::{Nav, Page, badge, facts, notice, pre};
use crate::json::{as_u64, bool_at, f64_at, i64_at, obj_at, others, pretty, str_at, u64_at, view};
use crate::pages::banners;
use crate::pages::envs::{EnvRow, rows, status_kind};
use crate::samples::{Sample, check_difficulty, default_levels, generate};
use crate::state::{Ctx, StoreView};
use crate::svg::{Level, calibration};
use crate::{UiError, highlight};

/// Which samples to show: `difficulty` and `seed` query parameters, else
/// seed 0 at the easiest, middle and hardest level.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct SampleQuery {
    pub(crate) difficulty: Option<u8>,
    pub(crate) seed: Option<u64>,
}

impl SampleQuery {
    pub(crate) fn from_query(q: &BTreeMap<String, String>) -> Result<Self, UiError> {
        let parse = |k: &str| -> Result<Option<u64>, UiError> {
            match q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => v.parse().map(Some).map_err(|_| {
                    UiError::bad_request(format!("`{k}` must be a non-negative integer, not {v:?}"))
                }),
            }
        };
        let difficulty = parse("difficulty")?
            .map(|d| {
                u8::try_from(d)
                    .map_err(|_| UiError::bad_request(format!("difficulty {d} is out of range")))
            })
            .transpose()?;
        Ok(Self {
            difficulty,
            seed: parse("seed")?,
        })
    }
}

/// `GET /envs/{id}`.
pub(crate) fn page(ctx: &Ctx, id: &str, q: SampleQuery) -> Result<Page, UiError> {
    let (all, _) = rows(ctx);
    let Some(row) = all.into_iter().find(|r| r.id == id) else {
        return Err(UiError::not_found(
            "Environment not found",
            format!(
                "There is no environment `{id}` in this gallery. The list shows every environment."
            ),
        ));
    };
    let env = ctx.snap.registry.get(id).ok();
    let samples = match env {
        Some(env) => Some(samples(env.as_ref(), q)?),
        None => None,
    };
    let stored = row.stored.as_ref();
    let body = html! {
        h1 { (row.id) }
        (banners(ctx))
        p.badges {
            (badge(&row.source, &row.source)) " "
            (badge(&row.category, "muted")) " "
            (badge(&format!("version {}", row.version), "muted")) " "
            (badge(&format!("difficulty {}–{}", row.difficulty.0, row.difficulty.1), "muted")) " "
            @if stored.is_some() { (badge(&row.status, status_kind(&row.status))) }
        }
        section aria-labelledby="h-desc" {
            h2 #h-desc { "Task" }
            p.description { (row.description) }
        }
        @if let Some(s) = stored {
            (why_kept(s, cross_threshold(ctx, s)))
        }
        @match (&samples, env) {
            (Some(s), Some(env)) => (samples_section(ctx, env.as_ref(), s, q)),
            _ => (notice("warn", "No samples.", html! {
                "This environment is in the store but could not be loaded, so no instances can be generated."
            })),
        }
        @if let Some(s) = stored {
            (calibration_section(s, row.difficulty))
            (validation_section(s))
            (provenance_section(ctx, s))
        }
        (code_section(ctx, &row))
    };
    Ok(Page::new(row.id.clone(), Nav::Envs, body))
}

/// A calibration reason in words.
fn calibration_verdict(reason: &str) -> String {
    match reason {
        "ok" => "the solve rate falls with difficulty".into(),
        "always_solved" => "always solved".into(),
        "never_solved" => "never solved".into(),
        "no_decreasing_trend" => "no falling trend".into(),
        other => other.replace('_', " "),
    }
}

/// The agreement the run that stored `stored` required of the two
/// verifiers (its `cross_min_agreement`), when the store says.
fn cross_threshold(ctx: &Ctx, stored: &Value) -> Option<f64> {
    let StoreView::Open { store, .. } = &ctx.store else {
        return None;
    };
    let run = store.run(i64_at(stored, "run_id")?).ok()?;
    f64_at(&run.config, "cross_min_agreement")
}

/// One line per piece of evidence, each with a pass/fail mark (none where
/// the report does not say).
fn why_kept(stored: &Value, cross_min: Option<f64>) -> Markup {
    let v = stored.get("validation").cloned().unwrap_or(Value::Null);
    let mut items: Vec<(Option<bool>, Markup)> = Vec::new();
    if let Some(o) = v.get("offline").filter(|o| o.is_object()) {
        let n = o
            .get("passed_checks")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        items.push((
            bool_at(o, "passed"),
            html! { "Offline validation in the sandbox: " (n) " checks passed" },
        ));
        if let Some(st) = o.get("stats")
            && let (Some(r), Some(p)) = (u64_at(st, "probes_rejected"), u64_at(st, "probes"))
        {
            items.push((
                Some(r == p),
                html! { "Wrong-answer probes: " (int(r)) " of " (int(p)) " rejected" },
            ));
        }
    }
    if let Some(r) = obj_at(&v, "review") {
        for (step, x) in r {
            let pass = x
                .get("pass")
                .or_else(|| x.get("passed"))
                .and_then(Value::as_bool);
            items.push((pass, html! { "LLM " (step.replace('_', " ")) }));
        }
    }
    if let Some(x) = v.get("cross_verify").filter(|x| x.is_object())
        && let Some(a) = f64_at(x, "agreement")
    {
        let on = u64_at(x, "compared").map(|n| format!(" on {} answers", int(n)));
        // Since adjudication: kept only with no unresolved disagreement;
        // older reports carry a rate threshold in their run's config.
        let pass = match (
            u64_at(x, "unresolved"),
            u64_at(x, "reference_disagreements"),
        ) {
            (Some(n), _) => Some(n == 0),
            (None, Some(n)) if n > 0 => Some(false),
            _ => cross_min.map(|m| a >= m),
        };
        items.push((
            pass,
            html! { "Cross-verification: " (pct(a)) " agreement" (on.unwrap_or_default()) },
        ));
    }
    match stored.get("calibration").filter(|c| !c.is_null()) {
        Some(c) => items.push((
            bool_at(c, "passed"),
            html! {
                "Calibration: " (calibration_verdict(str_at(c, "reason").unwrap_or("report")))
                @if let Some(p) = f64_at(c, "p_value") { " (trend p = " (format!("{p:.1e}")) ")" }
            },
        )),
        None => items.push((None, html! { "Not calibrated (no solver endpoint)" })),
    }
    if let Some(n) = stored
        .get("provenance")
        .and_then(|p| u64_at(p, "repair_rounds"))
    {
        items.push((None, html! { "Repair rounds before acceptance: " (n) }));
    }
    html! {
        section aria-labelledby="h-why" {
            h2 #h-why { "Why it was kept" }
            ul.why {
                @for (pass, text) in &items {
                    li {
                        @match pass {
                            Some(true) => { span.ok aria-hidden="true" { "✓" } span.visually-hidden { "passed: " } }
                            Some(false) => { span.fail aria-hidden="true" { "✗" } span.visually-hidden { "failed: " } }
                            None => { span.dot aria-hidden="true" { "•" } }
                        }
                        " " (text)
                    }
                }
            }
        }
    }
}

fn samples(env: &dyn Environment, q: SampleQuery) -> Result<Vec<Sample>, UiError> {
    let m = env.meta();
    let requests: Vec<(u64, u8)> = match q.difficulty {
        Some(d) => vec![(q.seed.unwrap_or(0), check_difficulty(env, d)?)],
        None => default_levels(m.min_difficulty, m.max_difficulty)
            .into_iter()
            .map(|d| (q.seed.unwrap_or(0), d))
            .collect(),
    };
    Ok(generate(env, &requests))
}

fn samples_section(ctx: &Ctx, env: &dyn Environment, samples: &[Sample], q: SampleQuery) -> Markup {
    let m = env.meta();
    html! {
        section aria-labelledby="h-samples" {
            h2 #h-samples { "Samples" }
            @if ctx.links.is_static() {
                p.muted { "Seed 0 at the easiest, middle and hardest level. Serve this gallery with "
                    code { "resyn ui" } " to generate others and try answers." }
            } @else {
                form.inline-form method="get" action=(ctx.links.env(&m.id)) {
                    div.field {
                        label for="difficulty" { "Difficulty" }
                        select #difficulty name="difficulty" {
                            option value="" selected[q.difficulty.is_none()] { "easiest, middle, hardest" }
                            @for d in m.min_difficulty..=m.max_difficulty {
                                option value=(d) selected[q.difficulty == Some(d)] { (d) }
                            }
                        }
                    }
                    div.field {
                        label for="seed" { "Seed" }
                        input #seed type="number" name="seed" min="0" value=(q.seed.unwrap_or(0));
                    }
                    button type="submit" { "Generate" }
                }
            }
            @for (k, s) in samples.iter().enumerate() {
                (sample(ctx, &m.id, k, s))
            }
        }
    }
}

fn sample(ctx: &Ctx, id: &str, k: usize, s: &Sample) -> Markup {
    html! {
        article.sample aria-labelledby={ "h-s" (k) } {
            h3 id={ "h-s" (k) } { "Difficulty " (s.difficulty) " · seed " (s.seed) }
            @match &s.instance {
                Err(e) => (notice("error", "Generation failed.", html! { (e) })),
                Ok(inst) => {
                    h4 { "Prompt" }
                    (pre(&inst.prompt))
                    details {
                        summary { "Reference answer" }
                        pre.text id={ "ref-" (k) } { (inst.reference) }
                    }
                    details {
                        summary { "Hidden instance data (what the verifier sees)" }
                        pre.text { (pretty(&inst.data)) }
                    }
                    @if !ctx.links.is_static() {
                        form.try method="post" action=(ctx.links.env_try(id)) {
                            input type="hidden" name="seed" value=(s.seed);
                            input type="hidden" name="difficulty" value=(s.difficulty);
                            div.field {
                                label for={ "resp-" (k) } { "Try an answer" }
                                textarea id={ "resp-" (k) } name="response" rows="3"
                                    aria-describedby={ "hint-" (k) } {}
                                span.hint id={ "hint-" (k) } {
                                    "A full model response, or a bare answer with the box below ticked."
                                }
                            }
                            div.check {
                                input id={ "wrap-" (k) } type="checkbox" name="wrap" value="1" checked;
                                label for={ "wrap-" (k) } { "Put my text in <answer> tags" }
                            }
                            div.buttons {
                                button type="submit" { "Verify" }
                                button.secondary type="button" hidden data-fill={ "ref-" (k) }
                                    data-target={ "resp-" (k) } data-wrap={ "wrap-" (k) } { "Use the reference" }
                            }
                            output.verdict id={ "out-" (k) } for={ "resp-" (k) } aria-live="polite" {}
                        }
                    }
                }
            }
        }
    }
}

fn calibration_section(stored: &Value, range: (u8, u8)) -> Markup {
    let c = stored.get("calibration").filter(|c| !c.is_null());
    let levels: Vec<Level> = c
        .and_then(|c| c.get("curve"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|l| {
                    Some(Level {
                        difficulty: u8::try_from(u64_at(l, "difficulty")?).ok()?,
                        n: u64_at(l, "n")?,
                        solved: u64_at(l, "solved")?,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    html! {
        section aria-labelledby="h-cal" {
            h2 #h-cal { "Calibration" }
            @match c {
                None => p.muted { "Not calibrated: the run that wrote it had no solver endpoint." },
                Some(c) => {
                    @if !levels.is_empty() {
                        figure.chart {
                            (calibration("cal", &levels, range.0, range.1))
                            figcaption { "Share of the solver's answers that verified, per difficulty level." }
                        }
                        details {
                            summary { "Curve as a table" }
                            table.compact {
                                thead { tr { th scope="col" { "Difficulty" } th scope="col" { "Solved" } th scope="col" { "Attempts" } th scope="col" { "Rate" } } }
                                tbody { @for l in &levels {
                                    tr { td.num { (l.difficulty) } td.num { (l.solved) } td.num { (l.n) } td.num { (pct(l.rate())) } }
                                } }
                            }
                        }
                    }
                    (facts(&[
                        ("Verdict", str_at(c, "reason").map(|r| html! { (calibration_verdict(r)) })),
                        ("Trend z", f64_at(c, "z").map(|z| html! { (format!("{z:.2}")) })),
                        ("One-sided p-value", f64_at(c, "p_value").map(|p| html! { (format!("{p:.2e}")) })),
                        ("Significance level", f64_at(c, "alpha").map(|a| html! { (a) })),
                    ]))
                    (other_fields(c, &["curve", "reason", "z", "p_value", "alpha", "passed"]))
                }
            }
        }
    }
}

fn validation_section(stored: &Value) -> Markup {
    let Some(v) = stored.get("validation").filter(|v| !v.is_null()) else {
        return html! {};
    };
    let offline = v.get("offline").filter(|o| o.is_object());
    html! {
        section aria-labelledby="h-val" {
            h2 #h-val { "Validation" }
            @if let Some(o) = offline {
                h3 { "Offline checks" }
                (checks(o))
                @if let Some(stats) = o.get("stats") {
                    (stats_view(stats))
                    @if let Some(f) = obj_at(stats, "probe_families") {
                        (probes(f))
                    }
                }
            }
            @if let Some(r) = v.get("review").filter(|r| r.is_object()) {
                h3 { "LLM review" }
                (review(r))
            }
            @if let Some(x) = v.get("cross_verify").filter(|x| x.is_object()) {
                h3 { "Cross-verification" }
                (cross(x))
            }
            (other_fields(v, &["offline", "review", "cross_verify"]))
            details {
                summary { "Full validation report (JSON)" }
                pre.text { (pretty(v)) }
            }
        }
    }
}

fn checks(o: &Value) -> Markup {
    let passed: Vec<&str> = o
        .get("passed_checks")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let failure = o.get("failure").filter(|f| !f.is_null());
    html! {
        @if !passed.is_empty() {
            ol.checks {
                @for c in &passed { li { span.ok aria-hidden="true" { "✓ " } (c) span.visually-hidden { " passed" } } }
            }
        }
        @if let Some(f) = failure {
            (notice("error", "Failed check.", view(f)))
        }
        @match bool_at(o, "passed") {
            Some(true) => p { (badge("all checks passed", "good")) }
            Some(false) => p { (badge("validation failed", "bad")) }
            None => {}
        }
    }
}

fn stats_view(s: &Value) -> Markup {
    let n = |k: &str| u64_at(s, k).map(|v| html! { (int(v)) });
    let probes = match (u64_at(s, "probes_rejected"), u64_at(s, "probes")) {
        (Some(r), Some(p)) => Some(html! { (int(r)) " of " (int(p)) " rejected" }),
        _ => None,
    };
    let prompt = match (u64_at(s, "prompt_chars_min"), u64_at(s, "prompt_chars_max")) {
        (Some(a), Some(b)) => Some(html! { (int(a)) "–" (int(b)) " characters" }),
        _ => None,
    };
    html! {
        (facts(&[
            ("Instances generated", n("instances")),
            ("solve() outputs verified", n("solved")),
            ("Distinct prompts (lowest share)", f64_at(s, "unique_ratio").map(|r| html! { (pct(r)) })),
            ("Prompt length", prompt),
            ("Wrong-answer probes", probes),
        ]))
        (other_fields(s, &["instances", "solved", "unique_ratio", "prompt_chars_min", "prompt_chars_max", "probes", "probes_rejected", "probe_families"]))
    }
}

fn probes(families: &serde_json::Map<String, Value>) -> Markup {
    html! {
        h3 { "Probe verdicts" }
        p.muted { "Wrong answers sent to the verifier, by family; every one must be rejected." }
        div.scroll {
            table.compact #probes {
                thead { tr { th scope="col" { "Probe family" } th scope="col" { "Sent" } th scope="col" { "Accepted" } th scope="col" { "Verdict" } } }
                tbody {
                    @for (name, counts) in families {
                        @let pair = counts.as_array().filter(|a| a.len() == 2)
                            .and_then(|a| Some((as_u64(&a[0])?, as_u64(&a[1])?)));
                        tr {
                            th scope="row" { (name.replace('_', " ")) }
                            @match pair {
                                Some((acc, sent)) => {
                                    td.num { (int(sent)) }
                                    td.num { (int(acc)) }
                                    td { @if acc == 0 { (badge("all rejected", "good")) } @else { (badge("some accepted", "warn")) } }
                                }
                                None => td colspan="3" { (view(counts)) },
                            }
                        }
                    }
                }
            }
        }
    }
}

fn review(r: &Value) -> Markup {
    html! {
        dl.facts {
            @for (step, x) in r.as_object().into_iter().flatten() {
                div {
                    dt { (step.replace('_', " ")) }
                    dd {
                        @match x.get("pass").or_else(|| x.get("passed")).and_then(Value::as_bool) {
                            Some(true) => (badge("passed", "good")),
                            Some(false) => (badge("failed", "bad")),
                            None => {}
                        }
                        @let problems = x.get("problems").and_then(Value::as_array).filter(|p| !p.is_empty());
                        @if let Some(p) = problems {
                            " problems: " (view(&Value::Array(p.clone())))
                        }
                        (other_fields(x, &["pass", "passed", "problems"]))
                    }
                }
            }
        }
    }
}

fn cross(x: &Value) -> Markup {
    let n = |k: &str| u64_at(x, k).map(|v| html! { (int(v)) });
    html! {
        (facts(&[
            ("Agreement", f64_at(x, "agreement").map(|a| html! { (pct(a)) })),
            ("Answers compared", n("compared")),
            ("Disagreements on references", n("reference_disagreements")),
            ("Disagreements adjudicated", x.get("disagreements").and_then(Value::as_array).map(|d| html! { (int(d.len() as u64)) })),
            ("Unresolved disagreements", n("unresolved")),
            ("Verifier errors", n("verifier_errors")),
        ]))
        (other_fields(x, &["agreement", "compared", "reference_disagreements", "verifier_errors", "unresolved"]))
    }
}

fn provenance_section(ctx: &Ctx, stored: &Value) -> Markup {
    let p = stored.get("provenance").cloned().unwrap_or(Value::Null);
    let run = i64_at(&p, "run").or_else(|| i64_at(stored, "run_id"));
    let cand = i64_at(&p, "candidate").or_else(|| i64_at(stored, "candidate_id"));
    let mut purposes: BTreeMap<String, u64> = BTreeMap::new();
    for c in p
        .get("calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        *purposes
            .entry(str_at(c, "purpose").unwrap_or("?").to_string())
            .or_default() += 1;
    }
    let solver = p.get("solver").filter(|s| !s.is_null());
    html! {
        section aria-labelledby="h-prov" {
            h2 #h-prov { "Provenance" }
            (facts(&[
                ("Keyword", str_at(&p, "keyword").map(|k| html! { (k) })),
                ("Run", run.map(|r| html! { a href=(ctx.links.run(r)) { "run " (r) } })),
                ("Candidate", cand.map(|c| html! { a href=(ctx.links.candidate(c)) { "candidate " (c) } })),
                ("Model", str_at(&p, "model").map(|m| html! { (m) })),
                ("Endpoint", str_at(&p, "endpoint").map(|e| html! { code { (e) } })),
                ("Solver", solver.map(|s| html! {
                    @if let Some(m) = str_at(s, "model") { (m) " " }
                    @if let Some(e) = str_at(s, "endpoint") { code { (e) } }
                })),
                ("Repair rounds", u64_at(&p, "repair_rounds").map(|r| html! { (r) })),
                ("Content hash", str_at(stored, "content_hash").map(|h| html! { code { (h) } })),
                ("Stored", i64_at(stored, "created_at").map(|t| html! { (date(t)) })),
                ("LLM calls", (!purposes.is_empty()).then(|| html! {
                    (purposes.iter().map(|(k, n)| format!("{} × {n}", k.replace('_', " "))).collect::<Vec<_>>().join(", "))
                })),
            ]))
            @if let (Some(run), Some(cand)) = (run, cand) {
                (llm_cost(ctx, run, cand))
            }
            @if let Some(prop) = p.get("proposal").filter(|x| !x.is_null()) {
                h3 { "The proposal" }
                (view(prop))
            }
            (other_fields(&p, &["keyword", "run", "candidate", "model", "endpoint", "solver", "repair_rounds", "calls", "proposal"]))
            @if let Some(cand) = cand {
                (stage_history(ctx, cand))
            }
        }
    }
}

/// Tokens and latency of a candidate's calls, from the store's call log.
fn llm_cost(ctx: &Ctx, run: i64, cand: i64) -> Markup {
    let StoreView::Open { store, .. } = &ctx.store else {
        return html! {};
    };
    let Ok(log) = store.call_log(run) else {
        return html! {};
    };
    let calls: Vec<_> = log
        .iter()
        .filter(|c| c.candidate_id == Some(cand))
        .collect();
    if calls.is_empty() {
        return html! {};
    }
    let sum = |f: fn(&resyn_store::CallEntry) -> u64| calls.iter().map(|c| f(c)).sum::<u64>();
    html! {
        p {
            "This environment cost " (calls.len()) " LLM calls: "
            (int(sum(|c| c.prompt_tokens))) " prompt and "
            (int(sum(|c| c.completion_tokens))) " completion tokens, "
            (duration_ms(i64::try_from(sum(|c| c.latency_ms)).unwrap_or(i64::MAX))) " of model time."
        }
    }
}

/// The candidate's stage outcomes: every check it went through, failures
/// and repairs included.
pub(crate) fn stage_history(ctx: &Ctx, cand: i64) -> Markup {
    let StoreView::Open { store, .. } = &ctx.store else {
        return html! {};
    };
    let Ok(events) = store.stage_events(cand) else {
        return html! {};
    };
    if events.is_empty() {
        return html! {};
    }
    let events: Vec<Value> = events
        .iter()
        .filter_map(|e| serde_json::to_value(e).ok())
        .collect();
    html! {
        h3 { "Stage history" }
        div.scroll {
            table.compact.history {
                thead { tr { th scope="col" { "Stage" } th scope="col" { "Outcome" } th scope="col" { "Reason" } th scope="col" { "Round" } th scope="col" { "Detail" } } }
                tbody {
                    @for e in &events {
                        @let passed = bool_at(e, "passed").unwrap_or(false);
                        @let detail = str_at(e, "detail").unwrap_or("");
                        tr {
                            th scope="row" { (str_at(e, "stage").unwrap_or("?")) }
                            td { @if passed { (badge("passed", "good")) } @else { (badge("failed", "bad")) } }
                            td { (str_at(e, "reason").unwrap_or("")) }
                            td.num { (u64_at(e, "round").unwrap_or(0)) }
                            td {
                                @if detail.is_empty() {}
                                @else if detail.len() < 100 && !detail.contains('\n') { (detail) }
                                @else { details { summary { "detail" } (pre(&detail_text(detail))) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A stage detail as text: JSON details (stage reports) are indented.
fn detail_text(detail: &str) -> String {
    match serde_json::from_str::<Value>(detail) {
        Ok(v @ (Value::Object(_) | Value::Array(_))) => pretty(&v),
        _ => detail.to_string(),
    }
}

fn code_section(ctx: &Ctx, row: &EnvRow) -> Markup {
    let code: Result<Option<String>, String> = match row.source.as_str() {
        "synth" => Ok(row
            .stored
            .as_ref()
            .and_then(|s| str_at(s, "code"))
            .map(str::to_string)),
        "python" => match ctx.snap.files.get(&row.id) {
            Some(f) => std::fs::read_to_string(f)
                .map(Some)
                .map_err(|e| format!("reading {}: {e}", f.display())),
            None => Ok(None),
        },
        _ => Ok(None),
    };
    let file = ctx
        .snap
        .files
        .get(&row.id)
        .and_then(|f| f.file_name())
        .map(|f| f.to_string_lossy().into_owned());
    html! {
        section aria-labelledby="h-code" {
            h2 #h-code { "Code" }
            @match code {
                Ok(Some(src)) => {
                    @if let Some(f) = &file { p.muted { "From " code { (f) } "." } }
                    @if row.source == "synth" { p.muted { "Written by the LLM; it runs only inside resyn's sandbox." } }
                    pre.code.python { code { (highlight::python(&src)) } }
                }
                Ok(None) if row.source == "native" => p.muted {
                    "A native environment, written in Rust (crate " code { "resyn-envs" } ")."
                },
                Ok(None) => p.muted { "No source available." },
                Err(e) => (notice("error", "The source could not be read.", html! { (e) })),
            }
        }
    }
}

/// Fields of `v` that no dedicated view shows, rendered generically.
pub(crate) fn other_fields(v: &Value, known: &[&str]) -> Markup {
    let rest = others(v, known);
    html! {
        @if !rest.is_empty() {
            dl.facts.other {
                @for (k, x) in rest {
                    div { dt { (k.replace('_', " ")) } dd { (view(x)) } }
                }
            }
        }
    }
}
