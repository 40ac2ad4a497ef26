//! `sudoku`: complete a sudoku grid with a unique solution.
//!
//! Sizes and blank counts by difficulty (box shape rows x columns):
//!
//! | d  | grid | boxes | blanks       |
//! |----|------|-------|--------------|
//! | 1  | 4x4  | 2x2   | 4–6          |
//! | 2  | 4x4  | 2x2   | 7–9          |
//! | 3  | 4x4  | 2x2   | 10–12        |
//! | 4  | 6x6  | 2x3   | 14–18        |
//! | 5  | 6x6  | 2x3   | 19–24        |
//! | 6  | 9x9  | 3x3   | 30–38        |
//! | 7  | 9x9  | 3x3   | 39–45        |
//! | 8  | 9x9  | 3x3   | 46–50        |
//! | 9  | 9x9  | 3x3   | 51–55        |
//! | 10 | 9x9  | 3x3   | 56–64        |
//!
//! When no further clue can be removed without losing uniqueness the puzzle
//! is minimal and may have fewer blanks than the target. reasoning-gym's
//! `mini_sudoku` (4x4, 8–12 blanks) corresponds to difficulties 2–3 and its
//! `sudoku` (9x9, 30–50 blanks) to difficulties 6–8.
//!
//! Generation takes the standard pattern grid and shuffles it (digit
//! relabelling, rows within bands, bands, columns within stacks, stacks and,
//! for square boxes, transposition: up to about 10^12 distinct 9x9 grids, a
//! subset of all sudoku grids), then blanks
//! cells in random order, keeping a removal only when the blanked cell admits
//! no other digit in any completion (one bitmask backtracking search that
//! stops at the first solution). The puzzle therefore has exactly one
//! solution. The verifier does not compare strings: it checks that the
//! submitted grid is a complete valid sudoku (every row, column and box a
//! permutation of 1..=n) that keeps every given; with a unique solution this
//! is equivalent to equality with the solution.

use resyn_core::{Category, Rng, Verdict};
use serde::{Deserialize, Serialize};

use crate::util::grid::{Grid, parse_grid};
use crate::util::{parse, text};
use crate::{Generated, Task, TaskInfo};

pub(crate) struct Sudoku;

#[derive(Serialize, Deserialize)]
pub(crate) struct Data {
    /// Rows per box.
    box_rows: usize,
    /// Columns per box.
    box_cols: usize,
    /// Row-major givens, 0 = blank.
    puzzle: Vec<u8>,
}

/// `(box_rows, box_cols, min_blanks, max_blanks)` for a difficulty.
fn params(difficulty: u8) -> (usize, usize, usize, usize) {
    match difficulty {
        0 | 1 => (2, 2, 4, 6),
        2 => (2, 2, 7, 9),
        3 => (2, 2, 10, 12),
        4 => (2, 3, 14, 18),
        5 => (2, 3, 19, 24),
        6 => (3, 3, 30, 38),
        7 => (3, 3, 39, 45),
        8 => (3, 3, 46, 50),
        9 => (3, 3, 51, 55),
        _ => (3, 3, 56, 64),
    }
}

impl Task for Sudoku {
    type Data = Data;
    type View<'a> = Data;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: "sudoku",
            version: 1,
            category: Category::ConstraintSatisfaction,
            description: "Complete a sudoku with a unique solution. Difficulty 1-3: 4x4 (2x2 \
                boxes) with 4-12 blanks; 4-5: 6x6 (2x3 boxes) with 14-24 blanks; 6-10: 9x9 with \
                30-38, 39-45, 46-50, 51-55 and 56-64 blanks (capped when the puzzle becomes \
                minimal).",
        }
    }

    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Data> {
        let (br, bc, lo, hi) = params(difficulty);
        let target = rng.range(lo, hi);
        let geo = Geometry::new(br, bc);
        let solution = random_full_grid(&geo, rng);
        let puzzle = remove_clues(&geo, &solution, target, rng);
        let n = geo.n;
        let render = |cells: &[u8]| {
            text::joined(cells.chunks(n), "\n", |s, row| {
                text::push_joined(s, row, " ", |s, &v| match v {
                    0 => s.push('.'),
                    v => text::push_uint(s, u64::from(v)),
                });
            })
        };
        let boxes = format!(
            "each of the {n} boxes (the blocks of {br} rows by {bc} columns obtained by \
             splitting the rows into groups of {br} and the columns into groups of {bc})"
        );
        let prompt = format!(
            "Solve this {n}x{n} sudoku. Fill every empty cell (shown as `.`) with a digit from 1 \
             to {n} so that every row, every column and {boxes} contains each digit 1 to {n} \
             exactly once. The given digits must not change. The puzzle has exactly one \
             solution.\n\n{}\n\nAnswer format: the completed grid as {n} lines, one line per row \
             from top to bottom, each with the {n} digits of that row separated by single spaces \
             (or written without separators), and nothing else.",
            render(&puzzle)
        );
        Generated {
            prompt,
            answer: render(&solution),
            data: Data {
                box_rows: br,
                box_cols: bc,
                puzzle,
            },
        }
    }

    fn check(&self, data: &Data, answer: &str) -> Verdict {
        let (br, bc) = (data.box_rows, data.box_cols);
        let n = br.saturating_mul(bc);
        if !(1..=9).contains(&n) || data.puzzle.len() != n * n {
            return Verdict::zero(resyn_core::ReasonCode::InvalidInstance, "bad sudoku data");
        }
        let grid = match parse_grid(answer, n, n, |t| {
            // A single digit (the usual cell) needs no general integer parse.
            let v = match t.as_bytes() {
                &[b] if b.is_ascii_digit() => i64::from(b - b'0'),
                _ => parse::int(t)?,
            };
            if (1..=n as i64).contains(&v) {
                Ok(v as u8)
            } else {
                Err(format!("`{}` is not a digit from 1 to {n}", parse::clip(t)))
            }
        }) {
            Ok(g) => g,
            Err(e) => return Verdict::parse_error(e),
        };
        Verdict::from_check(check_grid(&Geometry::new(br, bc), &data.puzzle, &grid))
    }
}

/// Grid geometry: side `n = br * bc`, boxes of `br` rows by `bc` columns.
struct Geometry {
    br: usize,
    bc: usize,
    n: usize,
}

impl Geometry {
    fn new(br: usize, bc: usize) -> Self {
        Self { br, bc, n: br * bc }
    }

    fn box_of(&self, r: usize, c: usize) -> usize {
        (r / self.br) * self.br + c / self.bc
    }
}

fn check_grid(geo: &Geometry, givens: &[u8], grid: &Grid<u8>) -> Result<(), String> {
    let n = geo.n;
    for (i, (&g, &v)) in givens.iter().zip(&grid.cells).enumerate() {
        if g != 0 && g != v {
            return Err(format!(
                "row {} column {}: the given {g} was changed to {v}",
                i / n + 1,
                i % n + 1
            ));
        }
    }
    let full: u16 = ((1u32 << n) - 1) as u16;
    let (mut rows, mut cols, mut boxes) = ([0u16; 9], [0u16; 9], [0u16; 9]);
    for r in 0..n {
        for c in 0..n {
            let bit = 1u16 << (grid.at(r, c) - 1);
            rows[r] |= bit;
            cols[c] |= bit;
            boxes[geo.box_of(r, c)] |= bit;
        }
    }
    for i in 0..n {
        if rows[i] != full {
            return Err(format!("row {} repeats a digit", i + 1));
        }
        if cols[i] != full {
            return Err(format!("column {} repeats a digit", i + 1));
        }
        if boxes[i] != full {
            return Err(format!("box {} repeats a digit", i + 1));
        }
    }
    Ok(())
}

/// Bitmask backtracking solver (most constrained cell first).
struct Solver<'g> {
    geo: &'g Geometry,
    cells: Vec<u8>,
    rows: [u16; 9],
    cols: [u16; 9],
    boxes: [u16; 9],
    /// Digits (as bits) forbidden in one cell: `(cell, mask)`.
    ban: Option<(usize, u16)>,
}

impl<'g> Solver<'g> {
    /// `None` if the givens already conflict.
    fn new(geo: &'g Geometry, cells: &[u8]) -> Option<Self> {
        let mut s = Self {
            geo,
            cells: cells.to_vec(),
            rows: [0; 9],
            cols: [0; 9],
            boxes: [0; 9],
            ban: None,
        };
        for (i, &v) in cells.iter().enumerate() {
            if v != 0 {
                let bit = 1u16 << (v - 1);
                let (r, c) = (i / geo.n, i % geo.n);
                let b = geo.box_of(r, c);
                if (s.rows[r] | s.cols[c] | s.boxes[b]) & bit != 0 {
                    return None;
                }
                s.rows[r] |= bit;
                s.cols[c] |= bit;
                s.boxes[b] |= bit;
            }
        }
        Some(s)
    }

    fn candidates(&self, i: usize) -> u16 {
        let n = self.geo.n;
        let (r, c) = (i / n, i % n);
        let used = self.rows[r] | self.cols[c] | self.boxes[self.geo.box_of(r, c)];
        let mut m = !used & (((1u32 << n) - 1) as u16);
        if let Some((cell, ban)) = self.ban
            && cell == i
        {
            m &= !ban;
        }
        m
    }

    /// The empty cell with the fewest candidates and its candidates, or
    /// `None` when the grid is full.
    fn pick(&self) -> Option<(usize, u16)> {
        let mut best: Option<(usize, u16)> = None;
        let mut best_count = u32::MAX;
        for i in 0..self.cells.len() {
            if self.cells[i] == 0 {
                let m = self.candidates(i);
                let k = m.count_ones();
                if k < best_count {
                    best = Some((i, m));
                    best_count = k;
                    if k <= 1 {
                        break;
                    }
                }
            }
        }
        best
    }

    fn set(&mut self, i: usize, v: u8) {
        let n = self.geo.n;
        let (r, c) = (i / n, i % n);
        let bit = 1u16 << (v - 1);
        self.cells[i] = v;
        self.rows[r] |= bit;
        self.cols[c] |= bit;
        self.boxes[self.geo.box_of(r, c)] |= bit;
    }

    fn unset(&mut self, i: usize) {
        let n = self.geo.n;
        let (r, c) = (i / n, i % n);
        let bit = !(1u16 << (self.cells[i] - 1));
        self.cells[i] = 0;
        self.rows[r] &= bit;
        self.cols[c] &= bit;
        self.boxes[self.geo.box_of(r, c)] &= bit;
    }

    /// Number of solutions, counting at most `limit`.
    fn count(&mut self, limit: usize) -> usize {
        let Some((i, mut m)) = self.pick() else {
            return 1;
        };
        let mut total = 0;
        while m != 0 && total < limit {
            let v = m.trailing_zeros() as u8 + 1;
            m &= m - 1;
            self.set(i, v);
            total += self.count(limit - total);
            self.unset(i);
        }
        total
    }
}

/// A random full grid: the standard pattern grid relabelled by a random
/// digit permutation, with rows permuted within bands, bands permuted,
/// columns permuted within stacks, stacks permuted, and (square boxes only)
/// a random transposition. Every step preserves validity.
fn random_full_grid(geo: &Geometry, rng: &mut Rng) -> Vec<u8> {
    let (br, bc, n) = (geo.br, geo.bc, geo.n);
    // Row order: `bc` bands of `br` rows; column order: `br` stacks of `bc`.
    let order = |rng: &mut Rng, groups: usize, size: usize| -> Vec<usize> {
        rng.permutation(groups)
            .into_iter()
            .flat_map(|g| {
                rng.permutation(size)
                    .into_iter()
                    .map(move |k| g * size + k)
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let rows = order(rng, bc, br);
    let cols = order(rng, br, bc);
    let digits = rng.permutation(n);
    let transpose = br == bc && rng.chance(1, 2);
    let mut out = vec![0u8; n * n];
    for r in 0..n {
        for c in 0..n {
            let (pr, pc) = (rows[r], cols[c]);
            let base = (bc * (pr % br) + pr / br + pc) % n;
            let v = digits[base] as u8 + 1;
            if transpose {
                out[c * n + r] = v;
            } else {
                out[r * n + c] = v;
            }
        }
    }
    out
}

/// Blank cells in random order while the solution stays unique, up to
/// `target` blanks.
fn remove_clues(geo: &Geometry, solution: &[u8], target: usize, rng: &mut Rng) -> Vec<u8> {
    let mut puzzle = solution.to_vec();
    let mut blanks = 0;
    for i in rng.permutation(puzzle.len()) {
        if blanks >= target {
            break;
        }
        let v = puzzle[i];
        puzzle[i] = 0;
        // Unique iff no completion puts another digit in cell i (all other
        // blanks were already forced given the remaining clues).
        let mut s = Solver::new(geo, &puzzle).expect("a subset of a solution has no conflicts");
        s.ban = Some((i, 1 << (v - 1)));
        if s.count(1) == 0 {
            blanks += 1;
        } else {
            puzzle[i] = v;
        }
    }
    puzzle
}

#[cfg(test)]
mod tests {
    use super::*;
    use resyn_core::Environment;
    use resyn_core::probes::reference_answer;
    use resyn_core::testing::Conformance;

    use crate::Native;

    fn rows(answer: &str) -> Vec<Vec<String>> {
        answer
            .lines()
            .map(|l| l.split(' ').map(str::to_string).collect())
            .collect()
    }

    fn join(rows: &[Vec<String>]) -> String {
        rows.iter()
            .map(|r| r.join(" "))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn mutations(answer: &str, rng: &mut Rng) -> Vec<String> {
        let g = rows(answer);
        let n = g.len();
        let mut out = Vec::new();
        // Change one cell (the solution is unique, so any other grid is wrong).
        let (r, c) = (rng.index(n), rng.index(n));
        let mut m = g.clone();
        let old: usize = m[r][c].parse().unwrap();
        m[r][c] = (old % n + 1).to_string();
        out.push(join(&m));
        // Swap two cells of a row.
        let mut m = g.clone();
        let c2 = (c + 1 + rng.index(n - 1)) % n;
        m[r].swap(c, c2);
        out.push(join(&m));
        // Swap two rows of the same band (keeps rows and boxes valid).
        let mut m = g.clone();
        m.swap(0, 1);
        out.push(join(&m));
        // Drop a row, duplicate a row, drop a cell, add a cell.
        let mut m = g.clone();
        m.remove(r);
        out.push(join(&m));
        let mut m = g.clone();
        m.push(g[r].clone());
        out.push(join(&m));
        let mut m = g.clone();
        m[r].pop();
        out.push(join(&m));
        let mut m = g.clone();
        m[r].push("1".into());
        out.push(join(&m));
        // Zero and out-of-range digits.
        let mut m = g.clone();
        m[r][c] = "0".into();
        out.push(join(&m));
        let mut m = g;
        m[r][c] = (n + 1).to_string();
        out.push(join(&m));
        out
    }

    #[test]
    fn conformance() {
        let env = Native::new(Sudoku);
        let r = Conformance::new(&env)
            .seeds(12)
            .wrong(|inst, rng| mutations(reference_answer(inst), rng))
            .run();
        assert!(r.rejected > 1500, "{r:?}");
    }

    fn data_of(inst: &resyn_core::Instance) -> Data {
        serde_json::from_value(inst.data.clone()).unwrap()
    }

    #[test]
    fn unique_4x4_by_brute_force() {
        // Every 4x4 sudoku grid, enumerated independently of the solver:
        // each row is a permutation of 1..=4; check columns and boxes.
        let mut perms = Vec::new();
        for a in 1..=4u8 {
            for b in 1..=4u8 {
                for c in 1..=4u8 {
                    for d in 1..=4u8 {
                        let p = [a, b, c, d];
                        let mut s = p.to_vec();
                        s.sort_unstable();
                        if s == [1, 2, 3, 4] {
                            perms.push(p);
                        }
                    }
                }
            }
        }
        let mut grids = Vec::new();
        for r0 in &perms {
            for r1 in &perms {
                for r2 in &perms {
                    for r3 in &perms {
                        let g = [r0, r1, r2, r3];
                        let cols_ok = (0..4).all(|c| {
                            let mut s: Vec<u8> = g.iter().map(|r| r[c]).collect();
                            s.sort_unstable();
                            s == [1, 2, 3, 4]
                        });
                        let boxes_ok = (0..4).all(|b| {
                            let (r, c) = (b / 2 * 2, b % 2 * 2);
                            let mut s = vec![g[r][c], g[r][c + 1], g[r + 1][c], g[r + 1][c + 1]];
                            s.sort_unstable();
                            s == [1, 2, 3, 4]
                        });
                        if cols_ok && boxes_ok {
                            grids.push(g.iter().flat_map(|r| r.iter().copied()).collect());
                        }
                    }
                }
            }
        }
        let grids: Vec<Vec<u8>> = grids;
        assert_eq!(grids.len(), 288);
        let env = Native::new(Sudoku);
        for d in 1..=3 {
            for seed in 0..40 {
                let inst = env.generate(seed, d).unwrap();
                let data = data_of(&inst);
                let matching: Vec<&Vec<u8>> = grids
                    .iter()
                    .filter(|g| {
                        data.puzzle
                            .iter()
                            .zip(g.iter())
                            .all(|(&p, &v)| p == 0 || p == v)
                    })
                    .collect();
                assert_eq!(matching.len(), 1, "d{d} seed {seed}");
                let expect = matching[0]
                    .chunks(4)
                    .map(|r| r.iter().map(u8::to_string).collect::<Vec<_>>().join(" "))
                    .collect::<Vec<_>>()
                    .join("\n");
                assert_eq!(reference_answer(&inst), expect);
            }
        }
    }

    /// Plain backtracking in row-major order without bitmasks or ordering
    /// heuristics: an independent solution counter.
    fn naive_count(br: usize, bc: usize, g: &mut Vec<u8>, limit: usize) -> usize {
        let n = br * bc;
        let Some(i) = g.iter().position(|&v| v == 0) else {
            return 1;
        };
        let (r, c) = (i / n, i % n);
        let mut total = 0;
        for v in 1..=n as u8 {
            let clash = (0..n).any(|k| {
                g[r * n + k] == v
                    || g[k * n + c] == v
                    || g[((r / br) * br + k / bc) * n + (c / bc) * bc + k % bc] == v
            });
            if !clash {
                g[i] = v;
                total += naive_count(br, bc, g, limit - total);
                g[i] = 0;
                if total >= limit {
                    break;
                }
            }
        }
        total
    }

    #[test]
    fn unique_by_naive_solver() {
        let env = Native::new(Sudoku);
        for d in [4, 5, 6, 8, 10] {
            for seed in 0..4 {
                let inst = env.generate(seed, d).unwrap();
                let data = data_of(&inst);
                let mut g = data.puzzle.clone();
                assert_eq!(
                    naive_count(data.box_rows, data.box_cols, &mut g, 2),
                    1,
                    "d{d} seed {seed}"
                );
            }
        }
    }

    #[test]
    fn blank_counts_follow_difficulty() {
        let env = Native::new(Sudoku);
        for d in 1..=10u8 {
            let (br, bc, lo, hi) = params(d);
            for seed in 0..10 {
                let data = data_of(&env.generate(seed, d).unwrap());
                assert_eq!(data.puzzle.len(), (br * bc).pow(2));
                let blanks = data.puzzle.iter().filter(|&&v| v == 0).count();
                assert!(blanks <= hi, "d{d}: {blanks}");
                // Targets up to 50 (9x9) are always reachable in practice.
                if d <= 8 && d != 3 {
                    assert!(blanks >= lo, "d{d}: {blanks}");
                }
                assert!(blanks >= 4);
            }
        }
    }

    #[test]
    fn shuffled_grids_are_valid() {
        let mut rng = Rng::from_seed(9);
        for (br, bc) in [(2, 2), (2, 3), (3, 3)] {
            let geo = Geometry::new(br, bc);
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..200 {
                let cells = random_full_grid(&geo, &mut rng);
                let n = geo.n;
                let grid = Grid {
                    rows: n,
                    cols: n,
                    cells,
                };
                assert_eq!(check_grid(&geo, &vec![0; n * n], &grid), Ok(()));
                seen.insert(grid.cells);
            }
            assert!(seen.len() > 100, "{br}x{bc}: {}", seen.len());
        }
    }

    #[test]
    fn instances_vary() {
        let env = Native::new(Sudoku);
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..30 {
            seen.insert(env.generate(seed, 1).unwrap().prompt);
        }
        assert!(seen.len() >= 25, "{}", seen.len());
    }

    #[test]
    fn accepts_format_variants() {
        let env = Native::new(Sudoku);
        for d in [2, 5, 9] {
            let inst = env.generate(11, d).unwrap();
            let ans = reference_answer(&inst);
            let variants = [
                ans.replace(' ', ""),
                ans.replace(' ', ", "),
                format!("\n  {}\n\n", ans.replace('\n', "\n\n  ")),
                ans.replace(' ', "  "),
            ];
            for v in variants {
                let verdict = env.verify(&inst, &format!("<answer>{v}</answer>"));
                assert!(verdict.correct, "{v}: {verdict:?}");
            }
        }
    }

    #[test]
    fn generation_is_fast() {
        let env = Native::new(Sudoku);
        let start = std::time::Instant::now();
        for seed in 0..20 {
            env.generate(seed, 10).unwrap();
        }
        let per = start.elapsed() / 20;
        // Generous bound for unoptimized test builds on a loaded machine.
        assert!(per.as_millis() < 50, "{per:?}");
    }

    proptest::proptest! {
        #[test]
        fn check_is_total(s in "(?s).{0,300}", d in 1u8..=10) {
            let env = Native::new(Sudoku);
            let inst = env.generate(1, d).unwrap();
            let v = env.verify(&inst, &format!("<answer>{s}</answer>"));
            proptest::prop_assert!(!v.correct);
        }

        #[test]
        fn check_is_total_on_digit_grids(s in "[0-9 \n]{0,200}") {
            let env = Native::new(Sudoku);
            let inst = env.generate(2, 2).unwrap();
            let v = env.verify(&inst, &format!("<answer>{s}</answer>"));
            proptest::prop_assert!((0.0..=1.0).contains(&v.reward));
        }
    }
}
