//! `knapsack`: 0/1 knapsack — choose items of maximum total value whose total
//! weight fits the capacity.
//!
//! Difficulty d: n = 4, 5, 6, 8, 10, 12, 14, 16, 18, 20 items, weights 1 to
//! 5 + 2d, values 1 to 10 + 5d, capacity 35-60% of the total weight (never
//! below the lightest item). From d3 on, instances where the greedy
//! value/weight-ratio heuristic is optimal are redrawn (up to 30 times), so
//! the answer needs actual search.
//!
//! The optimum is exact (DP over capacities; tests cross-check it by
//! enumerating all subsets). Any optimal set is accepted: the verifier
//! checks that the answer lists distinct valid item numbers whose weights
//! fit the capacity and whose values sum to the optimum.

use resyn_core::{Category, Rng, Verdict};
use serde::{Deserialize, Serialize};

use crate::util::parse;
use crate::{Generated, Task, TaskInfo};

pub(crate) struct Knapsack;

#[derive(Serialize, Deserialize)]
pub(crate) struct Data {
    /// `(weight, value)` of items 1..=n (stored flat).
    #[serde(with = "crate::util::flat")]
    items: Vec<(u64, u64)>,
    capacity: u64,
    best: u64,
}

const SIZES: [usize; 10] = [4, 5, 6, 8, 10, 12, 14, 16, 18, 20];

impl Task for Knapsack {
    type Data = Data;
    type View<'a> = Data;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: "knapsack",
            version: 2,
            category: Category::Algorithmic,
            description: "0/1 knapsack: choose items of maximum total value within a weight \
                capacity (any optimal set is accepted). Difficulty d: 4 to 20 items \
                (4,5,6,8,10,12,14,16,18,20), weights up to 5+2d, values up to 10+5d; from d3 \
                the greedy value/weight heuristic is not optimal.",
        }
    }

    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Data> {
        let d = u64::from(difficulty.clamp(1, 10));
        let n = SIZES[d as usize - 1];
        let mut attempt = 0;
        let (items, capacity, chosen) = loop {
            attempt += 1;
            let items: Vec<(u64, u64)> = (0..n)
                .map(|_| {
                    (
                        rng.range_i64(1, 5 + 2 * d as i64) as u64,
                        rng.range_i64(1, 10 + 5 * d as i64) as u64,
                    )
                })
                .collect();
            let total: u64 = items.iter().map(|i| i.0).sum();
            let lightest = items.iter().map(|i| i.0).min().unwrap_or(1);
            let capacity = (total * rng.range_i64(35, 60) as u64 / 100).max(lightest);
            let chosen = solve(&items, capacity);
            let best: u64 = chosen.iter().map(|&i| items[i].1).sum();
            if d < 3 || attempt >= 30 || greedy(&items, capacity) < best {
                break (items, capacity, chosen);
            }
        };
        let best = chosen.iter().map(|&i| items[i].1).sum();
        let list = items
            .iter()
            .enumerate()
            .map(|(i, (w, v))| format!("Item {}: weight {w}, value {v}", i + 1))
            .collect::<Vec<_>>()
            .join("\n");
        let prompt = format!(
            "You have a knapsack with capacity {capacity} and these {n} items:\n{list}\n\n\
             Choose a set of items (each at most once) whose total weight is at most \
             {capacity} and whose total value is as large as possible.\n\nAnswer format: the \
             numbers of the chosen items, separated by commas or spaces (for example: 1, 4, 5)."
        );
        Generated {
            prompt,
            answer: chosen
                .iter()
                .map(|&i| (i + 1).to_string())
                .collect::<Vec<_>>()
                .join(", "),
            data: Data {
                items,
                capacity,
                best,
            },
        }
    }

    fn check(&self, data: &Data, answer: &str) -> Verdict {
        let nums = match parse::int_list(answer) {
            Ok(v) if v.is_empty() => return Verdict::parse_error("no items given"),
            Ok(v) => v,
            Err(e) => return Verdict::parse_error(e),
        };
        Verdict::from_check(check_set(data, &nums))
    }
}

fn check_set(data: &Data, nums: &[i64]) -> Result<(), String> {
    let n = data.items.len();
    let mut used = vec![false; n];
    let (mut weight, mut value) = (0u64, 0u64);
    for &k in nums {
        let i = usize::try_from(k)
            .ok()
            .filter(|&k| (1..=n).contains(&k))
            .ok_or_else(|| format!("there is no item {k}"))?
            - 1;
        if std::mem::replace(&mut used[i], true) {
            return Err(format!("item {k} is chosen twice"));
        }
        weight = weight.saturating_add(data.items[i].0);
        value = value.saturating_add(data.items[i].1);
    }
    if weight > data.capacity {
        return Err(format!(
            "total weight {weight} exceeds the capacity {}",
            data.capacity
        ));
    }
    if value != data.best {
        return Err(format!(
            "total value {value}, but {} is possible",
            data.best
        ));
    }
    Ok(())
}

/// An optimal item set (indices, ascending) by DP over capacities.
fn solve(items: &[(u64, u64)], capacity: u64) -> Vec<usize> {
    let cap = capacity as usize;
    let n = items.len();
    // best[i][c]: max value of items[..i] within capacity c.
    let mut best = vec![vec![0u64; cap + 1]; n + 1];
    for (i, &(w, v)) in items.iter().enumerate() {
        let w = w as usize;
        for c in 0..=cap {
            best[i + 1][c] = best[i][c];
            if w <= c {
                best[i + 1][c] = best[i + 1][c].max(best[i][c - w] + v);
            }
        }
    }
    let mut chosen = Vec::new();
    let mut c = cap;
    for i in (0..n).rev() {
        if best[i + 1][c] != best[i][c] {
            chosen.push(i);
            c -= items[i].0 as usize;
        }
    }
    chosen.reverse();
    chosen
}

/// Value of the greedy value/weight-ratio heuristic.
fn greedy(items: &[(u64, u64)], capacity: u64) -> u64 {
    let mut order: Vec<usize> = (0..items.len()).collect();
    // Descending v/w, compared exactly by cross-multiplication.
    order.sort_by(|&a, &b| (items[b].1 * items[a].0).cmp(&(items[a].1 * items[b].0)));
    let (mut w, mut v) = (0, 0);
    for i in order {
        if w + items[i].0 <= capacity {
            w += items[i].0;
            v += items[i].1;
        }
    }
    v
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

    /// Optimum by a DP over values (min weight per value), independent of
    /// the capacity DP.
    fn optimum_by_value(d: &Data) -> u64 {
        let total: u64 = d.items.iter().map(|i| i.1).sum();
        let mut min_w = vec![u64::MAX; total as usize + 1];
        min_w[0] = 0;
        for &(w, v) in &d.items {
            for val in (v as usize..=total as usize).rev() {
                let prev = min_w[val - v as usize];
                if prev != u64::MAX {
                    min_w[val] = min_w[val].min(prev + w);
                }
            }
        }
        (0..=total as usize)
            .rev()
            .find(|&v| min_w[v] <= d.capacity)
            .unwrap() as u64
    }

    fn oracle(d: &Data, answer: &str) -> bool {
        let toks: Vec<&str> = answer
            .trim_matches(|c| c == '[' || c == ']')
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        let (mut w, mut v) = (0, 0);
        for t in toks {
            let Ok(k) = t.trim_start_matches('+').parse::<usize>() else {
                return false;
            };
            if k == 0 || k > d.items.len() || !seen.insert(k) {
                return false;
            }
            w += d.items[k - 1].0;
            v += d.items[k - 1].1;
        }
        !seen.is_empty() && w <= d.capacity && v == optimum_by_value(d)
    }

    fn mutations(inst: &Instance, rng: &mut Rng) -> Vec<String> {
        let d = data(inst);
        let n = d.items.len();
        let chosen: Vec<usize> = reference_answer(inst)
            .split(", ")
            .map(|t| t.parse().unwrap())
            .collect();
        let join = |v: &[usize]| {
            v.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = Vec::new();
        // Drop one (values >= 1: strictly less), duplicate one, out of range.
        let i = rng.index(chosen.len());
        let mut m = chosen.clone();
        m.remove(i);
        if !m.is_empty() {
            out.push(join(&m));
        }
        let mut m = chosen.clone();
        m.push(chosen[i]);
        out.push(join(&m));
        out.push(format!("{}, {}", join(&chosen), n + 1));
        out.push(format!("0, {}", join(&chosen)));
        // Add an unchosen item: over capacity or above the optimum.
        let unchosen: Vec<usize> = (1..=n).filter(|k| !chosen.contains(k)).collect();
        if let Some(&u) = rng.choose(&unchosen) {
            let mut m = chosen.clone();
            m.push(u);
            out.push(join(&m));
            // Swap one chosen for an unchosen one (may be optimal: oracle).
            let mut m = chosen.clone();
            m[i] = u;
            out.push(join(&m));
        }
        out.push(format!("{} (value {})", join(&chosen), d.best));
        out.push(
            chosen
                .iter()
                .map(|k| format!("Item {k}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        out
    }

    #[test]
    fn conformance() {
        let env = Native::new(Knapsack);
        let r = Conformance::new(&env)
            .seeds(30)
            .wrong(mutations)
            .acceptable(|inst, a| oracle(&data(inst), a))
            .run();
        assert!(r.rejected > 3000, "{r:?}");
    }

    /// All subsets of small instances: the maximum feasible value is `best`
    /// and the verifier accepts exactly the optimal feasible subsets.
    #[test]
    fn matches_subset_enumeration() {
        let env = Native::new(Knapsack);
        for dif in 1..=6u8 {
            for seed in 0..10 {
                let inst = env.generate(seed, dif).unwrap();
                let d = data(&inst);
                assert_eq!(d.best, optimum_by_value(&d));
                let n = d.items.len();
                let mut max = 0;
                let mut accepted = 0;
                for mask in 1u32..1 << n {
                    let set: Vec<usize> = (0..n).filter(|&i| mask >> i & 1 == 1).collect();
                    let w: u64 = set.iter().map(|&i| d.items[i].0).sum();
                    let v: u64 = set.iter().map(|&i| d.items[i].1).sum();
                    if w <= d.capacity {
                        max = max.max(v);
                    }
                    let text: Vec<String> = set.iter().map(|i| (i + 1).to_string()).collect();
                    let ok = env.task().check(&d, &text.join(" ")).correct;
                    assert_eq!(ok, w <= d.capacity && v == d.best);
                    accepted += usize::from(ok);
                }
                assert_eq!(max, d.best);
                assert!(accepted >= 1);
            }
        }
    }

    #[test]
    fn greedy_is_beaten_from_d3() {
        let env = Native::new(Knapsack);
        for dif in 3..=10u8 {
            let beaten = (0..30)
                .filter(|&seed| {
                    let d = data(&env.generate(seed, dif).unwrap());
                    greedy(&d.items, d.capacity) < d.best
                })
                .count();
            assert!(beaten >= 28, "d{dif}: greedy beaten only {beaten}/30");
        }
    }

    #[test]
    fn accepts_format_variants() {
        let env = Native::new(Knapsack);
        for seed in 0..10 {
            let inst = env.generate(seed, 5).unwrap();
            let ans = reference_answer(&inst);
            let mut rev: Vec<&str> = ans.split(", ").collect();
            rev.reverse();
            for variant in [
                ans.replace(", ", " "),
                ans.replace(", ", ",\n"),
                format!("[{ans}]"),
                rev.join(","),
            ] {
                let v = env.verify(&inst, &format!("<answer>\n{variant}\n</answer>"));
                assert!(v.correct, "{variant}: {v:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn check_never_panics(s in ".{0,300}", t in "[0-9, +-]{0,60}") {
            let env = Native::new(Knapsack);
            let inst = env.generate(4, 7).unwrap();
            let d = data(&inst);
            let _ = env.task().check(&d, &s);
            let v = env.task().check(&d, &t);
            prop_assert!(!v.correct || oracle(&d, &t));
        }
    }
}
