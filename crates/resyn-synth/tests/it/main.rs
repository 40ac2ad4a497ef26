//! Integration tests of resyn-synth.
mod common;
mod validate;
