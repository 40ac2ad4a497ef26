//! Integration tests of the reward server: in-process (`oneshot`, no
//! socket) and over real HTTP on 127.0.0.1.

// Fixtures and helpers panic on failure, like the tests that call them.
#![allow(clippy::unwrap_used)]

mod common;
mod curriculum;
mod http;
mod oneshot;
