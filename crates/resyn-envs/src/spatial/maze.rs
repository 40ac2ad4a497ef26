//! `maze`: the minimum number of steps from `S` to `G` in a grid maze.
//!
//! The maze is carved by a randomized depth-first search on an `h × w`
//! lattice of cells (drawn as a `(2h+1) × (2w+1)` character grid with `#`
//! walls and `.` passages), so every open square is reachable; from
//! difficulty 4 on, some extra interior walls are knocked out so that several
//! routes of different lengths exist and the shortest one has to be found.
//! `S` and `G` are open squares; `G` is drawn among the squares at least half
//! the maximum BFS distance away from `S`.
//!
//! Difficulty d uses a `(d+1) × (d+2)` cell lattice (a 5×7 grid at d1, 23×25
//! at d10) and opens `cells·(d−2)/50` extra walls (none at d1–d3). The answer
//! is the unique BFS distance, an integer; the verifier parses exactly one
//! integer and compares it with the stored distance. This is the counterpart
//! of reasoning-gym's `maze`.

use resyn_core::{Category, Rng, Verdict};
use serde::{Deserialize, Serialize};

use crate::util::grid::Grid;
use crate::util::parse;
use crate::{Generated, Task, TaskInfo};

pub(crate) struct Maze;

#[derive(Serialize, Deserialize)]
pub(crate) struct Data {
    /// The maze as shown, rows separated by newlines (one string rather
    /// than one per row: cheaper instance data).
    maze: String,
    /// Minimum number of steps from S to G.
    steps: u64,
}

/// The part of [`Data`] the check reads (the maze itself is not decoded).
#[derive(Deserialize)]
pub(crate) struct Steps {
    steps: u64,
}

impl Task for Maze {
    type Data = Data;
    type View<'a> = Steps;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: "maze",
            version: 2,
            category: Category::Spatial,
            description: "Grid maze with walls '#', passages '.', start S and goal G: give the \
                minimum number of orthogonal steps from S to G. Difficulty d carves a \
                (d+1)x(d+2)-cell maze (5x7 to 23x25 characters) and from d4 on opens extra \
                walls so several routes exist.",
        }
    }

    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Data> {
        let d = usize::from(difficulty);
        let (h, w) = (d + 1, d + 2);
        let mut open = carve(rng, h, w);
        let extra = h * w * d.saturating_sub(2) / 50;
        open_extra_walls(rng, &mut open, extra);
        // One buffer for the open cells, then for the far ones (no regrowth).
        let mut cells = Vec::with_capacity(open.cells.len());
        cells.extend((0..open.cells.len()).filter(|&i| open.cells[i]));
        let start = cells[rng.index(cells.len())];
        let dist = open.bfs_open(start);
        let max = dist.iter().flatten().copied().max().unwrap_or(0);
        cells.retain(|&i| dist[i].is_some_and(|x| x > 0 && 2 * x >= max));
        let far = cells;
        let goal = far[rng.index(far.len())];
        let steps = dist[goal].unwrap_or(0) as u64;
        let mut i = 0;
        let maze = open.render_with("", |s, &is_open| {
            s.push(if i == start {
                'S'
            } else if i == goal {
                'G'
            } else if is_open {
                '.'
            } else {
                '#'
            });
            i += 1;
        });
        let prompt = format!(
            "Find the shortest way through this maze from S (start) to G (goal).\n\n```\n{maze}\n```\n\n\
             Legend: '#' = wall, '.' = passage; S and G are passages too. One step moves to an \
             orthogonally adjacent square (up, down, left or right, never diagonally) that is \
             not a wall.\n\nWhat is the minimum number of steps needed to go from S to G?\n\n\
             Answer format: a single integer (the number of steps), nothing else."
        );
        Generated {
            prompt,
            answer: steps.to_string(),
            data: Data { maze, steps },
        }
    }

    fn check(&self, data: &Steps, answer: &str) -> Verdict {
        match parse::int(answer) {
            Err(e) => Verdict::parse_error(e),
            Ok(v) if u64::try_from(v).ok() == Some(data.steps) => Verdict::correct(),
            Ok(v) => Verdict::wrong(format!("{v} is not the minimum number of steps")),
        }
    }
}

/// A perfect maze on an `h × w` cell lattice by randomized DFS; `true` = open.
fn carve(rng: &mut Rng, h: usize, w: usize) -> Grid<bool> {
    let mut g = Grid::new(2 * h + 1, 2 * w + 1, false);
    let mut seen = vec![false; h * w];
    let mut stack = Vec::with_capacity(h * w);
    stack.push((rng.index(h), rng.index(w)));
    seen[stack[0].0 * w + stack[0].1] = true;
    *g.at_mut(2 * stack[0].0 + 1, 2 * stack[0].1 + 1) = true;
    while let Some(&(r, c)) = stack.last() {
        let mut next = [(0usize, 0usize); 4];
        let mut k = 0;
        for (nr, nc) in [
            (r.wrapping_sub(1), c),
            (r, c + 1),
            (r + 1, c),
            (r, c.wrapping_sub(1)),
        ] {
            if nr < h && nc < w && !seen[nr * w + nc] {
                next[k] = (nr, nc);
                k += 1;
            }
        }
        if k == 0 {
            stack.pop();
            continue;
        }
        let (nr, nc) = next[rng.index(k)];
        seen[nr * w + nc] = true;
        *g.at_mut(2 * nr + 1, 2 * nc + 1) = true;
        *g.at_mut(r + nr + 1, c + nc + 1) = true;
        stack.push((nr, nc));
    }
    g
}

/// Open up to `k` closed walls that separate two lattice cells.
fn open_extra_walls(rng: &mut Rng, g: &mut Grid<bool>, k: usize) {
    if k == 0 {
        return;
    }
    let walls: Vec<(usize, usize)> = (1..g.rows - 1)
        .flat_map(|r| (1..g.cols - 1).map(move |c| (r, c)))
        .filter(|&(r, c)| (r + c) % 2 == 1 && !*g.at(r, c))
        .collect();
    for i in rng.sample_indices(walls.len(), k.min(walls.len())) {
        let (r, c) = walls[i];
        *g.at_mut(r, c) = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use resyn_core::testing::Conformance;
    use resyn_core::{Environment, probes::reference_answer};

    use crate::Native;

    fn data(inst: &resyn_core::Instance) -> Data {
        serde_json::from_value(inst.data.clone()).unwrap()
    }

    fn rows(data: &Data) -> Vec<String> {
        data.maze.lines().map(str::to_string).collect()
    }

    /// Adjacency lists between open squares (the oracle for `Grid::bfs_open`).
    fn adjacency(g: &Grid<bool>) -> Vec<Vec<usize>> {
        (0..g.rows)
            .flat_map(|r| (0..g.cols).map(move |c| (r, c)))
            .map(|(r, c)| {
                if !*g.at(r, c) {
                    return Vec::new();
                }
                g.neighbors4(r, c)
                    .filter(|&(nr, nc)| *g.at(nr, nc))
                    .map(|(nr, nc)| nr * g.cols + nc)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn grid_bfs_matches_graph_bfs() {
        let mut rng = resyn_core::Rng::from_seed(9);
        for d in 1..=10usize {
            let mut g = carve(&mut rng, d + 1, d + 2);
            open_extra_walls(&mut rng, &mut g, d * 3);
            let adj = adjacency(&g);
            for src in (0..g.cells.len()).filter(|&i| g.cells[i]).take(5) {
                assert_eq!(g.bfs_open(src), crate::util::graph::bfs(&adj, src));
            }
        }
    }

    #[test]
    fn conformance() {
        let env = Native::new(Maze);
        let r = Conformance::new(&env)
            .seeds(25)
            .wrong(|inst, _| {
                let s: i64 = reference_answer(inst).parse().unwrap();
                vec![
                    (s + 1).to_string(),
                    (s - 1).to_string(),
                    (s + 2).to_string(),
                    (2 * s).to_string(),
                    format!("{s} steps or {}", s + 1),
                    format!("{s}.5"),
                    "0".into(),
                ]
            })
            .run();
        assert!(r.rejected > 2000, "{r:?}");
    }

    /// Shortest distance by Bellman-Ford style relaxation straight on the
    /// rendered text, independent of the generator's grid and BFS.
    fn relaxed_distance(maze: &[String]) -> u64 {
        let rows: Vec<Vec<u8>> = maze.iter().map(|r| r.bytes().collect()).collect();
        let (h, w) = (rows.len(), rows[0].len());
        let find = |ch: u8| {
            (0..h)
                .flat_map(|r| (0..w).map(move |c| (r, c)))
                .find(|&(r, c)| rows[r][c] == ch)
                .unwrap()
        };
        let (s, g) = (find(b'S'), find(b'G'));
        let mut d = vec![vec![u64::MAX; w]; h];
        d[s.0][s.1] = 0;
        let mut changed = true;
        while changed {
            changed = false;
            for r in 0..h {
                for c in 0..w {
                    if rows[r][c] == b'#' || d[r][c] == u64::MAX {
                        continue;
                    }
                    let nb = [
                        (r.wrapping_sub(1), c),
                        (r + 1, c),
                        (r, c.wrapping_sub(1)),
                        (r, c + 1),
                    ];
                    for (nr, nc) in nb {
                        if nr < h && nc < w && rows[nr][nc] != b'#' && d[nr][nc] > d[r][c] + 1 {
                            d[nr][nc] = d[r][c] + 1;
                            changed = true;
                        }
                    }
                }
            }
        }
        d[g.0][g.1]
    }

    #[test]
    fn distance_matches_independent_relaxation() {
        let env = Native::new(Maze);
        for d in 1..=10 {
            for seed in 0..20 {
                let inst = env.generate(seed, d).unwrap();
                let data = data(&inst);
                let rows = &rows(&data);
                assert_eq!(relaxed_distance(rows), data.steps, "d{d} seed {seed}");
                // Border intact, exactly one S and one G, and the prompt shows the maze.
                assert!(rows[0].bytes().all(|b| b == b'#'));
                assert!(rows.last().unwrap().bytes().all(|b| b == b'#'));
                assert!(rows.iter().all(|r| r.starts_with('#') && r.ends_with('#')));
                let all: String = rows.concat();
                assert_eq!(all.matches('S').count(), 1);
                assert_eq!(all.matches('G').count(), 1);
                assert!(inst.prompt.contains(&rows.join("\n")));
                assert!(data.steps >= 1);
            }
        }
    }

    #[test]
    fn perfect_at_low_difficulty_and_loops_later() {
        // A perfect maze on h*w cells has exactly h*w - 1 openings between cells.
        let env = Native::new(Maze);
        let openings = |maze: &[String]| {
            maze.iter()
                .enumerate()
                .flat_map(|(r, row)| row.bytes().enumerate().map(move |(c, b)| (r, c, b)))
                .filter(|&(r, c, b)| (r + c) % 2 == 1 && b != b'#')
                .count()
        };
        for seed in 0..10 {
            let d1 = data(&env.generate(seed, 1).unwrap());
            assert_eq!(openings(&rows(&d1)), 2 * 3 - 1);
            let d10 = data(&env.generate(seed, 10).unwrap());
            assert!(openings(&rows(&d10)) > 11 * 12 - 1 + 15);
        }
        // Instances vary even at d1.
        let mut seen: Vec<Vec<String>> = (0..30)
            .map(|s| rows(&data(&env.generate(s, 1).unwrap())))
            .collect();
        seen.sort();
        seen.dedup();
        assert!(seen.len() > 15);
    }

    #[test]
    fn accepts_format_variants() {
        let env = Native::new(Maze);
        let inst = env.generate(5, 4).unwrap();
        let s = reference_answer(&inst);
        for v in [format!("  {s}\n"), format!("+{s}")] {
            assert!(env.verify(&inst, &format!("<answer>{v}</answer>")).correct);
        }
        for v in [format!("{s} steps"), format!("{s}, {s}"), format!("{s}.0")] {
            assert!(!env.verify(&inst, &format!("<answer>{v}</answer>")).correct);
        }
    }

    proptest! {
        #[test]
        fn check_is_total(s in ".{0,300}") {
            let inst = Native::new(Maze).generate(1, 6).unwrap();
            let _ = Maze.check(&Steps { steps: data(&inst).steps }, &s);
        }
    }
}
