//! The environment list: a table filtered by text, source, category and
//! calibration status. The filter works without JavaScript (a GET form,
//! applied on the server by hiding rows) and live with it (the script
//! applies the same rules as you type; static exports rely on it).

use std::collections::{BTreeMap, BTreeSet};

use maud::{Markup, html};
use serde_json::Value;

use crate::fmt::truncate;
use crate::html::{Nav, Page, badge, breakable, notice};
use crate::json::{bool_at, str_at};
use crate::pages::banners;
use crate::state::{Ctx, StoreView};

/// One environment as the list shows it.
#[derive(Debug, Clone)]
pub(crate) struct EnvRow {
    pub(crate) id: String,
    pub(crate) source: String,
    pub(crate) category: String,
    pub(crate) version: u64,
    pub(crate) difficulty: (u8, u8),
    pub(crate) description: String,
    /// Calibration status (`calibrated`, `not calibrated`, ... or `n/a`).
    pub(crate) status: String,
    /// The store row of a synthesized environment.
    pub(crate) stored: Option<Value>,
}

/// The calibration status of a stored environment, read defensively: an
/// explicit `status` wins (newer stores), else `passed`, else absence.
pub(crate) fn calibration_status(stored: &Value) -> String {
    let explicit = ["calibration_status", "status"]
        .iter()
        .find_map(|k| str_at(stored, k));
    if let Some(s) = explicit {
        return s.replace('_', " ");
    }
    match stored.get("calibration") {
        None | Some(Value::Null) => "not calibrated".into(),
        Some(c) => match (str_at(c, "status"), bool_at(c, "passed")) {
            (Some(s), _) => s.replace('_', " "),
            (None, Some(true)) => "calibrated".into(),
            (None, Some(false)) => str_at(c, "reason").map_or_else(
                || "calibration failed".into(),
                |r| format!("failed: {}", r.replace('_', " ")),
            ),
            (None, None) => "calibration report".into(),
        },
    }
}

/// The store's environments as JSON rows by name (empty without a store),
/// and why they could not be read, if so.
pub(crate) fn stored_envs(ctx: &Ctx) -> (BTreeMap<String, Value>, Option<String>) {
    let StoreView::Open { store, .. } = &ctx.store else {
        return (BTreeMap::new(), None);
    };
    match store.environments() {
        Ok(envs) => (
            envs.iter()
                .filter_map(|e| serde_json::to_value(e).ok())
                .filter_map(|v| Some((str_at(&v, "name")?.to_string(), v)))
                .collect(),
            None,
        ),
        Err(e) => (BTreeMap::new(), Some(resyn_core::error_chain(&e))),
    }
}

/// Every environment: the registry's, plus stored ones it lacks.
pub(crate) fn rows(ctx: &Ctx) -> (Vec<EnvRow>, Option<String>) {
    let (mut stored, error) = stored_envs(ctx);
    let mut rows: Vec<EnvRow> = ctx
        .snap
        .registry
        .iter()
        .map(|env| {
            let m = env.meta();
            let stored = stored.remove(&m.id);
            EnvRow {
                id: m.id.clone(),
                source: m.source.as_str().into(),
                category: m.category.as_str().into(),
                version: u64::from(m.version),
                difficulty: (m.min_difficulty, m.max_difficulty),
                description: m.description.clone(),
                status: stored
                    .as_ref()
                    .map_or_else(|| "n/a".into(), calibration_status),
                stored,
            }
        })
        .collect();
    for (name, v) in stored {
        rows.push(EnvRow {
            status: calibration_status(&v),
            id: name,
            source: "synth".into(),
            category: str_at(&v, "category").unwrap_or("").into(),
            version: crate::json::u64_at(&v, "version").unwrap_or(0),
            difficulty: (resyn_core::MIN_DIFFICULTY, resyn_core::MAX_DIFFICULTY),
            description: str_at(&v, "description").unwrap_or("").into(),
            stored: Some(v),
        });
    }
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    (rows, error)
}

/// The list's filter (query parameters `q`, `source`, `category`, `status`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Filter {
    pub(crate) q: String,
    pub(crate) source: String,
    pub(crate) category: String,
    pub(crate) status: String,
}

impl Filter {
    pub(crate) fn from_query(q: &BTreeMap<String, String>) -> Self {
        let get = |k: &str| q.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
        Self {
            q: get("q"),
            source: get("source"),
            category: get("category"),
            status: get("status"),
        }
    }

    /// The same rule as the script's: every given field must match; the
    /// text matches id, category and description, case-insensitively.
    fn matches(&self, r: &EnvRow) -> bool {
        let text = search_text(r);
        (self.q.is_empty() || text.contains(&self.q.to_lowercase()))
            && (self.source.is_empty() || self.source == r.source)
            && (self.category.is_empty() || self.category == r.category)
            && (self.status.is_empty() || self.status == r.status)
    }
}

fn search_text(r: &EnvRow) -> String {
    format!("{} {} {}", r.id, r.category, r.description).to_lowercase()
}

fn select(id: &str, label: &str, options: &BTreeSet<&str>, chosen: &str) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(id) {
                option value="" selected[chosen.is_empty()] { "any" }
                @for o in options {
                    option value=(o) selected[*o == chosen] { (o) }
                }
            }
        }
    }
}

/// `GET /`: the list.
pub(crate) fn page(ctx: &Ctx, filter: &Filter) -> Page {
    let (rows, error) = rows(ctx);
    let count = |s: &str| rows.iter().filter(|r| r.source == s).count();
    let set = |f: fn(&EnvRow) -> &str| rows.iter().map(f).collect::<BTreeSet<&str>>();
    let (sources, categories, statuses) = (
        set(|r| r.source.as_str()),
        set(|r| r.category.as_str()),
        set(|r| r.status.as_str()),
    );
    let shown = rows.iter().filter(|r| filter.matches(r)).count();
    let body = html! {
        h1 { "Environments" }
        (banners(ctx))
        @if let Some(e) = &error {
            (notice("error", "The store's environments could not be read.", html! { (e) }))
        }
        p.lede {
            (rows.len()) " environments: " (count("native")) " native, "
            (count("python")) " Python, " (count("synth")) " synthesized. "
            "Each page shows the task, generated samples and, for synthesized ones, why they were kept."
        }
        form #env-filter.filters method="get" action=(ctx.links.home()) role="search" {
            div.field {
                label for="q" { "Search" }
                input #q type="search" name="q" value=(filter.q) placeholder="name, category or words of the description";
            }
            (select("source", "Source", &sources, &filter.source))
            (select("category", "Category", &categories, &filter.category))
            (select("status", "Calibration", &statuses, &filter.status))
            @if !ctx.links.is_static() {
                button type="submit" { "Filter" }
            }
        }
        p #shown aria-live="polite" { "Showing " (shown) " of " (rows.len()) "." }
        div.scroll {
            table #envs {
                caption.visually-hidden { "Environments" }
                thead {
                    tr {
                        th scope="col" { "Name" }
                        th scope="col" { "Source" }
                        th scope="col" { "Category" }
                        th scope="col" { "Version" }
                        th scope="col" { "Difficulty" }
                        th scope="col" { "Calibration" }
                        th scope="col" { "Description" }
                    }
                }
                tbody {
                    @for r in &rows {
                        tr data-source=(r.source) data-category=(r.category) data-status=(r.status)
                            data-text=(search_text(r)) hidden[!filter.matches(r)] {
                            th scope="row" { a href=(ctx.links.env(&r.id)) { (breakable(&r.id)) } }
                            td { (badge(&r.source, &r.source)) }
                            td { (breakable(&r.category)) }
                            td.num { (r.version) }
                            td { (r.difficulty.0) "–" (r.difficulty.1) }
                            td { (badge(&r.status, status_kind(&r.status))) }
                            td { (truncate(&r.description, 160)) }
                        }
                    }
                }
            }
        }
    };
    Page::new("Environments", Nav::Envs, body)
}

/// The badge colour of a calibration status.
pub(crate) fn status_kind(status: &str) -> &'static str {
    match status {
        "calibrated" => "good",
        "n/a" => "muted",
        s if s.starts_with("failed") => "bad",
        _ => "warn",
    }
}
