//! `interval_scheduling`: choose pairwise compatible intervals — as many as
//! possible (d1-d5) or of maximum total weight (d6-d10).
//!
//! An interval "from s to e" occupies the time between s and e; two intervals
//! are compatible when one ends no later than the other starts, so touching
//! endpoints (one ends at 5, the other starts at 5) do NOT overlap (half-open
//! intervals `[s, e)`). The prompt says exactly this.
//!
//! Difficulty: d1-d5 unweighted with n = 4, 6, 8, 11, 14 intervals; d6-d10
//! weighted (weights 1-20) with n = 6, 8, 10, 13, 16. Times are integers in
//! 0..2n+6, lengths 1 to n/2+2. Unweighted instances from d3 on are redrawn
//! (up to 30 times) while "earliest start first" is optimal; weighted ones
//! from d7 on while "heaviest first" or the maximum-count answer is optimal.
//!
//! The optimum is exact (earliest-end greedy for counts, DP for weights;
//! tests cross-check both by subset enumeration). Any optimal selection is
//! accepted: the verifier checks that the interval numbers are distinct and
//! valid, the chosen intervals pairwise compatible, and their count (weight)
//! equal to the optimum.

use resyn_core::{Category, Rng, Verdict};
use serde::{Deserialize, Serialize};

use crate::util::parse;
use crate::{Generated, Task, TaskInfo};

pub(crate) struct IntervalScheduling;

#[derive(Serialize, Deserialize)]
pub(crate) struct Data {
    /// `(start, end, weight)` of intervals 1..=n; weight 1 when unweighted.
    #[serde(with = "crate::util::flat")]
    intervals: Vec<(u32, u32, u32)>,
    weighted: bool,
    /// Maximum count (unweighted) or total weight (weighted).
    best: u64,
}

const UNWEIGHTED: [usize; 5] = [4, 6, 8, 11, 14];
const WEIGHTED: [usize; 5] = [6, 8, 10, 13, 16];

impl Task for IntervalScheduling {
    type Data = Data;
    type View<'a> = Data;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: "interval_scheduling",
            version: 2,
            category: Category::Algorithmic,
            description: "Interval scheduling: choose pairwise non-overlapping intervals \
                (touching endpoints do not overlap), as many as possible at d1-d5 \
                (4,6,8,11,14 intervals) or of maximum total weight at d6-d10 (6,8,10,13,16 \
                intervals); any optimal choice is accepted.",
        }
    }

    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Data> {
        let d = usize::from(difficulty.clamp(1, 10));
        let weighted = d >= 6;
        let n = if weighted {
            WEIGHTED[d - 6]
        } else {
            UNWEIGHTED[d - 1]
        };
        let horizon = (2 * n + 6) as u32;
        let max_len = (n / 2 + 2) as u32;
        let mut attempt = 0;
        let (intervals, chosen) = loop {
            attempt += 1;
            let intervals: Vec<(u32, u32, u32)> = (0..n)
                .map(|_| {
                    let s = rng.below(u64::from(horizon - 1)) as u32;
                    let e = (s + 1 + rng.below(u64::from(max_len)) as u32).min(horizon);
                    let w = if weighted { rng.range(1, 20) as u32 } else { 1 };
                    (s, e, w)
                })
                .collect();
            let chosen = solve(&intervals);
            let best = weight(&intervals, &chosen);
            let hard = if weighted {
                d < 7
                    || (greedy(&intervals, |&(_, _, w)| std::cmp::Reverse(w)) < best
                        && weight(&intervals, &solve(&unit(&intervals))) < best)
            } else {
                d < 3 || greedy(&intervals, |&(s, _, _)| s) < best
            };
            if hard || attempt >= 30 {
                break (intervals, chosen);
            }
        };
        let best = weight(&intervals, &chosen);
        let list = intervals
            .iter()
            .enumerate()
            .map(|(i, &(s, e, w))| {
                if weighted {
                    format!("Interval {}: from {s} to {e}, weight {w}", i + 1)
                } else {
                    format!("Interval {}: from {s} to {e}", i + 1)
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let goal = if weighted {
            "whose total weight is as large as possible"
        } else {
            "that is as large as possible (as many intervals as possible)"
        };
        let prompt = format!(
            "Here are {n} time intervals:\n{list}\n\nAn interval from s to e occupies the time \
             between s and e. Two intervals overlap if they share any stretch of time; \
             intervals that only touch (one ends at the time the other starts) do not \
             overlap.\n\nChoose a set of pairwise non-overlapping intervals {goal}.\n\n\
             Answer format: the numbers of the chosen intervals, separated by commas or \
             spaces (for example: 2, 5, 7)."
        );
        Generated {
            prompt,
            answer: chosen
                .iter()
                .map(|&i| (i + 1).to_string())
                .collect::<Vec<_>>()
                .join(", "),
            data: Data {
                intervals,
                weighted,
                best,
            },
        }
    }

    fn check(&self, data: &Data, answer: &str) -> Verdict {
        let nums = match parse::int_list(answer) {
            Ok(v) if v.is_empty() => return Verdict::parse_error("no intervals given"),
            Ok(v) => v,
            Err(e) => return Verdict::parse_error(e),
        };
        Verdict::from_check(check_set(data, &nums))
    }
}

fn check_set(data: &Data, nums: &[i64]) -> Result<(), String> {
    let n = data.intervals.len();
    let mut used = vec![false; n];
    let mut chosen = Vec::with_capacity(nums.len());
    for &k in nums {
        let i = usize::try_from(k)
            .ok()
            .filter(|&k| (1..=n).contains(&k))
            .ok_or_else(|| format!("there is no interval {k}"))?
            - 1;
        if std::mem::replace(&mut used[i], true) {
            return Err(format!("interval {k} is chosen twice"));
        }
        chosen.push(i);
    }
    // Sorted by start, a set of half-open intervals is pairwise disjoint iff
    // each one ends no later than the next one starts.
    chosen.sort_by_key(|&i| (data.intervals[i].0, data.intervals[i].1));
    for pair in chosen.windows(2) {
        let (a, b) = (data.intervals[pair[0]], data.intervals[pair[1]]);
        if a.1 > b.0 {
            return Err(format!(
                "intervals {} and {} overlap",
                pair[0] + 1,
                pair[1] + 1
            ));
        }
    }
    let got = if data.weighted {
        weight(&data.intervals, &chosen)
    } else {
        chosen.len() as u64
    };
    if got == data.best {
        Ok(())
    } else if data.weighted {
        Err(format!("total weight {got}, but {} is possible", data.best))
    } else {
        Err(format!("{got} intervals, but {} are possible", data.best))
    }
}

fn weight(intervals: &[(u32, u32, u32)], chosen: &[usize]) -> u64 {
    chosen.iter().map(|&i| u64::from(intervals[i].2)).sum()
}

/// The same intervals with weight 1.
fn unit(intervals: &[(u32, u32, u32)]) -> Vec<(u32, u32, u32)> {
    intervals.iter().map(|&(s, e, _)| (s, e, 1)).collect()
}

/// A maximum-weight compatible set (indices ascending): DP over intervals
/// sorted by end, `best[k] = max(best[k-1], w_k + best[p(k)])`. With unit
/// weights this is a maximum-count set.
fn solve(intervals: &[(u32, u32, u32)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..intervals.len()).collect();
    order.sort_by_key(|&i| (intervals[i].1, intervals[i].0, i));
    let n = order.len();
    // pred[k]: number of intervals (in `order`) ending no later than order[k] starts.
    let pred: Vec<usize> = order
        .iter()
        .map(|&i| order.partition_point(|&j| intervals[j].1 <= intervals[i].0))
        .collect();
    let mut best = vec![0u64; n + 1];
    for k in 0..n {
        best[k + 1] = best[k].max(u64::from(intervals[order[k]].2) + best[pred[k]]);
    }
    let mut chosen = Vec::new();
    let mut k = n;
    while k > 0 {
        if best[k] == best[k - 1] {
            k -= 1;
        } else {
            chosen.push(order[k - 1]);
            k = pred[k - 1];
        }
    }
    chosen.sort_unstable();
    chosen
}

/// Weight of the greedy that scans intervals by `key` and keeps each one
/// compatible with those kept so far.
fn greedy<K: Ord>(intervals: &[(u32, u32, u32)], key: impl Fn(&(u32, u32, u32)) -> K) -> u64 {
    let mut order: Vec<usize> = (0..intervals.len()).collect();
    order.sort_by_key(|&i| (key(&intervals[i]), i));
    let mut kept: Vec<usize> = Vec::new();
    for i in order {
        let (s, e, _) = intervals[i];
        if kept
            .iter()
            .all(|&j| intervals[j].1 <= s || e <= intervals[j].0)
        {
            kept.push(i);
        }
    }
    weight(intervals, &kept)
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

    fn overlap(a: (u32, u32, u32), b: (u32, u32, u32)) -> bool {
        a.0 < b.1 && b.0 < a.1
    }

    /// Optimum by memoized recursion over intervals sorted by start
    /// (take-or-skip), independent of the end-sorted DP.
    fn optimum(d: &Data) -> u64 {
        let mut iv = d.intervals.clone();
        if !d.weighted {
            iv = unit(&iv);
        }
        iv.sort_by_key(|x| x.0);
        let n = iv.len();
        let mut f = vec![0u64; n + 1];
        for i in (0..n).rev() {
            let next = (i + 1..n).find(|&j| iv[j].0 >= iv[i].1).unwrap_or(n);
            f[i] = f[i + 1].max(u64::from(iv[i].2) + f[next]);
        }
        f[0]
    }

    fn oracle(d: &Data, answer: &str) -> bool {
        let toks: Vec<&str> = answer
            .trim_matches(|c| c == '[' || c == ']')
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .collect();
        let mut set = Vec::new();
        for t in toks {
            let Ok(k) = t.trim_start_matches('+').parse::<usize>() else {
                return false;
            };
            if k == 0 || k > d.intervals.len() || set.contains(&(k - 1)) {
                return false;
            }
            set.push(k - 1);
        }
        for (x, &a) in set.iter().enumerate() {
            for &b in &set[x + 1..] {
                if overlap(d.intervals[a], d.intervals[b]) {
                    return false;
                }
            }
        }
        let got: u64 = if d.weighted {
            set.iter().map(|&i| u64::from(d.intervals[i].2)).sum()
        } else {
            set.len() as u64
        };
        !set.is_empty() && got == optimum(d)
    }

    fn mutations(inst: &Instance, rng: &mut Rng) -> Vec<String> {
        let d = data(inst);
        let n = d.intervals.len();
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
        let unchosen: Vec<usize> = (1..=n).filter(|k| !chosen.contains(k)).collect();
        if let Some(&u) = rng.choose(&unchosen) {
            // Adding any interval to an optimal set must break compatibility.
            let mut m = chosen.clone();
            m.push(u);
            out.push(join(&m));
            // Swapping may stay optimal: the oracle decides.
            let mut m = chosen.clone();
            m[i] = u;
            out.push(join(&m));
        }
        out.push((1..=n).map(|k| k.to_string()).collect::<Vec<_>>().join(" "));
        out.push(format!("{} ({} intervals)", join(&chosen), chosen.len()));
        out
    }

    #[test]
    fn conformance() {
        let env = Native::new(IntervalScheduling);
        let r = Conformance::new(&env)
            .seeds(30)
            .wrong(mutations)
            .acceptable(|inst, a| oracle(&data(inst), a))
            .run();
        assert!(r.rejected > 3000, "{r:?}");
    }

    /// All subsets of small instances: the best compatible count/weight is
    /// `best` and the verifier accepts exactly the optimal compatible sets.
    #[test]
    fn matches_subset_enumeration() {
        let env = Native::new(IntervalScheduling);
        for dif in [1u8, 2, 3, 4, 6, 7, 8] {
            for seed in 0..8 {
                let inst = env.generate(seed, dif).unwrap();
                let d = data(&inst);
                assert_eq!(d.best, optimum(&d));
                let n = d.intervals.len();
                let mut max = 0;
                for mask in 1u32..1 << n {
                    let set: Vec<usize> = (0..n).filter(|&i| mask >> i & 1 == 1).collect();
                    let ok_pairs = set.iter().enumerate().all(|(x, &a)| {
                        set[x + 1..]
                            .iter()
                            .all(|&b| !overlap(d.intervals[a], d.intervals[b]))
                    });
                    let score: u64 = if d.weighted {
                        set.iter().map(|&i| u64::from(d.intervals[i].2)).sum()
                    } else {
                        set.len() as u64
                    };
                    if ok_pairs {
                        max = max.max(score);
                    }
                    let text: Vec<String> = set.iter().map(|i| (i + 1).to_string()).collect();
                    let got = env.task().check(&d, &text.join(", ")).correct;
                    assert_eq!(got, ok_pairs && score == d.best, "{text:?}");
                }
                assert_eq!(max, d.best);
            }
        }
    }

    #[test]
    fn touching_intervals_are_compatible() {
        let d = Data {
            intervals: vec![(0, 5, 1), (5, 9, 1), (4, 6, 1)],
            weighted: false,
            best: 2,
        };
        let t = IntervalScheduling;
        assert!(t.check(&d, "1, 2").correct);
        assert!(!t.check(&d, "1, 3").correct);
        assert!(!t.check(&d, "3").correct);
        assert!(!t.check(&d, "1 2 3").correct);
    }

    #[test]
    fn heuristics_are_beaten() {
        let env = Native::new(IntervalScheduling);
        for dif in [3u8, 4, 5, 7, 8, 9, 10] {
            let beaten = (0..30)
                .filter(|&seed| {
                    let d = data(&env.generate(seed, dif).unwrap());
                    if d.weighted {
                        greedy(&d.intervals, |&(_, _, w)| std::cmp::Reverse(w)) < d.best
                    } else {
                        greedy(&d.intervals, |&(s, _, _)| s) < d.best
                    }
                })
                .count();
            assert!(beaten >= 25, "d{dif}: heuristic beaten only {beaten}/30");
        }
    }

    #[test]
    fn accepts_format_variants() {
        let env = Native::new(IntervalScheduling);
        for seed in 0..10 {
            let inst = env.generate(seed, 8).unwrap();
            let ans = reference_answer(&inst);
            let mut rev: Vec<&str> = ans.split(", ").collect();
            rev.reverse();
            for variant in [
                ans.replace(", ", " "),
                ans.replace(", ", "\n"),
                format!("({ans})"),
                rev.join(","),
            ] {
                let v = env.verify(&inst, &format!("<answer>{variant}</answer>"));
                assert!(v.correct, "{variant}: {v:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn check_never_panics(s in ".{0,300}", t in "[0-9, +-]{0,60}") {
            let env = Native::new(IntervalScheduling);
            let inst = env.generate(5, 9).unwrap();
            let d = data(&inst);
            let _ = env.task().check(&d, &s);
            let v = env.task().check(&d, &t);
            prop_assert!(!v.correct || oracle(&d, &t));
        }
    }
}
