//! End-to-end tests of the evaluator against the local test server.

mod benchmarks;
mod common;
mod envs;
mod html;
mod resume;
