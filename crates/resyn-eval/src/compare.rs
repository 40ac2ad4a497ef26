//! Comparing two reports (e.g. base vs trained) per suite and group.
//!
//! Each row compares the per-item mean scores of the two runs:
//! - When the runs share items (matched by id), the test is a **paired
//!   bootstrap** over the shared items (10,000 resamples, fixed seed, so the
//!   output is reproducible): `diff` is the mean of `b_i - a_i`, `ci` its
//!   percentile 95 % interval, `p` the two-sided p-value. Pairing removes the
//!   item-difficulty variance, which is most of the variance.
//! - When they share none, it falls back to the pooled **two-proportion
//!   z-test** on sample counts (which treats samples as independent).
//!
//! The z-test result is reported for every row as well (`z_test`). With many
//! groups, expect about 1 in 20 to show p < 0.05 by chance; and with few
//! items (under ~20) the bootstrap interval is too narrow, so treat such
//! rows' p-values as rough.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::report::{ItemResult, Report, stats_of};
use crate::stats::{Difference, paired_bootstrap, two_proportion_z};

/// Bootstrap resamples.
pub(crate) const RESAMPLES: usize = 10_000;
const SEED: u64 = 0x7265_7379_6e21;

/// One compared group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareRow {
    /// Suite.
    pub suite: String,
    /// Group, or `None` for the whole suite.
    pub group: Option<String>,
    /// Items in A.
    pub items_a: u64,
    /// Items in B.
    pub items_b: u64,
    /// Items in both.
    pub paired_items: u64,
    /// A's mean@k.
    pub mean_a: f64,
    /// B's mean@k.
    pub mean_b: f64,
    /// The primary test (paired bootstrap when items are shared).
    pub difference: Difference,
    /// The two-proportion z-test on sample counts.
    pub z_test: Difference,
}

/// A comparison of run B against run A.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Label of A (its model).
    pub a: String,
    /// Label of B.
    pub b: String,
    /// Rows: each suite, then its groups.
    pub rows: Vec<CompareRow>,
}

fn row(suite: &str, group: Option<&str>, a: &[&ItemResult], b: &[&ItemResult]) -> CompareRow {
    let (sa, sb) = (stats_of(a.iter().copied()), stats_of(b.iter().copied()));
    let scored = |i: &&&ItemResult| i.samples.iter().any(|s| s.scored);
    let b_by_id: HashMap<&str, f64> = b
        .iter()
        .filter(scored)
        .map(|i| (i.id.as_str(), i.mean))
        .collect();
    let pairs: Vec<(f64, f64)> = a
        .iter()
        .filter(scored)
        .filter_map(|i| b_by_id.get(i.id.as_str()).map(|&mb| (i.mean, mb)))
        .collect();
    let z = two_proportion_z(sa.correct, sa.samples, sb.correct, sb.samples);
    let difference = if pairs.is_empty() {
        z.clone()
    } else {
        paired_bootstrap(&pairs, RESAMPLES, SEED)
    };
    CompareRow {
        suite: suite.to_string(),
        group: group.map(str::to_string),
        items_a: sa.items,
        items_b: sb.items,
        paired_items: pairs.len() as u64,
        mean_a: sa.mean,
        mean_b: sb.mean,
        difference,
        z_test: z,
    }
}

/// Compare B against A for every suite and group either has.
pub fn compare(a: &Report, b: &Report) -> Comparison {
    type Groups<'a> =
        BTreeMap<&'a str, BTreeMap<&'a str, (Vec<&'a ItemResult>, Vec<&'a ItemResult>)>>;
    let mut suites: Groups<'_> = BTreeMap::new();
    for (side, report) in [(0, a), (1, b)] {
        for it in &report.items {
            let e = suites
                .entry(&it.suite)
                .or_default()
                .entry(&it.group)
                .or_default();
            if side == 0 { &mut e.0 } else { &mut e.1 }.push(it);
        }
    }
    let mut rows = Vec::new();
    for (suite, groups) in &suites {
        let all_a: Vec<_> = groups.values().flat_map(|g| g.0.iter().copied()).collect();
        let all_b: Vec<_> = groups.values().flat_map(|g| g.1.iter().copied()).collect();
        rows.push(row(suite, None, &all_a, &all_b));
        if groups.len() > 1 || groups.keys().next() != Some(suite) {
            for (group, (ga, gb)) in groups {
                rows.push(row(suite, Some(group), ga, gb));
            }
        }
    }
    Comparison {
        a: a.config.run.model.clone(),
        b: b.config.run.model.clone(),
        rows,
    }
}

impl Comparison {
    /// A readable table: means in percent, difference with its 95 % interval
    /// and p-value, `*` for p < 0.05.
    pub fn table(&self) -> String {
        use std::fmt::Write;
        let w = self
            .rows
            .iter()
            .map(|r| r.group.as_ref().map_or(r.suite.len(), |g| g.len() + 2))
            .max()
            .unwrap_or(5)
            .max(13);
        let mut out = String::new();
        let _ = writeln!(out, "A = {}    B = {}", self.a, self.b);
        let _ = writeln!(
            out,
            "{:w$}  {:>6}  {:>7}  {:>7}  {:>8}  {:>17}  {:>7}  TEST",
            "SUITE / GROUP", "ITEMS", "A %", "B %", "B-A pts", "95% CI", "p"
        );
        for r in &self.rows {
            let name = r
                .group
                .as_ref()
                .map_or(r.suite.clone(), |g| format!("  {g}"));
            let d = &r.difference;
            let _ = writeln!(
                out,
                "{:w$}  {:>6}  {:>7.2}  {:>7.2}  {:>+8.2}  {:>17}  {:>7.4}{} {}",
                name,
                if r.paired_items > 0 {
                    r.paired_items
                } else {
                    r.items_a.max(r.items_b)
                },
                r.mean_a * 100.0,
                r.mean_b * 100.0,
                d.diff * 100.0,
                format!("[{:+.1}, {:+.1}]", d.ci.0 * 100.0, d.ci.1 * 100.0),
                d.p,
                if d.p < 0.05 { "*" } else { " " },
                if d.test == "paired_bootstrap" {
                    "paired"
                } else {
                    "z"
                }
            );
        }
        out
    }
}
