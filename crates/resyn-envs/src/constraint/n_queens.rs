//! `n_queens`: complete an N x N board with some queens already placed so
//! that it holds N mutually non-attacking queens.
//!
//! Difficulty d gives board size N and the number k of pre-placed queens:
//!
//! | d | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8  | 9  | 10 |
//! |---|---|---|---|---|---|---|---|----|----|----|
//! | N | 5 | 5 | 6 | 7 | 8 | 8 | 9 | 10 | 11 | 12 |
//! | k | 3 | 2 | 2 | 3 | 3 | 2 | 3 | 3  | 3  | 3  |
//!
//! reasoning-gym's `n_queens` (8x8, 1–7 queens pre-placed) corresponds to
//! difficulties 5–6.
//!
//! Generation plants a solution drawn uniformly from all solutions of the
//! board size (enumerated once per size) and reveals k of its queens, so a
//! completion always exists. Completions are usually not unique, so the
//! verifier checks validity: exactly one queen in every row and every column,
//! no two queens on a common diagonal, and every pre-placed queen kept.

use std::sync::OnceLock;

use resyn_core::{Category, Rng, Verdict};
use serde::{Deserialize, Serialize};

use crate::util::grid::{Grid, parse_grid};
use crate::util::parse;
use crate::{Generated, Task, TaskInfo};

pub(crate) struct NQueens;

#[derive(Serialize, Deserialize)]
pub(crate) struct Data {
    n: usize,
    /// Pre-placed queens as `(row, column)`, 0-based (stored flat).
    #[serde(with = "crate::util::flat")]
    placed: Vec<(usize, usize)>,
}

fn params(difficulty: u8) -> (usize, usize) {
    match difficulty {
        0 | 1 => (5, 3),
        2 => (5, 2),
        3 => (6, 2),
        4 => (7, 3),
        5 => (8, 3),
        6 => (8, 2),
        7 => (9, 3),
        8 => (10, 3),
        9 => (11, 3),
        _ => (12, 3),
    }
}

impl Task for NQueens {
    type Data = Data;
    type View<'a> = Data;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: "n_queens",
            version: 2,
            category: Category::ConstraintSatisfaction,
            description: "Complete an N x N chessboard with some queens pre-placed to N mutually \
                non-attacking queens (any valid completion counts). Board size N by difficulty \
                1-10: 5, 5, 6, 7, 8, 8, 9, 10, 11, 12, with 2-3 queens pre-placed.",
        }
    }

    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Data> {
        let (n, k) = params(difficulty);
        let solution = random_solution(n, rng);
        let mut rows = rng.sample_indices(n, k);
        rows.sort_unstable();
        let placed: Vec<(usize, usize)> = rows.iter().map(|&r| (r, solution[r])).collect();
        let render = |queens: &[(usize, usize)]| {
            let mut g = Grid::new(n, n, '.');
            for &(r, c) in queens {
                *g.at_mut(r, c) = 'Q';
            }
            g.render_with("", |s, &c| s.push(c))
        };
        let full: Vec<(usize, usize)> = solution.iter().copied().enumerate().collect();
        let prompt = format!(
            "Place {n} queens on a chessboard of {n}x{n} squares so that no two queens attack each other: \
             no two queens may share a row, a column or a diagonal. {k} queens are already \
             placed (shown as `Q`; empty squares are `.`) and must stay where they are; add \
             the remaining {} queens.\n\n{}\n\nAnswer format: the completed board as {n} lines \
             of {n} characters, one line per row from top to bottom, using `Q` for a queen and \
             `.` for an empty square (the characters of a line may be separated by single \
             spaces), and nothing else.",
            n - k,
            render(&placed)
        );
        Generated {
            prompt,
            answer: render(&full),
            data: Data { n, placed },
        }
    }

    fn check(&self, data: &Data, answer: &str) -> Verdict {
        let n = data.n;
        if !(1..=64).contains(&n) || data.placed.iter().any(|&(r, c)| r >= n || c >= n) {
            return Verdict::zero(resyn_core::ReasonCode::InvalidInstance, "bad n_queens data");
        }
        let grid = match parse_grid(answer, n, n, |t| match t.as_bytes() {
            b"Q" | b"q" => Ok(true),
            b"." => Ok(false),
            _ => Err(format!("`{}` is neither `Q` nor `.`", parse::clip(t))),
        }) {
            Ok(g) => g,
            Err(e) => return Verdict::parse_error(e),
        };
        Verdict::from_check(check_board(data, &grid))
    }
}

fn check_board(data: &Data, grid: &Grid<bool>) -> Result<(), String> {
    let n = data.n;
    for &(r, c) in &data.placed {
        if !*grid.at(r, c) {
            return Err(format!(
                "the pre-placed queen at row {} column {} is missing",
                r + 1,
                c + 1
            ));
        }
    }
    let mut cols = Vec::with_capacity(n);
    for r in 0..n {
        let row = grid.row(r);
        match row.iter().filter(|&&q| q).count() {
            1 => cols.push(row.iter().position(|&q| q).unwrap_or(0)),
            k => return Err(format!("row {} has {k} queens, expected 1", r + 1)),
        }
    }
    for r1 in 0..n {
        for r2 in r1 + 1..n {
            let (c1, c2) = (cols[r1], cols[r2]);
            if c1 == c2 {
                return Err(format!(
                    "rows {} and {} share column {}",
                    r1 + 1,
                    r2 + 1,
                    c1 + 1
                ));
            }
            if c1.abs_diff(c2) == r2 - r1 {
                return Err(format!(
                    "the queens in rows {} and {} share a diagonal",
                    r1 + 1,
                    r2 + 1
                ));
            }
        }
    }
    Ok(())
}

/// A solution drawn uniformly from all solutions for an `n x n` board, as
/// the column of the queen in each row.
fn random_solution(n: usize, rng: &mut Rng) -> Vec<usize> {
    let all = solutions(n);
    let packed = all[rng.index(all.len())];
    (0..n).map(|r| (packed >> (4 * r) & 0xf) as usize).collect()
}

/// Largest board size generated (see `params`).
const MAX_N: usize = 12;

/// Every solution for an `n x n` board (n <= `MAX_N`), each packed as 4 bits
/// per row (the queen's column), in lexicographic order; enumerated once per
/// size (14,200 for 12 x 12, a few milliseconds) so that each instance costs
/// one draw instead of a randomized search, and every solution is equally
/// likely.
fn solutions(n: usize) -> &'static [u64] {
    static TABLES: [OnceLock<Vec<u64>>; MAX_N + 1] = [const { OnceLock::new() }; MAX_N + 1];
    fn place(row: usize, n: usize, cols: u32, d1: u32, d2: u32, acc: u64, out: &mut Vec<u64>) {
        if row == n {
            out.push(acc);
            return;
        }
        for c in 0..n {
            let (a, b) = (row + c, row + n - c);
            if cols >> c & 1 == 0 && d1 >> a & 1 == 0 && d2 >> b & 1 == 0 {
                let acc = acc | (c as u64) << (4 * row);
                place(
                    row + 1,
                    n,
                    cols | 1 << c,
                    d1 | 1 << a,
                    d2 | 1 << b,
                    acc,
                    out,
                );
            }
        }
    }
    TABLES[n].get_or_init(|| {
        let mut out = Vec::new();
        place(0, n, 0, 0, 0, 0, &mut out);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use resyn_core::probes::reference_answer;
    use resyn_core::testing::Conformance;
    use resyn_core::{Environment, Instance};

    use crate::Native;

    fn data_of(inst: &Instance) -> Data {
        serde_json::from_value(inst.data.clone()).unwrap()
    }

    /// Independent validity oracle: strip spaces, read `Q`/`.` characters,
    /// and check all pairs of queens.
    fn valid(inst: &Instance, answer: &str) -> bool {
        let data = data_of(inst);
        let n = data.n;
        let lines: Vec<String> = answer
            .lines()
            .map(|l| l.replace(' ', ""))
            .filter(|l| !l.is_empty())
            .collect();
        if lines.len() != n || lines.iter().any(|l| l.chars().count() != n) {
            return false;
        }
        let mut queens = Vec::new();
        for (r, l) in lines.iter().enumerate() {
            for (c, ch) in l.chars().enumerate() {
                match ch {
                    'Q' | 'q' => queens.push((r as i64, c as i64)),
                    '.' => {}
                    _ => return false,
                }
            }
        }
        queens.len() == n
            && data
                .placed
                .iter()
                .all(|&(r, c)| queens.contains(&(r as i64, c as i64)))
            && queens.iter().enumerate().all(|(i, &(r1, c1))| {
                queens[i + 1..]
                    .iter()
                    .all(|&(r2, c2)| r1 != r2 && c1 != c2 && (r1 - r2).abs() != (c1 - c2).abs())
            })
    }

    fn mutations(answer: &str, rng: &mut Rng) -> Vec<String> {
        let g: Vec<Vec<char>> = answer.lines().map(|l| l.chars().collect()).collect();
        let n = g.len();
        let join = |g: &[Vec<char>]| {
            g.iter()
                .map(|r| r.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let mut out = Vec::new();
        let r = rng.index(n);
        let c = g[r].iter().position(|&x| x == 'Q').unwrap();
        // Move one queen along its row: two queens now share a column.
        let mut m = g.clone();
        let c2 = (c + 1 + rng.index(n - 1)) % n;
        m[r].swap(c, c2);
        out.push(join(&m));
        // Remove a queen; add a queen.
        let mut m = g.clone();
        m[r][c] = '.';
        out.push(join(&m));
        let mut m = g.clone();
        m[r][c2] = 'Q';
        out.push(join(&m));
        // Swap two rows; mirror the board (may be valid: left to the oracle).
        let mut m = g.clone();
        m.swap(r, (r + 1) % n);
        out.push(join(&m));
        let m: Vec<Vec<char>> = g
            .iter()
            .map(|r| r.iter().rev().copied().collect())
            .collect();
        out.push(join(&m));
        // Drop a row, an extra row, a bad character.
        let mut m = g.clone();
        m.remove(r);
        out.push(join(&m));
        let mut m = g.clone();
        m.push(g[r].clone());
        out.push(join(&m));
        let mut m = g;
        m[r][c] = 'X';
        out.push(join(&m));
        out
    }

    #[test]
    fn solution_tables_are_complete_and_valid() {
        // Known counts of n-queens solutions (OEIS A000170).
        let counts = [1, 1, 0, 0, 2, 10, 4, 40, 92, 352, 724, 2680, 14200];
        for (n, &count) in counts.iter().enumerate() {
            let all = solutions(n);
            assert_eq!(all.len(), count, "n = {n}");
            let mut rng = Rng::from_seed(n as u64);
            if count > 0 {
                let cols = random_solution(n, &mut rng);
                let queens: Vec<(usize, usize)> = cols.into_iter().enumerate().collect();
                assert!(queens.iter().enumerate().all(|(i, &(r1, c1))| {
                    queens[i + 1..]
                        .iter()
                        .all(|&(r2, c2)| c1 != c2 && r1.abs_diff(r2) != c1.abs_diff(c2))
                }));
            }
        }
    }

    #[test]
    fn conformance() {
        let env = Native::new(NQueens);
        let r = Conformance::new(&env)
            .seeds(20)
            .wrong(|inst, rng| mutations(reference_answer(inst), rng))
            .acceptable(valid)
            .run();
        assert!(r.rejected > 2500, "{r:?}");
    }

    #[test]
    fn verifier_agrees_with_oracle_on_all_boards_small() {
        // Every placement of one queen per row on 5x5 and 6x6 boards (all
        // 5^5 and 6^6 of them): the verifier and the oracle agree, and the
        // number of valid completions is positive.
        let env = Native::new(NQueens);
        for (d, n) in [(1u8, 5usize), (2, 5), (3, 6)] {
            for seed in 0..3 {
                let inst = env.generate(seed, d).unwrap();
                assert_eq!(data_of(&inst).n, n);
                let mut accepted = 0;
                for code in 0..n.pow(n as u32) {
                    let board: String = (0..n)
                        .map(|r| {
                            let c = code / n.pow(r as u32) % n;
                            (0..n)
                                .map(|k| if k == c { 'Q' } else { '.' })
                                .collect::<String>()
                        })
                        .collect::<Vec<_>>()
                        .join("\n");
                    let ok = env
                        .verify(&inst, &format!("<answer>{board}</answer>"))
                        .correct;
                    assert_eq!(ok, valid(&inst, &board), "{board}");
                    accepted += usize::from(ok);
                }
                assert!(accepted >= 1);
            }
        }
    }

    #[test]
    fn planted_solutions_are_valid_and_vary() {
        let mut rng = Rng::from_seed(4);
        for n in 4..=12 {
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..30 {
                let s = random_solution(n, &mut rng);
                let data = Data {
                    n,
                    placed: Vec::new(),
                };
                let mut g = Grid::new(n, n, false);
                for (r, &c) in s.iter().enumerate() {
                    *g.at_mut(r, c) = true;
                }
                assert_eq!(check_board(&data, &g), Ok(()));
                seen.insert(s);
            }
            assert!(seen.len() >= 2, "n={n}");
        }
    }

    #[test]
    fn accepts_format_variants() {
        let env = Native::new(NQueens);
        let inst = env.generate(5, 6).unwrap();
        let ans = reference_answer(&inst);
        let spaced: String = ans
            .lines()
            .map(|l| l.chars().map(String::from).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n");
        for v in [
            ans.to_lowercase(),
            spaced,
            format!("\n\n{}\n", ans.replace('\n', "\n\n")),
        ] {
            assert!(
                env.verify(&inst, &format!("<answer>{v}</answer>")).correct,
                "{v}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn check_is_total(s in "(?s).{0,300}", d in 1u8..=10) {
            let env = Native::new(NQueens);
            let inst = env.generate(3, d).unwrap();
            let v = env.verify(&inst, &format!("<answer>{s}</answer>"));
            proptest::prop_assert!(!v.correct);
        }

        #[test]
        fn check_matches_oracle(s in "[Qq. \n]{0,60}") {
            let env = Native::new(NQueens);
            let inst = env.generate(3, 1).unwrap();
            let v = env.verify(&inst, &format!("<answer>{s}</answer>"));
            proptest::prop_assert!(!v.correct || valid(&inst, &s));
        }
    }
}
