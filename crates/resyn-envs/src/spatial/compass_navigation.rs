//! `compass_navigation`: follow compass/turn instructions, or combine
//! relative-position statements, and report a position exactly.
//!
//! Two kinds of instance, drawn 50/50 at every difficulty:
//! - **walker**: a walker starts at `(x, y)` facing N/E/S/W and follows a
//!   list of instructions; the answer is the final position and heading in
//!   the canonical form `(x, y) facing D` (x grows east, y grows north). The
//!   instruction mix widens with difficulty: walk forward and turn left/right
//!   from d1, turn around from d3, turn to face a compass direction from d4,
//!   walk backward from d5, sidestep left/right from d7. There are `2d + 1`
//!   instructions with step counts `1..=d+2`.
//! - **relative**: `d + 2` landmarks, linked by a random tree of statements
//!   ("The mill is 3 km north and 2 km west of the well."), given in shuffled
//!   order; one offset per statement up to d2, two-axis offsets from d3,
//!   and from d2 a statement is phrased from either end (so inverting
//!   directions is needed). The answer is the position of one landmark
//!   relative to another, `(e, n)` in km east and north (negative = west /
//!   south); the pair is chosen among those farthest apart in the tree.
//!
//! Both answers are unique. The verifier parses exactly the documented form
//! (whitespace, case, `N` or `north`, a Unicode minus tolerated; `facing`
//! optional) and compares the integers and heading exactly.

use resyn_core::{Category, Rng, Verdict};
use serde::{Deserialize, Serialize};

use crate::util::graph;
use crate::util::parse;
use crate::{Generated, Task, TaskInfo};

pub(crate) struct CompassNavigation;

#[derive(Serialize, Deserialize)]
pub(crate) struct Data {
    /// Expected `(x, y)` (walker) or `(east, north)` offset (relative).
    target: (i64, i64),
    /// Expected heading 0..4 (N, E, S, W) for walker instances.
    facing: Option<u8>,
}

const DIRS: [&str; 4] = ["north", "east", "south", "west"];
const LETTERS: [char; 4] = ['N', 'E', 'S', 'W'];
/// Unit vector `(dx, dy)` of each heading.
const STEP: [(i64, i64); 4] = [(0, 1), (1, 0), (0, -1), (-1, 0)];

const LANDMARKS: [&str; 20] = [
    "well", "mill", "tower", "bridge", "church", "barn", "school", "lake", "market", "harbor",
    "castle", "farm", "chapel", "quarry", "forge", "library", "inn", "windmill", "station",
    "orchard",
];

#[derive(Clone, Copy)]
enum Instr {
    Forward(i64),
    Backward(i64),
    Left,
    Right,
    Around,
    Face(u8),
    Side { right: bool, k: i64 },
}

fn steps(k: i64) -> String {
    if k == 1 {
        "1 step".into()
    } else {
        format!("{k} steps")
    }
}

impl Instr {
    fn text(self) -> String {
        match self {
            Self::Forward(k) => format!("walk {} forward", steps(k)),
            Self::Backward(k) => format!("walk {} backward (without turning)", steps(k)),
            Self::Left => "turn left".into(),
            Self::Right => "turn right".into(),
            Self::Around => "turn around".into(),
            Self::Face(d) => format!("turn to face {}", DIRS[usize::from(d)]),
            Self::Side { right, k } => format!(
                "sidestep {} to the {} (without turning)",
                steps(k),
                if right { "right" } else { "left" }
            ),
        }
    }

    fn apply(self, pos: &mut (i64, i64), dir: &mut u8) {
        let mv = |pos: &mut (i64, i64), d: u8, k: i64| {
            let (dx, dy) = STEP[usize::from(d % 4)];
            pos.0 += dx * k;
            pos.1 += dy * k;
        };
        match self {
            Self::Forward(k) => mv(pos, *dir, k),
            Self::Backward(k) => mv(pos, *dir + 2, k),
            Self::Left => *dir = (*dir + 3) % 4,
            Self::Right => *dir = (*dir + 1) % 4,
            Self::Around => *dir = (*dir + 2) % 4,
            Self::Face(d) => *dir = d,
            Self::Side { right, k } => mv(pos, *dir + if right { 1 } else { 3 }, k),
        }
    }
}

impl Task for CompassNavigation {
    type Data = Data;
    type View<'a> = Data;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: "compass_navigation",
            version: 1,
            category: Category::Spatial,
            description: "Compass navigation: either follow 2d+1 walk/turn instructions from a \
                start point and heading and give the final position and heading as \
                `(x, y) facing D`, or combine d+1 relative-position statements between d+2 \
                landmarks and give one landmark's offset from another as `(east, north)` km. \
                Instruction kinds (turn around, face, backward, sidestep) and two-axis or \
                inverted statements unlock as difficulty d grows.",
        }
    }

    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Data> {
        if rng.chance(1, 2) {
            walker(rng, i64::from(difficulty))
        } else {
            relative(rng, i64::from(difficulty))
        }
    }

    fn check(&self, data: &Data, answer: &str) -> Verdict {
        match data.facing {
            Some(f) => match parse_walker(answer) {
                Err(e) => Verdict::parse_error(e),
                Ok((pos, dir)) => Verdict::from_check(if pos != data.target {
                    Err(format!("the walker does not end at ({}, {})", pos.0, pos.1))
                } else if dir != f {
                    Err("wrong final heading".into())
                } else {
                    Ok(())
                }),
            },
            None => match parse_pair(answer) {
                Err(e) => Verdict::parse_error(e),
                Ok(p) => Verdict::from_check(if p == data.target {
                    Ok(())
                } else {
                    Err("wrong relative position".into())
                }),
            },
        }
    }
}

fn walker(rng: &mut Rng, d: i64) -> Generated<Data> {
    let start = (rng.range_i64(-5, 5), rng.range_i64(-5, 5));
    let dir0 = rng.below(4) as u8;
    let n = 2 * d + 1;
    let (mut pos, mut dir) = (start, dir0);
    let mut lines = Vec::new();
    let mut last_moved = false;
    for i in 0..n {
        let k = rng.range_i64(1, d + 2);
        // Alternate loosely between moving and turning so that every turn
        // matters; the last instruction is a move half of the time.
        let want_move = if i == 0 {
            true
        } else {
            !last_moved || rng.chance(1, 3)
        };
        let ins = if want_move {
            match rng.below(6) {
                0 | 1 if d >= 5 => Instr::Backward(k),
                2 if d >= 7 => Instr::Side {
                    right: rng.chance(1, 2),
                    k,
                },
                _ => Instr::Forward(k),
            }
        } else {
            match rng.below(6) {
                0 if d >= 3 => Instr::Around,
                1 if d >= 4 => Instr::Face(rng.below(4) as u8),
                2 | 3 => Instr::Left,
                _ => Instr::Right,
            }
        };
        last_moved = want_move;
        ins.apply(&mut pos, &mut dir);
        lines.push(format!("{}. {}", i + 1, ins.text()));
    }
    let prompt = format!(
        "A walker stands on a grid at position ({}, {}), facing {}. Positions are (x, y): x \
         grows to the east and y grows to the north; each step moves exactly 1 unit in the \
         direction given. Turning left or right is a 90-degree turn on the spot, turning \
         around is a 180-degree turn, and \"turn to face\" sets the heading to that compass \
         direction; turns never move the walker. Walking backward or sidestepping does not \
         change the heading.\n\nInstructions, in order:\n{}\n\nWhere does the walker end up, \
         and which way is it facing?\n\nAnswer format: `(x, y) facing D` where x and y are \
         integers and D is one of N, E, S, W, for example `(3, -2) facing W`.",
        start.0,
        start.1,
        DIRS[usize::from(dir0)],
        lines.join("\n")
    );
    Generated {
        prompt,
        answer: format!(
            "({}, {}) facing {}",
            pos.0,
            pos.1,
            LETTERS[usize::from(dir)]
        ),
        data: Data {
            target: pos,
            facing: Some(dir),
        },
    }
}

/// "3 km north and 2 km west" for an offset `(east, north)` (non-zero).
fn offset_text(e: i64, n: i64) -> String {
    let part =
        |v: i64, pos: &str, neg: &str| format!("{} km {}", v.abs(), if v > 0 { pos } else { neg });
    match (e, n) {
        (0, n) => part(n, "north", "south"),
        (e, 0) => part(e, "east", "west"),
        (e, n) => format!(
            "{} and {}",
            part(n, "north", "south"),
            part(e, "east", "west")
        ),
    }
}

fn relative(rng: &mut Rng, d: i64) -> Generated<Data> {
    let m = (d + 2) as usize;
    let names: Vec<&str> = rng
        .sample_indices(LANDMARKS.len(), m)
        .into_iter()
        .map(|i| LANDMARKS[i])
        .collect();
    let mut pos = vec![(0i64, 0i64); m];
    let mut adj = vec![Vec::new(); m];
    let mut statements = Vec::new();
    let max = d + 2;
    for i in 1..m {
        // Favour chains (longer reasoning) but keep some branching.
        let j = if rng.chance(2, 3) {
            i - 1
        } else {
            rng.index(i)
        };
        let (e, n) = loop {
            let (e, n) = if d >= 3 && rng.chance(1, 2) {
                (rng.range_i64(-max, max), rng.range_i64(-max, max))
            } else if rng.chance(1, 2) {
                (
                    rng.range_i64(1, max) * if rng.chance(1, 2) { 1 } else { -1 },
                    0,
                )
            } else {
                (
                    0,
                    rng.range_i64(1, max) * if rng.chance(1, 2) { 1 } else { -1 },
                )
            };
            if (e, n) != (0, 0) {
                break (e, n);
            }
        };
        pos[i] = (pos[j].0 + e, pos[j].1 + n);
        adj[i].push(j);
        adj[j].push(i);
        // "i is (e, n) from j", or the same fact from j's side.
        statements.push(if d >= 2 && rng.chance(1, 2) {
            format!(
                "The {} is {} of the {}.",
                names[j],
                offset_text(-e, -n),
                names[i]
            )
        } else {
            format!(
                "The {} is {} of the {}.",
                names[i],
                offset_text(e, n),
                names[j]
            )
        });
    }
    rng.shuffle(&mut statements);
    // Query a pair among the farthest apart in the tree.
    let hops: Vec<Vec<usize>> = (0..m)
        .map(|s| {
            graph::bfs(&adj, s)
                .into_iter()
                .map(|x| x.unwrap_or(0))
                .collect()
        })
        .collect();
    let far = hops.iter().flatten().copied().max().unwrap_or(1);
    let pairs: Vec<(usize, usize)> = (0..m)
        .flat_map(|p| (0..m).map(move |q| (p, q)))
        .filter(|&(p, q)| p != q && hops[p][q] + 1 >= far.max(2))
        .collect();
    let (p, q) = pairs[rng.index(pairs.len())];
    let target = (pos[p].0 - pos[q].0, pos[p].1 - pos[q].1);
    let prompt = format!(
        "Landmarks on a flat map are related as follows (all offsets are along the compass \
         axes):\n{}\n\nWhere is the {} relative to the {}?\n\nAnswer format: `(e, n)` where \
         e is how many km the {} is east of the {} (negative if it is west) and n is how many \
         km it is north (negative if south); for example `(-3, 5)` means 3 km west and 5 km \
         north.",
        statements.join("\n"),
        names[p],
        names[q],
        names[p],
        names[q]
    );
    Generated {
        prompt,
        answer: format!("({}, {})", target.0, target.1),
        data: Data {
            target,
            facing: None,
        },
    }
}

fn parse_pair(s: &str) -> Result<(i64, i64), String> {
    let s = s.replace('\u{2212}', "-");
    match parse::tokens(&s).as_slice() {
        [a, b] => Ok((parse::int(a)?, parse::int(b)?)),
        _ => Err("expected two integers `(e, n)`".into()),
    }
}

fn parse_walker(s: &str) -> Result<((i64, i64), u8), String> {
    let s = s.trim().replace('\u{2212}', "-");
    let Some(close) = s.find(')') else {
        return Err("expected `(x, y) facing D`".into());
    };
    if !s.starts_with('(') {
        return Err("expected `(x, y) facing D`".into());
    }
    let pos = parse_pair(&s[..=close])?;
    let rest = s[close + 1..]
        .trim()
        .trim_start_matches(',')
        .to_ascii_lowercase();
    let words: Vec<&str> = rest.split_whitespace().collect();
    let word = match words.as_slice() {
        ["facing", w] | [w] => w.trim_end_matches('.'),
        _ => return Err("expected `facing D` after the position".into()),
    };
    (0..4u8)
        .find(|&i| {
            let i = usize::from(i);
            word == DIRS[i] || word == LETTERS[i].to_ascii_lowercase().to_string()
        })
        .map(|dir| (pos, dir))
        .ok_or_else(|| format!("`{}` is not a compass direction", parse::clip(word)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use resyn_core::testing::Conformance;
    use resyn_core::{Environment, Instance, Rng};

    use crate::Native;

    fn data(inst: &Instance) -> Data {
        serde_json::from_value(inst.data.clone()).unwrap()
    }

    fn mutations(inst: &Instance, _: &mut Rng) -> Vec<String> {
        let d = data(inst);
        let (x, y) = d.target;
        let mut pos = vec![
            (x + 1, y),
            (x - 1, y),
            (x, y + 1),
            (x, y - 1),
            (-x, -y),
            (y, x),
        ];
        pos.retain(|&p| p != (x, y));
        match d.facing {
            Some(f) => {
                let mut out: Vec<String> = pos
                    .iter()
                    .map(|p| format!("({}, {}) facing {}", p.0, p.1, LETTERS[usize::from(f)]))
                    .collect();
                for g in (0..4).filter(|&g| g != f) {
                    out.push(format!("({x}, {y}) facing {}", LETTERS[usize::from(g)]));
                }
                out.push(format!("({x}, {y})"));
                out.push(format!("facing {}", LETTERS[usize::from(f)]));
                out.push(format!("({x}, {y}) facing N or E or S or W"));
                out
            }
            None => {
                let mut out: Vec<String> =
                    pos.iter().map(|p| format!("({}, {})", p.0, p.1)).collect();
                out.push(format!("({x}, {y}, 0)"));
                out.push(format!("{x}"));
                out
            }
        }
    }

    #[test]
    fn conformance() {
        let env = Native::new(CompassNavigation);
        let r = Conformance::new(&env).seeds(30).wrong(mutations).run();
        assert!(r.rejected > 4000, "{r:?}");
    }

    /// Replay the walker's instructions from the prompt text with complex
    /// arithmetic (heading as a unit vector, left turn = multiply by i).
    fn replay_walker(prompt: &str) -> ((i64, i64), (i64, i64)) {
        let head = prompt.split("position (").nth(1).unwrap();
        let (coords, rest) = head.split_once("), facing ").unwrap();
        let (x, y) = coords.split_once(", ").unwrap();
        let mut pos: (i64, i64) = (x.parse().unwrap(), y.parse().unwrap());
        let unit = |w: &str| match w.trim_end_matches('.') {
            "north" => (0, 1),
            "east" => (1, 0),
            "south" => (0, -1),
            "west" => (-1, 0),
            other => panic!("{other}"),
        };
        let mut h = unit(rest.split_whitespace().next().unwrap());
        let list = prompt.split("Instructions, in order:\n").nth(1).unwrap();
        for line in list.split("\n\n").next().unwrap().lines() {
            let text = line.split_once(". ").unwrap().1;
            let w: Vec<&str> = text.split_whitespace().collect();
            let left = |(a, b): (i64, i64)| (-b, a);
            match w.as_slice() {
                ["turn", "left"] => h = left(h),
                ["turn", "right"] => h = left(left(left(h))),
                ["turn", "around"] => h = (-h.0, -h.1),
                ["turn", "to", "face", d] => h = unit(d),
                ["walk", k, _, dir, ..] => {
                    let k: i64 = k.parse().unwrap();
                    let s = if *dir == "forward" { 1 } else { -1 };
                    pos = (pos.0 + s * k * h.0, pos.1 + s * k * h.1);
                }
                ["sidestep", k, _, "to", "the", side, ..] => {
                    let k: i64 = k.parse().unwrap();
                    let v = if *side == "left" {
                        left(h)
                    } else {
                        left(left(left(h)))
                    };
                    pos = (pos.0 + k * v.0, pos.1 + k * v.1);
                }
                other => panic!("unknown instruction {other:?}"),
            }
        }
        (pos, h)
    }

    /// Solve the relative statements from the prompt text by propagation.
    fn solve_relative(prompt: &str) -> (i64, i64) {
        let body = prompt.split("axes):\n").nth(1).unwrap();
        let (stmts, rest) = body.split_once("\n\n").unwrap();
        let mut edges: Vec<(String, String, i64, i64)> = Vec::new();
        for s in stmts.lines() {
            let s = s.strip_prefix("The ").unwrap().strip_suffix('.').unwrap();
            let (a, rest) = s.split_once(" is ").unwrap();
            let (off, b) = rest.split_once(" of the ").unwrap();
            let (mut e, mut n) = (0, 0);
            for part in off.split(" and ") {
                let w: Vec<&str> = part.split(' ').collect();
                let k: i64 = w[0].parse().unwrap();
                match w[2] {
                    "north" => n += k,
                    "south" => n -= k,
                    "east" => e += k,
                    "west" => e -= k,
                    other => panic!("{other}"),
                }
            }
            edges.push((a.to_string(), b.to_string(), e, n));
        }
        let q = rest.split("Where is the ").nth(1).unwrap();
        let (p, q) = q.split_once(" relative to the ").unwrap();
        let q = q.split('?').next().unwrap();
        // Positions relative to q, propagated until nothing changes.
        let mut known: Vec<(String, (i64, i64))> = vec![(q.to_string(), (0, 0))];
        loop {
            let before = known.len();
            for (a, b, e, n) in &edges {
                let pa = known.iter().find(|k| &k.0 == a).map(|k| k.1);
                let pb = known.iter().find(|k| &k.0 == b).map(|k| k.1);
                match (pa, pb) {
                    (None, Some(pb)) => known.push((a.clone(), (pb.0 + e, pb.1 + n))),
                    (Some(pa), None) => known.push((b.clone(), (pa.0 - e, pa.1 - n))),
                    (Some(pa), Some(pb)) => assert_eq!(pa, (pb.0 + e, pb.1 + n)),
                    (None, None) => {}
                }
            }
            if known.len() == before {
                break;
            }
        }
        assert_eq!(
            known.len(),
            edges.len() + 1,
            "statements form a connected tree"
        );
        known.iter().find(|k| k.0 == p).unwrap().1
    }

    #[test]
    fn answers_match_independent_replay() {
        let env = Native::new(CompassNavigation);
        let (mut walkers, mut relatives) = (0, 0);
        for d in 1..=10 {
            for seed in 0..40 {
                let inst = env.generate(seed, d).unwrap();
                let data = data(&inst);
                match data.facing {
                    Some(f) => {
                        let (pos, h) = replay_walker(&inst.prompt);
                        assert_eq!(pos, data.target, "d{d} seed {seed}");
                        assert_eq!(h, STEP[usize::from(f)]);
                        walkers += 1;
                    }
                    None => {
                        assert_eq!(solve_relative(&inst.prompt), data.target, "d{d} s{seed}");
                        relatives += 1;
                    }
                }
            }
        }
        assert!(walkers > 150 && relatives > 150, "{walkers} {relatives}");
    }

    #[test]
    fn accepts_format_variants() {
        let env = Native::new(CompassNavigation);
        let ok =
            |inst: &Instance, a: &str| env.verify(inst, &format!("<answer>{a}</answer>")).correct;
        let mut seen = (false, false);
        for seed in 0..20 {
            let inst = env.generate(seed, 5).unwrap();
            let d = data(&inst);
            let (x, y) = d.target;
            match d.facing {
                Some(f) => {
                    seen.0 = true;
                    let full = DIRS[usize::from(f)];
                    let l = LETTERS[usize::from(f)];
                    for v in [
                        format!("({x},{y}) facing {l}"),
                        format!("  ( {x} , {y} )  FACING  {full} "),
                        format!("({x}, {y}), facing {}", l.to_ascii_lowercase()),
                        format!("({x}, {y}) {full}."),
                        format!("({x}, {y}) facing {l}").replace('-', "\u{2212}"),
                    ] {
                        assert!(ok(&inst, &v), "{v}");
                    }
                    assert!(!ok(&inst, &format!("{x}, {y} facing {l}")));
                    assert!(!ok(&inst, &format!("({x}, {y}) facing {l} {l}")));
                }
                None => {
                    seen.1 = true;
                    for v in [
                        format!("{x}, {y}"),
                        format!("({x},{y})"),
                        format!("[{x} {y}]"),
                    ] {
                        assert!(ok(&inst, &v), "{v}");
                    }
                    assert!(!ok(&inst, &format!("({x}, {y}) ({x}, {y})")));
                }
            }
        }
        assert!(seen.0 && seen.1);
    }

    proptest! {
        #[test]
        fn check_is_total(s in "[()0-9, \\-a-zA-Z]{0,40}|.{0,200}") {
            for seed in 0..2 {
                let inst = Native::new(CompassNavigation).generate(seed, 8).unwrap();
                let _ = CompassNavigation.check(&data(&inst), &s);
            }
        }
    }
}
