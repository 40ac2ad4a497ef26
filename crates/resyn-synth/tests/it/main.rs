//! Integration tests of resyn-synth.
mod common;
mod pipeline;
mod validate;
