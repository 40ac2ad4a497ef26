//! `cnf_sat`: find a satisfying assignment of a random 3-CNF formula.
//!
//! Difficulty d sets the number of variables n and the clause/variable ratio
//! (clauses = round(n * ratio)); the ratio climbs towards the satisfiability
//! threshold of random 3-SAT (about 4.27), where instances are hardest:
//!
//! | d     | 1 | 2   | 3 | 4   | 5   | 6 | 7   | 8   | 9    | 10   |
//! |-------|---|-----|---|-----|-----|---|-----|-----|------|------|
//! | n     | 3 | 4   | 5 | 6   | 8   | 10| 14  | 20  | 28   | 40   |
//! | ratio | 2 | 2.5 | 3 | 3.5 | 3.8 | 4 | 4.1 | 4.2 | 4.26 | 4.26 |
//!
//! Generation plants a random assignment (never all-true or all-false) and
//! draws distinct clauses of three distinct variables, discarding clauses the
//! planted assignment falsifies. Clauses with two or three true literals are
//! kept with probability 1/2, which balances how often each variable appears
//! with its planted sign and the opposite sign, so literal counts do not give
//! the planted assignment away. Formulas satisfied by the all-true or
//! all-false assignment are redrawn. Satisfying assignments are generally not
//! unique, so the verifier evaluates every clause under the submitted
//! assignment (which must assign every variable exactly once).

use std::collections::BTreeSet;

use resyn_core::{Category, Rng, Verdict};
use serde::{Deserialize, Serialize};

use crate::util::parse;
use crate::{Generated, Task, TaskInfo};

pub(crate) struct CnfSat;

#[derive(Serialize, Deserialize)]
pub(crate) struct Data {
    /// Number of variables `x1..=xn`.
    n: usize,
    /// Clauses as DIMACS literals: `v` is `xv`, `-v` is `NOT xv`.
    clauses: Vec<Vec<i64>>,
}

/// `(variables, clause ratio x 100)`.
fn params(difficulty: u8) -> (usize, usize) {
    match difficulty {
        0 | 1 => (3, 200),
        2 => (4, 250),
        3 => (5, 300),
        4 => (6, 350),
        5 => (8, 380),
        6 => (10, 400),
        7 => (14, 410),
        8 => (20, 420),
        9 => (28, 426),
        _ => (40, 426),
    }
}

impl Task for CnfSat {
    type Data = Data;
    type View<'a> = Data;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: "cnf_sat",
            version: 1,
            category: Category::ConstraintSatisfaction,
            description: "Find a satisfying assignment of a satisfiable random 3-CNF formula \
                (planted solution; any satisfying assignment counts). Difficulty 1-10: 3, 4, 5, \
                6, 8, 10, 14, 20, 28, 40 variables, clause/variable ratio rising from 2 to \
                4.26.",
        }
    }

    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Data> {
        let (n, ratio) = params(difficulty);
        let m = (n * ratio + 50) / 100;
        let mut planted: Vec<bool> = (0..n).map(|_| rng.chance(1, 2)).collect();
        if planted.iter().all(|&b| b == planted[0]) {
            let i = rng.index(n);
            planted[i] = !planted[i];
        }
        let mut clauses = Vec::new();
        for _attempt in 0..100 {
            clauses = planted_clauses(&planted, m, rng);
            let constant =
                |value: bool| clauses.iter().all(|c| c.iter().any(|&l| (l > 0) == value));
            if !constant(true) && !constant(false) {
                break;
            }
        }
        let listing = clauses
            .iter()
            .map(|c| {
                let lits: Vec<String> = c
                    .iter()
                    .map(|&l| {
                        if l > 0 {
                            format!("x{l}")
                        } else {
                            format!("¬x{}", -l)
                        }
                    })
                    .collect();
                format!("({})", lits.join(" ∨ "))
            })
            .collect::<Vec<_>>()
            .join("\n");
        let prompt = format!(
            "Find an assignment of true/false values to the variables x1 to x{n} that satisfies \
             the following Boolean formula. The formula is the AND of the {m} clauses below, one \
             per line; each clause is an OR of literals, where `¬` means NOT. The formula is \
             satisfiable; any satisfying assignment is accepted.\n\n{listing}\n\nAnswer format: \
             every variable x1 to x{n} exactly once, written as `x1=T` (true) or `x1=F` \
             (false), separated by spaces, commas or new lines, for example `x1=T x2=F x3=T`, \
             and nothing else. true/false and 1/0 are accepted in place of T/F.",
        );
        let answer = planted
            .iter()
            .enumerate()
            .map(|(i, &b)| format!("x{}={}", i + 1, if b { 'T' } else { 'F' }))
            .collect::<Vec<_>>()
            .join(" ");
        Generated {
            prompt,
            answer,
            data: Data { n, clauses },
        }
    }

    fn check(&self, data: &Data, answer: &str) -> Verdict {
        let assignment = match parse_assignment(answer, data.n) {
            Ok(a) => a,
            Err(e) => return Verdict::parse_error(e),
        };
        for (i, clause) in data.clauses.iter().enumerate() {
            let mut satisfied = false;
            for &l in clause {
                let Some(&value) = usize::try_from(l.unsigned_abs())
                    .ok()
                    .and_then(|v| v.checked_sub(1))
                    .and_then(|v| assignment.get(v))
                else {
                    return Verdict::zero(
                        resyn_core::ReasonCode::InvalidInstance,
                        "literal outside the variables",
                    );
                };
                satisfied |= value == (l > 0);
            }
            if !satisfied {
                return Verdict::wrong(format!("clause {} is false", i + 1));
            }
        }
        Verdict::correct()
    }
}

/// `m` distinct 3-literal clauses satisfied by `planted` (variables sorted
/// within each clause).
fn planted_clauses(planted: &[bool], m: usize, rng: &mut Rng) -> Vec<Vec<i64>> {
    let n = planted.len();
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(m);
    while out.len() < m {
        // Three distinct variables (n >= 3 at every difficulty).
        let mut vars = [rng.index(n), rng.index(n), rng.index(n)];
        vars.sort_unstable();
        if vars[0] == vars[1] || vars[1] == vars[2] {
            continue;
        }
        let clause: Vec<i64> = vars
            .iter()
            .map(|&v| {
                let lit = v as i64 + 1;
                if rng.chance(1, 2) { lit } else { -lit }
            })
            .collect();
        let true_lits = clause
            .iter()
            .zip(&vars)
            .filter(|&(&l, &v)| (l > 0) == planted[v])
            .count();
        if true_lits == 0 || (true_lits >= 2 && rng.chance(1, 2)) {
            continue;
        }
        if seen.insert(clause.clone()) {
            out.push(clause);
        }
    }
    out
}

/// Drop whitespace next to `=` so `x1 = T` reads as `x1=T`.
fn tighten_equals(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut after_eq = false;
    for ch in s.chars() {
        if ch == '=' {
            while out.ends_with(char::is_whitespace) {
                out.pop();
            }
            out.push('=');
            after_eq = true;
        } else if after_eq && ch.is_whitespace() {
            continue;
        } else {
            after_eq = false;
            out.push(ch);
        }
    }
    out
}

/// Parse `xi=T`/`xi=F` tokens; every variable `1..=n` exactly once.
fn parse_assignment(s: &str, n: usize) -> Result<Vec<bool>, String> {
    let s = tighten_equals(s);
    let toks = parse::tokens(&s);
    if toks.is_empty() {
        return Err("no assignment given".into());
    }
    let mut values: Vec<Option<bool>> = vec![None; n];
    for t in toks {
        let bad = || format!("`{}` is not `xi=T` or `xi=F`", parse::clip(t));
        let (var, val) = t.split_once('=').ok_or_else(bad)?;
        let idx = var
            .strip_prefix(['x', 'X'])
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(bad)?;
        let i = parse::int(idx)
            .ok()
            .and_then(|i| usize::try_from(i).ok())
            .filter(|i| (1..=n).contains(i))
            .ok_or_else(|| format!("`{}` is not one of x1 to x{n}", parse::clip(var)))?;
        let value = match val.to_ascii_lowercase().as_str() {
            "t" | "true" | "1" => true,
            "f" | "false" | "0" => false,
            _ => return Err(bad()),
        };
        if values[i - 1].replace(value).is_some() {
            return Err(format!("x{i} is assigned more than once"));
        }
    }
    values
        .iter()
        .enumerate()
        .map(|(i, v)| v.ok_or_else(|| format!("x{} is not assigned", i + 1)))
        .collect()
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

    /// Independent oracle for answers in the reference's own spelling
    /// (`xi=T`/`xi=F` separated by single spaces): every variable exactly
    /// once and every clause true.
    fn valid(inst: &Instance, answer: &str) -> bool {
        let data = data_of(inst);
        let mut map = std::collections::BTreeMap::new();
        for t in answer.split_whitespace() {
            let Some((v, b)) = t.split_once('=') else {
                return false;
            };
            let Some(Ok(v)) = v.strip_prefix('x').map(str::parse::<i64>) else {
                return false;
            };
            let b = match b {
                "T" => true,
                "F" => false,
                _ => return false,
            };
            if map.insert(v, b).is_some() {
                return false;
            }
        }
        map.keys().copied().eq(1..=data.n as i64)
            && data
                .clauses
                .iter()
                .all(|c| c.iter().any(|&l| map[&l.abs()] == (l > 0)))
    }

    fn mutations(inst: &Instance, rng: &mut Rng) -> Vec<String> {
        let toks: Vec<String> = reference_answer(inst)
            .split(' ')
            .map(str::to_string)
            .collect();
        let n = toks.len();
        let flip = |t: &str| {
            if t.ends_with('T') {
                t.replace("=T", "=F")
            } else {
                t.replace("=F", "=T")
            }
        };
        let mut out = Vec::new();
        let i = rng.index(n);
        // Flip one variable; flip all (either may still satisfy: oracle).
        let mut m = toks.clone();
        m[i] = flip(&m[i]);
        out.push(m.join(" "));
        out.push(toks.iter().map(|t| flip(t)).collect::<Vec<_>>().join(" "));
        // Drop one, assign one twice, assign a variable that does not exist.
        let mut m = toks.clone();
        m.remove(i);
        out.push(m.join(" "));
        let mut m = toks.clone();
        m.push(flip(&toks[i]));
        out.push(m.join(" "));
        let mut m = toks.clone();
        m.push(format!("x{}=T", n + 1));
        out.push(m.join(" "));
        let mut m = toks.clone();
        m[i] = format!("x{}=maybe", i + 1);
        out.push(m.join(" "));
        // All true, all false.
        out.push(
            (1..=n)
                .map(|v| format!("x{v}=T"))
                .collect::<Vec<_>>()
                .join(" "),
        );
        out.push(
            (1..=n)
                .map(|v| format!("x{v}=F"))
                .collect::<Vec<_>>()
                .join(" "),
        );
        // Just the true variables (a different format).
        out.push(
            toks.iter()
                .filter(|t| t.ends_with('T'))
                .map(|t| t.trim_end_matches("=T").to_string())
                .collect::<Vec<_>>()
                .join(" "),
        );
        out
    }

    #[test]
    fn conformance() {
        let env = Native::new(CnfSat);
        let r = Conformance::new(&env)
            .seeds(20)
            .wrong(mutations)
            .acceptable(valid)
            .run();
        assert!(r.rejected > 2500, "{r:?}");
    }

    #[test]
    fn verifier_agrees_with_brute_force() {
        // Every assignment of small formulas: verifier == direct evaluation,
        // and at least one (the planted one) is accepted.
        let env = Native::new(CnfSat);
        for d in 1..=6u8 {
            for seed in 0..5 {
                let inst = env.generate(seed, d).unwrap();
                let data = data_of(&inst);
                let n = data.n;
                let mut accepted = 0;
                for code in 0u32..1 << n {
                    let ans = (0..n)
                        .map(|v| {
                            format!("x{}={}", v + 1, if code >> v & 1 == 1 { 'T' } else { 'F' })
                        })
                        .collect::<Vec<_>>()
                        .join(" ");
                    let ok = env
                        .verify(&inst, &format!("<answer>{ans}</answer>"))
                        .correct;
                    assert_eq!(ok, valid(&inst, &ans), "{ans}");
                    accepted += usize::from(ok);
                }
                assert!(accepted >= 1);
                // Neither constant assignment works.
                assert!(accepted < 1 << n);
            }
        }
    }

    #[test]
    fn formulas_follow_difficulty() {
        let env = Native::new(CnfSat);
        for d in 1..=10u8 {
            let (n, ratio) = params(d);
            for seed in 0..10 {
                let data = data_of(&env.generate(seed, d).unwrap());
                assert_eq!(data.n, n);
                assert_eq!(data.clauses.len(), (n * ratio + 50) / 100);
                let distinct: BTreeSet<_> = data.clauses.iter().collect();
                assert_eq!(distinct.len(), data.clauses.len());
                for c in &data.clauses {
                    assert_eq!(c.len(), 3);
                    assert!(c.windows(2).all(|w| w[0].abs() < w[1].abs()));
                    assert!(c.iter().all(|l| (1..=n as i64).contains(&l.abs())));
                }
            }
        }
    }

    #[test]
    fn accepts_format_variants() {
        let env = Native::new(CnfSat);
        let inst = env.generate(4, 8).unwrap();
        let ans = reference_answer(&inst);
        let mut rev: Vec<&str> = ans.split(' ').collect();
        rev.reverse();
        let variants = [
            ans.to_lowercase(),
            ans.replace(' ', ", "),
            ans.replace(' ', "\n"),
            ans.replace('=', " = "),
            ans.replace("=T", "=true").replace("=F", "=False"),
            ans.replace("=T", "=1").replace("=F", "=0"),
            rev.join(" "),
            format!("[{ans}]"),
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
            let env = Native::new(CnfSat);
            let inst = env.generate(3, d).unwrap();
            let v = env.verify(&inst, &format!("<answer>{s}</answer>"));
            proptest::prop_assert!(!v.correct);
        }

        #[test]
        fn check_matches_oracle(s in "(x[0-4]=[TF] ?){0,5}") {
            let env = Native::new(CnfSat);
            let inst = env.generate(3, 1).unwrap();
            let v = env.verify(&inst, &format!("<answer>{s}</answer>"));
            proptest::prop_assert_eq!(v.correct, valid(&inst, &s));
        }
    }
}
