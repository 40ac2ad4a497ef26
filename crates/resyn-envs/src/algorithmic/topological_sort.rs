//! `topological_sort`: order tasks so that every task comes after the tasks
//! it depends on.
//!
//! Difficulty d has n = 4, 5, 6, 8, 10, 12, 14, 17, 20, 24 tasks and each
//! pair of tasks (in a hidden valid order) is a dependency with probability
//! chosen so that the expected number of dependencies is about
//! n × (0.7 + 0.2·d) (from ~4 at d1 to ~65 at d10). Tasks are named either by
//! distinct capital letters or by distinct short lowercase words; the list of
//! tasks in the prompt is never itself a valid order.
//!
//! Solvable by construction: dependencies only point forward in a hidden
//! random order, which is the reference. Many orders are valid, so the
//! verifier checks validity: the answer must name every task exactly once
//! (names match case-insensitively) and place both ends of every dependency
//! in the right order. The test suite compares the verifier with an
//! independent linear-extension count on every permutation of small
//! instances.

use resyn_core::{Category, Rng, Verdict};
use serde::{Deserialize, Serialize};

use crate::util::parse;
use crate::{Generated, Task, TaskInfo};

pub(crate) struct TopologicalSort;

#[derive(Serialize, Deserialize)]
pub(crate) struct Data {
    /// Task names, in the order listed in the prompt.
    names: Vec<String>,
    /// `(a, b)`: task `a` must come before task `b` (indices into `names`).
    #[serde(with = "crate::util::flat")]
    edges: Vec<(usize, usize)>,
}

const SIZES: [usize; 10] = [4, 5, 6, 8, 10, 12, 14, 17, 20, 24];

const WORDS: [&str; 40] = [
    "wash", "dry", "fold", "cook", "bake", "shop", "pack", "ship", "paint", "sand", "prime", "mop",
    "sweep", "dust", "plan", "draft", "review", "test", "build", "deploy", "print", "sign", "file",
    "email", "call", "pay", "order", "water", "plant", "prune", "chop", "boil", "fry", "serve",
    "clean", "lock", "load", "sort", "tag", "scan",
];

impl Task for TopologicalSort {
    type Data = Data;
    type View<'a> = Data;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: "topological_sort",
            version: 2,
            category: Category::Algorithmic,
            description: "Order tasks so that every task comes after all tasks it depends on \
                (any valid order is accepted). Difficulty d uses 4 to 24 tasks \
                (4,5,6,8,10,12,14,17,20,24) with about n*(0.7+0.2d) dependencies.",
        }
    }

    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Data> {
        let d = usize::from(difficulty.clamp(1, 10));
        let n = SIZES[d - 1];
        let mut names: Vec<String> = if rng.chance(1, 2) {
            rng.sample_indices(26, n)
                .into_iter()
                .map(|i| char::from(b'A' + i as u8).to_string())
                .collect()
        } else {
            rng.sample_indices(WORDS.len(), n)
                .into_iter()
                .map(|i| WORDS[i].to_string())
                .collect()
        };
        // Hidden valid order: position k holds task order[k].
        let order = rng.permutation(n);
        // P(edge) = 2 * (0.7 + 0.2 d) / (n - 1), in hundredths.
        let num = (2 * (70 + 20 * d) as u64).min(100 * (n as u64 - 1));
        let den = 100 * (n as u64 - 1);
        let mut edges = Vec::new();
        for a in 0..n {
            for b in a + 1..n {
                if rng.chance(num, den) {
                    edges.push((order[a], order[b]));
                }
            }
        }
        if edges.is_empty() {
            let a = rng.index(n - 1);
            let b = rng.range(a + 1, n - 1);
            edges.push((order[a], order[b]));
        }
        // The listed order must not already be a valid answer.
        let mut listing = rng.permutation(n);
        if is_valid_order(&listing, &edges) {
            listing = order.iter().rev().copied().collect();
        }
        // Re-index tasks so that `names` is in listing order.
        let mut new_index = vec![0; n];
        for (k, &t) in listing.iter().enumerate() {
            new_index[t] = k;
        }
        names = listing.iter().map(|&t| names[t].clone()).collect();
        let edges: Vec<(usize, usize)> = edges
            .iter()
            .map(|&(a, b)| (new_index[a], new_index[b]))
            .collect();
        let answer = order
            .iter()
            .map(|&t| names[new_index[t]].as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut shown = edges.clone();
        rng.shuffle(&mut shown);
        let rules = shown
            .iter()
            .map(|&(a, b)| format!("- {} must be done before {}", names[a], names[b]))
            .collect::<Vec<_>>()
            .join("\n");
        let prompt = format!(
            "There are {n} tasks: {}.\n\nDependencies:\n{rules}\n\nFind an order in which to do \
             all the tasks, each exactly once, so that every task is done after all the tasks \
             that must be done before it.\n\nAnswer format: all {n} task names in your order, \
             separated by commas or spaces (for example, for three tasks named P, Q and R: \
             R, P, Q).",
            names.join(", ")
        );
        Generated {
            prompt,
            data: Data { names, edges },
            answer,
        }
    }

    fn check(&self, data: &Data, answer: &str) -> Verdict {
        let toks = parse::tokens(answer);
        if toks.is_empty() {
            return Verdict::parse_error("no task names given");
        }
        let mut order = Vec::with_capacity(toks.len());
        for t in toks {
            match data.names.iter().position(|n| n.eq_ignore_ascii_case(t)) {
                Some(i) => order.push(i),
                None => {
                    return Verdict::parse_error(format!("unknown task `{}`", parse::clip(t)));
                }
            }
        }
        Verdict::from_check(check_order(data, &order))
    }
}

fn is_valid_order(order: &[usize], edges: &[(usize, usize)]) -> bool {
    let mut pos = vec![usize::MAX; order.len()];
    for (k, &t) in order.iter().enumerate() {
        pos[t] = k;
    }
    edges.iter().all(|&(a, b)| pos[a] < pos[b])
}

fn check_order(data: &Data, order: &[usize]) -> Result<(), String> {
    let n = data.names.len();
    let mut pos = vec![None; n];
    for (k, &t) in order.iter().enumerate() {
        let slot = pos
            .get_mut(t)
            .ok_or_else(|| "task index out of range".to_string())?;
        if slot.is_some() {
            return Err(format!("{} appears twice", data.names[t]));
        }
        *slot = Some(k);
    }
    if let Some(missing) = pos.iter().position(Option::is_none) {
        return Err(format!("{} is missing", data.names[missing]));
    }
    for &(a, b) in &data.edges {
        if pos.get(a).copied().flatten() >= pos.get(b).copied().flatten() {
            return Err(format!(
                "{} must come before {}",
                data.names.get(a).map_or("?", String::as_str),
                data.names.get(b).map_or("?", String::as_str)
            ));
        }
    }
    Ok(())
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

    /// Independent oracle: a permutation of the names respecting every edge.
    fn oracle(d: &Data, answer: &str) -> bool {
        let toks: Vec<String> = answer
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase)
            .collect();
        let names: Vec<String> = d.names.iter().map(|s| s.to_lowercase()).collect();
        let mut sorted_toks = toks.clone();
        sorted_toks.sort();
        let mut sorted_names = names.clone();
        sorted_names.sort();
        if sorted_toks != sorted_names {
            return false;
        }
        let at = |i: usize| toks.iter().position(|t| *t == names[i]);
        d.edges.iter().all(|&(a, b)| at(a) < at(b))
    }

    fn mutations(inst: &Instance, rng: &mut Rng) -> Vec<String> {
        let d = data(inst);
        let ans: Vec<String> = reference_answer(inst)
            .split(", ")
            .map(String::from)
            .collect();
        let mut out = Vec::new();
        // Swap both ends of one dependency: provably invalid.
        let (a, b) = d.edges[rng.index(d.edges.len())];
        let pa = ans.iter().position(|t| *t == d.names[a]).unwrap();
        let pb = ans.iter().position(|t| *t == d.names[b]).unwrap();
        let mut m = ans.clone();
        m.swap(pa, pb);
        out.push(m.join(", "));
        // Reverse: invalid since there is at least one dependency.
        out.push(ans.iter().rev().cloned().collect::<Vec<_>>().join(", "));
        // Drop one, duplicate one, replace one with an unknown name, add one.
        let i = rng.index(ans.len());
        let mut m = ans.clone();
        m.remove(i);
        out.push(m.join(", "));
        let mut m = ans.clone();
        m[i] = ans[(i + 1) % ans.len()].clone();
        out.push(m.join(", "));
        let mut m = ans.clone();
        m[i] = "zzz".into();
        out.push(m.join(", "));
        out.push(format!("{}, {}", ans.join(", "), ans[i]));
        // Adjacent swap (may still be valid: the oracle decides).
        let j = rng.index(ans.len() - 1);
        let mut m = ans.clone();
        m.swap(j, j + 1);
        out.push(m.join(", "));
        // The listed order is never valid.
        out.push(d.names.join(", "));
        out
    }

    #[test]
    fn conformance() {
        let env = Native::new(TopologicalSort);
        let r = Conformance::new(&env)
            .seeds(30)
            .wrong(mutations)
            .acceptable(|inst, a| oracle(&data(inst), a))
            .run();
        assert!(r.rejected > 3000, "{r:?}");
    }

    /// On small instances, the permutations the verifier accepts are exactly
    /// as many as the linear extensions counted by a DP over subsets, and
    /// each agrees with the oracle.
    #[test]
    fn accepted_orders_match_linear_extension_count() {
        fn permutations(n: usize) -> Vec<Vec<usize>> {
            if n == 0 {
                return vec![vec![]];
            }
            let mut out = Vec::new();
            for p in permutations(n - 1) {
                for k in 0..=p.len() {
                    let mut q = p.clone();
                    q.insert(k, n - 1);
                    out.push(q);
                }
            }
            out
        }
        let env = Native::new(TopologicalSort);
        for d in 1..=3u8 {
            for seed in 0..15 {
                let inst = env.generate(seed, d).unwrap();
                let dd = data(&inst);
                let n = dd.names.len();
                let mut preds = vec![0usize; n];
                for &(a, b) in &dd.edges {
                    preds[b] |= 1 << a;
                }
                let mut ways = vec![0u64; 1 << n];
                ways[0] = 1;
                for mask in 0..1usize << n {
                    for v in 0..n {
                        if mask >> v & 1 == 0 && preds[v] & !mask == 0 {
                            ways[mask | 1 << v] += ways[mask];
                        }
                    }
                }
                let mut accepted = 0u64;
                for p in permutations(n) {
                    let text: Vec<&str> = p.iter().map(|&i| dd.names[i].as_str()).collect();
                    let text = text.join(" ");
                    let ok = env.task().check(&dd, &text).correct;
                    assert_eq!(ok, oracle(&dd, &text), "{text}");
                    accepted += u64::from(ok);
                }
                assert_eq!(accepted, ways[(1 << n) - 1], "d{d} seed {seed}");
                assert!(accepted < permutations(n).len() as u64);
            }
        }
    }

    #[test]
    fn accepts_format_variants() {
        let env = Native::new(TopologicalSort);
        for seed in 0..10 {
            let inst = env.generate(seed, 4).unwrap();
            let ans = reference_answer(&inst);
            for variant in [
                ans.to_lowercase(),
                ans.to_uppercase(),
                ans.replace(", ", " "),
                ans.replace(", ", ",\n"),
                format!("[{ans}]"),
            ] {
                let v = env.verify(&inst, &format!("<answer> {variant} </answer>"));
                assert!(v.correct, "{variant}: {v:?}");
            }
        }
    }

    #[test]
    fn sizes_and_density_grow() {
        let env = Native::new(TopologicalSort);
        let mut last = 0.0;
        for d in 1..=10u8 {
            let mut edges = 0;
            for seed in 0..40 {
                let dd = data(&env.generate(seed, d).unwrap());
                assert_eq!(dd.names.len(), SIZES[usize::from(d) - 1]);
                edges += dd.edges.len();
            }
            let avg = edges as f64 / 40.0;
            assert!(avg > last, "d{d}: {avg} edges on average");
            last = avg;
        }
    }

    proptest! {
        #[test]
        fn check_never_panics(s in ".{0,300}") {
            let env = Native::new(TopologicalSort);
            let inst = env.generate(2, 5).unwrap();
            let d = data(&inst);
            let v = env.task().check(&d, &s);
            prop_assert!(!v.correct || oracle(&d, &s));
        }
    }
}
