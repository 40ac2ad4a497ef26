//! One module per subcommand.

pub(crate) mod audit;
pub(crate) mod dataset;
pub(crate) mod envs;
pub(crate) mod eval;
pub(crate) mod generate;
pub(crate) mod sandbox;
pub(crate) mod serve;
pub(crate) mod show;
pub(crate) mod synth;
pub(crate) mod ui;
pub(crate) mod validate;
pub(crate) mod verify;
