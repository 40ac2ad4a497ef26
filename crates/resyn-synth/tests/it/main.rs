//! Integration tests of resyn-synth.
// Helpers outside #[test] functions unwrap too: a failed setup is a failed test.
#![allow(clippy::unwrap_used)]
mod common;
mod dedup;
mod pipeline;
mod validate;
