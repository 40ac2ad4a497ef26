//! `graph_coloring`: color the vertices of an undirected graph with at most
//! k colors so that adjacent vertices get different colors.
//!
//! Difficulty d sets the number of vertices n, the number of colors k and the
//! average degree (edges = n * degree / 2):
//!
//! | d      | 1 | 2   | 3 | 4   | 5  | 6   | 7   | 8   | 9   | 10 |
//! |--------|---|-----|---|-----|----|-----|-----|-----|-----|----|
//! | n      | 5 | 6   | 7 | 8   | 10 | 12  | 14  | 16  | 18  | 20 |
//! | k      | 3 | 3   | 3 | 3   | 3  | 3   | 4   | 4   | 4   | 4  |
//! | degree | 2 | 2.5 | 3 | 3.5 | 4  | 4.2 | 5.5 | 6.5 | 7.5 | 8  |
//!
//! The densest levels approach the k-colorability thresholds (average degree
//! about 4.7 for k = 3 and 8.4 for k = 4). reasoning-gym's `graph_color`
//! (by default 10 vertices, 4 colors, edge probability 0.4, i.e. average
//! degree 3.6) is closest to difficulty 5 (same size, one color fewer).
//!
//! Generation plants a balanced k-coloring (vertex classes of sizes differing
//! by at most one) and samples edges only between differently colored
//! vertices, so the graph is k-colorable. Colorings are not unique (at least
//! every relabelling of the colors works), so the verifier checks validity:
//! every vertex colored exactly once with a color in 1..=k, and no edge with
//! both ends the same color.

use std::fmt::Write as _;

use resyn_core::{Category, Rng, Verdict};
use serde::{Deserialize, Serialize};

use crate::util::{parse, text};
use crate::{Generated, Task, TaskInfo};

pub(crate) struct GraphColoring;

#[derive(Serialize, Deserialize)]
pub(crate) struct Data {
    /// Number of vertices.
    n: usize,
    /// Undirected edges `(u, v)`, `u < v`, sorted (stored flat).
    #[serde(with = "crate::util::flat")]
    edges: Vec<(usize, usize)>,
    colors: usize,
}

/// `(vertices, colors, average degree x 10)`.
fn params(difficulty: u8) -> (usize, usize, usize) {
    match difficulty {
        0 | 1 => (5, 3, 20),
        2 => (6, 3, 25),
        3 => (7, 3, 30),
        4 => (8, 3, 35),
        5 => (10, 3, 40),
        6 => (12, 3, 42),
        7 => (14, 4, 55),
        8 => (16, 4, 65),
        9 => (18, 4, 75),
        _ => (20, 4, 80),
    }
}

impl Task for GraphColoring {
    type Data = Data;
    type View<'a> = Data;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: "graph_coloring",
            version: 2,
            category: Category::ConstraintSatisfaction,
            description: "Color an undirected graph with at most k colors so that adjacent \
                vertices differ (any valid coloring counts; a planted coloring guarantees one \
                exists). Difficulty 1-10: 5 to 20 vertices, k = 3 up to difficulty 6 and 4 \
                after, average degree rising from 2 to 8.",
        }
    }

    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Data> {
        let (n, k, deg10) = params(difficulty);
        let mut color = vec![0usize; n];
        for (i, v) in rng.permutation(n).into_iter().enumerate() {
            color[v] = i % k + 1;
        }
        let mut pairs: Vec<(usize, usize)> = Vec::with_capacity(n * n.saturating_sub(1) / 2);
        for u in 0..n {
            for v in u + 1..n {
                if color[u] != color[v] {
                    pairs.push((u, v));
                }
            }
        }
        let m = ((n * deg10 + 10) / 20).min(pairs.len());
        // `pairs` is in lexicographic order, so taking the picked ones in
        // index order gives the edges sorted (marks instead of a sort).
        let mut picked = vec![false; pairs.len()];
        for i in rng.sample_indices(pairs.len(), m) {
            picked[i] = true;
        }
        let mut edges: Vec<(usize, usize)> = Vec::with_capacity(m);
        edges.extend(
            pairs
                .iter()
                .zip(&picked)
                .filter(|(_, p)| **p)
                .map(|(&e, _)| e),
        );
        // Written straight into one buffer: the edge list is the bulk.
        let mut prompt = text::prompt_buffer(400 + 7 * edges.len());
        let _ = write!(
            prompt,
            "Color the vertices of this undirected graph using at most {k} colors, numbered 1 \
             to {k}, so that the two endpoints of every edge get different colors.\n\n\
             Vertices: 0 to {}\nEdges ({}): ",
            n - 1,
            edges.len()
        );
        text::push_joined(&mut prompt, &edges, ", ", |s, &(u, v)| {
            text::push_uint(s, u as u64);
            s.push('-');
            text::push_uint(s, v as u64);
        });
        prompt.push_str(
            "\n\nAnswer format: every vertex exactly once as `vertex: color`, with the pairs \
             separated by commas or new lines, for example `0: 1, 1: 2, 2: 1`, and nothing else.",
        );
        let answer = text::joined(color.iter().enumerate(), ", ", |s, (v, &c)| {
            text::push_uint(s, v as u64);
            s.push_str(": ");
            text::push_uint(s, c as u64);
        });
        Generated {
            prompt,
            answer,
            data: Data {
                n,
                edges,
                colors: k,
            },
        }
    }

    fn check(&self, data: &Data, answer: &str) -> Verdict {
        let coloring = match parse_coloring(answer, data.n, data.colors) {
            Ok(c) => c,
            Err(e) => return Verdict::parse_error(e),
        };
        for &(u, v) in &data.edges {
            match (coloring.get(u), coloring.get(v)) {
                (Some(a), Some(b)) if a != b => {}
                (Some(_), Some(_)) => {
                    return Verdict::wrong(format!(
                        "vertices {u} and {v} are adjacent and both have color {}",
                        coloring[u]
                    ));
                }
                _ => {
                    return Verdict::zero(
                        resyn_core::ReasonCode::InvalidInstance,
                        "edge outside the graph",
                    );
                }
            }
        }
        Verdict::correct()
    }
}

/// Parse `vertex: color` pairs (commas or new lines between pairs) into the
/// color of each vertex `0..n`; every vertex exactly once, colors `1..=k`.
fn parse_coloring(s: &str, n: usize, k: usize) -> Result<Vec<usize>, String> {
    let items: Vec<&str> = parse::strip_brackets(s)
        .split([',', '\n'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    if items.is_empty() {
        return Err("no vertex colors given".into());
    }
    let mut color = vec![0usize; n];
    for item in items {
        let (v, c) = item
            .split_once(':')
            .ok_or_else(|| format!("`{}` is not `vertex: color`", parse::clip(item)))?;
        let v = parse::int(v)?;
        let c = parse::int(c)?;
        let v = usize::try_from(v)
            .ok()
            .filter(|&v| v < n)
            .ok_or_else(|| format!("{v} is not a vertex (0 to {})", n.saturating_sub(1)))?;
        let c = usize::try_from(c)
            .ok()
            .filter(|c| (1..=k).contains(c))
            .ok_or_else(|| format!("vertex {v}: {c} is not a color from 1 to {k}"))?;
        if color[v] != 0 {
            return Err(format!("vertex {v} is colored more than once"));
        }
        color[v] = c;
    }
    if let Some(v) = color.iter().position(|&c| c == 0) {
        return Err(format!("vertex {v} has no color"));
    }
    Ok(color)
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

    /// Independent oracle over a map: parse pairs by characters, require
    /// every vertex exactly once and a proper coloring.
    fn valid(inst: &Instance, answer: &str) -> bool {
        let data = data_of(inst);
        let mut map = std::collections::BTreeMap::new();
        let body = answer.trim().trim_start_matches(['[', '(', '{']);
        let body = body.trim_end_matches([']', ')', '}']);
        for item in body.split([',', '\n']) {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let Some((v, c)) = item.split_once(':') else {
                return false;
            };
            let (Ok(v), Ok(c)) = (v.trim().parse::<usize>(), c.trim().parse::<usize>()) else {
                return false;
            };
            if map.insert(v, c).is_some() {
                return false;
            }
        }
        map.len() == data.n
            && map.keys().copied().eq(0..data.n)
            && map.values().all(|&c| (1..=data.colors).contains(&c))
            && data.edges.iter().all(|(u, v)| map[u] != map[v])
    }

    fn pairs(answer: &str) -> Vec<(usize, usize)> {
        answer
            .split(", ")
            .map(|p| {
                let (v, c) = p.split_once(": ").unwrap();
                (v.parse().unwrap(), c.parse().unwrap())
            })
            .collect()
    }

    fn render(p: &[(usize, usize)]) -> String {
        p.iter()
            .map(|(v, c)| format!("{v}: {c}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn mutations(inst: &Instance, rng: &mut Rng) -> Vec<String> {
        let data = data_of(inst);
        let p = pairs(reference_answer(inst));
        let k = data.colors;
        let mut out = Vec::new();
        // Give an edge's endpoint its neighbour's color: provably invalid.
        let &(u, v) = rng.choose(&data.edges).unwrap();
        let mut m = p.clone();
        m[u].1 = p[v].1;
        out.push(render(&m));
        // Swap two vertices' colors; shift every color (a relabelling,
        // valid); use one color too many.
        let mut m = p.clone();
        let (a, b) = (rng.index(p.len()), rng.index(p.len()));
        let tmp = m[a].1;
        m[a].1 = m[b].1;
        m[b].1 = tmp;
        out.push(render(&m));
        let m: Vec<_> = p.iter().map(|&(v, c)| (v, c % k + 1)).collect();
        out.push(render(&m));
        let mut m = p.clone();
        m[a].1 = k + 1;
        out.push(render(&m));
        let mut m = p.clone();
        m[a].1 = 0;
        out.push(render(&m));
        // Drop a vertex, repeat a vertex, name a vertex that does not exist.
        let mut m = p.clone();
        m.remove(a);
        out.push(render(&m));
        let mut m = p.clone();
        m.push(p[a]);
        out.push(render(&m));
        let mut m = p.clone();
        m.push((p.len(), 1));
        out.push(render(&m));
        // Everything one color.
        let m: Vec<_> = p.iter().map(|&(v, _)| (v, 1)).collect();
        out.push(render(&m));
        out
    }

    #[test]
    fn conformance() {
        let env = Native::new(GraphColoring);
        let r = Conformance::new(&env)
            .seeds(20)
            .wrong(mutations)
            .acceptable(valid)
            .run();
        assert!(r.rejected > 2500, "{r:?}");
    }

    #[test]
    fn graphs_follow_difficulty() {
        let env = Native::new(GraphColoring);
        for d in 1..=10u8 {
            let (n, k, deg10) = params(d);
            for seed in 0..10 {
                let data = data_of(&env.generate(seed, d).unwrap());
                assert_eq!((data.n, data.colors), (n, k));
                assert_eq!(data.edges.len(), (n * deg10 + 10) / 20, "d{d}");
                let mut e = data.edges.clone();
                e.dedup();
                assert_eq!(e.len(), data.edges.len());
                assert!(data.edges.iter().all(|&(u, v)| u < v && v < n));
            }
        }
    }

    /// Count proper colorings of a small graph by enumerating all k^n.
    fn brute_force_count(data: &Data) -> usize {
        let (n, k) = (data.n, data.colors);
        (0..k.pow(n as u32))
            .filter(|code| {
                let col = |v: usize| code / k.pow(v as u32) % k;
                data.edges.iter().all(|&(u, v)| col(u) != col(v))
            })
            .count()
    }

    #[test]
    fn verifier_agrees_with_brute_force_small() {
        // For small instances, the verifier accepts exactly the proper
        // colorings: as many as a brute-force count finds.
        let env = Native::new(GraphColoring);
        for d in 1..=3u8 {
            for seed in 0..4 {
                let inst = env.generate(seed, d).unwrap();
                let data = data_of(&inst);
                let (n, k) = (data.n, data.colors);
                let mut accepted = 0;
                for code in 0..k.pow(n as u32) {
                    let ans = (0..n)
                        .map(|v| format!("{v}: {}", code / k.pow(v as u32) % k + 1))
                        .collect::<Vec<_>>()
                        .join("\n");
                    let ok = env
                        .verify(&inst, &format!("<answer>{ans}</answer>"))
                        .correct;
                    assert_eq!(ok, valid(&inst, &ans));
                    accepted += usize::from(ok);
                }
                assert_eq!(accepted, brute_force_count(&data));
                assert!(accepted >= 6);
            }
        }
    }

    #[test]
    fn accepts_format_variants() {
        let env = Native::new(GraphColoring);
        let inst = env.generate(2, 7).unwrap();
        let ans = reference_answer(&inst);
        let mut shuffled: Vec<&str> = ans.split(", ").collect();
        shuffled.reverse();
        let variants = [
            ans.replace(", ", "\n"),
            ans.replace(": ", ":").replace(", ", ","),
            format!("{{{ans}}}"),
            shuffled.join(",\n"),
            ans.replace(": ", " : "),
        ];
        for v in variants {
            assert!(
                env.verify(&inst, &format!("<answer>{v}</answer>")).correct,
                "{v}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn check_is_total(s in "(?s).{0,300}", d in 1u8..=10) {
            let env = Native::new(GraphColoring);
            let inst = env.generate(3, d).unwrap();
            let v = env.verify(&inst, &format!("<answer>{s}</answer>"));
            proptest::prop_assert!(!v.correct);
        }

        #[test]
        fn check_matches_oracle(s in "[0-9:, \n]{0,80}") {
            let env = Native::new(GraphColoring);
            let inst = env.generate(3, 1).unwrap();
            let v = env.verify(&inst, &format!("<answer>{s}</answer>"));
            proptest::prop_assert_eq!(v.correct, valid(&inst, &s));
        }
    }
}
