//! `grid_transform`: apply a sequence of rotations/reflections to a grid of
//! symbols and give the resulting grid.
//!
//! Operations (each defined precisely in the prompt): rotate 90° clockwise,
//! rotate 180°, rotate 90° counterclockwise, mirror left-right, mirror
//! top-bottom, transpose, and from difficulty 6 on also the anti-diagonal
//! reflection. The composed transformation is never the identity, so echoing
//! the input is always wrong.
//!
//! Difficulty d uses `d` operations on an `r × c` grid with
//! `r = 2 + 4(d−1)/9` (2 to 6) and `c = r + 1` or `r + 2` (never square, so
//! the shape matters). Up to d5 the cells are distinct letters; from d6 on
//! they are drawn with repetition from 5–8 symbols, so cells cannot be
//! tracked by identity alone.
//!
//! The result is unique. The verifier parses the submitted grid (rows on
//! separate lines; cells separated by spaces or commas, or written together;
//! letters case-insensitive) with the expected shape and compares it cell by
//! cell with the stored result.

use resyn_core::{Category, Rng, Verdict};
use serde::{Deserialize, Serialize};

use crate::util::dihedral::D4;
use crate::util::grid::{Grid, parse_grid};
use crate::util::text;
use crate::{Generated, Task, TaskInfo};

pub(crate) struct GridTransform;

#[derive(Serialize, Deserialize)]
pub(crate) struct Data {
    /// The expected grid, one char per cell, rows separated by newlines
    /// (one string rather than one per row: cheaper instance data).
    result: String,
}

/// [`Data`] as the check reads it: the grid borrowed from the stored JSON.
#[derive(Deserialize)]
pub(crate) struct View<'a> {
    #[serde(borrow)]
    result: &'a str,
}

const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const SYMBOLS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

fn op_text(op: D4) -> &'static str {
    match op {
        D4::Rot90 => "rotate 90 degrees clockwise",
        D4::Rot180 => "rotate 180 degrees",
        D4::Rot270 => "rotate 90 degrees counterclockwise",
        D4::FlipLR => "mirror left-right",
        D4::FlipUD => "mirror top-bottom",
        D4::Transpose => "transpose",
        D4::AntiTranspose => "reflect across the anti-diagonal",
        D4::Identity => "leave unchanged",
    }
}

impl Task for GridTransform {
    type Data = Data;
    type View<'a> = View<'a>;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: "grid_transform",
            version: 2,
            category: Category::Spatial,
            description: "Apply a sequence of rotations, mirrors and transposes to a small grid \
                of symbols and give the resulting grid. Difficulty d applies d operations to a \
                non-square grid with 2 (d1) to 6 (d10) rows; from d6 symbols repeat and the \
                anti-diagonal reflection is added.",
        }
    }

    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Data> {
        let d = usize::from(difficulty);
        let rows = 2 + 4 * (d - 1) / 9;
        let cols = rows + 1 + rng.index(2);
        let cells: Vec<u8> = if d <= 5 {
            rng.sample_indices(LETTERS.len(), rows * cols)
                .into_iter()
                .map(|i| LETTERS[i])
                .collect()
        } else {
            let k = 5 + rng.index(4);
            let alphabet: Vec<u8> = rng
                .sample_indices(SYMBOLS.len(), k)
                .into_iter()
                .map(|i| SYMBOLS[i])
                .collect();
            (0..rows * cols)
                .map(|_| alphabet[rng.index(alphabet.len())])
                .collect()
        };
        let start = Grid { rows, cols, cells };
        let pool: &[D4] = if d >= 6 {
            &D4::ALL[1..]
        } else {
            &D4::ALL[1..7]
        };
        let (ops, total) = loop {
            let ops: Vec<D4> = (0..d).map(|_| pool[rng.index(pool.len())]).collect();
            let total = compose(&ops);
            if total != D4::Identity {
                break (ops, total);
            }
        };
        // Applying the operations one by one gives the same grid (tested).
        let result = total.apply(&start);
        let steps = text::joined(ops.iter().enumerate(), "\n", |s, (i, &op)| {
            text::push_uint(s, i as u64 + 1);
            s.push_str(". ");
            s.push_str(op_text(op));
        });
        let legend = "- rotate 90 degrees clockwise: the grid turns a quarter turn clockwise (the first \
             column, read bottom to top, becomes the first row);\n\
             - rotate 180 degrees: a half turn (the last row, read right to left, becomes the \
             first row);\n\
             - rotate 90 degrees counterclockwise: a quarter turn counterclockwise (the last \
             column, read top to bottom, becomes the first row);\n\
             - mirror left-right: every row is reversed (the first column becomes the last);\n\
             - mirror top-bottom: the order of the rows is reversed (the first row becomes the \
             last);\n\
             - transpose: row i becomes column i (the first row becomes the first column)";
        let anti = if d >= 6 {
            ";\n- reflect across the anti-diagonal: the last column, read bottom to top, \
             becomes the first row (a transpose followed by a rotation of 180 degrees)"
        } else {
            ""
        };
        let prompt = format!(
            "Here is a grid with {rows} rows and {cols} columns:\n\n{}\n\nApply these \
             operations in order, each to the result of the previous one:\n{steps}\n\n\
             Definitions:\n{legend}{anti}.\n\nWhat is the final grid?\n\nAnswer format: the final \
             grid, one row per line, cells separated by single spaces (like the grid above).",
            render(&start),
        );
        let answer = render(&result);
        Generated {
            prompt,
            answer,
            data: Data {
                result: result.render_with("", |s, &b| s.push(char::from(b))),
            },
        }
    }

    fn check(&self, data: &View<'_>, answer: &str) -> Verdict {
        let rows = data.result.lines().count();
        let cols = data.result.lines().next().map_or(0, |r| r.chars().count());
        let got = parse_grid(answer, rows, cols, |t| {
            let mut it = t.chars();
            match (it.next(), it.next()) {
                (Some(ch), None) if ch.is_ascii_alphanumeric() => Ok(ch.to_ascii_uppercase()),
                _ => Err(format!(
                    "`{}` is not a single symbol",
                    crate::util::parse::clip(t)
                )),
            }
        });
        let got = match got {
            Ok(g) => g,
            Err(e) => return Verdict::parse_error(e),
        };
        let want = data.result.lines().flat_map(str::chars);
        Verdict::from_check(if got.cells.iter().copied().eq(want) {
            Ok(())
        } else {
            Err("the grid differs from the correct result".into())
        })
    }
}

/// The single symmetry equal to applying `ops` in order.
fn compose(ops: &[D4]) -> D4 {
    // Track where the cells of an asymmetric 2x3 grid go; the image
    // identifies the symmetry uniquely.
    let probe = Grid {
        rows: 2,
        cols: 3,
        cells: (0..6).collect::<Vec<u8>>(),
    };
    let img = ops.iter().fold(probe.clone(), |g, op| op.apply(&g));
    D4::ALL
        .into_iter()
        .find(|t| t.apply(&probe) == img)
        .unwrap_or(D4::Identity)
}

fn render(g: &Grid<u8>) -> String {
    g.render_with(" ", |s, &b| s.push(char::from(b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use resyn_core::Rng;
    use resyn_core::testing::Conformance;
    use resyn_core::{Environment, probes::reference_answer};

    use crate::Native;

    fn rows_of(answer: &str) -> Vec<Vec<String>> {
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

    /// One-step mutations of the reference, all provably different grids.
    fn mutations(inst: &resyn_core::Instance, rng: &mut Rng) -> Vec<String> {
        let rows = rows_of(reference_answer(inst));
        let (h, w) = (rows.len(), rows[0].len());
        let mut out = Vec::new();
        // Change one cell to another symbol.
        let (r, c) = (rng.index(h), rng.index(w));
        let mut m = rows.clone();
        m[r][c] = if m[r][c] == "Z" {
            "Y".into()
        } else {
            "Z".into()
        };
        out.push(join(&m));
        // Swap two cells holding different symbols.
        let flat: Vec<(usize, usize)> = (0..h).flat_map(|r| (0..w).map(move |c| (r, c))).collect();
        let (a, b) = (flat[rng.index(flat.len())], flat[rng.index(flat.len())]);
        if rows[a.0][a.1] != rows[b.0][b.1] {
            let mut m = rows.clone();
            let t = m[a.0][a.1].clone();
            m[a.0][a.1] = m[b.0][b.1].clone();
            m[b.0][b.1] = t;
            out.push(join(&m));
        }
        // Drop a row, duplicate a row, drop a column.
        out.push(join(&rows[1..]));
        let mut m = rows.clone();
        m.push(rows[0].clone());
        out.push(join(&m));
        out.push(join(
            &rows.iter().map(|r| r[1..].to_vec()).collect::<Vec<_>>(),
        ));
        // Every other symmetry of the answer that gives a different grid.
        let g = Grid {
            rows: h,
            cols: w,
            cells: rows.concat(),
        };
        for t in D4::ALL {
            let img = t.apply(&g);
            if img != g {
                out.push(img.render(" ", String::clone));
            }
        }
        out
    }

    #[test]
    fn conformance() {
        let env = Native::new(GridTransform);
        let r = Conformance::new(&env).seeds(25).wrong(mutations).run();
        assert!(r.rejected > 3000, "{r:?}");
    }

    /// Direct textbook implementations on nested vectors.
    fn naive(op: D4, g: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let (h, w) = (g.len(), g[0].len());
        let rot_cw = |g: &[Vec<u8>]| -> Vec<Vec<u8>> {
            let (h, w) = (g.len(), g[0].len());
            (0..w)
                .map(|j| (0..h).rev().map(|i| g[i][j]).collect())
                .collect()
        };
        match op {
            D4::Identity => g.to_vec(),
            D4::Rot90 => rot_cw(g),
            D4::Rot180 => rot_cw(&rot_cw(g)),
            D4::Rot270 => rot_cw(&rot_cw(&rot_cw(g))),
            D4::FlipLR => g
                .iter()
                .map(|r| r.iter().rev().copied().collect())
                .collect(),
            D4::FlipUD => g.iter().rev().cloned().collect(),
            D4::Transpose => (0..w).map(|j| (0..h).map(|i| g[i][j]).collect()).collect(),
            D4::AntiTranspose => {
                let t: Vec<Vec<u8>> = (0..w).map(|j| (0..h).map(|i| g[i][j]).collect()).collect();
                rot_cw(&rot_cw(&t))
            }
        }
    }

    #[test]
    fn generated_results_match_naive_replay() {
        // Replay the operations listed in the prompt on the grid shown in the
        // prompt with the naive implementation.
        let env = Native::new(GridTransform);
        for d in 1..=10 {
            for seed in 0..30 {
                let inst = env.generate(seed, d).unwrap();
                let p = &inst.prompt;
                let grid_text = p.split("\n\n").nth(1).unwrap();
                let mut g: Vec<Vec<u8>> = grid_text
                    .lines()
                    .map(|l| l.split(' ').map(|t| t.as_bytes()[0]).collect())
                    .collect();
                let steps = p.split("previous one:\n").nth(1).unwrap();
                let steps = steps.split("\n\n").next().unwrap();
                let mut count = 0;
                for line in steps.lines() {
                    let name = line.split_once(". ").unwrap().1;
                    let op = D4::ALL.into_iter().find(|&t| op_text(t) == name).unwrap();
                    g = naive(op, &g);
                    count += 1;
                }
                assert_eq!(count, usize::from(d));
                let want: Vec<String> = g
                    .iter()
                    .map(|r| String::from_utf8(r.clone()).unwrap())
                    .collect();
                let data: Data = serde_json::from_value(inst.data.clone()).unwrap();
                assert_eq!(data.result, want.join("\n"), "d{d} seed {seed}");
                // Never the identity overall: the grid shape or content changes.
                let start: Vec<String> = grid_text.lines().map(|l| l.replace(' ', "")).collect();
                assert_ne!(start, want);
            }
        }
    }

    #[test]
    fn compose_agrees_with_sequential_application() {
        let mut rng = Rng::from_seed(9);
        let g = Grid {
            rows: 3,
            cols: 4,
            cells: (0..12).collect::<Vec<u8>>(),
        };
        for n in 0..8 {
            let ops: Vec<D4> = (0..n).map(|_| D4::ALL[rng.index(8)]).collect();
            let seq = ops.iter().fold(g.clone(), |x, op| op.apply(&x));
            assert_eq!(compose(&ops).apply(&g), seq);
        }
    }

    #[test]
    fn accepts_format_variants() {
        let env = Native::new(GridTransform);
        let inst = env.generate(4, 3).unwrap();
        let ans = reference_answer(&inst);
        let variants = [
            ans.to_lowercase(),
            ans.replace(' ', ""),
            ans.replace(' ', ", "),
            format!("\n\n{}\n", ans.replace('\n', "\n\n  ")),
            ans.lines()
                .map(|l| format!("[{l}]"))
                .collect::<Vec<_>>()
                .join("\n"),
        ];
        for v in variants {
            assert!(
                env.verify(&inst, &format!("<answer>{v}</answer>")).correct,
                "{v}"
            );
        }
        let flat = ans.replace('\n', " ");
        assert!(
            !env.verify(&inst, &format!("<answer>{flat}</answer>"))
                .correct
        );
    }

    proptest! {
        #[test]
        fn check_is_total(s in "[A-Za-z0-9 ,\n\\[\\]]{0,80}|.{0,200}") {
            let inst = Native::new(GridTransform).generate(2, 7).unwrap();
            let data = View::deserialize(&inst.data).unwrap();
            let _ = GridTransform.check(&data, &s);
        }
    }
}
