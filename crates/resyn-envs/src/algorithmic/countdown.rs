//! `countdown`: combine the given numbers with `+ - * /` and parentheses into
//! an expression whose value is exactly the target.
//!
//! Rules (stated in the prompt): each listed number may be used at most once
//! (a number listed twice may be used twice); not all need be used; no other
//! numbers, no unary minus, no concatenating digits. Arithmetic is exact:
//! intermediate fractions are allowed (`8 / (3 - 8 / 3)` is 24), only the
//! value of the whole expression must equal the target.
//!
//! Difficulty (count of numbers, their range, target range):
//! d1 3 numbers 1-9, target 10-60; d2 the 24 game: 4 numbers 1-13, target 24;
//! d3 4 of 1-20, 20-100; d4 4 of 1-50, 50-300; d5 5 of 1-50, 100-500;
//! d6 5 of 1-100, 100-999; d7 the TV-show mix (four of 1-10 and two of
//! 25/50/75/100), 100-999; d8 6 of 1-100, 100-999; d9 7 of 1-100, 200-2000;
//! d10 8 of 1-100, 500-5000.
//!
//! Solvability: the target is the value of a planted expression that uses
//! every number once with positive integer intermediate results (d2: the
//! four numbers are redrawn until an exhaustive search finds a way to 24). The
//! target is never one of the numbers. The reference is that expression.
//!
//! Verification (many answers are valid, so validity is checked, never the
//! text): the answer must parse as one expression of the shared grammar
//! ([`crate::util::expr`], bounded length and nesting); the multiset of its
//! number literals must fit inside the given multiset; its exact rational
//! value (i128, overflow-checked; division by zero is a wrong answer) must
//! equal the target.

use resyn_core::{Category, Rng, Verdict};
use serde::{Deserialize, Serialize};

use crate::util::expr::{self, Expr, Limits, Op, Q};
use crate::{Generated, Task, TaskInfo};

pub(crate) struct Countdown;

#[derive(Serialize, Deserialize)]
pub(crate) struct Data {
    /// The available numbers, in the order shown.
    numbers: Vec<u32>,
    target: u32,
}

/// How answers are parsed: no unary minus, short, shallow.
const LIMITS: Limits = Limits {
    max_bytes: 2000,
    max_tokens: 400,
    max_nesting: 40,
    unary_minus: false,
};

struct Level {
    count: usize,
    lo: u32,
    hi: u32,
    target: (u32, u32),
}

fn level(d: u8) -> Level {
    let (count, lo, hi, target) = match d {
        1 => (3, 1, 9, (10, 60)),
        2 => (4, 1, 13, (24, 24)),
        3 => (4, 1, 20, (20, 100)),
        4 => (4, 1, 50, (50, 300)),
        5 => (5, 1, 50, (100, 500)),
        6 => (5, 1, 100, (100, 999)),
        7 => (6, 1, 10, (100, 999)),
        8 => (6, 1, 100, (100, 999)),
        9 => (7, 1, 100, (200, 2000)),
        _ => (8, 1, 100, (500, 5000)),
    };
    Level {
        count,
        lo,
        hi,
        target,
    }
}

impl Task for Countdown {
    type Data = Data;
    type View<'a> = Data;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: "countdown",
            version: 1,
            category: Category::Algorithmic,
            description: "Countdown numbers game: write an expression with + - * / and \
                parentheses, using each given number at most once, whose exact value is the \
                target. d1: 3 numbers 1-9; d2: the 24 game (4 numbers 1-13); d3-d10: 4 to 8 \
                numbers up to 100 (d7 the TV-show small/large mix), targets up to 5000.",
        }
    }

    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Data> {
        let lv = level(difficulty);
        let (numbers, expr) = if difficulty == 2 {
            game24(rng)
        } else {
            let numbers = draw_numbers(rng, &lv, difficulty);
            let expr = plant(rng, &numbers, lv.target).unwrap_or_else(|| sum_expr(&numbers));
            (numbers, expr)
        };
        let target = expr
            .eval()
            .ok()
            .and_then(Q::as_int)
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(0);
        let shown = numbers
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let prompt = format!(
            "Countdown numbers game. Numbers: {shown}. Target: {target}.\n\n\
             Write an arithmetic expression whose value is exactly {target}, using only the \
             numbers above, the operators + - * / and parentheses. Each listed number may be \
             used at most once (a number listed twice may be used twice); you do not have to \
             use all of them, and no other numbers may appear. Numbers cannot be negated or \
             joined to form new numbers. Division is exact: fractions may appear in \
             intermediate steps, but the whole expression must equal {target} exactly.\n\n\
             Answer format: only the expression, written with digits, + - * / and \
             parentheses, for example (3 + 5) * 2 - 1. Do not write `=` or the target."
        );
        Generated {
            prompt,
            answer: expr.to_string(),
            data: Data { numbers, target },
        }
    }

    fn check(&self, data: &Data, answer: &str) -> Verdict {
        let e = match expr::parse(answer, &LIMITS) {
            Ok(e) => e,
            Err(err) => return Verdict::parse_error(err),
        };
        Verdict::from_check(check_expr(data, &e))
    }
}

fn check_expr(data: &Data, e: &Expr) -> Result<(), String> {
    let mut pool: Vec<Option<u32>> = data.numbers.iter().copied().map(Some).collect();
    for lit in e.literals() {
        let slot = pool
            .iter_mut()
            .find(|p| p.is_some_and(|v| i128::from(v) == lit))
            .ok_or_else(|| format!("{lit} is not available (or used too often)"))?;
        *slot = None;
    }
    let v = e.eval().map_err(|err| err.to_string())?;
    if v == Q::int(i128::from(data.target)) {
        Ok(())
    } else {
        Err(format!("the expression equals {v}, not {}", data.target))
    }
}

fn draw_numbers(rng: &mut Rng, lv: &Level, difficulty: u8) -> Vec<u32> {
    let mut numbers: Vec<u32> = (0..lv.count)
        .map(|_| rng.range(lv.lo as usize, lv.hi as usize) as u32)
        .collect();
    if difficulty == 7 {
        // Two distinct large numbers replace two small ones.
        let large = [25, 50, 75, 100];
        for (k, i) in rng.sample_indices(4, 2).into_iter().enumerate() {
            numbers[k] = large[i];
        }
        rng.shuffle(&mut numbers);
    }
    numbers
}

/// Combine all numbers at random (positive integer intermediates) until the
/// result lands in the target range and is not one of the numbers.
fn plant(rng: &mut Rng, numbers: &[u32], (tlo, thi): (u32, u32)) -> Option<Expr> {
    let cap = u64::from(thi) * 4;
    for _ in 0..300 {
        let mut pool: Vec<(u64, Expr)> = numbers
            .iter()
            .map(|&v| (u64::from(v), Expr::Lit(i128::from(v))))
            .collect();
        while pool.len() > 1 {
            let i = rng.index(pool.len());
            let mut j = rng.index(pool.len() - 1);
            if j >= i {
                j += 1;
            }
            let (a, b) = (pool[i].0, pool[j].0);
            // (op, left is pool[i]) candidates with positive integer results.
            let mut ops: Vec<(Op, bool)> = vec![(Op::Add, true)];
            if a != b {
                ops.push((Op::Sub, a > b));
            }
            if a > 1 && b > 1 && a * b <= cap {
                ops.extend([(Op::Mul, true), (Op::Mul, true)]);
            }
            if b > 1 && a % b == 0 {
                ops.extend([(Op::Div, true), (Op::Div, true)]);
            }
            if a > 1 && b % a == 0 {
                ops.extend([(Op::Div, false), (Op::Div, false)]);
            }
            let (op, i_left) = ops[rng.index(ops.len())];
            let (hi_idx, lo_idx) = if i > j { (i, j) } else { (j, i) };
            let x = pool.swap_remove(hi_idx);
            let y = pool.swap_remove(lo_idx);
            let ((va, ea), (vb, eb)) = if hi_idx == i { (x, y) } else { (y, x) };
            let ((lv, le), (rv, re)) = if i_left {
                ((va, ea), (vb, eb))
            } else {
                ((vb, eb), (va, ea))
            };
            let v = match op {
                Op::Add => lv + rv,
                Op::Sub => lv - rv,
                Op::Mul => lv * rv,
                Op::Div => lv / rv,
            };
            pool.push((v, Expr::bin(op, le, re)));
        }
        let (v, e) = pool.pop()?;
        if (u64::from(tlo)..=u64::from(thi)).contains(&v)
            && !numbers.iter().any(|&n| u64::from(n) == v)
        {
            return Some(e);
        }
    }
    None
}

/// Fallback plant: the sum of all numbers (larger than each of them).
fn sum_expr(numbers: &[u32]) -> Expr {
    let mut it = numbers.iter().map(|&v| Expr::Lit(i128::from(v)));
    let first = it.next().unwrap_or(Expr::Lit(0));
    it.fold(first, |acc, x| Expr::bin(Op::Add, acc, x))
}

/// The 24 game: four numbers 1-13 with a way to 24 using each exactly once.
fn game24(rng: &mut Rng) -> (Vec<u32>, Expr) {
    for _ in 0..100 {
        let numbers: Vec<u32> = (0..4).map(|_| rng.range(1, 13) as u32).collect();
        if let Some(e) = solve_exact(&numbers, 24) {
            return (numbers, e);
        }
    }
    // Unreachable in practice (most draws are solvable): 1 * 2 * 3 * 4.
    let numbers = vec![1, 2, 3, 4];
    let e = numbers[1..].iter().fold(Expr::Lit(1), |acc, &v| {
        Expr::bin(Op::Mul, acc, Expr::Lit(i128::from(v)))
    });
    (numbers, e)
}

/// Most numbers [`solve_exact`] accepts.
const MAX_SOLVE: usize = 6;

/// An expression using every number exactly once with value `target`, found
/// by exhaustive search over pairwise combinations (fast for 4 numbers;
/// `None` for more than [`MAX_SOLVE`]).
fn solve_exact(numbers: &[u32], target: i128) -> Option<Expr> {
    type Step = (usize, usize, Op, bool);
    const MOVES: [(Op, bool); 6] = [
        (Op::Add, false),
        (Op::Mul, false),
        (Op::Sub, false),
        (Op::Sub, true),
        (Op::Div, false),
        (Op::Div, true),
    ];
    /// Replay `steps` on expression trees.
    fn build(numbers: &[u32], steps: &[Step]) -> Option<Expr> {
        let mut exprs: Vec<Option<Expr>> = numbers
            .iter()
            .map(|&v| Some(Expr::Lit(i128::from(v))))
            .collect();
        for &(i, j, op, swap) in steps {
            let a = exprs.get_mut(i)?.take()?;
            let b = exprs.get_mut(j)?.take()?;
            let mut next: Vec<Option<Expr>> = exprs.into_iter().filter(Option::is_some).collect();
            let (l, r) = if swap { (b, a) } else { (a, b) };
            next.push(Some(Expr::bin(op, l, r)));
            exprs = next;
        }
        exprs.pop().flatten()
    }
    /// Search in floating point (fast); a near hit is confirmed exactly
    /// with the rational evaluator before it counts.
    fn search(vals: &[f64], numbers: &[u32], target: i128, steps: &mut Vec<Step>) -> Option<Expr> {
        if vals.len() == 1 {
            if (vals[0] - target as f64).abs() > 1e-6 {
                return None;
            }
            let e = build(numbers, steps)?;
            return (e.eval() == Ok(Q::int(target))).then_some(e);
        }
        for i in 0..vals.len() {
            for j in i + 1..vals.len() {
                for (op, swap) in MOVES {
                    let (x, y) = if swap {
                        (vals[j], vals[i])
                    } else {
                        (vals[i], vals[j])
                    };
                    let r = match op {
                        Op::Add => x + y,
                        Op::Sub => x - y,
                        Op::Mul => x * y,
                        Op::Div if y == 0.0 => continue,
                        Op::Div => x / y,
                    };
                    // The remaining values, then the new one (no allocation).
                    let mut next = [0.0; MAX_SOLVE];
                    let mut m = 0;
                    for (k, &v) in vals.iter().enumerate() {
                        if k != i && k != j {
                            next[m] = v;
                            m += 1;
                        }
                    }
                    next[m] = r;
                    steps.push((i, j, op, swap));
                    if let Some(e) = search(&next[..=m], numbers, target, steps) {
                        return Some(e);
                    }
                    steps.pop();
                }
            }
        }
        None
    }
    if numbers.is_empty() || numbers.len() > MAX_SOLVE {
        return None;
    }
    let vals: Vec<f64> = numbers.iter().map(|&v| f64::from(v)).collect();
    search(&vals, numbers, target, &mut Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use resyn_core::probes::reference_answer;
    use resyn_core::testing::Conformance;
    use resyn_core::{Environment, Rng};

    use crate::Native;

    fn data(inst: &resyn_core::Instance) -> Data {
        serde_json::from_value(inst.data.clone()).unwrap()
    }

    /// Independent oracle: digit runs as the numbers used, f64 shunting-yard
    /// evaluation.
    fn oracle(d: &Data, answer: &str) -> bool {
        let mut pool = d.numbers.clone();
        let mut out: Vec<f64> = Vec::new();
        let mut ops: Vec<char> = Vec::new();
        let prec = |c: char| if c == '+' || c == '-' { 1 } else { 2 };
        fn apply(out: &mut Vec<f64>, op: char) -> Option<()> {
            let b = out.pop()?;
            let a = out.pop()?;
            out.push(match op {
                '+' => a + b,
                '-' => a - b,
                '*' => a * b,
                _ => a / b,
            });
            Some(())
        }
        let chars: Vec<char> = answer.chars().filter(|c| !c.is_whitespace()).collect();
        let mut k = 0;
        let mut expect_operand = true;
        while k < chars.len() {
            let c = chars[k];
            if c.is_ascii_digit() {
                if !expect_operand {
                    return false;
                }
                let mut v = 0u64;
                while k < chars.len() && chars[k].is_ascii_digit() {
                    v = v.saturating_mul(10).saturating_add(chars[k] as u64 - 48);
                    k += 1;
                }
                let Some(p) = pool.iter().position(|&n| u64::from(n) == v) else {
                    return false;
                };
                pool.remove(p);
                out.push(v as f64);
                expect_operand = false;
                continue;
            }
            match c {
                '(' if expect_operand => ops.push(c),
                ')' if !expect_operand => loop {
                    match ops.pop() {
                        Some('(') => break,
                        Some(op) => {
                            if apply(&mut out, op).is_none() {
                                return false;
                            }
                        }
                        None => return false,
                    }
                },
                '+' | '-' | '*' | '/' if !expect_operand => {
                    while let Some(&top) = ops.last() {
                        if top == '(' || prec(top) < prec(c) {
                            break;
                        }
                        ops.pop();
                        if apply(&mut out, top).is_none() {
                            return false;
                        }
                    }
                    ops.push(c);
                    expect_operand = true;
                }
                _ => return false,
            }
            k += 1;
        }
        if expect_operand {
            return false;
        }
        while let Some(op) = ops.pop() {
            if op == '(' || apply(&mut out, op).is_none() {
                return false;
            }
        }
        out.len() == 1 && (out[0] - f64::from(d.target)).abs() < 1e-6
    }

    fn mutations(inst: &resyn_core::Instance, rng: &mut Rng) -> Vec<String> {
        let d = data(inst);
        let ans = reference_answer(inst).to_string();
        let mut out = Vec::new();
        // The reference uses every number, so any extra number is one too many.
        let extra = d.numbers[rng.index(d.numbers.len())];
        out.push(format!("{ans} + {extra}"));
        out.push(format!("({ans}) * {extra}"));
        out.push(format!("{ans} - {extra} + {extra}"));
        // A number that is not available.
        let absent = d.numbers.iter().max().copied().unwrap_or(0) + 1;
        out.push(format!("{ans} - {absent} + {absent}"));
        let lits: Vec<i128> = expr::parse(&ans, &LIMITS).unwrap().literals();
        let first = lits[0].to_string();
        out.push(ans.replacen(&first, &absent.to_string(), 1));
        // Change one operator (may by chance still be right: oracle decides).
        for (from, to) in [
            (" + ", " * "),
            (" * ", " + "),
            (" - ", " + "),
            (" / ", " * "),
        ] {
            if ans.contains(from) {
                out.push(ans.replacen(from, to, 1));
            }
        }
        // Format violations.
        out.push(format!("{ans} = {}", d.target));
        out.push(format!("{ans})"));
        out.push(format!("{ans}\n{ans}"));
        out.push(format!("-({ans}) + {}", 2 * d.target));
        out
    }

    #[test]
    fn conformance() {
        let env = Native::new(Countdown);
        let r = Conformance::new(&env)
            .seeds(25)
            .wrong(mutations)
            .acceptable(|inst, a| oracle(&data(inst), a))
            .run();
        assert!(r.rejected > 3000, "{r:?}");
    }

    #[test]
    fn levels_hit_their_ranges() {
        let env = Native::new(Countdown);
        for d in 1..=10u8 {
            let lv = level(d);
            let mut in_range = 0;
            for seed in 0..200 {
                let inst = env.generate(seed, d).unwrap();
                let dd = data(&inst);
                assert_eq!(dd.numbers.len(), lv.count);
                assert!(!dd.numbers.contains(&dd.target));
                assert!(oracle(&dd, reference_answer(&inst)));
                if (lv.target.0..=lv.target.1).contains(&dd.target) {
                    in_range += 1;
                }
            }
            assert!(
                in_range >= 195,
                "d{d}: only {in_range}/200 targets in range"
            );
        }
    }

    /// Every expression over every ordered subset of a d1 instance's numbers
    /// (all operators, all bracketings) is accepted iff it is really right.
    #[test]
    fn verifier_agrees_with_exhaustive_enumeration() {
        fn all_exprs(nums: &[u32]) -> Vec<Expr> {
            if nums.len() == 1 {
                return vec![Expr::Lit(i128::from(nums[0]))];
            }
            let mut out = Vec::new();
            for split in 1..nums.len() {
                for l in all_exprs(&nums[..split]) {
                    for r in all_exprs(&nums[split..]) {
                        for op in Op::ALL {
                            out.push(Expr::bin(op, l.clone(), r.clone()));
                        }
                    }
                }
            }
            out
        }
        let env = Native::new(Countdown);
        let mut accepted = 0;
        for seed in 0..6 {
            let inst = env.generate(seed, 1).unwrap();
            let d = data(&inst);
            let n = d.numbers.len();
            let mut orders: Vec<Vec<u32>> = Vec::new();
            for mask in 1u32..(1 << n) {
                let sub: Vec<u32> = (0..n)
                    .filter(|&i| mask >> i & 1 == 1)
                    .map(|i| d.numbers[i])
                    .collect();
                // All permutations of `sub` (n <= 3).
                let mut perms = vec![sub.clone()];
                if sub.len() >= 2 {
                    perms.clear();
                    let k = sub.len();
                    for p in 0..k * k * k {
                        let idx = [p % k, p / k % k, p / (k * k) % k];
                        let idx = &idx[..k];
                        let mut seen = idx.to_vec();
                        seen.sort_unstable();
                        seen.dedup();
                        if seen.len() == k {
                            perms.push(idx.iter().map(|&i| sub[i]).collect());
                        }
                    }
                }
                orders.extend(perms);
            }
            for order in orders {
                for e in all_exprs(&order) {
                    let text = e.to_string();
                    let got = env.task().check(&d, &text).correct;
                    assert_eq!(got, oracle(&d, &text), "{text} for {:?}", d.numbers);
                    accepted += usize::from(got);
                }
            }
        }
        assert!(accepted > 0);
    }

    #[test]
    fn game24_is_solvable_and_solver_is_right() {
        assert!(solve_exact(&[1, 1, 1, 1], 24).is_none());
        let e = solve_exact(&[3, 3, 8, 8], 24).unwrap();
        assert_eq!(e.eval(), Ok(Q::int(24)));
        assert!(oracle(
            &Data {
                numbers: vec![3, 3, 8, 8],
                target: 24
            },
            &e.to_string()
        ));
        let env = Native::new(Countdown);
        for seed in 0..50 {
            let inst = env.generate(seed, 2).unwrap();
            let d = data(&inst);
            assert_eq!(d.target, 24);
            let mut lits = expr::parse(reference_answer(&inst), &LIMITS)
                .unwrap()
                .literals();
            lits.sort_unstable();
            let mut nums: Vec<i128> = d.numbers.iter().map(|&v| i128::from(v)).collect();
            nums.sort_unstable();
            assert_eq!(lits, nums, "24 game references use every number once");
        }
    }

    /// The well-known count: 1362 of the 1820 multisets of four numbers
    /// 1-13 can make 24 (each number used exactly once).
    #[test]
    fn game24_solvable_count_is_1362() {
        let mut solvable = 0;
        let mut total = 0;
        for a in 1..=13u32 {
            for b in a..=13 {
                for c in b..=13 {
                    for d in c..=13 {
                        total += 1;
                        if let Some(e) = solve_exact(&[a, b, c, d], 24) {
                            assert_eq!(e.eval(), Ok(Q::int(24)));
                            solvable += 1;
                        }
                    }
                }
            }
        }
        assert_eq!((solvable, total), (1362, 1820));
    }

    #[test]
    fn accepts_format_variants_and_fractions() {
        let task = Countdown;
        let d = Data {
            numbers: vec![3, 3, 8, 8],
            target: 24,
        };
        for ok in [
            "8/(3-8/3)",
            " 8 / ( 3 - 8 / 3 ) ",
            "\n8 /\n(3 - (8 / 3))\n",
            "((8/(3-8/3)))",
            "8*3",
            "(3 * 8)",
        ] {
            assert!(task.check(&d, ok).correct, "{ok}");
        }
        for bad in [
            "8/(3-8/3) = 24",
            "24",
            "8*3*3/3",
            "8/(3-8/3)+3-3",
            "8 × 3",
            "8/(3-3)",
            "-8*-3",
        ] {
            assert!(!task.check(&d, bad).correct, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn check_never_panics(s in ".{0,300}", t in "[0-9()+*/ -]{0,200}") {
            let env = Native::new(Countdown);
            let inst = env.generate(1, 8).unwrap();
            let d = data(&inst);
            let _ = env.task().check(&d, &s);
            let v = env.task().check(&d, &t);
            prop_assert!(!v.correct || oracle(&d, &t));
        }
    }
}
