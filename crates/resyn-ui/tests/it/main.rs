//! Integration tests of the gallery: every route in-process (`oneshot`, no
//! socket) with its error pages, the store in every state (missing, locked,
//! another schema, appearing, written while the UI runs), and the static
//! export. The real-browser test is the CLI's (`resyn ui` end to end).

// Fixtures and helpers panic on failure, like the tests that call them.
#![allow(clippy::unwrap_used)]

mod export;
mod fixture;
mod routes;
mod stores;
