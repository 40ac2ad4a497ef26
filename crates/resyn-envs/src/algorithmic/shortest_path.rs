//! `shortest_path`: find a minimum-weight path between two nodes of an
//! undirected graph with positive integer edge weights.
//!
//! Difficulty d: n = 5, 6, 8, 10, 12, 14, 17, 20, 23, 26 nodes (named by
//! capital letters), about n × (1.3 + 0.07·d) edges (a random spanning tree
//! plus random extra edges, so the graph is connected), weights 1 to 5 + 3d.
//! The source is random and the target is one of the three nodes farthest
//! from it, so optimal paths have several edges.
//!
//! The optimum is computed exactly (Dijkstra; tests cross-check it against
//! exhaustive simple-path enumeration and Bellman-Ford). Several optimal
//! paths may exist and all are accepted: the verifier checks that the
//! answer starts at the source, ends at the target, that consecutive nodes
//! are joined by an edge, and that the summed weight equals the optimum.
//! With weights >= 1 a path with a repeated node is never optimal, so walks
//! need no separate rule.

use std::fmt::Write as _;

use resyn_core::{Category, Rng, Verdict};
use serde::{Deserialize, Serialize};

use crate::util::graph::Graph;
use crate::util::{parse, text};
use crate::{Generated, Task, TaskInfo};

pub(crate) struct ShortestPath;

#[derive(Serialize, Deserialize)]
pub(crate) struct Data {
    n: usize,
    /// Undirected edges `(u, v, weight)` with `u < v` (stored flat).
    #[serde(with = "crate::util::flat")]
    edges: Vec<(usize, usize, u64)>,
    source: usize,
    target: usize,
    /// Weight of a shortest source-target path.
    best: u64,
}

const SIZES: [usize; 10] = [5, 6, 8, 10, 12, 14, 17, 20, 23, 26];

fn name(i: usize) -> char {
    char::from(b'A' + (i % 26) as u8)
}

impl Task for ShortestPath {
    type Data = Data;
    type View<'a> = Data;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: "shortest_path",
            version: 2,
            category: Category::Algorithmic,
            description: "Find a minimum-weight path between two nodes of a connected \
                undirected graph with positive integer weights (any optimal path is accepted). \
                Difficulty d: 5 to 26 nodes (5,6,8,10,12,14,17,20,23,26), about \
                n*(1.3+0.07d) edges, weights 1 to 5+3d.",
        }
    }

    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Data> {
        let d = usize::from(difficulty.clamp(1, 10));
        let n = SIZES[d - 1];
        let m = n * (130 + 7 * d) / 100;
        let g = Graph::random_connected(rng, n, m);
        let max_w = 5 + 3 * d as u64;
        let edges: Vec<(usize, usize, u64)> = g
            .edges
            .iter()
            .map(|&(u, v)| (u, v, rng.range_i64(1, max_w as i64) as u64))
            .collect();
        let source = rng.index(n);
        let (dist, prev) = dijkstra(n, &edges, source);
        let mut by_dist: Vec<usize> = (0..n).filter(|&v| v != source).collect();
        by_dist.sort_by_key(|&v| (std::cmp::Reverse(dist[v]), v));
        let target = by_dist[rng.index(by_dist.len().min(3))];
        let mut path = vec![target];
        while let Some(p) = prev[path[path.len() - 1]] {
            path.push(p);
        }
        path.reverse();
        // Written straight into one buffer: the node and edge lists are the bulk.
        let mut prompt = text::prompt_buffer(600 + 3 * n + 10 * edges.len());
        prompt.push_str("An undirected graph has the nodes ");
        text::push_joined(&mut prompt, 0..n, ", ", |s, i| s.push(name(i)));
        prompt.push_str(
            ". Its edges and their weights (\"X - Y: w\" means X and Y are joined by an edge \
             of weight w, usable in both directions):\n",
        );
        text::push_joined(&mut prompt, &edges, "\n", |s, &(u, v, w)| {
            s.push(name(u));
            s.push_str(" - ");
            s.push(name(v));
            s.push_str(": ");
            text::push_uint(s, w);
        });
        let (s, t) = (name(source), name(target));
        let _ = write!(
            prompt,
            "\n\nFind a path from {s} to {t} whose total weight (the sum of the weights of its \
             edges) is as small as possible.\n\nAnswer format: the nodes of the path in order, \
             from {s} to {t}, separated by spaces, commas or -> (for example: {s} -> ... -> {t})."
        );
        Generated {
            prompt,
            answer: text::joined(&path, " -> ", |s, &v| s.push(name(v))),
            data: Data {
                n,
                best: dist[target],
                edges,
                source,
                target,
            },
        }
    }

    fn check(&self, data: &Data, answer: &str) -> Verdict {
        match parse_path(answer, data.n) {
            Ok(path) => Verdict::from_check(check_path(data, &path)),
            Err(e) => Verdict::parse_error(e),
        }
    }
}

/// Node names separated by whitespace, commas and/or `->`.
fn parse_path(answer: &str, n: usize) -> Result<Vec<usize>, String> {
    let spaced = answer.replace("->", " ");
    let toks = parse::tokens(&spaced);
    if toks.is_empty() {
        return Err("no nodes given".into());
    }
    toks.iter()
        .map(|t| {
            // A one-letter token, any case, naming one of the n nodes
            // (`name(i)` for i < n, i.e. the letter's index is below n).
            match t.as_bytes() {
                &[b] if b.is_ascii_alphabetic()
                    && usize::from(b.to_ascii_uppercase() - b'A') < n =>
                {
                    Ok(usize::from(b.to_ascii_uppercase() - b'A'))
                }
                _ => Err(format!("`{}` is not a node", parse::clip(t))),
            }
        })
        .collect()
}

fn check_path(data: &Data, path: &[usize]) -> Result<(), String> {
    if path.first() != Some(&data.source) || path.last() != Some(&data.target) {
        return Err(format!(
            "the path must go from {} to {}",
            name(data.source),
            name(data.target)
        ));
    }
    let mut total: u64 = 0;
    for pair in path.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let w = data
            .edges
            .iter()
            .find(|&&(u, v, _)| (u, v) == (a, b) || (v, u) == (a, b))
            .map(|&(_, _, w)| w)
            .ok_or_else(|| format!("there is no edge {} - {}", name(a), name(b)))?;
        total = total.saturating_add(w);
    }
    if total == data.best {
        Ok(())
    } else {
        Err(format!(
            "the path weighs {total}, a shortest one weighs {}",
            data.best
        ))
    }
}

/// Distances and shortest-path-tree parents from `src` (O(n²), n <= 26).
fn dijkstra(n: usize, edges: &[(usize, usize, u64)], src: usize) -> (Vec<u64>, Vec<Option<usize>>) {
    let mut w = vec![u64::MAX; n * n];
    for &(u, v, c) in edges {
        w[u * n + v] = w[u * n + v].min(c);
        w[v * n + u] = w[v * n + u].min(c);
    }
    let mut dist = vec![u64::MAX; n];
    let mut prev = vec![None; n];
    // Bit v: node v is finished (n <= 26, see SIZES).
    debug_assert!(n <= 64);
    let mut done = 0u64;
    dist[src] = 0;
    loop {
        // The closest unfinished node (the lowest index among ties); a
        // plain scan: n <= 26.
        let mut u = usize::MAX;
        let mut best = u64::MAX;
        for (v, &d) in dist.iter().enumerate() {
            if done >> v & 1 == 0 && d < best {
                best = d;
                u = v;
            }
        }
        if u == usize::MAX {
            break;
        }
        done |= 1 << u;
        // Relax u's row of the weight matrix (iterators: no bounds checks).
        let row = &w[u * n..(u + 1) * n];
        for ((&wuv, d), p) in row.iter().zip(dist.iter_mut()).zip(prev.iter_mut()) {
            if wuv != u64::MAX && best + wuv < *d {
                *d = best + wuv;
                *p = Some(u);
            }
        }
    }
    (dist, prev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use resyn_core::probes::reference_answer;
    use resyn_core::testing::Conformance;
    use resyn_core::{Environment, Instance, Rng};

    use crate::Native;

    fn data(inst: &Instance) -> Data {
        serde_json::from_value(inst.data.clone()).unwrap()
    }

    /// Shortest distance by Bellman-Ford (independent of Dijkstra).
    fn bellman_ford(d: &Data) -> u64 {
        let mut dist = vec![u64::MAX; d.n];
        dist[d.source] = 0;
        for _ in 0..d.n {
            for &(u, v, w) in &d.edges {
                for (a, b) in [(u, v), (v, u)] {
                    if dist[a] != u64::MAX && dist[a] + w < dist[b] {
                        dist[b] = dist[a] + w;
                    }
                }
            }
        }
        dist[d.target]
    }

    /// Independent oracle: letters, adjacency and weight recomputed here.
    fn oracle(d: &Data, answer: &str) -> bool {
        let nodes: Option<Vec<usize>> = answer
            .replace("->", " ")
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .map(|t| {
                let b = t.as_bytes();
                (b.len() == 1 && b[0].is_ascii_alphabetic())
                    .then(|| usize::from(b[0].to_ascii_uppercase() - b'A'))
                    .filter(|&i| i < d.n)
            })
            .collect();
        let Some(nodes) = nodes else { return false };
        if nodes.first() != Some(&d.source) || nodes.last() != Some(&d.target) {
            return false;
        }
        let mut total = 0;
        for p in nodes.windows(2) {
            let Some(&(_, _, w)) = d
                .edges
                .iter()
                .find(|e| (e.0 == p[0] && e.1 == p[1]) || (e.0 == p[1] && e.1 == p[0]))
            else {
                return false;
            };
            total += w;
        }
        total == bellman_ford(d)
    }

    fn mutations(inst: &Instance, rng: &mut Rng) -> Vec<String> {
        let d = data(inst);
        let ans: Vec<String> = reference_answer(inst)
            .split(" -> ")
            .map(String::from)
            .collect();
        let join = |v: &[String]| v.join(" -> ");
        let mut out = Vec::new();
        let rev: Vec<String> = ans.iter().rev().cloned().collect();
        out.push(join(&rev));
        out.push(join(&ans[1..]));
        out.push(join(&ans[..ans.len() - 1]));
        // Detour x -> y -> x adds 2w > 0.
        let i = rng.index(ans.len());
        let x = ans[i].as_bytes()[0] - b'A';
        let y = d
            .edges
            .iter()
            .find_map(|&(u, v, _)| {
                if usize::from(x) == u {
                    Some(v)
                } else if usize::from(x) == v {
                    Some(u)
                } else {
                    None
                }
            })
            .unwrap();
        let mut m = ans.clone();
        m.insert(i + 1, name(y).to_string());
        m.insert(i + 2, ans[i].clone());
        out.push(join(&m));
        let mut m = ans.clone();
        m.push(ans[ans.len() - 1].clone());
        out.push(join(&m));
        // Replace or drop an interior node (may still be optimal: oracle).
        if ans.len() > 2 {
            let k = rng.range(1, ans.len() - 2);
            let mut m = ans.clone();
            m.remove(k);
            out.push(join(&m));
            let mut m = ans.clone();
            m[k] = name(rng.index(d.n)).to_string();
            out.push(join(&m));
        }
        out.push(format!("{} -> Z9", join(&ans)));
        out.push(format!("{} = {}", join(&ans), d.best));
        out
    }

    #[test]
    fn conformance() {
        let env = Native::new(ShortestPath);
        let r = Conformance::new(&env)
            .seeds(30)
            .wrong(mutations)
            .acceptable(|inst, a| oracle(&data(inst), a))
            .run();
        assert!(r.rejected > 3000, "{r:?}");
    }

    /// Exhaustive simple-path enumeration: the minimum equals `best`, and
    /// the verifier accepts exactly the simple paths of that weight.
    #[test]
    fn matches_exhaustive_path_enumeration() {
        fn dfs(d: &Data, path: &mut Vec<usize>, w: u64, out: &mut Vec<(Vec<usize>, u64)>) {
            let u = path[path.len() - 1];
            if u == d.target {
                out.push((path.clone(), w));
                return;
            }
            for &(a, b, c) in &d.edges {
                let v = if a == u {
                    b
                } else if b == u {
                    a
                } else {
                    continue;
                };
                if !path.contains(&v) {
                    path.push(v);
                    dfs(d, path, w + c, out);
                    path.pop();
                }
            }
        }
        let env = Native::new(ShortestPath);
        for dif in 1..=4u8 {
            for seed in 0..20 {
                let inst = env.generate(seed, dif).unwrap();
                let d = data(&inst);
                assert_eq!(d.best, bellman_ford(&d));
                let mut paths = Vec::new();
                dfs(&d, &mut vec![d.source], 0, &mut paths);
                let min = paths.iter().map(|p| p.1).min().unwrap();
                assert_eq!(min, d.best);
                for (p, w) in &paths {
                    let text: Vec<String> = p.iter().map(|&v| name(v).to_string()).collect();
                    let got = env.task().check(&d, &text.join(", ")).correct;
                    assert_eq!(got, *w == d.best, "{text:?}");
                }
                assert!(d.best > 0);
            }
        }
    }

    #[test]
    fn random_walks_agree_with_oracle() {
        let env = Native::new(ShortestPath);
        let mut rng = Rng::from_seed(9);
        for seed in 0..40 {
            let inst = env.generate(seed, 1 + (seed % 10) as u8).unwrap();
            let d = data(&inst);
            let adj = Graph {
                n: d.n,
                edges: d.edges.iter().map(|&(u, v, _)| (u, v)).collect(),
                directed: false,
            }
            .adjacency();
            for _ in 0..200 {
                let mut walk = vec![d.source];
                for _ in 0..rng.range(1, 2 * d.n) {
                    let u = walk[walk.len() - 1];
                    walk.push(adj[u][rng.index(adj[u].len())]);
                }
                let text: Vec<String> = walk.iter().map(|&v| name(v).to_string()).collect();
                let text = text.join(" ");
                assert_eq!(env.task().check(&d, &text).correct, oracle(&d, &text));
            }
        }
    }

    #[test]
    fn accepts_format_variants() {
        let env = Native::new(ShortestPath);
        for seed in 0..10 {
            let inst = env.generate(seed, 5).unwrap();
            let ans = reference_answer(&inst);
            for variant in [
                ans.to_lowercase(),
                ans.replace(" -> ", "->"),
                ans.replace(" -> ", ", "),
                ans.replace(" -> ", " "),
                ans.replace(" -> ", "\n"),
                format!("[{}]", ans.replace(" -> ", ", ")),
            ] {
                let v = env.verify(&inst, &format!("<answer>{variant}</answer>"));
                assert!(v.correct, "{variant}: {v:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn check_never_panics(s in ".{0,300}", t in "[A-Za-z ,>-]{0,100}") {
            let env = Native::new(ShortestPath);
            let inst = env.generate(3, 6).unwrap();
            let d = data(&inst);
            let _ = env.task().check(&d, &s);
            let v = env.task().check(&d, &t);
            prop_assert!(!v.correct || oracle(&d, &t));
        }
    }
}
