//! One module per subcommand.

pub mod dataset;
pub mod envs;
pub mod generate;
pub mod verify;
