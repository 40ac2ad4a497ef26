//! The `resyn` command-line entry point (work in progress).
fn main() {}
