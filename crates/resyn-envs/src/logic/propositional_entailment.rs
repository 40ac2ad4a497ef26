//! `propositional_entailment`: do the premises logically entail the
//! conclusion? Answer yes or no.
//!
//! Formulas over atoms `p, q, r, ...` use ¬ ∧ ∨ → ↔ with every binary
//! subformula parenthesised, so the reading is unambiguous. The label is
//! decided **first**, by a fair coin; premises and conclusion are then drawn
//! until the truth table (all `2^n ≤ 128` assignments at once as a `u128`)
//! agrees with it. So exactly half of the instances, in expectation and
//! independently of everything else, are "yes": a constant answer scores
//! 50%, chance level. Both classes are non-trivial by construction: the
//! premises are jointly satisfiable, no premise and no conclusion is a
//! tautology or a contradiction, the conclusion is not a premise, and a "no"
//! conclusion is still consistent with the premises (some model of the
//! premises makes it true), so it can be neither refuted outright nor
//! entailed.
//!
//! Difficulty d uses `n = 2 + d/2` atoms (2 to 7), `1 + d/2` or one more
//! premises (1–2 at d1, 6–7 at d10) and formula depth `1 + (d−1)/3` capped
//! at 3.
//!
//! The verifier accepts exactly `yes` or `no` (case-insensitive, an optional
//! final period) and compares with the truth-table label.

use resyn_core::{Category, Rng, Verdict};
use serde::{Deserialize, Serialize};

use crate::util::parse;
use crate::{Generated, Task, TaskInfo};

pub(crate) struct PropositionalEntailment;

#[derive(Serialize, Deserialize)]
pub(crate) struct Data {
    entailed: bool,
}

const ATOMS: [char; 7] = ['p', 'q', 'r', 's', 't', 'u', 'v'];

#[derive(Debug, Clone, PartialEq)]
enum F {
    Var(usize),
    Not(Box<F>),
    Bin(Op, Box<F>, Box<F>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    And,
    Or,
    Implies,
    Iff,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::And => "∧",
            Op::Or => "∨",
            Op::Implies => "→",
            Op::Iff => "↔",
        }
    }
}

impl F {
    fn render(&self, top: bool) -> String {
        match self {
            F::Var(i) => ATOMS[*i].to_string(),
            F::Not(f) => format!("¬{}", f.render(false)),
            F::Bin(op, a, b) => {
                let s = format!("{} {} {}", a.render(false), op.symbol(), b.render(false));
                if top { s } else { format!("({s})") }
            }
        }
    }
}

/// Truth tables over `n` atoms: bit `m` = value under assignment `m` (bit
/// `i` of `m` = atom `i`).
struct Tables {
    all: u128,
    var: Vec<u128>,
}

impl Tables {
    fn new(n: usize) -> Self {
        let size = 1usize << n;
        let all = if size == 128 {
            u128::MAX
        } else {
            (1u128 << size) - 1
        };
        let var = (0..n)
            .map(|i| {
                (0..size)
                    .filter(|m| m >> i & 1 == 1)
                    .fold(0u128, |t, m| t | 1 << m)
            })
            .collect();
        Self { all, var }
    }

    fn eval(&self, f: &F) -> u128 {
        match f {
            F::Var(i) => self.var[*i],
            F::Not(g) => !self.eval(g) & self.all,
            F::Bin(op, a, b) => {
                let (x, y) = (self.eval(a), self.eval(b));
                let t = match op {
                    Op::And => x & y,
                    Op::Or => x | y,
                    Op::Implies => !x | y,
                    Op::Iff => !(x ^ y),
                };
                t & self.all
            }
        }
    }
}

/// The variable of a literal (`p` or `¬p`), if `f` is one.
fn literal_var(f: &F) -> Option<usize> {
    match f {
        F::Var(i) => Some(*i),
        F::Not(g) => match g.as_ref() {
            F::Var(i) => Some(*i),
            _ => None,
        },
        F::Bin(..) => None,
    }
}

/// A random formula of depth at most `depth`; at the top (`top`) a bare
/// literal is rare, below it a quarter of the subformulas are literals.
fn random_formula(rng: &mut Rng, n: usize, depth: usize, top: bool) -> F {
    if depth == 0 || rng.chance(1, if top { 8 } else { 4 }) {
        let v = F::Var(rng.index(n));
        return if rng.chance(1, 3) {
            F::Not(Box::new(v))
        } else {
            v
        };
    }
    let op = [Op::And, Op::Or, Op::Implies, Op::Implies, Op::Iff][rng.index(5)];
    let a = random_formula(rng, n, depth - 1, false);
    // No degenerate pairs such as `p ∧ p`, `¬p → p` or two equal sides.
    let b = loop {
        let b = random_formula(rng, n, depth - 1, false);
        let same_var = literal_var(&a).is_some() && literal_var(&a) == literal_var(&b);
        if b != a && !same_var {
            break b;
        }
    };
    let f = F::Bin(op, Box::new(a), Box::new(b));
    if rng.chance(1, 8) {
        F::Not(Box::new(f))
    } else {
        f
    }
}

/// A random formula that is neither a tautology nor a contradiction.
fn contingent_formula(rng: &mut Rng, tab: &Tables, n: usize, depth: usize) -> (F, u128) {
    loop {
        let f = random_formula(rng, n, depth, true);
        let t = tab.eval(&f);
        if t != 0 && t != tab.all {
            return (f, t);
        }
    }
}

struct Problem {
    n: usize,
    premises: Vec<F>,
    conclusion: F,
    entailed: bool,
}

fn build(rng: &mut Rng, d: u8) -> Problem {
    let d = usize::from(d);
    let n = 2 + d / 2;
    let depth = (1 + (d - 1) / 3).min(3);
    let tab = Tables::new(n);
    // The label comes first: a fair coin, independent of everything else.
    let entailed = rng.chance(1, 2);
    loop {
        let k = 1 + d / 2 + rng.index(2);
        let mut premises = Vec::with_capacity(k);
        let mut models = tab.all;
        for _ in 0..k {
            let (f, t) = contingent_formula(rng, &tab, n, depth);
            models &= t;
            premises.push(f);
        }
        if models == 0 {
            continue;
        }
        for _ in 0..200 {
            let (c, t) = contingent_formula(rng, &tab, n, depth);
            if premises.contains(&c) {
                continue;
            }
            let follows = models & !t == 0;
            let consistent = models & t != 0;
            if follows == entailed && consistent {
                return Problem {
                    n,
                    premises,
                    conclusion: c,
                    entailed,
                };
            }
        }
    }
}

impl Task for PropositionalEntailment {
    type Data = Data;
    type View<'a> = Data;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: "propositional_entailment",
            version: 1,
            category: Category::Logic,
            description: "Decide whether a propositional conclusion follows from premises \
                (yes/no, checked by truth table). Labels are a fair coin drawn before the \
                formulas, so a constant answer scores 50%. Difficulty d uses 2 (d1) to 7 (d10) \
                atoms, 1-2 to 6-7 premises and formula depth 1 to 3.",
        }
    }

    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Data> {
        let p = build(rng, difficulty);
        let atoms: Vec<String> = ATOMS[..p.n].iter().map(char::to_string).collect();
        let premises = p
            .premises
            .iter()
            .enumerate()
            .map(|(i, f)| format!("{}. {}", i + 1, f.render(true)))
            .collect::<Vec<_>>()
            .join("\n");
        let prompt = format!(
            "Propositional logic over the atoms {}. Symbols: ¬ (not), ∧ (and), ∨ (inclusive \
             or), → (if ... then: false only when the left side is true and the right side \
             false), ↔ (if and only if). Parentheses show the grouping.\n\nPremises:\n{}\n\n\
             Conclusion: {}\n\nDoes the conclusion follow logically from the premises, that \
             is, is it true under every assignment of truth values to the atoms that makes \
             all the premises true?\n\nAnswer format: yes or no.",
            atoms.join(", "),
            premises,
            p.conclusion.render(true)
        );
        Generated {
            prompt,
            answer: if p.entailed { "yes" } else { "no" }.into(),
            data: Data {
                entailed: p.entailed,
            },
        }
    }

    fn check(&self, data: &Data, answer: &str) -> Verdict {
        let a = parse::canonical(answer);
        let said = match a.strip_suffix('.').unwrap_or(&a) {
            "yes" => true,
            "no" => false,
            _ => return Verdict::parse_error(format!("`{}` is not yes or no", parse::clip(&a))),
        };
        Verdict::from_check(if said == data.entailed {
            Ok(())
        } else {
            Err("wrong entailment judgement".into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use resyn_core::testing::Conformance;
    use resyn_core::{Environment, Instance, Rng, probes::reference_answer};

    use crate::Native;

    #[test]
    fn conformance() {
        let env = Native::new(PropositionalEntailment);
        let r = Conformance::new(&env)
            .seeds(30)
            .wrong(|inst, _| {
                let other = if reference_answer(inst) == "yes" {
                    "no"
                } else {
                    "yes"
                };
                vec![
                    other.into(),
                    other.to_uppercase(),
                    "yes no".into(),
                    "no, yes".into(),
                    "maybe".into(),
                    "true".into(),
                ]
            })
            .run();
        assert!(r.rejected > 3000, "{r:?}");
    }

    /// Independent evaluation: parse the rendered text and evaluate it under
    /// one assignment by recursion.
    fn eval_text(s: &str, val: &[bool]) -> bool {
        fn parse(chars: &[char], i: &mut usize, val: &[bool]) -> bool {
            let left = unary(chars, i, val);
            skip(chars, i);
            if *i >= chars.len() || chars[*i] == ')' {
                return left;
            }
            let op = chars[*i];
            *i += 1;
            let right = unary(chars, i, val);
            match op {
                '∧' => left && right,
                '∨' => left || right,
                '→' => !left || right,
                '↔' => left == right,
                other => panic!("operator {other}"),
            }
        }
        fn unary(chars: &[char], i: &mut usize, val: &[bool]) -> bool {
            skip(chars, i);
            match chars[*i] {
                '¬' => {
                    *i += 1;
                    !unary(chars, i, val)
                }
                '(' => {
                    *i += 1;
                    let v = parse(chars, i, val);
                    skip(chars, i);
                    assert_eq!(chars[*i], ')');
                    *i += 1;
                    v
                }
                c => {
                    *i += 1;
                    val[ATOMS.iter().position(|&a| a == c).unwrap()]
                }
            }
        }
        fn skip(chars: &[char], i: &mut usize) {
            while *i < chars.len() && chars[*i] == ' ' {
                *i += 1;
            }
        }
        let chars: Vec<char> = s.chars().collect();
        let mut i = 0;
        let v = parse(&chars, &mut i, val);
        assert_eq!(i, chars.len(), "{s}");
        v
    }

    fn brute_force(prompt: &str) -> bool {
        let premises: Vec<&str> = prompt
            .split("Premises:\n")
            .nth(1)
            .unwrap()
            .split("\n\n")
            .next()
            .unwrap()
            .lines()
            .map(|l| l.split_once(". ").unwrap().1)
            .collect();
        let conclusion = prompt
            .split("Conclusion: ")
            .nth(1)
            .unwrap()
            .split("\n\n")
            .next()
            .unwrap();
        let atoms = prompt
            .split("atoms ")
            .nth(1)
            .unwrap()
            .split('.')
            .next()
            .unwrap();
        let n = atoms.split(", ").count();
        let mut any_model = false;
        let mut follows = true;
        for m in 0..(1usize << n) {
            let val: Vec<bool> = (0..n).map(|i| m >> i & 1 == 1).collect();
            if premises.iter().all(|p| eval_text(p, &val)) {
                any_model = true;
                follows &= eval_text(conclusion, &val);
            }
        }
        assert!(any_model, "premises are satisfiable");
        follows
    }

    #[test]
    fn labels_match_independent_truth_tables() {
        let env = Native::new(PropositionalEntailment);
        for d in 1..=10 {
            let mut yes = 0;
            for seed in 0..40 {
                let inst = env.generate(seed, d).unwrap();
                let data: Data = serde_json::from_value(inst.data.clone()).unwrap();
                assert_eq!(brute_force(&inst.prompt), data.entailed, "d{d} seed {seed}");
                yes += usize::from(data.entailed);
            }
            assert!((8..=32).contains(&yes), "d{d}: {yes}/40 yes");
        }
    }

    #[test]
    fn constant_answers_score_at_chance() {
        let env = Native::new(PropositionalEntailment);
        let mut yes = 0;
        let total = 600;
        for seed in 0..total {
            let inst = env.generate(seed, 1 + (seed % 10) as u8).unwrap();
            if env.verify(&inst, "<answer>yes</answer>").correct {
                yes += 1;
            }
        }
        // Fair coin: 300 expected, standard deviation ~12.
        assert!((250..=350).contains(&yes), "{yes}/{total}");
    }

    #[test]
    fn atoms_and_sizes_follow_difficulty() {
        let env = Native::new(PropositionalEntailment);
        let inst = env.generate(0, 10).unwrap();
        assert!(inst.prompt.contains("atoms p, q, r, s, t, u, v."));
        let inst = env.generate(0, 1).unwrap();
        assert!(inst.prompt.contains("atoms p, q."));
        let mut rng = Rng::from_seed(1);
        for d in 1..=10u8 {
            let p = build(&mut rng, d);
            assert_eq!(p.n, 2 + usize::from(d) / 2);
            let k = 1 + usize::from(d) / 2;
            assert!((k..=k + 1).contains(&p.premises.len()));
        }
    }

    #[test]
    fn accepts_format_variants() {
        let env = Native::new(PropositionalEntailment);
        for seed in 0..6 {
            let inst: Instance = env.generate(seed, 3).unwrap();
            let a = reference_answer(&inst).to_string();
            for v in [
                a.to_uppercase(),
                format!(" {a}.\n"),
                format!("{}{}", a[..1].to_uppercase(), &a[1..]),
            ] {
                assert!(
                    env.verify(&inst, &format!("<answer>{v}</answer>")).correct,
                    "{v}"
                );
            }
            assert!(!env.verify(&inst, &format!("<answer>{a}!</answer>")).correct);
        }
    }

    proptest! {
        #[test]
        fn check_is_total(s in ".{0,200}") {
            let _ = PropositionalEntailment.check(&Data { entailed: true }, &s);
            let _ = PropositionalEntailment.check(&Data { entailed: false }, &s);
        }
    }
}
