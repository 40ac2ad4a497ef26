//! Rectangular grids: storage, neighbours, rendering and parsing.

use super::{parse, text};

/// A row-major grid.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grid<T> {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Cells, row-major.
    pub cells: Vec<T>,
}

impl<T: Clone> Grid<T> {
    /// A grid filled with `fill`.
    pub fn new(rows: usize, cols: usize, fill: T) -> Self {
        Self {
            rows,
            cols,
            cells: vec![fill; rows * cols],
        }
    }
}

impl<T> Grid<T> {
    /// Build from rows; `None` if they are ragged or empty.
    pub fn from_rows(rows: Vec<Vec<T>>) -> Option<Self> {
        let cols = rows.first()?.len();
        if cols == 0 || rows.iter().any(|r| r.len() != cols) {
            return None;
        }
        let n = rows.len();
        Some(Self {
            rows: n,
            cols,
            cells: rows.into_iter().flatten().collect(),
        })
    }

    /// Whether `(r, c)` is inside.
    pub fn contains(&self, r: isize, c: isize) -> bool {
        r >= 0 && c >= 0 && (r as usize) < self.rows && (c as usize) < self.cols
    }

    /// The cell at `(r, c)`. Panics when out of bounds.
    pub fn at(&self, r: usize, c: usize) -> &T {
        &self.cells[r * self.cols + c]
    }

    /// Mutable cell at `(r, c)`. Panics when out of bounds.
    pub fn at_mut(&mut self, r: usize, c: usize) -> &mut T {
        &mut self.cells[r * self.cols + c]
    }

    /// The cell at `(r, c)` or `None` when out of bounds.
    pub fn get(&self, r: isize, c: isize) -> Option<&T> {
        self.contains(r, c)
            .then(|| &self.cells[r as usize * self.cols + c as usize])
    }

    /// In-bounds orthogonal neighbours of `(r, c)`.
    pub fn neighbors4(&self, r: usize, c: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        DIRS4.iter().filter_map(move |&(dr, dc)| {
            let (nr, nc) = (r as isize + dr, c as isize + dc);
            self.contains(nr, nc).then_some((nr as usize, nc as usize))
        })
    }

    /// One row as a slice.
    pub fn row(&self, r: usize) -> &[T] {
        &self.cells[r * self.cols..(r + 1) * self.cols]
    }

    /// Render rows joined by newlines, cells by `sep`.
    pub fn render(&self, sep: &str, cell: impl Fn(&T) -> String) -> String {
        self.render_with(sep, |s, v| s.push_str(&cell(v)))
    }

    /// [`Grid::render`] with each cell appended by `cell` (no per-cell string).
    pub fn render_with(&self, sep: &str, mut cell: impl FnMut(&mut String, &T)) -> String {
        let mut s = String::with_capacity(self.rows * self.cols * (1 + sep.len()) + 8);
        for r in 0..self.rows {
            if r > 0 {
                s.push('\n');
            }
            text::push_joined(&mut s, self.row(r), sep, &mut cell);
        }
        s
    }
}

impl Grid<bool> {
    /// Step distances from the cell with index `src` to every cell, moving
    /// orthogonally between open (`true`) cells (`None` = unreachable).
    /// The same distances as [`super::graph::bfs`] over the open cells'
    /// adjacency lists, without building them.
    pub fn bfs_open(&self, src: usize) -> Vec<Option<usize>> {
        let mut dist = vec![None; self.cells.len()];
        dist[src] = Some(0);
        if !self.cells[src] {
            return dist;
        }
        let mut queue = Vec::with_capacity(self.cells.len());
        queue.push(src);
        let mut head = 0;
        let cols = self.cols;
        while let Some(&u) = queue.get(head) {
            head += 1;
            let d = dist[u].unwrap_or(0);
            let c = u % cols;
            // Up, right, down, left by index arithmetic (a hot loop in maze
            // generation): `usize::MAX` marks a move off the grid.
            let up = u.checked_sub(cols).unwrap_or(usize::MAX);
            let right = if c + 1 < cols { u + 1 } else { usize::MAX };
            let down = u + cols;
            let left = if c > 0 { u - 1 } else { usize::MAX };
            for v in [up, right, down, left] {
                if self.cells.get(v) == Some(&true) && dist[v].is_none() {
                    dist[v] = Some(d + 1);
                    queue.push(v);
                }
            }
        }
        dist
    }
}

/// Up, right, down, left as `(dr, dc)`.
pub const DIRS4: [(isize, isize); 4] = [(-1, 0), (0, 1), (1, 0), (0, -1)];

/// Parse a grid answer: one row per non-empty line. Cells are separated by
/// whitespace/commas, or, when a line has no separators, each character is a
/// cell. Every row must have `cols` cells and there must be `rows` rows.
pub fn parse_grid<T>(
    s: &str,
    rows: usize,
    cols: usize,
    cell: impl Fn(&str) -> Result<T, String>,
) -> Result<Grid<T>, String> {
    let mut out = Vec::with_capacity(rows * cols);
    parse::exact_lines(s, rows, "rows", |i, line| {
        parse_row(line, i, cols, &cell, &mut out)
    })?;
    Ok(Grid {
        rows,
        cols,
        cells: out,
    })
}

/// Parse row `i` of a grid answer into `out` (see [`parse_grid`]).
fn parse_row<T>(
    line: &str,
    i: usize,
    cols: usize,
    cell: &impl Fn(&str) -> Result<T, String>,
    out: &mut Vec<T>,
) -> Result<(), String> {
    let before = out.len();
    let inner = parse::strip_brackets(line);
    // ASCII whitespace as `char::is_whitespace` sees it (which includes
    // vertical tab, unlike `u8::is_ascii_whitespace`).
    let separator = |b: u8| b == b' ' || (b'\t'..=b'\r').contains(&b) || b == b',';
    if cols > 1 && !inner.is_empty() && !inner.bytes().any(separator) && inner.is_ascii() {
        // The usual reference shape, one ASCII token: every byte is a cell.
        // Same result as the general path below, without char decoding.
        for k in 0..inner.len().min(cols + 1) {
            out.push(cell(&inner[k..k + 1]).map_err(|e| format!("row {}: {e}", i + 1))?);
        }
        return row_length(out.len() - before, i, cols);
    }
    let mut toks = parse::split_tokens(inner);
    let (first, second) = (toks.next(), toks.next());
    if let (Some(t), None, true) = (first, second, cols > 1) {
        // No separators: every character is a cell (sliced, not allocated).
        for (k, ch) in t.char_indices() {
            let cell_text = &t[k..k + ch.len_utf8()];
            out.push(cell(cell_text).map_err(|e| format!("row {}: {e}", i + 1))?);
            if out.len() - before > cols {
                break;
            }
        }
    } else {
        for t in first.into_iter().chain(second).chain(toks) {
            out.push(cell(t).map_err(|e| format!("row {}: {e}", i + 1))?);
        }
    }
    row_length(out.len() - before, i, cols)
}

/// Row `i` has `got` cells (`cols + 1` meaning more than `cols`).
fn row_length(got: usize, i: usize, cols: usize) -> Result<(), String> {
    if got != cols {
        let got = if got > cols {
            format!("more than {cols}")
        } else {
            got.to_string()
        };
        return Err(format!("row {} has {got} cells, expected {cols}", i + 1));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_both_styles() {
        let digit = |t: &str| parse::int(t);
        let a = parse_grid("1 2\n3 4", 2, 2, digit).unwrap();
        let b = parse_grid("\n12\n34\n", 2, 2, digit).unwrap();
        assert_eq!(a, b);
        assert_eq!(*a.at(1, 0), 3);
        assert!(parse_grid("1 2\n3", 2, 2, digit).is_err());
        assert!(parse_grid("1 2", 2, 2, digit).is_err());
        assert_eq!(a.render(" ", |v| v.to_string()), "1 2\n3 4");
        // A wrong row count is reported before any cell error.
        let err = |s| parse_grid(s, 2, 2, digit).unwrap_err();
        assert_eq!(err("1 x\n3 4\n5 6"), "expected 2 rows, got 3");
        assert_eq!(err("1 x"), "expected 2 rows, got 1");
        assert_eq!(err("1 2\n3 4\n\n5 6"), "expected 2 rows, got 3");
        assert_eq!(err("1 x\n3 4"), "row 1: `x` is not an integer");
        assert_eq!(err("1 2\n3 4 5"), "row 2 has more than 2 cells, expected 2");
        assert_eq!(a.neighbors4(0, 0).count(), 2);
        assert_eq!(a.get(-1, 0), None);
    }

    /// The grid parser before its ASCII fast path: every line's tokens,
    /// a lone token split into chars. The oracle for `parse_grid`.
    fn char_cells(s: &str, rows: usize, cols: usize) -> Result<Vec<String>, String> {
        let lines: Vec<&str> = parse::lines_iter(s).collect();
        if lines.len() != rows {
            return Err(format!("expected {rows} rows, got {}", lines.len()));
        }
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let toks: Vec<&str> = parse::tokens_iter(line).collect();
            let cells: Vec<String> = if toks.len() == 1 && cols > 1 {
                toks[0].chars().take(cols + 1).map(String::from).collect()
            } else {
                toks.iter().map(|t| t.to_string()).collect()
            };
            for c in &cells {
                if c == "x" {
                    return Err(format!("row {}: bad `{c}`", i + 1));
                }
            }
            if cells.len() != cols {
                let got = if cells.len() > cols {
                    format!("more than {cols}")
                } else {
                    cells.len().to_string()
                };
                return Err(format!("row {} has {got} cells, expected {cols}", i + 1));
            }
            out.extend(cells);
        }
        Ok(out)
    }

    proptest::proptest! {
        #[test]
        fn ascii_fast_path_matches_char_cells(
            s in "[ab.x\\[\\]() ,\t\u{b}\u{a0}é]{0,9}(\n[ab.x\\[\\] ,]{0,9}){0,3}",
            rows in 1usize..5,
            cols in 1usize..6,
        ) {
            let cell = |t: &str| {
                if t == "x" { Err(format!("bad `{t}`")) } else { Ok(t.to_string()) }
            };
            let got = parse_grid(&s, rows, cols, cell).map(|g| g.cells);
            proptest::prop_assert_eq!(got, char_cells(&s, rows, cols));
        }
    }
}
