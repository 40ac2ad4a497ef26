//! `tower_of_hanoi`: move every disk onto a target peg in the fewest moves.
//!
//! Difficulty d uses d + 1 disks (2 to 11; the optimal solution has up to
//! 2047 moves). Disks start in a random legal position spread over the three
//! pegs, so instances at one size differ. The optimal move sequence from any
//! position to a single target peg is unique; the verifier still simulates
//! the submitted moves (legality, final position) and then requires the
//! optimal length, so it checks the answer, not its spelling.

use std::fmt::Write as _;

use resyn_core::{Category, Rng, Verdict};
use serde::{Deserialize, Serialize};

use crate::util::{parse, text};
use crate::{Generated, Task, TaskInfo};

const PEGS: [char; 3] = ['A', 'B', 'C'];

pub(crate) struct Hanoi;

#[derive(Serialize, Deserialize)]
pub(crate) struct Data {
    /// Peg (0..3) of each disk, disk 0 smallest.
    start: Vec<u8>,
    target: u8,
    optimal: usize,
}

impl Task for Hanoi {
    type Data = Data;
    type View<'a> = Data;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: "tower_of_hanoi",
            version: 1,
            category: Category::Algorithmic,
            description: "Tower of Hanoi from a random legal position: move all disks onto a \
                target peg in the minimum number of moves. Difficulty d uses d+1 disks.",
        }
    }

    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Data> {
        let n = usize::from(difficulty) + 1;
        let target = rng.below(3) as u8;
        let mut start: Vec<u8> = (0..n).map(|_| rng.below(3) as u8).collect();
        // Never generate an already-solved position.
        if start.iter().all(|&p| p == target) {
            start[n - 1] = (target + 1 + rng.below(2) as u8) % 3;
        }
        let moves = solve(&start, target);
        let mut prompt = text::prompt_buffer(560);
        let _ = write!(
            prompt,
            "Tower of Hanoi with three pegs A, B and C and {n} disks numbered 1 (smallest) to \
             {n} (largest). A move takes the top disk of one peg and puts it on another peg; a \
             disk may never be placed on a smaller disk.\n\nCurrent position (bottom to top):\n"
        );
        render(&mut prompt, &start);
        let _ = write!(
            prompt,
            "\n\nMove all disks onto peg {} using the minimum possible number of moves.\n\n\
             Answer format: the moves in order, separated by spaces or new lines, each written \
             as FROM->TO (for example A->C).",
            PEGS[usize::from(target)]
        );
        let answer = text::joined(&moves, " ", |s, &(f, t)| {
            s.push(PEGS[usize::from(f)]);
            s.push_str("->");
            s.push(PEGS[usize::from(t)]);
        });
        Generated {
            prompt,
            data: Data {
                optimal: moves.len(),
                start,
                target,
            },
            answer,
        }
    }

    fn check(&self, data: &Data, answer: &str) -> Verdict {
        let moves = match parse_moves(answer) {
            Ok(m) => m,
            Err(e) => return Verdict::parse_error(e),
        };
        Verdict::from_check(check_moves(data, &moves))
    }
}

/// Append the pegs' disks, one peg per line.
fn render(out: &mut String, pos: &[u8]) {
    text::push_joined(out, 0..3u8, "\n", |s, p| {
        s.push(PEGS[usize::from(p)]);
        s.push_str(": ");
        let mut disks = (0..pos.len()).rev().filter(|&d| pos[d] == p).peekable();
        if disks.peek().is_none() {
            s.push_str("(empty)");
        }
        text::push_joined(s, disks, " ", |s, d| text::push_uint(s, d as u64 + 1));
    })
}

/// The unique optimal move sequence from `pos` to all disks on `target`.
fn solve(pos: &[u8], target: u8) -> Vec<(u8, u8)> {
    fn place(pos: &mut [u8], k: usize, target: u8, out: &mut Vec<(u8, u8)>) {
        // Put disks 0..k (all smaller than disk k) onto `target`.
        if k == 0 {
            return;
        }
        let d = k - 1;
        if pos[d] == target {
            place(pos, d, target, out);
        } else {
            let from = pos[d];
            let spare = 3 - from - target;
            place(pos, d, spare, out);
            out.push((from, target));
            pos[d] = target;
            place(pos, d, target, out);
        }
    }
    let mut p = pos.to_vec();
    // At most 2^n - 1 moves.
    let mut out = Vec::with_capacity((1usize << pos.len().min(20)) - 1);
    place(&mut p, pos.len(), target, &mut out);
    out
}

fn parse_moves(s: &str) -> Result<Vec<(u8, u8)>, String> {
    let toks = parse::tokens(s);
    if toks.is_empty() {
        return Err("no moves given".into());
    }
    toks.iter()
        .map(|t| {
            let peg = |c: &str| {
                let c = c.trim().to_ascii_uppercase();
                PEGS.iter()
                    .position(|p| c.len() == 1 && c.starts_with(*p))
                    .map(|i| i as u8)
            };
            let (f, to) = t
                .split_once("->")
                .ok_or_else(|| format!("move `{}` is not FROM->TO", parse::clip(t)))?;
            match (peg(f), peg(to)) {
                (Some(f), Some(to)) => Ok((f, to)),
                _ => Err(format!("move `{}` names an unknown peg", parse::clip(t))),
            }
        })
        .collect()
}

fn check_moves(data: &Data, moves: &[(u8, u8)]) -> Result<(), String> {
    let mut pos = data.start.clone();
    for (i, &(f, t)) in moves.iter().enumerate() {
        // The top disk of a peg is the smallest disk on it.
        let Some(disk) = pos.iter().position(|&p| p == f) else {
            return Err(format!(
                "move {}: peg {} is empty",
                i + 1,
                PEGS[usize::from(f)]
            ));
        };
        if f == t {
            return Err(format!("move {}: a disk must move to another peg", i + 1));
        }
        if pos
            .iter()
            .position(|&p| p == t)
            .is_some_and(|top| top < disk)
        {
            return Err(format!(
                "move {}: disk {} onto a smaller disk",
                i + 1,
                disk + 1
            ));
        }
        pos[disk] = t;
    }
    if pos.iter().any(|&p| p != data.target) {
        return Err("not all disks end on the target peg".into());
    }
    if moves.len() != data.optimal {
        return Err(format!(
            "{} moves, but {} suffice",
            moves.len(),
            data.optimal
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use resyn_core::Environment;
    use resyn_core::testing::Conformance;

    use crate::Native;

    fn mutations(answer: &str, rng: &mut Rng) -> Vec<String> {
        let moves: Vec<&str> = answer.split(' ').collect();
        let mut out = Vec::new();
        // Drop one move, swap two adjacent moves, reverse one move.
        let i = rng.index(moves.len());
        let mut m = moves.clone();
        m.remove(i);
        out.push(m.join(" "));
        if moves.len() > 1 {
            let mut m = moves.clone();
            let j = rng.index(moves.len() - 1);
            m.swap(j, j + 1);
            out.push(m.join(" "));
        }
        let mut m: Vec<String> = moves.iter().map(|s| s.to_string()).collect();
        m[i] = m[i].chars().rev().collect::<String>().replace(">-", "->");
        out.push(m.join(" "));
        // A valid but longer solution: a wasted move and its undo.
        let (f, t) = moves[0].split_once("->").unwrap_or(("A", "B"));
        out.push(format!("{t}->{f} {f}->{t} {answer}"));
        out
    }

    #[test]
    fn conformance() {
        let env = Native::new(Hanoi);
        let r = Conformance::new(&env)
            .seeds(15)
            .wrong(|inst, rng| mutations(resyn_core::probes::reference_answer(inst), rng))
            .run();
        assert!(r.rejected > 1000, "{r:?}");
    }

    #[test]
    fn optimal_length_matches_brute_force() {
        // BFS over all 3^n positions confirms `solve` is optimal for small n.
        for n in 1..=5usize {
            let states = 3usize.pow(n as u32);
            let enc = |p: &[u8]| p.iter().rev().fold(0usize, |a, &x| a * 3 + x as usize);
            for target in 0..3u8 {
                let goal = vec![target; n];
                // Distances to goal by BFS with legal moves (moves are reversible).
                let mut dist = vec![usize::MAX; states];
                let mut q = std::collections::VecDeque::from([goal.clone()]);
                dist[enc(&goal)] = 0;
                while let Some(p) = q.pop_front() {
                    let d = dist[enc(&p)];
                    for f in 0..3u8 {
                        let Some(disk) = p.iter().position(|&x| x == f) else {
                            continue;
                        };
                        for t in 0..3u8 {
                            if t == f
                                || p.iter().position(|&x| x == t).is_some_and(|top| top < disk)
                            {
                                continue;
                            }
                            let mut np = p.clone();
                            np[disk] = t;
                            if dist[enc(&np)] == usize::MAX {
                                dist[enc(&np)] = d + 1;
                                q.push_back(np);
                            }
                        }
                    }
                }
                for code in 0..states {
                    let pos: Vec<u8> = (0..n)
                        .map(|i| (code / 3usize.pow(i as u32) % 3) as u8)
                        .collect();
                    let moves = solve(&pos, target);
                    assert_eq!(moves.len(), dist[enc(&pos)]);
                    let data = Data {
                        start: pos.clone(),
                        target,
                        optimal: moves.len(),
                    };
                    assert_eq!(check_moves(&data, &moves), Ok(()));
                }
            }
        }
    }

    #[test]
    fn accepts_format_variants() {
        let env = Native::new(Hanoi);
        let inst = env.generate(3, 2).unwrap();
        let ans = resyn_core::probes::reference_answer(&inst)
            .to_lowercase()
            .replace(' ', ",\n");
        assert!(
            env.verify(&inst, &format!("<answer>{ans}</answer>"))
                .correct
        );
    }
}
