//! `knights_knaves`: islanders who always tell the truth (knights) or always
//! lie (knaves) make statements; decide who is which.
//!
//! Generation plants a random assignment, gives every islander one
//! statement that is true iff the speaker is a knight, then hill-climbs
//! (re-drawing one statement at a time, never increasing the number of
//! consistent assignments) until exactly one of the `2^N` assignments is
//! consistent, restarting from a fresh assignment if that stalls. All `2^N`
//! assignments are evaluated at once as truth tables (256-bit sets), so
//! generation stays in the microseconds even at N = 8.
//!
//! Statements: "X is a knight/knave"; from d3 "X and Y are the same type /
//! of different types"; compounds of two such atoms with "and" / "or"
//! (inclusive), from d3 "if and only if", from d5 "if ... then ...";
//! from d5 counting statements "exactly/at least/at most k of the N
//! islanders are knaves". Difficulty d uses N = 2, 2, 3, 3, 4, 5, 5, 6, 7, 8
//! islanders. This is the counterpart of reasoning-gym's `knights_knaves`.
//!
//! The answer is unique. The verifier accepts `Name: knight` or `Name is a
//! knight` items separated by commas, semicolons, new lines or "and", in any
//! order, case-insensitively; every islander must appear exactly once.

use resyn_core::{Category, Rng, Verdict};
use serde::{Deserialize, Serialize};

use crate::util::parse;
use crate::{Generated, Task, TaskInfo};

pub(crate) struct KnightsKnaves;

#[derive(Serialize, Deserialize)]
pub(crate) struct Data {
    names: Vec<String>,
    /// `true` = knight, per islander.
    knight: Vec<bool>,
}

const NAMES: [&str; 32] = [
    "Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry", "Iris", "Jack", "Kate",
    "Leo", "Mia", "Noah", "Olivia", "Paul", "Quinn", "Ruby", "Sam", "Tina", "Uma", "Victor",
    "Wendy", "Xavier", "Yara", "Zoe", "Aaron", "Bella", "Chloe", "Dylan", "Ethan", "Fiona",
];

/// A truth table over all assignments of up to 8 islanders: bit `m` is the
/// value under assignment `m` (bit `i` of `m` set = islander `i` is a knight).
type Tt = [u64; 4];

fn tt_from(n: usize, f: impl Fn(usize) -> bool) -> Tt {
    let mut t = [0u64; 4];
    for m in 0..(1usize << n) {
        if f(m) {
            t[m / 64] |= 1 << (m % 64);
        }
    }
    t
}

fn and(a: Tt, b: Tt) -> Tt {
    [a[0] & b[0], a[1] & b[1], a[2] & b[2], a[3] & b[3]]
}
fn or(a: Tt, b: Tt) -> Tt {
    [a[0] | b[0], a[1] | b[1], a[2] | b[2], a[3] | b[3]]
}
fn not(a: Tt) -> Tt {
    [!a[0], !a[1], !a[2], !a[3]]
}
fn iff(a: Tt, b: Tt) -> Tt {
    not([a[0] ^ b[0], a[1] ^ b[1], a[2] ^ b[2], a[3] ^ b[3]])
}
fn bit(t: &Tt, m: usize) -> bool {
    t[m / 64] >> (m % 64) & 1 == 1
}
fn count(t: &Tt) -> u32 {
    t.iter().map(|w| w.count_ones()).sum()
}

/// An atomic claim.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Atom {
    /// Islander is a knight (`true`) or a knave.
    Is(usize, bool),
    /// Two islanders are the same type (`true`) or different types.
    Same(usize, usize, bool),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cmp {
    Exactly,
    AtLeast,
    AtMost,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Stmt {
    Atom(Atom),
    And(Atom, Atom),
    Or(Atom, Atom),
    Iff(Atom, Atom),
    Implies(Atom, Atom),
    /// The number of knaves among all islanders compares to `k`.
    Knaves(Cmp, usize),
}

/// Precomputed tables for `n` islanders.
struct Tables {
    n: usize,
    all: Tt,
    knight: Vec<Tt>,
    knaves: Vec<Tt>,
}

impl Tables {
    fn new(n: usize) -> Self {
        Self {
            n,
            all: tt_from(n, |_| true),
            knight: (0..n).map(|i| tt_from(n, |m| m >> i & 1 == 1)).collect(),
            knaves: (0..=n)
                .map(|k| tt_from(n, |m| n - m.count_ones() as usize == k))
                .collect(),
        }
    }

    fn atom(&self, a: Atom) -> Tt {
        match a {
            Atom::Is(p, true) => self.knight[p],
            Atom::Is(p, false) => and(not(self.knight[p]), self.all),
            Atom::Same(p, q, same) => {
                let s = and(iff(self.knight[p], self.knight[q]), self.all);
                if same { s } else { and(not(s), self.all) }
            }
        }
    }

    fn stmt(&self, s: Stmt) -> Tt {
        let t = match s {
            Stmt::Atom(a) => self.atom(a),
            Stmt::And(a, b) => and(self.atom(a), self.atom(b)),
            Stmt::Or(a, b) => or(self.atom(a), self.atom(b)),
            Stmt::Iff(a, b) => iff(self.atom(a), self.atom(b)),
            Stmt::Implies(a, b) => or(not(self.atom(a)), self.atom(b)),
            Stmt::Knaves(cmp, k) => {
                let range = match cmp {
                    Cmp::Exactly => k..=k,
                    Cmp::AtLeast => k..=self.n,
                    Cmp::AtMost => 0..=k,
                };
                range.fold([0; 4], |acc, j| or(acc, self.knaves[j]))
            }
        };
        and(t, self.all)
    }

    /// Assignments under which speaker `i`'s statement is consistent with
    /// their type.
    fn consistent(&self, i: usize, s: Stmt) -> Tt {
        and(iff(self.stmt(s), self.knight[i]), self.all)
    }
}

fn atom_text(a: Atom, names: &[&str]) -> String {
    match a {
        Atom::Is(p, k) => format!("{} is a {}", names[p], kind(k)),
        Atom::Same(p, q, true) => format!("{} and {} are the same type", names[p], names[q]),
        Atom::Same(p, q, false) => {
            format!("{} and {} are of different types", names[p], names[q])
        }
    }
}

fn kind(knight: bool) -> &'static str {
    if knight { "knight" } else { "knave" }
}

fn stmt_text(s: Stmt, names: &[&str]) -> String {
    let t = |a| atom_text(a, names);
    match s {
        Stmt::Atom(a) => t(a),
        Stmt::And(a, b) => format!("{}, and {}", t(a), t(b)),
        Stmt::Or(a, b) => format!("{}, or {}", t(a), t(b)),
        Stmt::Iff(a, b) => format!("{} if and only if {}", t(a), t(b)),
        Stmt::Implies(a, b) => format!("If {}, then {}", t(a), t(b)),
        Stmt::Knaves(cmp, k) => {
            let c = match cmp {
                Cmp::Exactly => "Exactly",
                Cmp::AtLeast => "At least",
                Cmp::AtMost => "At most",
            };
            let n = names.len();
            if k == 1 {
                format!("{c} 1 of the {n} islanders is a knave")
            } else {
                format!("{c} {k} of the {n} islanders are knaves")
            }
        }
    }
}

fn random_atom(rng: &mut Rng, d: u8, n: usize, speaker: usize) -> Atom {
    // Mostly about others; self-reference occasionally.
    let other = |rng: &mut Rng| {
        if n == 1 || rng.chance(1, 6) {
            speaker
        } else {
            (speaker + 1 + rng.index(n - 1)) % n
        }
    };
    if d >= 3 && n >= 2 && rng.chance(1, 4) {
        let p = rng.index(n);
        let q = (p + 1 + rng.index(n - 1)) % n;
        Atom::Same(p, q, rng.chance(1, 2))
    } else {
        Atom::Is(other(rng), rng.chance(1, 2))
    }
}

/// The islanders an atom is about, sorted.
fn subjects(a: Atom) -> (usize, usize) {
    match a {
        Atom::Is(p, _) => (p, p),
        Atom::Same(p, q, _) => (p.min(q), p.max(q)),
    }
}

fn random_stmt(rng: &mut Rng, d: u8, n: usize, speaker: usize) -> Stmt {
    if d >= 5 && rng.chance(1, 6) {
        let cmp = [Cmp::Exactly, Cmp::AtLeast, Cmp::AtMost][rng.index(3)];
        return Stmt::Knaves(cmp, rng.range(1, n.saturating_sub(1).max(1)));
    }
    let a = random_atom(rng, d, n, speaker);
    if (d == 1 && rng.chance(1, 2)) || rng.chance(1, 3) {
        return Stmt::Atom(a);
    }
    // The two sides must be about different islanders (otherwise the
    // compound can be a tautology like "X is a knave or X is a knight").
    let mut b = random_atom(rng, d, n, speaker);
    while subjects(a) == subjects(b) {
        b = random_atom(rng, d, n, speaker);
    }
    let kinds = if d >= 5 {
        4
    } else if d >= 3 {
        3
    } else {
        2
    };
    match rng.index(kinds) {
        0 => Stmt::And(a, b),
        1 => Stmt::Or(a, b),
        2 => Stmt::Iff(a, b),
        _ => Stmt::Implies(a, b),
    }
}

/// A statement by `speaker` that is true under `planted` iff the speaker is
/// a knight.
fn truthful_stmt(rng: &mut Rng, d: u8, tab: &Tables, planted: usize, speaker: usize) -> Stmt {
    loop {
        let s = random_stmt(rng, d, tab.n, speaker);
        if bit(&tab.consistent(speaker, s), planted) {
            return s;
        }
    }
}

fn islanders(d: u8) -> usize {
    [2, 2, 3, 3, 4, 5, 5, 6, 7, 8][usize::from(d.clamp(1, 10) - 1)]
}

/// Planted assignment (bit i = islander i is a knight) and one statement per
/// islander with exactly one consistent assignment.
fn build(rng: &mut Rng, d: u8) -> (usize, Vec<Stmt>) {
    let n = islanders(d);
    let tab = Tables::new(n);
    loop {
        let planted = rng.index(1 << n);
        let mut stmts: Vec<Stmt> = (0..n)
            .map(|i| truthful_stmt(rng, d, &tab, planted, i))
            .collect();
        let mut cons: Vec<Tt> = (0..n).map(|i| tab.consistent(i, stmts[i])).collect();
        let solutions = |cons: &[Tt]| count(&cons.iter().fold(tab.all, |acc, &c| and(acc, c)));
        let mut best = solutions(&cons);
        for _ in 0..300 {
            if best == 1 {
                return (planted, stmts);
            }
            let i = rng.index(n);
            let s = truthful_stmt(rng, d, &tab, planted, i);
            let old = cons[i];
            cons[i] = tab.consistent(i, s);
            let now = solutions(&cons);
            if now <= best {
                best = now;
                stmts[i] = s;
            } else {
                cons[i] = old;
            }
        }
        if best == 1 {
            return (planted, stmts);
        }
    }
}

impl Task for KnightsKnaves {
    type Data = Data;
    type View<'a> = Data;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: "knights_knaves",
            version: 1,
            category: Category::Logic,
            description: "Knights always tell the truth, knaves always lie; from one statement \
                per islander (about types, same/different, and/or/iff/if-then compounds, knave \
                counts) determine everyone's type, which is unique. Difficulty d uses 2 (d1) to \
                8 (d10) islanders with richer statement forms.",
        }
    }

    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Data> {
        let (planted, stmts) = build(rng, difficulty);
        let n = stmts.len();
        let names: Vec<&str> = rng
            .sample_indices(NAMES.len(), n)
            .into_iter()
            .map(|i| NAMES[i])
            .collect();
        let knight: Vec<bool> = (0..n).map(|i| planted >> i & 1 == 1).collect();
        let said = stmts
            .iter()
            .enumerate()
            .map(|(i, &s)| format!("{} says: \"{}.\"", names[i], stmt_text(s, &names)))
            .collect::<Vec<_>>()
            .join("\n");
        let list = match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => names.join(""),
        };
        let prompt = format!(
            "On an island every inhabitant is either a knight, who always tells the truth, or a \
             knave, who always lies. You meet {n} inhabitants: {list}.\n\n{said}\n\n\
             (\"or\" is inclusive: at least one side holds. \"If A, then B\" is false only when A \
             holds and B does not.)\n\nWho is a knight and who is a knave?\n\nAnswer format: \
             every inhabitant exactly once as `Name: knight` or `Name: knave`, separated by \
             commas, for example `{}: knight, {}: knave`.",
            names[0],
            names[n - 1]
        );
        let answer = names
            .iter()
            .zip(&knight)
            .map(|(nm, &k)| format!("{nm}: {}", kind(k)))
            .collect::<Vec<_>>()
            .join(", ");
        Generated {
            prompt,
            answer,
            data: Data {
                names: names.iter().map(|s| s.to_string()).collect(),
                knight,
            },
        }
    }

    fn check(&self, data: &Data, answer: &str) -> Verdict {
        match parse_assignment(answer, &data.names) {
            Err(e) => Verdict::parse_error(e),
            Ok(got) => {
                let wrong: Vec<&str> = (0..data.names.len())
                    .filter(|&i| got[i] != data.knight.get(i).copied())
                    .map(|i| data.names[i].as_str())
                    .collect();
                Verdict::from_check(if wrong.is_empty() {
                    Ok(())
                } else {
                    Err(format!("wrong type for {}", wrong.join(", ")))
                })
            }
        }
    }
}

/// Parse `Name: knight, Name is a knave, ...` into one type per name.
fn parse_assignment(s: &str, names: &[String]) -> Result<Vec<Option<bool>>, String> {
    let mut got: Vec<Option<bool>> = vec![None; names.len()];
    let chunks: Vec<String> = s.split([',', ';', '\n']).map(parse::canonical).collect();
    let items = chunks
        .iter()
        .flat_map(|c| c.split(" and "))
        .map(|t| {
            t.strip_prefix("and ")
                .unwrap_or(t)
                .trim_end_matches('.')
                .trim()
        })
        .filter(|t| !t.is_empty() && *t != "and");
    for item in items {
        let (name, ty) = if let Some((a, b)) = item.split_once(':') {
            (a.trim(), b.trim())
        } else if let Some((a, b)) = item.split_once(" is a ") {
            (a.trim(), b.trim())
        } else {
            return Err(format!("`{}` is not `Name: type`", parse::clip(item)));
        };
        let knight = match ty {
            "knight" => true,
            "knave" => false,
            _ => return Err(format!("`{}` is neither knight nor knave", parse::clip(ty))),
        };
        let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(name)) else {
            return Err(format!("unknown inhabitant `{}`", parse::clip(name)));
        };
        if got[i].is_some() {
            return Err(format!("{} is named more than once", names[i]));
        }
        got[i] = Some(knight);
    }
    if let Some(i) = got.iter().position(Option::is_none) {
        return Err(format!("no type given for {}", names[i]));
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use resyn_core::testing::Conformance;
    use resyn_core::{Environment, Instance, Rng, probes::reference_answer};

    use crate::Native;

    fn data(inst: &Instance) -> Data {
        serde_json::from_value(inst.data.clone()).unwrap()
    }

    fn render(names: &[String], knight: &[bool]) -> String {
        names
            .iter()
            .zip(knight)
            .map(|(n, &k)| format!("{n}: {}", kind(k)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn mutations(inst: &Instance, rng: &mut Rng) -> Vec<String> {
        let d = data(inst);
        let n = d.names.len();
        let mut out = Vec::new();
        // Flip one islander, flip all, drop one, duplicate one, swap two types.
        let i = rng.index(n);
        let mut k = d.knight.clone();
        k[i] = !k[i];
        out.push(render(&d.names, &k));
        let all: Vec<bool> = d.knight.iter().map(|&b| !b).collect();
        out.push(render(&d.names, &all));
        out.push(render(&d.names[1..], &d.knight[1..]));
        out.push(format!(
            "{}, {}: {}",
            render(&d.names, &d.knight),
            d.names[i],
            kind(!d.knight[i])
        ));
        if let Some(j) = (0..n).find(|&j| d.knight[j] != d.knight[i]) {
            let mut k = d.knight.clone();
            k.swap(i, j);
            out.push(render(&d.names, &k));
        }
        // Constant guesses (wrong unless they happen to be the truth).
        for c in [true, false] {
            if d.knight.iter().any(|&b| b != c) {
                out.push(render(&d.names, &vec![c; n]));
            }
        }
        out
    }

    #[test]
    fn conformance() {
        let env = Native::new(KnightsKnaves);
        let r = Conformance::new(&env).seeds(30).wrong(mutations).run();
        assert!(r.rejected > 4000, "{r:?}");
    }

    /// Independent semantics: parse the English statements of the prompt and
    /// evaluate them under one assignment.
    fn eval_text(text: &str, names: &[String], knight: &[bool]) -> bool {
        let who = |n: &str| names.iter().position(|x| x == n).unwrap();
        let atom = |a: &str| -> bool {
            if let Some(p) = a.strip_suffix(" is a knight") {
                knight[who(p)]
            } else if let Some(p) = a.strip_suffix(" is a knave") {
                !knight[who(p)]
            } else if let Some(pq) = a.strip_suffix(" are the same type") {
                let (p, q) = pq.split_once(" and ").unwrap();
                knight[who(p)] == knight[who(q)]
            } else if let Some(pq) = a.strip_suffix(" are of different types") {
                let (p, q) = pq.split_once(" and ").unwrap();
                knight[who(p)] != knight[who(q)]
            } else {
                panic!("atom {a}")
            }
        };
        let knaves = knight.iter().filter(|&&k| !k).count();
        for (prefix, cmp) in [("Exactly ", 0), ("At least ", 1), ("At most ", 2)] {
            if let Some(rest) = text.strip_prefix(prefix) {
                let k: usize = rest.split(' ').next().unwrap().parse().unwrap();
                return match cmp {
                    0 => knaves == k,
                    1 => knaves >= k,
                    _ => knaves <= k,
                };
            }
        }
        if let Some(rest) = text.strip_prefix("If ") {
            let (a, b) = rest.split_once(", then ").unwrap();
            return !atom(a) || atom(b);
        }
        if let Some((a, b)) = text.split_once(" if and only if ") {
            return atom(a) == atom(b);
        }
        // Compounds join two atoms with ", and " / ", or " (atoms have no commas).
        if let Some((a, b)) = text.split_once(", and ") {
            return atom(a) && atom(b);
        }
        if let Some((a, b)) = text.split_once(", or ") {
            return atom(a) || atom(b);
        }
        atom(text)
    }

    #[test]
    fn unique_solution_by_brute_force_on_the_text() {
        let env = Native::new(KnightsKnaves);
        for d in 1..=10 {
            for seed in 0..25 {
                let inst = env.generate(seed, d).unwrap();
                let data = data(&inst);
                let n = data.names.len();
                let said: Vec<(usize, String)> = inst
                    .prompt
                    .lines()
                    .filter_map(|l| l.split_once(" says: \""))
                    .map(|(who, s)| {
                        let i = data.names.iter().position(|x| x == who).unwrap();
                        (
                            i,
                            s.trim_end_matches("\"").trim_end_matches('.').to_string(),
                        )
                    })
                    .collect();
                assert_eq!(said.len(), n);
                let mut solutions = Vec::new();
                for m in 0..(1usize << n) {
                    let k: Vec<bool> = (0..n).map(|i| m >> i & 1 == 1).collect();
                    if said
                        .iter()
                        .all(|(i, s)| eval_text(s, &data.names, &k) == k[*i])
                    {
                        solutions.push(k);
                    }
                }
                assert_eq!(solutions, vec![data.knight.clone()], "d{d} seed {seed}");
                // The verifier accepts exactly that one assignment.
                for m in 0..(1usize << n) {
                    let k: Vec<bool> = (0..n).map(|i| m >> i & 1 == 1).collect();
                    let ok = KnightsKnaves.check(&data, &render(&data.names, &k)).correct;
                    assert_eq!(ok, k == data.knight);
                }
            }
        }
    }

    #[test]
    fn answers_are_not_skewed() {
        // Knights and knaves both common, so a constant guess is weak.
        let env = Native::new(KnightsKnaves);
        let (mut knights, mut total) = (0, 0);
        for d in [4, 8, 10] {
            for seed in 0..60 {
                let data = data(&env.generate(seed, d).unwrap());
                knights += data.knight.iter().filter(|&&k| k).count();
                total += data.knight.len();
            }
        }
        let frac = knights as f64 / total as f64;
        assert!((0.3..0.7).contains(&frac), "{frac}");
    }

    #[test]
    fn accepts_format_variants() {
        let env = Native::new(KnightsKnaves);
        let inst = env.generate(11, 6).unwrap();
        let d = data(&inst);
        let ans = reference_answer(&inst);
        let mut rev: Vec<&str> = ans.split(", ").collect();
        rev.reverse();
        let prose = d
            .names
            .iter()
            .zip(&d.knight)
            .map(|(n, &k)| format!("{n} is a {}", kind(k)))
            .collect::<Vec<_>>()
            .join(", and ");
        for v in [
            ans.to_uppercase(),
            rev.join("\n"),
            ans.replace(", ", "; "),
            format!("{prose}."),
            ans.replace(": ", " : "),
            ans.replace(", ", " and "),
        ] {
            assert!(
                env.verify(&inst, &format!("<answer>{v}</answer>")).correct,
                "{v}"
            );
        }
        assert!(
            !env.verify(&inst, "<answer>everyone is a knight</answer>")
                .correct
        );
    }

    proptest! {
        #[test]
        fn check_is_total(s in "[A-Za-z:;, \n.]{0,80}|.{0,200}") {
            let inst = Native::new(KnightsKnaves).generate(3, 7).unwrap();
            let _ = KnightsKnaves.check(&data(&inst), &s);
        }
    }
}
