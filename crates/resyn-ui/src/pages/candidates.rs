//! One candidate: its proposal, every stage outcome (why it was kept or
//! rejected), the code the LLM wrote, the independent cross-verifier, and
//! its LLM calls. Read from the store row as JSON, defensively.

use maud::html;
use serde_json::Value;

use crate::fmt::{duration_ms, int};
use crate::html::{Nav, Page, badge, facts, notice, pre};
use crate::json::{bool_at, obj_at, str_at, u64_at, view};
use crate::pages::banners;
use crate::pages::env::{other_fields, stage_history};
use crate::pages::runs::run_of;
use crate::state::Ctx;
use crate::{UiError, highlight, store_error};

fn status_badge(status: &str) -> maud::Markup {
    let kind = match status {
        "accepted" => "good",
        "rejected" => "bad",
        "pending" => "info",
        _ => "muted",
    };
    badge(status, kind)
}

/// `GET /candidates/{id}`.
pub(crate) fn page(ctx: &Ctx, id: i64) -> Result<Page, UiError> {
    let store = ctx.store.require()?;
    let Some(c) = store.candidate(id).map_err(store_error)? else {
        return Err(UiError::not_found(
            "Candidate not found",
            format!("There is no candidate {id} in this store."),
        ));
    };
    let c = serde_json::to_value(&c).map_err(UiError::internal)?;
    let run = run_of(&c);
    let status = str_at(&c, "status").unwrap_or("?");
    let cp = c.get("checkpoint").cloned().unwrap_or(Value::Null);
    let code = str_at(&cp, "code");
    let cross = str_at(&cp, "cross_code");
    let calls = match run {
        Some(r) => store
            .call_log(r)
            .map_err(store_error)?
            .into_iter()
            .filter(|x| x.candidate_id == Some(id))
            .collect(),
        None => Vec::new(),
    };
    let title = str_at(&c, "title").unwrap_or("");
    let body = html! {
        h1 { "Candidate " (id) " " (status_badge(status)) }
        (banners(ctx))
        p.description { (title) }
        (facts(&[
            ("Run", run.map(|r| html! { a href=(ctx.links.run(r)) { "run " (r) } })),
            ("Keyword", str_at(&c, "keyword").map(|k| html! { (k) })),
            ("Environment", str_at(&c, "env_name").map(|e| html! { a href=(ctx.links.env(e)) { (e) } })),
            ("Last stage", str_at(&c, "stage").map(|s| html! { (s) })),
            ("Reason", str_at(&c, "reason").filter(|r| !r.is_empty()).map(|r| html! { (r) })),
            ("Repair rounds", u64_at(&cp, "round").map(|r| html! { (r) })),
            ("Passed the LLM review", bool_at(&cp, "review_passed").map(|b| html! { (if b { "yes" } else { "no" }) })),
        ]))
        @if let Some(d) = str_at(&c, "detail").filter(|d| !d.is_empty()) {
            @if status == "rejected" {
                (notice("error", "Why it was rejected:", pre(d)))
            } @else {
                h2 { "Last outcome" }
                (pre(d))
            }
        }
        @if let Some(p) = obj_at(&c, "proposal") {
            h2 { "Proposal" }
            (view(&Value::Object(p.clone())))
        }
        (stage_history(ctx, id))
        h2 { "Code" }
        @match code {
            Some(src) => {
                p.muted { "The latest version the LLM wrote; it runs only inside resyn's sandbox." }
                pre.code.python { code { (highlight::python(src)) } }
            }
            None => p.muted { "No code was extracted." },
        }
        @if let Some(src) = cross {
            h2 { "Cross-verifier" }
            p.muted { "A second verifier written from the question text alone; it must agree with the module's." }
            pre.code.python { code { (highlight::python(src)) } }
        }
        h2 { "LLM calls" }
        @if calls.is_empty() { p.muted { "None recorded." } }
        @else {
            div.scroll {
                table.compact #candidate-calls {
                    thead { tr {
                        th scope="col" { "Call" } th scope="col" { "Purpose" } th scope="col" { "Status" }
                        th scope="col" { "Prompt tok." } th scope="col" { "Completion tok." } th scope="col" { "Latency" }
                    } }
                    tbody { @for x in &calls {
                        tr {
                            th scope="row" { @match ctx.links.call(x.id) {
                                Some(href) => a href=(href) { "#" (x.id) },
                                None => { "#" (x.id) },
                            } }
                            td { (x.purpose) }
                            td { (status_badge(if x.status == "ok" { "accepted" } else { "rejected" })) }
                            td.num { (int(x.prompt_tokens)) }
                            td.num { (int(x.completion_tokens)) }
                            td.num { (duration_ms(i64::try_from(x.latency_ms).unwrap_or(i64::MAX))) }
                        }
                    } }
                }
            }
        }
        (other_fields(&c, &["id", "run_id", "keyword", "title", "proposal", "status", "stage", "reason", "detail", "checkpoint", "env_name"]))
    };
    Ok(Page::new(format!("Candidate {id}"), Nav::Runs, body))
}
