//! Errors: [`Error`] for starting the UI or exporting, [`UiError`] for a
//! request (an HTML error page with a status).

use std::path::PathBuf;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::html::{Links, Nav, Page, layout};

/// Why the gallery could not start or export.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The environments could not be assembled (a missing directory, a
    /// sandbox that cannot start, two environments with one id).
    #[error("assembling the environments")]
    Sources(#[source] resyn_registry::Error),
    /// The store could not be read for an export.
    #[error("{0}")]
    Store(String),
    /// A page could not be rendered for an export.
    #[error("{page}: {message}")]
    Page {
        /// The page.
        page: String,
        /// Why.
        message: String,
    },
    /// Writing the export failed.
    #[error("writing {}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A request that cannot be answered with the page asked for: rendered as
/// an HTML page saying why, with this status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Short title (`Environment not found`).
    pub title: String,
    /// What happened and what to do.
    pub message: String,
}

impl UiError {
    /// 404.
    pub fn not_found(title: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            title: title.into(),
            message: message.into(),
        }
    }

    /// 400 or 422: bad input.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            title: "Invalid request".into(),
            message: message.into(),
        }
    }

    /// 503: the store cannot be read now (missing, locked, another schema).
    pub fn unavailable(title: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            title: title.into(),
            message: message.into(),
        }
    }

    /// 500: logged in full, shown generically.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        eprintln!("resyn ui: internal error: {detail}");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: "Internal error".into(),
            message: "The page could not be rendered; details are in the server log.".into(),
        }
    }

    /// The error as a page.
    pub(crate) fn page(&self) -> Page {
        let body = html! {
            h1 { (self.title) }
            p.error-message { (self.message) }
            p { a href=(Links::server().home()) { "Back to the environments" } }
        };
        Page {
            status: self.status,
            ..Page::new(self.title.clone(), Nav::None, body)
        }
    }
}

impl std::fmt::Display for UiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.title,
            self.message
        )
    }
}

impl std::error::Error for UiError {}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let page = self.page();
        let footer = format!("resyn {}", env!("CARGO_PKG_VERSION"));
        (page.status, layout(&page, &Links::server(), &footer)).into_response()
    }
}
