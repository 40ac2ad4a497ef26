//! One module per kind of page; each renders a [`Page`] from a [`Ctx`], for
//! the server and the static export alike.

pub(crate) mod calls;
pub(crate) mod candidates;
pub(crate) mod env;
pub(crate) mod envs;
pub(crate) mod runs;

use maud::{Markup, html};

use crate::html::notice;
use crate::state::{Ctx, StoreView};

/// Notices about the sources: the store's state, modules that failed to
/// load, store environments that could not join.
pub(crate) fn banners(ctx: &Ctx) -> Markup {
    html! {
        @match &ctx.store {
            StoreView::Missing(p) => (notice("warn", "Store not found.", html! {
                "The store " code { (p.display().to_string()) } " does not exist yet; \
                 synthesized environments and runs appear once it does."
            })),
            StoreView::Failed { path, busy, message } => (notice("error",
                if *busy { "Store locked." } else { "Store unreadable." },
                html! { code { (path.display().to_string()) } ": " (message) })),
            _ => {}
        }
        @if let Some(e) = &ctx.snap.load_error {
            (notice("error", "The store's environments could not be loaded.", html! { (e) }))
        }
        @if !ctx.snap.skipped.is_empty() {
            (notice("warn", "Some Python modules failed to load and are not listed.", html! {
                ul { @for s in &ctx.snap.skipped { li { (s) } } }
            }))
        }
    }
}

/// The footer line: version and store.
pub(crate) fn footer(ctx: &Ctx) -> String {
    let store = match ctx.store.path() {
        // A static export names only the file: paths of the machine that
        // exported it mean nothing to its readers.
        Some(p) if ctx.links.is_static() => p
            .file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().into_owned()),
        Some(p) => p.display().to_string(),
        None => "none".into(),
    };
    format!(
        "resyn {} · read-only view · store: {store}",
        env!("CARGO_PKG_VERSION")
    )
}
