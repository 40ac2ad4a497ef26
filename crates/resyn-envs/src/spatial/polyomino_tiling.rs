//! `polyomino_tiling`: cover a region exactly with a given set of polyominoes.
//!
//! Generation plants a tiling: a rectangle is cut into random connected
//! pieces (each grown cell by cell from the first free cell, half of the
//! time into the tightest free spot so few cells get stranded; undersized
//! leftovers are merged into a neighbour, else the cut is retried), then from
//! difficulty 5 on one or two pieces on the border are removed (keeping the
//! rest connected), which makes the region irregular. Each piece is shown in a
//! random orientation and named by a letter. Rotations and reflections are
//! allowed (the prompt says so).
//!
//! | d | rectangle | piece sizes | pieces removed |
//! |---|-----------|-------------|----------------|
//! | 1 | 2×4 | 2–4 | 0 |
//! | 2 | 3×4 | 3–4 | 0 |
//! | 3 | 4×4 | 3–5 | 0 |
//! | 4 | 4×5 | 4–5 | 0 |
//! | 5 | 5×5 | 4–5 | 1 |
//! | 6 | 5×6 | 4–6 | 1 |
//! | 7 | 6×6 | 4–6 | 1 |
//! | 8 | 6×7 | 4–6 | 2 |
//! | 9 | 7×8 | 4–6 | 2 |
//! | 10 | 8×8 | 4–6 | 2 |
//!
//! (A rare undersized leftover merged into a neighbour can exceed the
//! maximum size.) Many tilings can be valid, so the verifier checks validity
//! only: the answer grid must have the region's shape, `.` exactly outside
//! the region, a piece letter on every region cell, and for every piece the
//! cells carrying its letter must be congruent to it (equal to one of its
//! eight rotations/reflections after a translation). Congruence implies
//! connectedness and the right size; since the sizes add up to the region's
//! size, every piece is then used exactly once and the cover is exact.

use resyn_core::{Category, Rng, Verdict};
use serde::{Deserialize, Serialize};

use crate::util::dihedral::{D4, congruent, normalize};
use crate::util::grid::{Grid, parse_grid};
use crate::util::parse;
use crate::{Generated, Task, TaskInfo};

pub(crate) struct PolyominoTiling;

#[derive(Serialize, Deserialize)]
pub(crate) struct Data {
    /// The region, one string per row: `#` to cover, `.` outside.
    region: Vec<String>,
    /// Piece `i` (letter `A + i`) as normalised `(row, col)` cells, in the
    /// orientation shown.
    pieces: Vec<Vec<(i32, i32)>>,
}

/// `(rows, cols, min size, max size, pieces removed)` per difficulty.
fn params(d: u8) -> (usize, usize, usize, usize, usize) {
    match d {
        1 => (2, 4, 2, 4, 0),
        2 => (3, 4, 3, 4, 0),
        3 => (4, 4, 3, 5, 0),
        4 => (4, 5, 4, 5, 0),
        5 => (5, 5, 4, 5, 1),
        6 => (5, 6, 4, 6, 1),
        7 => (6, 6, 4, 6, 1),
        8 => (6, 7, 4, 6, 2),
        9 => (7, 8, 4, 6, 2),
        _ => (8, 8, 4, 6, 2),
    }
}

fn letter(i: usize) -> char {
    char::from(b'A' + (i % 26) as u8)
}

impl Task for PolyominoTiling {
    type Data = Data;
    type View<'a> = Data;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: "polyomino_tiling",
            version: 1,
            category: Category::Spatial,
            description: "Tile a region exactly with a given set of polyomino pieces (rotations \
                and reflections allowed) and label each cell with its piece's letter; any valid \
                tiling is accepted. Difficulty grows from a 2x4 rectangle with pieces of 2-4 \
                cells (d1) to an irregular 8x8 region with about ten pieces of 4-6 cells (d10).",
        }
    }

    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Data> {
        let (rows, cols, lo, hi, drop) = params(difficulty);
        let mut label = partition(rng, rows, cols, lo, hi);
        remove_border_pieces(rng, &mut label, rows, cols, drop);
        // Crop to the bounding box of what is left.
        let used: Vec<(usize, usize)> = (0..rows * cols)
            .filter(|&i| label[i].is_some())
            .map(|i| (i / cols, i % cols))
            .collect();
        let (r0, r1) = span(used.iter().map(|p| p.0));
        let (c0, c1) = span(used.iter().map(|p| p.1));
        // Pieces in shuffled order get letters A, B, ...
        let mut ids: Vec<usize> = label.iter().flatten().copied().collect();
        ids.sort_unstable();
        ids.dedup();
        rng.shuffle(&mut ids);
        let mut pieces = Vec::with_capacity(ids.len());
        for &id in &ids {
            let cells: Vec<(i32, i32)> = used
                .iter()
                .filter(|&&(r, c)| label[r * cols + c] == Some(id))
                .map(|&(r, c)| (r as i32, c as i32))
                .collect();
            let t = D4::ALL[rng.index(8)];
            let moved: Vec<(i32, i32)> = cells.iter().map(|&(r, c)| t.map_point(r, c)).collect();
            pieces.push(normalize(&moved));
        }
        let (h, w) = (r1 - r0 + 1, c1 - c0 + 1);
        let cell_char = |r: usize, c: usize, named: bool| -> char {
            match label[(r + r0) * cols + c + c0] {
                None => '.',
                Some(_) if !named => '#',
                Some(id) => letter(ids.iter().position(|&x| x == id).unwrap_or(0)),
            }
        };
        let grid_of = |named: bool| -> Vec<String> {
            (0..h)
                .map(|r| (0..w).map(|c| cell_char(r, c, named)).collect())
                .collect()
        };
        let region = grid_of(false);
        let solution = grid_of(true);
        let shown_pieces = pieces
            .iter()
            .enumerate()
            .map(|(i, p)| {
                format!(
                    "Piece {} ({} cells):\n{}",
                    letter(i),
                    p.len(),
                    draw(p, letter(i))
                )
            })
            .collect::<Vec<_>>()
            .join("\n\n");
        let total: usize = pieces.iter().map(Vec::len).sum();
        let prompt = format!(
            "Tile the region below exactly with the given polyomino pieces. The region has \
             {h} rows and {w} columns; its {total} cells marked '#' must each be covered by \
             exactly one piece, cells marked '.' are not part of it and stay uncovered. Every \
             piece must be used exactly once. Pieces may be rotated and reflected (flipped); \
             each piece covers whole cells, as drawn.\n\nRegion:\n{}\n\nPieces ({}):\n\n{}\n\n\
             Answer format: the region grid ({h} rows, {w} columns, one row per line, cells \
             separated by single spaces) with each '#' replaced by the letter of the piece \
             covering that cell and each '.' kept as '.'.",
            spaced(&region),
            pieces.len(),
            shown_pieces
        );
        Generated {
            prompt,
            answer: spaced(&solution),
            data: Data { region, pieces },
        }
    }

    fn check(&self, data: &Data, answer: &str) -> Verdict {
        let rows = data.region.len();
        let cols = data.region.first().map_or(0, |r| r.len());
        let k = data.pieces.len();
        let got = parse_grid(answer, rows, cols, |t| {
            let mut it = t.chars();
            match (it.next(), it.next()) {
                (Some('.'), None) => Ok(None),
                (Some(ch), None)
                    if ch.is_ascii_alphabetic()
                        && usize::from(ch.to_ascii_uppercase() as u8 - b'A') < k =>
                {
                    Ok(Some(usize::from(ch.to_ascii_uppercase() as u8 - b'A')))
                }
                _ => Err(format!(
                    "`{}` is neither '.' nor a piece letter",
                    parse::clip(t)
                )),
            }
        });
        match got {
            Err(e) => Verdict::parse_error(e),
            Ok(g) => Verdict::from_check(check_tiling(data, &g)),
        }
    }
}

fn check_tiling(data: &Data, g: &Grid<Option<usize>>) -> Result<(), String> {
    let mut groups: Vec<Vec<(i32, i32)>> = vec![Vec::new(); data.pieces.len()];
    for (r, row) in data.region.iter().enumerate() {
        for (c, b) in row.bytes().enumerate() {
            match (b == b'#', g.at(r, c)) {
                (true, None) => {
                    return Err(format!("region cell ({}, {}) is not covered", r + 1, c + 1));
                }
                (false, Some(_)) => {
                    return Err(format!("cell ({}, {}) is outside the region", r + 1, c + 1));
                }
                (true, Some(p)) => groups[*p].push((r as i32, c as i32)),
                (false, None) => {}
            }
        }
    }
    for (i, (cells, piece)) in groups.iter().zip(&data.pieces).enumerate() {
        if !congruent(piece, cells) {
            return Err(format!(
                "the cells labelled {} do not form piece {}",
                letter(i),
                letter(i)
            ));
        }
    }
    Ok(())
}

fn span(it: impl Iterator<Item = usize> + Clone) -> (usize, usize) {
    (it.clone().min().unwrap_or(0), it.max().unwrap_or(0))
}

fn spaced(rows: &[String]) -> String {
    rows.iter()
        .map(|r| r.chars().map(String::from).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

fn draw(piece: &[(i32, i32)], ch: char) -> String {
    let h = piece.iter().map(|p| p.0).max().unwrap_or(0) + 1;
    let w = piece.iter().map(|p| p.1).max().unwrap_or(0) + 1;
    let rows: Vec<String> = (0..h)
        .map(|r| {
            (0..w)
                .map(|c| if piece.contains(&(r, c)) { ch } else { '.' })
                .collect()
        })
        .collect();
    spaced(&rows)
}

/// Cut a `rows × cols` rectangle into connected pieces with sizes in
/// `lo..=hi` (labels per cell, row-major). Up to 100 attempts; the last one
/// is kept even if a merge had to exceed `hi`.
fn partition(rng: &mut Rng, rows: usize, cols: usize, lo: usize, hi: usize) -> Vec<Option<usize>> {
    let grid = Grid::new(rows, cols, ());
    let n = rows * cols;
    let nb = |i: usize| {
        grid.neighbors4(i / cols, i % cols)
            .map(|(r, c)| r * cols + c)
    };
    let mut last = Vec::new();
    for attempt in 0..100 {
        let mut label: Vec<Option<usize>> = vec![None; n];
        let mut sizes: Vec<usize> = Vec::new();
        for s in 0..n {
            if label[s].is_some() {
                continue;
            }
            let id = sizes.len();
            let target = rng.range(lo, hi);
            let mut piece = vec![s];
            label[s] = Some(id);
            while piece.len() < target {
                let mut frontier: Vec<usize> = piece
                    .iter()
                    .flat_map(|&p| nb(p))
                    .filter(|&q| label[q].is_none())
                    .collect();
                frontier.sort_unstable();
                frontier.dedup();
                if frontier.is_empty() {
                    break;
                }
                let pick = if rng.chance(1, 2) {
                    // Fill tight spots first so no free cell gets stranded.
                    let free = |q: usize| nb(q).filter(|&x| label[x].is_none()).count();
                    let best = frontier.iter().map(|&q| free(q)).min().unwrap_or(0);
                    let tight: Vec<usize> = frontier
                        .iter()
                        .copied()
                        .filter(|&q| free(q) == best)
                        .collect();
                    tight[rng.index(tight.len())]
                } else {
                    frontier[rng.index(frontier.len())]
                };
                label[pick] = Some(id);
                piece.push(pick);
            }
            sizes.push(piece.len());
        }
        // Merge undersized pieces into a neighbour.
        let relaxed = attempt == 99;
        let mut ok = true;
        while let Some(small) = (0..sizes.len()).find(|&p| sizes[p] > 0 && sizes[p] < lo) {
            let mut cands: Vec<usize> = (0..n)
                .filter(|&i| label[i] == Some(small))
                .flat_map(|i| nb(i).filter_map(|q| label[q]).collect::<Vec<_>>())
                .filter(|&p| p != small && (relaxed || sizes[p] + sizes[small] <= hi))
                .collect();
            cands.sort_unstable();
            cands.dedup();
            let Some(&into) = rng.choose(&cands) else {
                ok = false;
                break;
            };
            for l in label.iter_mut().filter(|l| **l == Some(small)) {
                *l = Some(into);
            }
            sizes[into] += sizes[small];
            sizes[small] = 0;
        }
        last = label;
        if ok {
            break;
        }
    }
    last
}

/// Remove `k` pieces touching the border, keeping the rest connected.
fn remove_border_pieces(
    rng: &mut Rng,
    label: &mut [Option<usize>],
    rows: usize,
    cols: usize,
    k: usize,
) {
    let grid = Grid::new(rows, cols, ());
    for _ in 0..k {
        let mut border: Vec<usize> = (0..rows * cols)
            .filter(|&i| {
                let (r, c) = (i / cols, i % cols);
                r == 0 || c == 0 || r == rows - 1 || c == cols - 1
            })
            .filter_map(|i| label[i])
            .collect();
        border.sort_unstable();
        border.dedup();
        rng.shuffle(&mut border);
        for p in border {
            let trial: Vec<Option<usize>> = label
                .iter()
                .map(|&l| if l == Some(p) { None } else { l })
                .collect();
            let mut left: Vec<usize> = trial.iter().flatten().copied().collect();
            left.sort_unstable();
            left.dedup();
            if left.len() >= 2 && connected(&grid, &trial) {
                label.copy_from_slice(&trial);
                break;
            }
        }
    }
}

fn connected(grid: &Grid<()>, label: &[Option<usize>]) -> bool {
    let cols = grid.cols;
    let Some(start) = label.iter().position(Option::is_some) else {
        return false;
    };
    let mut seen = vec![false; label.len()];
    seen[start] = true;
    let mut stack = vec![start];
    let mut count = 1;
    while let Some(i) = stack.pop() {
        for (r, c) in grid.neighbors4(i / cols, i % cols) {
            let j = r * cols + c;
            if label[j].is_some() && !seen[j] {
                seen[j] = true;
                count += 1;
                stack.push(j);
            }
        }
    }
    count == label.iter().flatten().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use resyn_core::testing::Conformance;
    use resyn_core::{Environment, Instance, Rng, probes::reference_answer};

    use crate::Native;

    fn data(inst: &Instance) -> Data {
        serde_json::from_value(inst.data.clone()).unwrap()
    }

    /// The eight signed permutation matrices, enumerated independently of
    /// `D4`: all 2x2 matrices over {-1, 0, 1} with orthonormal rows.
    fn matrices() -> Vec<[i32; 4]> {
        let mut out = Vec::new();
        for a in -1..=1 {
            for b in -1..=1 {
                for c in -1..=1 {
                    for d in -1..=1 {
                        if a * a + b * b == 1 && c * c + d * d == 1 && a * c + b * d == 0 {
                            out.push([a, b, c, d]);
                        }
                    }
                }
            }
        }
        assert_eq!(out.len(), 8);
        out
    }

    /// Brute-force congruence: some matrix and some translation map `a`
    /// onto `b` exactly (as sets).
    fn congruent_brute(a: &[(i32, i32)], b: &[(i32, i32)]) -> bool {
        if a.len() != b.len() || a.is_empty() {
            return a.len() == b.len();
        }
        let mut bs = b.to_vec();
        bs.sort_unstable();
        bs.dedup();
        for m in matrices() {
            let img: Vec<(i32, i32)> = a
                .iter()
                .map(|&(r, c)| (m[0] * r + m[1] * c, m[2] * r + m[3] * c))
                .collect();
            // A translation must move the first image cell onto some cell of b.
            for &(br, bc) in &bs {
                let (dr, dc) = (br - img[0].0, bc - img[0].1);
                let mut t: Vec<(i32, i32)> = img.iter().map(|&(r, c)| (r + dr, c + dc)).collect();
                t.sort_unstable();
                t.dedup();
                if t == bs {
                    return true;
                }
            }
        }
        false
    }

    /// All fixed polyominoes of each size up to `n`, normalised.
    fn fixed_polyominoes(n: usize) -> Vec<Vec<Vec<(i32, i32)>>> {
        let mut by_size = vec![vec![vec![(0, 0)]]];
        for _ in 1..n {
            let mut next: Vec<Vec<(i32, i32)>> = Vec::new();
            for p in by_size.last().unwrap() {
                for &(r, c) in p {
                    for (dr, dc) in [(0, 1), (1, 0), (0, -1), (-1, 0)] {
                        let q = (r + dr, c + dc);
                        if !p.contains(&q) {
                            let mut v = p.clone();
                            v.push(q);
                            next.push(normalize(&v));
                        }
                    }
                }
            }
            next.sort();
            next.dedup();
            by_size.push(next);
        }
        by_size
    }

    #[test]
    fn congruence_matches_brute_force_and_known_counts() {
        let all = fixed_polyominoes(6);
        let fixed: Vec<usize> = all.iter().map(Vec::len).collect();
        assert_eq!(fixed, vec![1, 2, 6, 19, 63, 216]);
        // Free polyomino counts (classes under congruence): OEIS A000105.
        let free_known = [1, 1, 2, 5, 12, 35];
        for (size, shapes) in all.iter().enumerate() {
            let mut reps: Vec<&Vec<(i32, i32)>> = Vec::new();
            for s in shapes {
                if !reps.iter().any(|r| congruent(r, s)) {
                    reps.push(s);
                }
            }
            assert_eq!(reps.len(), free_known[size], "size {}", size + 1);
        }
        // Pairwise agreement with the brute-force check up to size 6, also on
        // translated and shuffled copies.
        for shapes in &all {
            for a in shapes {
                for b in shapes {
                    let moved: Vec<(i32, i32)> =
                        b.iter().rev().map(|&(r, c)| (r + 3, c + 7)).collect();
                    assert_eq!(congruent(a, &moved), congruent_brute(a, b), "{a:?} {b:?}");
                }
            }
        }
        // Different sizes are never congruent; duplicated cells are not a piece.
        assert!(!congruent(&all[3][0], &all[4][0]));
        assert!(!congruent(&[(0, 0), (0, 1)], &[(0, 0), (0, 0)]));
    }

    /// Every valid tiling, as label grids, by an exact-cover search over
    /// placements enumerated with the independent matrices.
    fn all_tilings(d: &Data) -> Vec<Vec<Option<usize>>> {
        let (h, w) = (d.region.len() as i32, d.region[0].len() as i32);
        let region: Vec<bool> = d
            .region
            .iter()
            .flat_map(|r| r.bytes().map(|b| b == b'#'))
            .collect();
        let placements: Vec<Vec<Vec<usize>>> = d
            .pieces
            .iter()
            .map(|p| {
                let mut out: Vec<Vec<usize>> = Vec::new();
                for m in matrices() {
                    for dr in -10..=10 {
                        for dc in -10..=10 {
                            let cells: Option<Vec<usize>> = p
                                .iter()
                                .map(|&(r, c)| {
                                    let (nr, nc) =
                                        (m[0] * r + m[1] * c + dr, m[2] * r + m[3] * c + dc);
                                    (nr >= 0 && nc >= 0 && nr < h && nc < w)
                                        .then(|| (nr * w + nc) as usize)
                                        .filter(|&i| region[i])
                                })
                                .collect();
                            if let Some(mut c) = cells {
                                c.sort_unstable();
                                if !out.contains(&c) {
                                    out.push(c);
                                }
                            }
                        }
                    }
                }
                out
            })
            .collect();
        // Exact cover: the first uncovered region cell must be covered by some
        // unused piece; each tiling is found exactly once.
        fn rec(
            region: &[bool],
            placements: &[Vec<Vec<usize>>],
            used: &mut Vec<bool>,
            cur: &mut Vec<Option<usize>>,
            out: &mut Vec<Vec<Option<usize>>>,
        ) {
            let Some(first) = (0..cur.len()).find(|&i| region[i] && cur[i].is_none()) else {
                if used.iter().all(|&u| u) {
                    out.push(cur.clone());
                }
                return;
            };
            for i in 0..placements.len() {
                if used[i] {
                    continue;
                }
                for pl in &placements[i] {
                    if pl.contains(&first) && pl.iter().all(|&c| cur[c].is_none()) {
                        for &c in pl {
                            cur[c] = Some(i);
                        }
                        used[i] = true;
                        rec(region, placements, used, cur, out);
                        used[i] = false;
                        for &c in pl {
                            cur[c] = None;
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        let mut cur = vec![None; region.len()];
        let mut used = vec![false; placements.len()];
        rec(&region, &placements, &mut used, &mut cur, &mut out);
        out
    }

    fn render_labels(d: &Data, labels: &[Option<usize>]) -> String {
        let w = d.region[0].len();
        let rows: Vec<String> = labels
            .chunks(w)
            .map(|r| r.iter().map(|l| l.map_or('.', letter)).collect())
            .collect();
        spaced(&rows)
    }

    /// Independent oracle: the answer equals one of the exact-cover tilings.
    fn acceptable(inst: &Instance, answer: &str) -> bool {
        let d = data(inst);
        let norm: String = answer.split_whitespace().collect::<String>().to_uppercase();
        all_tilings(&d)
            .iter()
            .any(|t| render_labels(&d, t).split_whitespace().collect::<String>() == norm)
    }

    fn mutations(inst: &Instance, rng: &mut Rng) -> Vec<String> {
        let rows: Vec<Vec<char>> = reference_answer(inst)
            .lines()
            .map(|l| l.split(' ').map(|t| t.chars().next().unwrap()).collect())
            .collect();
        let (h, w) = (rows.len(), rows[0].len());
        let join = |g: &[Vec<char>]| {
            spaced(
                &g.iter()
                    .map(|r| r.iter().collect())
                    .collect::<Vec<String>>(),
            )
        };
        let cells: Vec<(usize, usize)> = (0..h)
            .flat_map(|r| (0..w).map(move |c| (r, c)))
            .filter(|&(r, c)| rows[r][c] != '.')
            .collect();
        let mut out = Vec::new();
        for _ in 0..3 {
            let (r, c) = cells[rng.index(cells.len())];
            // Uncover a cell.
            let mut g = rows.clone();
            g[r][c] = '.';
            out.push(join(&g));
            // Relabel a cell with another letter.
            let mut g = rows.clone();
            g[r][c] = if g[r][c] == 'A' { 'B' } else { 'A' };
            out.push(join(&g));
            // Swap with an adjacent cell of another piece (may stay valid:
            // the oracle decides).
            for (dr, dc) in [(0, 1), (1, 0)] {
                let (nr, nc) = (r + dr, c + dc);
                if nr < h && nc < w && rows[nr][nc] != '.' && rows[nr][nc] != rows[r][c] {
                    let mut g = rows.clone();
                    g[r][c] = rows[nr][nc];
                    g[nr][nc] = rows[r][c];
                    out.push(join(&g));
                }
            }
        }
        // Swap two letters everywhere (valid iff the two pieces are congruent).
        let mut g = rows.clone();
        for ch in g.iter_mut().flatten() {
            *ch = match *ch {
                'A' => 'B',
                'B' => 'A',
                x => x,
            };
        }
        out.push(join(&g));
        // Cover an outside cell, if any.
        if let Some((r, c)) = (0..h)
            .flat_map(|r| (0..w).map(move |c| (r, c)))
            .find(|&(r, c)| rows[r][c] == '.')
        {
            let mut g = rows.clone();
            g[r][c] = 'A';
            out.push(join(&g));
        }
        // A row dropped, a lowercase letter outside the piece range.
        out.push(join(&rows[1..]));
        let mut g = rows.clone();
        g[cells[0].0][cells[0].1] = 'z';
        out.push(join(&g));
        out
    }

    #[test]
    fn conformance() {
        let env = Native::new(PolyominoTiling);
        let r = Conformance::new(&env)
            .seeds(12)
            .difficulties(1..=6)
            .wrong(mutations)
            .acceptable(acceptable)
            .run();
        assert!(r.rejected > 900, "{r:?}");
        // Large levels: the exact-cover oracle would be slow, so only
        // mutations that are provably invalid (cell counts change) are used.
        let r = Conformance::new(&env)
            .seeds(8)
            .difficulties(7..=10)
            .wrong(|inst, rng| {
                // The first two mutations (uncover a cell, relabel a cell)
                // change a piece's cell count, so they are never valid.
                mutations(inst, rng).into_iter().take(2).collect()
            })
            .run();
        assert!(r.rejected > 400, "{r:?}");
    }

    #[test]
    fn verifier_agrees_with_exhaustive_labelings() {
        // For small instances, every labelling of the region cells with piece
        // letters is checked; the accepted ones are exactly the tilings found
        // by the independent exact-cover search.
        let env = Native::new(PolyominoTiling);
        let mut checked = 0;
        for seed in 0..12 {
            let inst = env.generate(seed, 1).unwrap();
            let d = data(&inst);
            let k = d.pieces.len();
            let region: Vec<usize> = d
                .region
                .iter()
                .flat_map(|r| r.bytes())
                .enumerate()
                .filter(|&(_, b)| b == b'#')
                .map(|(i, _)| i)
                .collect();
            let total = k.pow(region.len() as u32);
            if total > 70_000 {
                continue;
            }
            let mut tilings: Vec<String> = all_tilings(&d)
                .iter()
                .map(|t| render_labels(&d, t))
                .collect();
            tilings.sort();
            let mut accepted = Vec::new();
            for code in 0..total {
                let mut labels = vec![None; d.region.len() * d.region[0].len()];
                let mut x = code;
                for &i in &region {
                    labels[i] = Some(x % k);
                    x /= k;
                }
                let text = render_labels(&d, &labels);
                if PolyominoTiling.check(&d, &text).correct {
                    accepted.push(text);
                }
            }
            accepted.sort();
            assert!(!tilings.is_empty());
            assert_eq!(accepted, tilings, "seed {seed}");
            checked += 1;
        }
        assert!(checked >= 5, "{checked}");
    }

    #[test]
    fn generated_instances_are_well_formed() {
        let env = Native::new(PolyominoTiling);
        for d in 1..=10u8 {
            let (rows, cols, lo, _, drop) = params(d);
            let mut piece_counts = Vec::new();
            for seed in 0..40 {
                let inst = env.generate(seed, d).unwrap();
                let data = data(&inst);
                let area: usize = data.region.iter().map(|r| r.matches('#').count()).sum();
                let sizes: usize = data.pieces.iter().map(Vec::len).sum();
                assert_eq!(area, sizes);
                assert!(data.pieces.iter().all(|p| p.len() >= lo));
                assert!(data.pieces.len() <= 26);
                assert!(data.region.len() <= rows && data.region[0].len() <= cols);
                if drop == 0 {
                    assert_eq!(area, rows * cols);
                }
                piece_counts.push(data.pieces.len());
                assert!(
                    PolyominoTiling
                        .check(&data, reference_answer(&inst))
                        .correct
                );
            }
            let avg = piece_counts.iter().sum::<usize>() as f64 / piece_counts.len() as f64;
            assert!(avg >= 2.0, "d{d}: {avg}");
        }
    }

    #[test]
    fn accepts_format_variants() {
        let env = Native::new(PolyominoTiling);
        let inst = env.generate(3, 4).unwrap();
        let ans = reference_answer(&inst);
        for v in [
            ans.to_lowercase(),
            ans.replace(' ', ""),
            ans.replace(' ', ", "),
        ] {
            assert!(
                env.verify(&inst, &format!("<answer>{v}</answer>")).correct,
                "{v}"
            );
        }
    }

    proptest! {
        #[test]
        fn check_is_total(s in "[A-Za-z. \n#]{0,120}|.{0,200}") {
            let inst = Native::new(PolyominoTiling).generate(2, 3).unwrap();
            let _ = PolyominoTiling.check(&data(&inst), &s);
        }
    }
}
