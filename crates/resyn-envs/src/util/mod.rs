//! Helpers shared by environments: parsing answers, grids, graphs,
//! arithmetic expressions.
//! Anything two environments need lives here, never copied.

pub mod expr;
pub mod graph;
pub mod grid;
pub mod parse;
