//! Integration tests of the curriculum: the generator over real native
//! environments, saved state, a killed run, and the simulator.
#![allow(clippy::unwrap_used)]

mod common;
mod generator;
mod kill;
mod sim;
mod state;
