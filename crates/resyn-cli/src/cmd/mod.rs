//! One module per subcommand.

pub mod audit;
pub mod dataset;
pub mod envs;
pub mod eval;
pub mod generate;
pub mod sandbox;
pub mod serve;
pub mod show;
pub mod synth;
pub mod ui;
pub mod validate;
pub mod verify;
