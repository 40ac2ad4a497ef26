//! `basic_arithmetic`: evaluate an integer arithmetic expression.
//!
//! Expressions use `+ - * /` with the usual precedence (`* /` before `+ -`,
//! left to right otherwise); every division is exact, so all intermediate
//! values are integers. The prompt states both facts.
//!
//! Difficulty d (terms; largest literal; features):
//! d1 2 terms up to 20, + -; d2 3 up to 9, + - *; d3 3 up to 99, + - *;
//! d4 4 up to 99, + - * /; d5 4 up to 99 with parentheses; d6 5 up to 99 with
//! negative numbers; d7 6 up to 999; d8 7 up to 999; d9 8 up to 999; d10 10
//! up to 9999 (negated parenthesised groups from d8). Products are kept
//! below 10^(d+2) in absolute value (so answers fit easily in i64).
//!
//! The expression is generated as a tree and printed with the shared
//! [`crate::util::expr`] printer; the answer is its exact value from the
//! shared evaluator (tests check it equals the value tracked during
//! generation and the value of the re-parsed text). The answer must be a
//! plain integer: optional sign and ASCII digits, surrounding whitespace
//! allowed (`+5` and ` 5 ` are 5); anything else (`5.0`, `5,000`, `1e3`,
//! words, `=`) is a parse error. The unique value is compared numerically.

use resyn_core::{Category, Rng, Verdict};
use serde::{Deserialize, Serialize};

use crate::util::expr::{Expr, Op};
use crate::util::parse;
use crate::{Generated, Task, TaskInfo};

pub(crate) struct BasicArithmetic;

#[derive(Serialize, Deserialize)]
pub(crate) struct Data {
    expression: String,
    answer: i64,
}

struct Level {
    terms: usize,
    max_lit: i128,
    mul: bool,
    div: bool,
    parens: bool,
    negatives: bool,
    neg_groups: bool,
    cap: i128,
}

fn level(d: u8) -> Level {
    let d = d.clamp(1, 10);
    let (terms, max_lit) = match d {
        1 => (2, 20),
        2 => (3, 9),
        3 => (3, 99),
        4..=6 => (usize::from(d), 99),
        7..=9 => (usize::from(d) - 1, 999),
        _ => (10, 9999),
    };
    Level {
        terms,
        max_lit,
        mul: d >= 2,
        div: d >= 4,
        parens: d >= 5,
        negatives: d >= 6,
        neg_groups: d >= 8,
        cap: 10i128.pow(u32::from(d) + 2),
    }
}

impl Task for BasicArithmetic {
    type Data = Data;
    type View<'a> = Data;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: "basic_arithmetic",
            version: 1,
            category: Category::Math,
            description: "Evaluate an integer arithmetic expression with + - * and exact \
                division. Difficulty d: 2 to 10 terms, literals up to 20/9/99/999/9999, \
                division from d4, parentheses from d5, negative numbers from d6; products \
                stay below 10^(d+2).",
        }
    }

    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Data> {
        let lv = level(difficulty);
        let (expr, value) = if lv.parens {
            tree(rng, &lv, lv.terms)
        } else {
            flat(rng, &lv)
        };
        // The shared evaluator is the source of truth; it agrees with the
        // tracked value (tested).
        let answer = expr
            .eval()
            .ok()
            .and_then(|q| q.as_int())
            .and_then(|v| i64::try_from(v).ok())
            .unwrap_or(value as i64);
        let mut expression = String::with_capacity(8 * lv.terms);
        expr.push_to(&mut expression);
        let prompt = format!(
            "Evaluate the following expression:\n\n{expression}\n\n* and / are done before + \
             and -, operations of equal precedence from left to right, and everything in \
             parentheses first. Every division in the expression is exact (it leaves no \
             remainder), so the result is an integer.\n\nAnswer format: the value as a plain \
             integer (digits with an optional leading minus sign, e.g. -42; no decimal point, \
             thousands separators, words or equals sign)."
        );
        Generated {
            prompt,
            answer: answer.to_string(),
            data: Data { expression, answer },
        }
    }

    fn check(&self, data: &Data, answer: &str) -> Verdict {
        let t = answer.trim();
        let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Verdict::parse_error(format!("`{}` is not a plain integer", parse::clip(t)));
        }
        match parse::int(t) {
            Ok(v) if v == data.answer => Verdict::correct(),
            Ok(v) => Verdict::wrong(format!("{v} is not the value")),
            // Over 19 digits: a valid integer, but far from any answer here.
            Err(_) => Verdict::wrong("the number is far too large"),
        }
    }
}

fn literal(rng: &mut Rng, lv: &Level, negative_ok: bool) -> Part {
    let v = i128::from(rng.range_i64(1, lv.max_lit as i64));
    if negative_ok && lv.negatives && rng.chance(1, 5) {
        (Expr::negate(Expr::Lit(v)), -v)
    } else {
        (Expr::Lit(v), v)
    }
}

/// A divisor of `v` in `2..=max_lit` other than `|v|` itself, if any
/// (uniform among those found: every divisor up to 1000 and every cofactor
/// `|v| / k` with `k <= 1000`, which is all of them unless `|v|` is huge).
fn divisor(rng: &mut Rng, v: i128, max_lit: i128) -> Option<i128> {
    let a = u64::try_from(v.unsigned_abs()).ok()?;
    let max = u64::try_from(max_lit).ok()?;
    let mut ds = Vec::new();
    let mut k = 2u64;
    while k <= 1000 && k * k <= a {
        if k > max && a / k > max {
            // Neither k nor its cofactor can be pushed until a / k <= max,
            // i.e. k > a / (max + 1): skip there (same list, fewer divisions).
            k = a / (max + 1) + 1;
            continue;
        }
        if a % k == 0 {
            if k <= max {
                ds.push(k);
            }
            let co = a / k;
            if co != k && co <= max {
                ds.push(co);
            }
        }
        k += 1;
    }
    rng.choose(&ds).map(|&d| i128::from(d))
}

type Part = (Expr, i128);

/// `a op b` with its value (`/` only ever applied exactly).
fn join(op: Op, (a, va): Part, (b, vb): Part) -> Part {
    let v = match op {
        Op::Add => va + vb,
        Op::Sub => va - vb,
        Op::Mul => va * vb,
        Op::Div => va / vb,
    };
    (Expr::bin(op, a, b), v)
}

/// Whether `a * b` stays within the level's cap.
fn product_fits(a: i128, b: i128, lv: &Level) -> bool {
    a.checked_mul(b).is_some_and(|p| p.abs() <= lv.cap)
}

fn plus_minus(rng: &mut Rng) -> Op {
    if rng.chance(1, 2) { Op::Add } else { Op::Sub }
}

/// No parentheses: a sum of products, e.g. `12 * 3 / 4 - 5 + 6 * 7`.
fn flat(rng: &mut Rng, lv: &Level) -> Part {
    // `sum op prod`, where `*` and `/` extend the current product.
    let mut sum: Option<(Part, Op)> = None;
    let mut prod = literal(rng, lv, true);
    for _ in 1..lv.terms {
        if lv.mul && rng.chance(2, 5) {
            if lv.div
                && rng.chance(1, 2)
                && let Some(d) = divisor(rng, prod.1, lv.max_lit)
            {
                prod = join(Op::Div, prod, (Expr::Lit(d), d));
                continue;
            }
            let factor = literal(rng, lv, false);
            if product_fits(prod.1, factor.1, lv) {
                prod = join(Op::Mul, prod, factor);
                continue;
            }
        }
        let done = match sum.take() {
            None => prod,
            Some((s, op)) => join(op, s, prod),
        };
        sum = Some((done, plus_minus(rng)));
        prod = literal(rng, lv, false);
    }
    match sum {
        None => prod,
        Some((s, op)) => join(op, s, prod),
    }
}

/// A random tree with `k` literals (parentheses appear where needed).
fn tree(rng: &mut Rng, lv: &Level, k: usize) -> Part {
    if k == 1 {
        return literal(rng, lv, true);
    }
    let (e, v) = match rng.below(10) {
        // Exact division by a literal divisor of the left part.
        7..=9 => {
            let left = tree(rng, lv, k - 1);
            match divisor(rng, left.1, lv.max_lit) {
                Some(d) => join(Op::Div, left, (Expr::Lit(d), d)),
                None => {
                    let right = literal(rng, lv, true);
                    join(plus_minus(rng), left, right)
                }
            }
        }
        r => {
            let l = rng.range(1, k - 1);
            let left = tree(rng, lv, l);
            let right = tree(rng, lv, k - l);
            let op = if r >= 4 && product_fits(left.1, right.1, lv) {
                Op::Mul
            } else {
                plus_minus(rng)
            };
            join(op, left, right)
        }
    };
    if lv.neg_groups && matches!(e, Expr::Bin(..)) && rng.chance(1, 8) {
        (Expr::negate(e), -v)
    } else {
        (e, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use resyn_core::probes::reference_answer;
    use resyn_core::testing::Conformance;
    use resyn_core::{Environment, Instance, Rng};

    use crate::Native;
    use crate::util::expr::{Limits, parse as parse_expr};

    fn data(inst: &Instance) -> Data {
        serde_json::from_value(inst.data.clone()).unwrap()
    }

    fn mutations(inst: &Instance, _rng: &mut Rng) -> Vec<String> {
        let a = data(inst).answer;
        let mut out = vec![
            (a + 1).to_string(),
            (a - 1).to_string(),
            format!("{a}.0"),
            format!("{a} {a}"),
            format!("= {a}"),
            format!("{a}="),
            format!("x = {a}"),
            format!("+-{a}"),
            format!("- {a}"),
            format!("{a}/1"),
            format!("({a})"),
        ];
        if a != 0 {
            out.push((-a).to_string());
            out.push((a * 10).to_string());
        }
        if a.abs() >= 1000 {
            let s = a.abs().to_string();
            let (hi, lo) = s.split_at(s.len() - 3);
            out.push(format!("{}{hi},{lo}", if a < 0 { "-" } else { "" }));
        }
        out
    }

    #[test]
    fn conformance() {
        let env = Native::new(BasicArithmetic);
        let r = Conformance::new(&env).seeds(40).wrong(mutations).run();
        assert!(r.rejected > 5000, "{r:?}");
    }

    /// The answer equals the value tracked during generation and the value
    /// of the printed expression parsed back; sizes follow the levels.
    #[test]
    fn answers_are_consistent_and_levels_hold() {
        let env = Native::new(BasicArithmetic);
        for d in 1..=10u8 {
            let lv = level(d);
            let mut distinct = std::collections::BTreeSet::new();
            for seed in 0..200 {
                let mut rng = Rng::from_seed(seed);
                let (e, v) = if lv.parens {
                    tree(&mut rng, &lv, lv.terms)
                } else {
                    flat(&mut rng, &lv)
                };
                assert_eq!(e.eval().unwrap().as_int(), Some(v), "{e}");
                assert_eq!(e.literals().len(), lv.terms, "{e}");
                assert!(e.literals().iter().all(|&x| (1..=lv.max_lit).contains(&x)));
                let inst = env.generate(seed, d).unwrap();
                let dd = data(&inst);
                let back = parse_expr(&dd.expression, &Limits::default()).unwrap();
                assert_eq!(back.eval().unwrap().as_int(), Some(i128::from(dd.answer)));
                assert!(dd.answer.unsigned_abs() < 10u64.pow(u32::from(d) + 4));
                if !lv.parens {
                    assert!(!dd.expression.contains('('), "{}", dd.expression);
                }
                if !lv.div {
                    assert!(!dd.expression.contains('/'), "{}", dd.expression);
                }
                distinct.insert(dd.expression);
            }
            assert!(distinct.len() > 150, "d{d}: {} distinct", distinct.len());
        }
    }

    #[test]
    fn features_appear() {
        let env = Native::new(BasicArithmetic);
        let all: String = (0..100)
            .map(|s| data(&env.generate(s, 9).unwrap()).expression)
            .collect();
        for c in ['+', '-', '*', '/', '('] {
            assert!(all.contains(c), "no {c} at d9");
        }
        assert!(all.contains("(-") || all.contains("-("));
    }

    #[test]
    fn accepts_integer_variants_only() {
        let t = BasicArithmetic;
        let d = Data {
            expression: "2 + 3".into(),
            answer: 5,
        };
        for ok in ["5", " 5 ", "\n5\n", "+5", "05"] {
            assert!(t.check(&d, ok).correct, "{ok}");
        }
        for bad in [
            "5.0",
            "5.",
            "5,0",
            "1e1",
            "five",
            "= 5",
            "5 =",
            "-5",
            "+-5",
            "- 5",
            "2 + 3",
            "",
            "５",
            "5\n5",
            "99999999999999999999999",
        ] {
            assert!(!t.check(&d, bad).correct, "{bad}");
        }
        let neg = Data {
            expression: "2 - 7".into(),
            answer: -5,
        };
        assert!(t.check(&neg, "-5").correct);
        assert!(!t.check(&neg, "5").correct);
    }

    proptest! {
        #[test]
        fn check_never_panics(s in ".{0,100}", n in any::<i64>()) {
            let env = Native::new(BasicArithmetic);
            let inst = env.generate(6, 10).unwrap();
            let d = data(&inst);
            let _ = env.task().check(&d, &s);
            prop_assert_eq!(env.task().check(&d, &n.to_string()).correct, n == d.answer);
        }
    }

    #[test]
    fn reference_is_plain() {
        let env = Native::new(BasicArithmetic);
        let inst = env.generate(1, 10).unwrap();
        assert_eq!(reference_answer(&inst), data(&inst).answer.to_string());
    }
}
