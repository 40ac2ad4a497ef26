//! End-to-end tests of the evaluator against the local test server.
#![allow(clippy::unwrap_used)]

mod benchmarks;
mod common;
mod envs;
mod html;
mod resume;
