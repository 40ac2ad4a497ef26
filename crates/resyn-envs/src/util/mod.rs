//! Helpers shared by environments: parsing answers, grids, graphs,
//! expressions, symmetries. Anything two environments need lives here,
//! never copied.

pub mod dihedral;
pub mod expr;
pub mod flat;
pub mod graph;
pub mod grid;
pub mod parse;
pub mod text;
