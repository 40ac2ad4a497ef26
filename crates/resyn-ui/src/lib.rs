//! The resyn gallery: a read-only web application over the synthesis store
//! and the environment directories (`resyn ui`), and its static export
//! (`resyn gallery --out DIR`).
//!
//! A user who runs `resyn synth` for hours gets a SQLite file; the gallery
//! shows what is in it and why: every environment with its description,
//! code (highlighted), sample instances generated live at any difficulty
//! with their references and an answer box that calls the verifier, and
//! for synthesized ones the validation report check by check, probe
//! verdicts, cross-verification, the calibration curve and provenance
//! (keyword, run, model, LLM calls, tokens, repairs, stage history); every
//! synthesis run with its stage funnel, rejection reasons with examples,
//! candidates and LLM calls, refreshing itself while the run is going.
//!
//! - [`UiState`] holds the [`resyn_registry::Sources`] and the registry
//!   assembled from them; the store is opened read-only
//!   ([`resyn_store::Store::open_read_only`]) for each request, so a store
//!   that is missing, locked by a running synth or of another schema is a
//!   page saying so, never a crash, and the UI never writes it.
//! - [`app`] is the [`axum::Router`] (routes in its docs); [`run`] serves
//!   it until Ctrl-C or SIGTERM. Pages are HTML rendered on the server with
//!   maud, which escapes every value: LLM-written code, descriptions and
//!   prompts are text, never markup, and a Content Security Policy allows
//!   only the embedded stylesheet and script. Charts are inline SVG. No
//!   CDN, no network, no JavaScript framework; the small script only
//!   enhances pages that work without it.
//! - [`export`] writes the same pages as static files and a `GALLERY.md`.
//!
//! ```
//! use resyn_registry::{Sources, StoreSource};
//! use resyn_ui::{UiState, app};
//!
//! let state = UiState::new(Sources { store: StoreSource::None, ..Sources::default() })?;
//! let router: axum::Router = app(state);
//! # Ok::<(), resyn_ui::Error>(())
//! ```
#![deny(missing_docs)]

pub use app::{app, run};
pub use error::{Error, UiError};
pub use export::{ExportSummary, export};
pub use state::UiState;

mod app;
mod error;
mod export;
mod fmt;
mod highlight;
mod html;
mod json;
mod markdown;
mod pages;
mod samples;
mod state;
mod svg;

/// A store error during a request, as the page to show: busy means locked
/// by another process (retry), anything else means unreadable.
pub(crate) fn store_error(e: resyn_store::Error) -> UiError {
    if e.is_busy() {
        UiError::unavailable(
            "Store locked",
            format!(
                "The store is locked by another process ({}); reload in a moment.",
                resyn_core::error_chain(&e)
            ),
        )
    } else {
        UiError::unavailable("Store unreadable", resyn_core::error_chain(&e))
    }
}
