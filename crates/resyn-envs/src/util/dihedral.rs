//! The eight symmetries of the square (the dihedral group D4) acting on grid
//! coordinates: whole-grid rotations/reflections and shape normalisation.
//!
//! Coordinates are `(row, col)` with rows growing downwards, so "clockwise"
//! is as seen on screen: a clockwise quarter turn sends the top-left cell to
//! the top-right corner.

use super::grid::Grid;

/// One symmetry of the square.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum D4 {
    /// No change.
    Identity,
    /// Quarter turn clockwise.
    Rot90,
    /// Half turn.
    Rot180,
    /// Three quarter turns clockwise (a quarter turn counterclockwise).
    Rot270,
    /// Mirror left-right: the first column becomes the last.
    FlipLR,
    /// Mirror top-bottom: the first row becomes the last.
    FlipUD,
    /// Reflect in the main diagonal: cell `(r, c)` goes to `(c, r)`.
    Transpose,
    /// Reflect in the anti-diagonal.
    AntiTranspose,
}

impl D4 {
    /// All eight symmetries.
    pub const ALL: [D4; 8] = [
        Self::Identity,
        Self::Rot90,
        Self::Rot180,
        Self::Rot270,
        Self::FlipLR,
        Self::FlipUD,
        Self::Transpose,
        Self::AntiTranspose,
    ];

    /// Whether the symmetry swaps the number of rows and columns.
    pub fn swaps_dims(self) -> bool {
        matches!(
            self,
            Self::Rot90 | Self::Rot270 | Self::Transpose | Self::AntiTranspose
        )
    }

    /// Dimensions `(rows, cols)` of a `rows × cols` grid after the symmetry.
    pub fn dims(self, rows: usize, cols: usize) -> (usize, usize) {
        if self.swaps_dims() {
            (cols, rows)
        } else {
            (rows, cols)
        }
    }

    /// Where cell `(r, c)` of a `rows × cols` grid lands in the transformed
    /// grid. Requires `r < rows` and `c < cols`.
    pub fn map(self, r: usize, c: usize, rows: usize, cols: usize) -> (usize, usize) {
        match self {
            Self::Identity => (r, c),
            Self::Rot90 => (c, rows - 1 - r),
            Self::Rot180 => (rows - 1 - r, cols - 1 - c),
            Self::Rot270 => (cols - 1 - c, r),
            Self::FlipLR => (r, cols - 1 - c),
            Self::FlipUD => (rows - 1 - r, c),
            Self::Transpose => (c, r),
            Self::AntiTranspose => (cols - 1 - c, rows - 1 - r),
        }
    }

    /// The symmetry as a linear map of the unbounded plane (equal to [`D4::map`]
    /// up to a translation); used for shapes, followed by normalisation.
    pub fn map_point(self, r: i32, c: i32) -> (i32, i32) {
        match self {
            Self::Identity => (r, c),
            Self::Rot90 => (c, -r),
            Self::Rot180 => (-r, -c),
            Self::Rot270 => (-c, r),
            Self::FlipLR => (r, -c),
            Self::FlipUD => (-r, c),
            Self::Transpose => (c, r),
            Self::AntiTranspose => (-c, -r),
        }
    }

    /// The grid after applying the symmetry.
    pub fn apply<T: Clone>(self, g: &Grid<T>) -> Grid<T> {
        let (rows, cols) = self.dims(g.rows, g.cols);
        // Every target cell is written exactly once (the map is a
        // bijection), so the initial contents are all overwritten.
        let mut cells = g.cells.clone();
        for r in 0..g.rows {
            for c in 0..g.cols {
                let (nr, nc) = self.map(r, c, g.rows, g.cols);
                cells[nr * cols + nc] = g.at(r, c).clone();
            }
        }
        Grid { rows, cols, cells }
    }
}

/// A set of cells translated so that its minimum row and column are 0,
/// sorted; the canonical form of a fixed (non-rotated) shape.
pub fn normalize(cells: &[(i32, i32)]) -> Vec<(i32, i32)> {
    let r0 = cells.iter().map(|p| p.0).min().unwrap_or(0);
    let c0 = cells.iter().map(|p| p.1).min().unwrap_or(0);
    let mut v: Vec<(i32, i32)> = cells.iter().map(|&(r, c)| (r - r0, c - c0)).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The distinct normalised images of a shape under all eight symmetries
/// (sorted), i.e. every orientation a free polyomino can be placed in.
pub fn orientations(cells: &[(i32, i32)]) -> Vec<Vec<(i32, i32)>> {
    let mut out: Vec<Vec<(i32, i32)>> = D4::ALL
        .iter()
        .map(|t| {
            let moved: Vec<(i32, i32)> = cells.iter().map(|&(r, c)| t.map_point(r, c)).collect();
            normalize(&moved)
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether two shapes are congruent (equal after a rotation and/or
/// reflection and a translation).
pub fn congruent(a: &[(i32, i32)], b: &[(i32, i32)]) -> bool {
    let nb = normalize(b);
    a.len() == b.len() && orientations(a).contains(&nb)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(rows: usize, cols: usize) -> Grid<usize> {
        Grid {
            rows,
            cols,
            cells: (0..rows * cols).collect(),
        }
    }

    #[test]
    fn bounded_and_unbounded_maps_agree_up_to_translation() {
        for t in D4::ALL {
            let (rows, cols) = (3usize, 5usize);
            let a: Vec<(i32, i32)> = (0..rows)
                .flat_map(|r| (0..cols).map(move |c| (r, c)))
                .map(|(r, c)| {
                    let (nr, nc) = t.map(r, c, rows, cols);
                    (nr as i32, nc as i32)
                })
                .collect();
            let b: Vec<(i32, i32)> = (0..rows as i32)
                .flat_map(|r| (0..cols as i32).map(move |c| (r, c)))
                .map(|(r, c)| t.map_point(r, c))
                .collect();
            let r0 = b.iter().map(|p| p.0).min().unwrap();
            let c0 = b.iter().map(|p| p.1).min().unwrap();
            let b: Vec<(i32, i32)> = b.iter().map(|&(r, c)| (r - r0, c - c0)).collect();
            assert_eq!(a, b, "{t:?}");
        }
    }

    #[test]
    fn known_images() {
        // 1 2 3
        // 4 5 6
        let g = Grid {
            rows: 2,
            cols: 3,
            cells: vec![1, 2, 3, 4, 5, 6],
        };
        let cw = D4::Rot90.apply(&g);
        assert_eq!((cw.rows, cw.cols, cw.cells), (3, 2, vec![4, 1, 5, 2, 6, 3]));
        let ccw = D4::Rot270.apply(&g);
        assert_eq!(ccw.cells, vec![3, 6, 2, 5, 1, 4]);
        assert_eq!(D4::Rot180.apply(&g).cells, vec![6, 5, 4, 3, 2, 1]);
        assert_eq!(D4::FlipLR.apply(&g).cells, vec![3, 2, 1, 6, 5, 4]);
        assert_eq!(D4::FlipUD.apply(&g).cells, vec![4, 5, 6, 1, 2, 3]);
        assert_eq!(D4::Transpose.apply(&g).cells, vec![1, 4, 2, 5, 3, 6]);
        assert_eq!(D4::AntiTranspose.apply(&g).cells, vec![6, 3, 5, 2, 4, 1]);
    }

    #[test]
    fn group_structure() {
        let g = grid(3, 4);
        // The eight images are pairwise distinct on an asymmetric grid.
        let mut images: Vec<Grid<usize>> = D4::ALL.iter().map(|t| t.apply(&g)).collect();
        images.sort_by(|a, b| (a.rows, &a.cells).cmp(&(b.rows, &b.cells)));
        images.dedup();
        assert_eq!(images.len(), 8);
        // Four quarter turns, or two of any reflection, are the identity.
        let mut x = g.clone();
        for _ in 0..4 {
            x = D4::Rot90.apply(&x);
        }
        assert_eq!(x, g);
        for t in [D4::FlipLR, D4::FlipUD, D4::Transpose, D4::AntiTranspose] {
            assert_eq!(t.apply(&t.apply(&g)), g);
        }
        assert_eq!(
            D4::FlipLR.apply(&D4::Transpose.apply(&g)),
            D4::Rot90.apply(&g)
        );
    }

    #[test]
    fn congruence_of_small_shapes() {
        let l = [(0, 0), (1, 0), (2, 0), (2, 1)];
        let j = [(0, 1), (1, 1), (2, 1), (2, 0)];
        let s = [(0, 1), (0, 2), (1, 0), (1, 1)];
        assert!(congruent(&l, &j));
        assert!(!congruent(&l, &s));
        assert_eq!(orientations(&l).len(), 8);
        assert_eq!(orientations(&[(0, 0), (0, 1), (1, 0), (1, 1)]).len(), 1);
    }
}
