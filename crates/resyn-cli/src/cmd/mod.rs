//! One module per subcommand.

pub mod envs;
pub mod generate;
pub mod serve;
pub mod verify;
