//! Spatial reasoning environments.

mod compass_navigation;
mod grid_transform;
mod maze;
mod polyomino_tiling;

use std::sync::Arc;

use resyn_core::Environment;

use crate::Native;

/// The environments of this group.
pub fn all() -> Vec<Arc<dyn Environment>> {
    vec![
        Arc::new(Native::new(maze::Maze)),
        Arc::new(Native::new(grid_transform::GridTransform)),
        Arc::new(Native::new(polyomino_tiling::PolyominoTiling)),
        Arc::new(Native::new(compass_navigation::CompassNavigation)),
    ]
}
