//! Integration tests of the sandbox: real bubblewrap, real interpreters, no
//! mocks. One binary, one module per topic.

// Test helpers outside #[test] fns unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod code_cache;
mod common;
mod concurrency;
mod conformance;
mod enforcement;
mod hostile;
mod isolation;
mod limits;
mod load;
mod private_tmp;
mod verify_errors;
mod zygote;
