//! Helpers shared by environments: parsing answers, grids, graphs.
//! Anything two environments need lives here, never copied.

pub mod dihedral;
pub mod graph;
pub mod grid;
pub mod parse;
