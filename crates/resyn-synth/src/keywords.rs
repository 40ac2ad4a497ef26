//! Stage 1: task keywords.
//!
//! Three sources, combined in this order and deduplicated:
//! - the built-in taxonomy [`TAXONOMY`]: 100 one- or two-word keywords in the
//!   five resyn categories, drawn from the kinds of problems reasoning
//!   benchmarks test (constraint satisfaction, algorithmic puzzles, spatial
//!   reasoning, logic, number theory, dynamic programming, combinatorial
//!   optimization, ...) plus classic algorithm and data-structure topics;
//! - user keyword files ([`parse_keyword_file`]): one keyword per line,
//!   optionally `category: keyword`, `#` comments;
//! - keywords an LLM derives from example problems the user supplies (one per
//!   subtask of the benchmark they target; [`derive_prompt`] /
//!   [`parse_derived`]).
//!
//! [`order`] samples for coverage: keywords are interleaved round-robin
//! across categories (each category shuffled with the run seed), so any
//! prefix of the order covers every category about equally.

use resyn_core::Category;

use crate::{Error, Result};

/// A keyword and the category it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyword {
    /// The keyword, e.g. `graph coloring`.
    pub keyword: String,
    /// Its category.
    pub category: Category,
}

use Category::{
    Algorithmic as A, ConstraintSatisfaction as C, Logic as L, Math as M, Spatial as S,
};

/// The built-in taxonomy: `(keyword, category)`.
pub const TAXONOMY: &[(&str, Category)] = &[
    // constraint satisfaction
    ("sudoku variants", C),
    ("graph coloring", C),
    ("boolean satisfiability", C),
    ("scheduling constraints", C),
    ("seating arrangement", C),
    ("latin squares", C),
    ("cryptarithm", C),
    ("kakuro", C),
    ("nonogram", C),
    ("magic squares", C),
    ("exact cover", C),
    ("timetabling", C),
    ("zebra puzzle", C),
    ("map labeling", C),
    ("resource allocation", C),
    ("futoshiki", C),
    ("kenken", C),
    ("binary puzzle", C),
    ("word placement", C),
    ("assignment problem", C),
    // algorithmic
    ("sorting", A),
    ("shortest path", A),
    ("topological order", A),
    ("minimum spanning tree", A),
    ("dynamic programming", A),
    ("knapsack", A),
    ("interval scheduling", A),
    ("string matching", A),
    ("edit distance", A),
    ("longest subsequence", A),
    ("binary search", A),
    ("stack simulation", A),
    ("queue simulation", A),
    ("heap operations", A),
    ("union find", A),
    ("graph traversal", A),
    ("bipartite matching", A),
    ("max flow", A),
    ("coin change", A),
    ("job sequencing", A),
    ("run-length encoding", A),
    ("bracket matching", A),
    ("expression evaluation", A),
    ("cellular automaton", A),
    ("register machine", A),
    // spatial
    ("maze navigation", S),
    ("grid transformation", S),
    ("tiling", S),
    ("compass directions", S),
    ("rotation and reflection", S),
    ("block stacking", S),
    ("sliding puzzle", S),
    ("robot path", S),
    ("flood fill", S),
    ("polyomino packing", S),
    ("line of sight", S),
    ("coordinate geometry", S),
    ("area counting", S),
    ("matrix spiral", S),
    ("chess moves", S),
    // logic
    ("knights and knaves", L),
    ("propositional entailment", L),
    ("syllogisms", L),
    ("truth tables", L),
    ("deductive ordering", L),
    ("family relations", L),
    ("temporal reasoning", L),
    ("boolean circuits", L),
    ("set relations", L),
    ("logic grid", L),
    ("liars and truth tellers", L),
    ("modal reasoning", L),
    ("causal chains", L),
    ("rule application", L),
    ("web of lies", L),
    // math / number theory / combinatorics
    ("modular arithmetic", M),
    ("prime factorization", M),
    ("greatest common divisor", M),
    ("linear congruences", M),
    ("diophantine equations", M),
    ("base conversion", M),
    ("fraction arithmetic", M),
    ("combinatorial counting", M),
    ("permutations", M),
    ("probability of events", M),
    ("sequence patterns", M),
    ("arithmetic puzzles", M),
    ("countdown numbers", M),
    ("linear equations", M),
    ("matrix arithmetic", M),
    ("polynomial evaluation", M),
    ("digit puzzles", M),
    ("calendar arithmetic", M),
    ("unit conversion", M),
    ("combinatorial optimization", M),
    ("number partitioning", M),
    ("divisibility rules", M),
    ("continued fractions", M),
    ("roman numerals", M),
    ("bit manipulation", M),
];

/// The built-in taxonomy as [`Keyword`]s.
pub fn builtin() -> Vec<Keyword> {
    TAXONOMY
        .iter()
        .map(|&(k, c)| Keyword {
            keyword: k.to_string(),
            category: c,
        })
        .collect()
}

/// Parse a keyword file: one keyword per line, optionally prefixed with a
/// category (`logic: web of lies`); blank lines and `#` comments are skipped.
/// Keywords without a category get `default`.
///
/// # Errors
/// [`Error::KeywordFile`] naming the line of an unknown category.
pub fn parse_keyword_file(text: &str, default: Category) -> Result<Vec<Keyword>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (category, keyword) = match line.split_once(':') {
            Some((c, k)) => (
                c.parse::<Category>().map_err(|source| Error::KeywordFile {
                    line: n + 1,
                    source,
                })?,
                k.trim(),
            ),
            None => (default, line),
        };
        if !keyword.is_empty() {
            out.push(Keyword {
                keyword: keyword.to_string(),
                category,
            });
        }
    }
    Ok(out)
}

/// The prompt asking an LLM to derive keywords from example problems.
pub fn derive_prompt(examples: &[String]) -> String {
    let mut s = String::from(
        "Below are example problems, one per subtask of a reasoning benchmark. For each, give one or two \
         short keywords (one or two words each) naming the *kind of reasoning task* it is, general enough \
         that many different puzzles could be generated for it, and the category it belongs to: one of \
         constraint_satisfaction, algorithmic, spatial, logic, math.\n\nReply with a JSON array only, e.g. \
         [{\"keyword\": \"graph coloring\", \"category\": \"constraint_satisfaction\"}].\n\n",
    );
    for (k, e) in examples.iter().enumerate() {
        let e: String = e.chars().take(1500).collect();
        s.push_str(&format!("### Example {}\n{}\n\n", k + 1, e.trim()));
    }
    s
}

/// Parse the reply to [`derive_prompt`]; malformed entries are skipped.
pub fn parse_derived(reply: &str) -> Vec<Keyword> {
    let Some(serde_json::Value::Array(items)) = crate::extract::extract_json(reply, true) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|v| {
            let k = v["keyword"].as_str()?.trim();
            let c = v["category"]
                .as_str()
                .and_then(|c| c.parse().ok())
                .unwrap_or(Category::Logic);
            (!k.is_empty() && k.len() <= 60).then(|| Keyword {
                keyword: k.to_lowercase(),
                category: c,
            })
        })
        .collect()
}

/// Deduplicate (case-insensitively, first wins) and order for coverage:
/// round-robin over categories, each shuffled with `seed`.
pub fn order(keywords: Vec<Keyword>, seed: u64) -> Vec<Keyword> {
    let mut seen = std::collections::HashSet::new();
    let mut by_cat: Vec<(Category, Vec<Keyword>)> = Vec::new();
    for k in keywords {
        if !seen.insert(k.keyword.to_lowercase()) {
            continue;
        }
        match by_cat.iter_mut().find(|(c, _)| *c == k.category) {
            Some((_, v)) => v.push(k),
            None => by_cat.push((k.category, vec![k])),
        }
    }
    by_cat.sort_by_key(|(c, _)| *c);
    let mut rng = resyn_core::Rng::from_seed(seed);
    for (_, v) in &mut by_cat {
        rng.shuffle(v);
        v.reverse();
    }
    let mut out = Vec::new();
    loop {
        let mut any = false;
        for (_, v) in &mut by_cat {
            if let Some(k) = v.pop() {
                out.push(k);
                any = true;
            }
        }
        if !any {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taxonomy_is_about_100_distinct_and_covers_every_category() {
        let k = builtin();
        assert!((95..=110).contains(&k.len()), "{}", k.len());
        let distinct: std::collections::HashSet<_> = k.iter().map(|k| &k.keyword).collect();
        assert_eq!(distinct.len(), k.len());
        let o = order(k, 7);
        let first: std::collections::HashSet<_> = o[..5].iter().map(|k| k.category).collect();
        assert_eq!(first.len(), 5);
        assert_eq!(order(builtin(), 7), o);
        assert_ne!(order(builtin(), 8), o);
    }

    #[test]
    fn files_and_derived() {
        let k = parse_keyword_file(
            "# mine\nlogic: web of lies\nstacking boxes\n",
            Category::Spatial,
        )
        .unwrap();
        assert_eq!(k[0].category, Category::Logic);
        assert_eq!(
            k[1],
            Keyword {
                keyword: "stacking boxes".into(),
                category: Category::Spatial
            }
        );
        let e = parse_keyword_file("cooking: x", Category::Logic).unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        assert!(matches!(&e, Error::KeywordFile { line: 1, source } if source.name == "cooking"));
        let d = parse_derived(
            "Sure:\n```json\n[{\"keyword\": \"Date Math\", \"category\": \"math\"}, {\"x\": 1}]\n```",
        );
        assert_eq!(
            d,
            vec![Keyword {
                keyword: "date math".into(),
                category: Category::Math
            }]
        );
    }
}
