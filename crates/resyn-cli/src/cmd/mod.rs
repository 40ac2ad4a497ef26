//! One module per subcommand.

pub mod envs;
pub mod generate;
pub mod sandbox;
pub mod show;
pub mod synth;
pub mod validate;
pub mod verify;
