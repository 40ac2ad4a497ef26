//! Integration tests of the sandbox: real bubblewrap, real interpreters, no
//! mocks. One binary, one module per topic.

mod common;
mod concurrency;
mod conformance;
mod enforcement;
mod hostile;
mod load;
mod verify_errors;
