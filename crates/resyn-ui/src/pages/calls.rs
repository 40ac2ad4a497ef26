//! One LLM call: metadata, the messages sent and the reply (server only:
//! static exports leave request bodies out).

use maud::html;
use serde_json::Value;

use crate::fmt::{date, duration_ms, int};
use crate::html::{Nav, Page, badge, facts, pre};
use crate::json::{pretty, str_at};
use crate::pages::banners;
use crate::pages::env::other_fields;
use crate::state::Ctx;
use crate::{UiError, store_error};

/// `GET /calls/{id}`.
pub(crate) fn page(ctx: &Ctx, id: i64) -> Result<Page, UiError> {
    let store = ctx.store.require()?;
    let Some(call) = store.call_detail(id).map_err(store_error)? else {
        return Err(UiError::not_found(
            "LLM call not found",
            format!("There is no LLM call {id} in this store."),
        ));
    };
    let e = &call.entry;
    let messages = call.request.get("messages").and_then(Value::as_array);
    let body = html! {
        h1 { "LLM call " (id) }
        (banners(ctx))
        (facts(&[
            ("Purpose", Some(html! { (e.purpose) })),
            ("Run", e.run_id.map(|r| html! { a href=(ctx.links.run(r)) { "run " (r) } })),
            ("Candidate", e.candidate_id.map(|c| html! { a href=(ctx.links.candidate(c)) { "candidate " (c) } })),
            ("Status", Some(if e.status == "ok" { badge("ok", "good") } else { badge(&e.status, "bad") })),
            ("Finish reason", e.finish_reason.as_deref().map(|f| html! { (f) })),
            ("Prompt tokens", Some(html! { (int(e.prompt_tokens)) })),
            ("Completion tokens", Some(html! { (int(e.completion_tokens)) })),
            ("Latency", Some(html! { (duration_ms(i64::try_from(e.latency_ms).unwrap_or(i64::MAX))) })),
            ("Recorded", Some(html! { (date(e.at)) })),
            ("Error", e.error.as_deref().map(|x| html! { (x) })),
        ]))
        h2 { "Request" }
        @if let Some(msgs) = messages {
            @for m in msgs {
                article.message {
                    h3 { (str_at(m, "role").unwrap_or("message")) }
                    @match m.get("content") {
                        Some(Value::String(s)) => (pre(s)),
                        Some(other) => (pre(&pretty(other))),
                        None => {}
                    }
                }
            }
        }
        (other_fields(&call.request, &["messages"]))
        h2 { "Reply" }
        @match &call.reply {
            Some(r) => (pre(r)),
            None => p.muted { "No reply (the call failed)." },
        }
    };
    Ok(Page::new(format!("LLM call {id}"), Nav::Runs, body))
}
