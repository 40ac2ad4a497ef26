//! Exact arithmetic expressions: a small parser, an evaluator over rationals
//! and a printer with minimal parentheses.
//!
//! Grammar (whitespace anywhere between tokens):
//! ```text
//! expr   := term (('+' | '-') term)*
//! term   := factor (('*' | '/') factor)*
//! factor := NUMBER | '(' expr ')' | '-' factor      (the last only if Limits::unary_minus)
//! NUMBER := ASCII digits (no sign, no decimal point, no digit separators)
//! ```
//! `+ -` and `* /` are left-associative and `*` `/` bind tighter than `+` `-`,
//! as in ordinary arithmetic. Nothing else is accepted: no `=`, no `x` or `×`
//! for multiplication, no implicit multiplication, no decimals.
//!
//! Evaluation is exact: rationals with `i128` numerator and denominator,
//! reduced after every step; every operation is overflow-checked, so
//! overflow and division by zero are errors, never panics or wrong values.
//! Parsing is bounded ([`Limits`]: bytes, tokens, nesting), which bounds the
//! recursion depth of parsing, evaluation and dropping, so hostile input can
//! neither panic nor exhaust the stack.

use std::fmt;

use super::text;

/// An exact rational number `num/den`, always reduced with `den > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Q {
    num: i128,
    den: i128,
}

/// Why an expression has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalError {
    /// A division by zero.
    DivByZero,
    /// An intermediate value does not fit in `i128`.
    Overflow,
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::DivByZero => "division by zero",
            Self::Overflow => "a value is too large",
        })
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Q {
    /// The integer `v`.
    pub fn int(v: i128) -> Self {
        Self { num: v, den: 1 }
    }

    /// `num/den`, reduced.
    ///
    /// # Errors
    /// [`EvalError::DivByZero`] when `den == 0`, [`EvalError::Overflow`] when
    /// the sign cannot be normalized (`i128::MIN`).
    pub fn new(num: i128, den: i128) -> Result<Self, EvalError> {
        if den == 0 {
            return Err(EvalError::DivByZero);
        }
        let (num, den) = if den < 0 {
            (
                num.checked_neg().ok_or(EvalError::Overflow)?,
                den.checked_neg().ok_or(EvalError::Overflow)?,
            )
        } else {
            (num, den)
        };
        // 0 < g <= den <= i128::MAX, so the cast is exact.
        let g = gcd(num.unsigned_abs(), den.unsigned_abs()) as i128;
        Ok(Self {
            num: num / g,
            den: den / g,
        })
    }

    /// Numerator (sign carrier).
    pub fn num(self) -> i128 {
        self.num
    }

    /// Denominator (always positive).
    pub fn den(self) -> i128 {
        self.den
    }

    /// The value as an integer, if it is one.
    pub fn as_int(self) -> Option<i128> {
        (self.den == 1).then_some(self.num)
    }

    /// `self + o`.
    ///
    /// # Errors
    /// [`EvalError::Overflow`].
    pub fn checked_add(self, o: Self) -> Result<Self, EvalError> {
        let ov = EvalError::Overflow;
        let n = self
            .num
            .checked_mul(o.den)
            .and_then(|a| o.num.checked_mul(self.den).and_then(|b| a.checked_add(b)))
            .ok_or(ov)?;
        Self::new(n, self.den.checked_mul(o.den).ok_or(ov)?)
    }

    /// `-self`.
    ///
    /// # Errors
    /// [`EvalError::Overflow`].
    pub fn checked_neg(self) -> Result<Self, EvalError> {
        Ok(Self {
            num: self.num.checked_neg().ok_or(EvalError::Overflow)?,
            den: self.den,
        })
    }

    /// `self - o`.
    ///
    /// # Errors
    /// [`EvalError::Overflow`].
    pub fn checked_sub(self, o: Self) -> Result<Self, EvalError> {
        self.checked_add(o.checked_neg()?)
    }

    /// `self * o`.
    ///
    /// # Errors
    /// [`EvalError::Overflow`].
    pub fn checked_mul(self, o: Self) -> Result<Self, EvalError> {
        let ov = EvalError::Overflow;
        Self::new(
            self.num.checked_mul(o.num).ok_or(ov)?,
            self.den.checked_mul(o.den).ok_or(ov)?,
        )
    }

    /// `self / o`.
    ///
    /// # Errors
    /// [`EvalError::DivByZero`] when `o` is zero, [`EvalError::Overflow`].
    pub fn checked_div(self, o: Self) -> Result<Self, EvalError> {
        if o.num == 0 {
            return Err(EvalError::DivByZero);
        }
        let ov = EvalError::Overflow;
        Self::new(
            self.num.checked_mul(o.den).ok_or(ov)?,
            self.den.checked_mul(o.num).ok_or(ov)?,
        )
    }

    /// Apply a binary operator.
    ///
    /// # Errors
    /// As the operator's method.
    pub fn apply(self, op: Op, o: Self) -> Result<Self, EvalError> {
        match op {
            Op::Add => self.checked_add(o),
            Op::Sub => self.checked_sub(o),
            Op::Mul => self.checked_mul(o),
            Op::Div => self.checked_div(o),
        }
    }
}

impl fmt::Display for Q {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

impl Op {
    /// All operators.
    pub const ALL: [Op; 4] = [Op::Add, Op::Sub, Op::Mul, Op::Div];

    /// The operator's symbol.
    pub fn symbol(self) -> char {
        match self {
            Op::Add => '+',
            Op::Sub => '-',
            Op::Mul => '*',
            Op::Div => '/',
        }
    }

    fn prec(self) -> u8 {
        match self {
            Op::Add | Op::Sub => 1,
            Op::Mul | Op::Div => 2,
        }
    }
}

/// An expression tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A number literal (the parser only produces non-negative ones).
    Lit(i128),
    /// Unary minus.
    Neg(Box<Expr>),
    /// A binary operation.
    Bin(Op, Box<Expr>, Box<Expr>),
}

impl Expr {
    /// `a op b`.
    pub fn bin(op: Op, a: Expr, b: Expr) -> Self {
        Self::Bin(op, Box::new(a), Box::new(b))
    }

    /// `-a`.
    pub fn negate(a: Expr) -> Self {
        Self::Neg(Box::new(a))
    }

    /// The exact value.
    ///
    /// # Errors
    /// Division by zero or overflow anywhere in the tree.
    pub fn eval(&self) -> Result<Q, EvalError> {
        match self {
            Self::Lit(v) => Ok(Q::int(*v)),
            Self::Neg(a) => a.eval()?.checked_neg(),
            Self::Bin(op, a, b) => a.eval()?.apply(*op, b.eval()?),
        }
    }

    /// The number literals, left to right.
    pub fn literals(&self) -> Vec<i128> {
        fn walk(e: &Expr, out: &mut Vec<i128>) {
            match e {
                Expr::Lit(v) => out.push(*v),
                Expr::Neg(a) => walk(a, out),
                Expr::Bin(_, a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }

    /// Whether the printed form starts with a minus sign.
    fn starts_with_minus(&self) -> bool {
        match self {
            Self::Lit(v) => *v < 0,
            Self::Neg(_) => true,
            Self::Bin(_, a, _) => a.starts_with_minus(),
        }
    }

    /// Binding strength for printing: sums 1, products 2, negation 3, atoms 4.
    fn prec(&self) -> u8 {
        match self {
            Self::Lit(v) if *v < 0 => 3,
            Self::Lit(_) => 4,
            Self::Neg(_) => 3,
            Self::Bin(op, _, _) => op.prec(),
        }
    }
}

impl Expr {
    /// Append the printed form (see the `Display` impl) to `s`; generators
    /// print straight into their prompt buffer this way, without the
    /// formatting machinery (and i128's slow `Display`) per node.
    pub fn push_to(&self, s: &mut String) {
        fn paren(s: &mut String, e: &Expr, wrap: bool) {
            if wrap {
                s.push('(');
                e.push_to(s);
                s.push(')');
            } else {
                e.push_to(s);
            }
        }
        match self {
            Self::Lit(v) => {
                if *v < 0 {
                    s.push('-');
                }
                let m = v.unsigned_abs();
                match u64::try_from(m) {
                    Ok(small) => text::push_uint(s, small),
                    Err(_) => s.push_str(&m.to_string()),
                }
            }
            Self::Neg(a) => {
                s.push('-');
                paren(s, a, a.prec() < 4);
            }
            Self::Bin(op, a, b) => {
                let p = op.prec();
                paren(s, a, a.prec() < p);
                s.push(' ');
                s.push(op.symbol());
                s.push(' ');
                let wrap = b.prec() < p
                    || (b.prec() == p && matches!(op, Op::Sub | Op::Div))
                    || b.starts_with_minus();
                paren(s, b, wrap);
            }
        }
    }
}

impl fmt::Display for Expr {
    /// Minimal parentheses for the grammar above, plus parentheses around a
    /// right operand that starts with a minus sign (`3 - (-5)`, never
    /// `3 - -5`). Printing then
    /// parsing gives a tree with the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.push_to(&mut s);
        f.write_str(&s)
    }
}

/// Bounds on what [`parse`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted input, in bytes.
    pub max_bytes: usize,
    /// Most tokens (numbers, operators, parentheses).
    pub max_tokens: usize,
    /// Deepest nesting of parentheses and unary minus.
    pub max_nesting: usize,
    /// Whether unary minus (`-5`, `-(2 + 3)`) is allowed.
    pub unary_minus: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 4096,
            max_tokens: 1024,
            max_nesting: 64,
            unary_minus: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Num(i128),
    Op(Op),
    Open,
    Close,
}

fn lex(s: &str, lim: &Limits) -> Result<Vec<Tok>, String> {
    if s.len() > lim.max_bytes {
        return Err(format!("expression longer than {} bytes", lim.max_bytes));
    }
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let tok = match c {
            c if c.is_whitespace() => continue,
            '0'..='9' => {
                let mut v = i128::from(c as u8 - b'0');
                while let Some(&d) = chars.peek()
                    && d.is_ascii_digit()
                {
                    chars.next();
                    v = v
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(i128::from(d as u8 - b'0')))
                        .ok_or("a number is too large")?;
                }
                Tok::Num(v)
            }
            '+' => Tok::Op(Op::Add),
            '-' => Tok::Op(Op::Sub),
            '*' => Tok::Op(Op::Mul),
            '/' => Tok::Op(Op::Div),
            '(' => Tok::Open,
            ')' => Tok::Close,
            other => {
                return Err(format!("unexpected character `{other}`"));
            }
        };
        out.push(tok);
        if out.len() > lim.max_tokens {
            return Err(format!(
                "expression has more than {} tokens",
                lim.max_tokens
            ));
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: &'a [Tok],
    pos: usize,
    depth: usize,
    lim: &'a Limits,
}

impl Parser<'_> {
    fn peek(&self) -> Option<Tok> {
        self.toks.get(self.pos).copied()
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let mut left = self.term()?;
        while let Some(Tok::Op(op @ (Op::Add | Op::Sub))) = self.peek() {
            self.pos += 1;
            left = Expr::bin(op, left, self.term()?);
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, String> {
        let mut left = self.factor()?;
        while let Some(Tok::Op(op @ (Op::Mul | Op::Div))) = self.peek() {
            self.pos += 1;
            left = Expr::bin(op, left, self.factor()?);
        }
        Ok(left)
    }

    fn factor(&mut self) -> Result<Expr, String> {
        let tok = self.peek().ok_or("expression ends too early")?;
        self.pos += 1;
        match tok {
            Tok::Num(v) => Ok(Expr::Lit(v)),
            Tok::Open => {
                self.nest()?;
                let e = self.expr()?;
                self.depth -= 1;
                match self.peek() {
                    Some(Tok::Close) => {
                        self.pos += 1;
                        Ok(e)
                    }
                    _ => Err("missing `)`".into()),
                }
            }
            Tok::Op(Op::Sub) if self.lim.unary_minus => {
                self.nest()?;
                let e = self.factor()?;
                self.depth -= 1;
                Ok(Expr::negate(e))
            }
            Tok::Op(op) => Err(format!("unexpected operator `{}`", op.symbol())),
            Tok::Close => Err("unexpected `)`".into()),
        }
    }

    fn nest(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > self.lim.max_nesting {
            Err(format!("nesting deeper than {}", self.lim.max_nesting))
        } else {
            Ok(())
        }
    }
}

/// Parse an expression (see the module docs for the grammar).
///
/// # Errors
/// A short reason when the text is not exactly one expression within `lim`.
pub fn parse(s: &str, lim: &Limits) -> Result<Expr, String> {
    let toks = lex(s, lim)?;
    if toks.is_empty() {
        return Err("empty expression".into());
    }
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        depth: 0,
        lim,
    };
    let e = p.expr()?;
    match p.peek() {
        None => Ok(e),
        Some(Tok::Close) => Err("unmatched `)`".into()),
        Some(_) => Err("unexpected text after the expression".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use resyn_core::Rng;

    fn val(s: &str) -> Result<Q, String> {
        parse(s, &Limits::default())?
            .eval()
            .map_err(|e| e.to_string())
    }

    fn q(n: i128, d: i128) -> Q {
        Q::new(n, d).unwrap()
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(val("2+3*4"), Ok(Q::int(14)));
        assert_eq!(val("(2+3)*4"), Ok(Q::int(20)));
        assert_eq!(val("10-4-3"), Ok(Q::int(3)));
        assert_eq!(val("10-(4-3)"), Ok(Q::int(9)));
        assert_eq!(val("64/4/2"), Ok(Q::int(8)));
        assert_eq!(val("64/(4/2)"), Ok(Q::int(32)));
        assert_eq!(val("8/(3-8/3)"), Ok(Q::int(24)));
        assert_eq!(val("1/3 + 1/6"), Ok(q(1, 2)));
        assert_eq!(val("-3*-2"), Ok(Q::int(6)));
        assert_eq!(val("2--3"), Ok(Q::int(5)));
        assert_eq!(val("-(2+3)*4"), Ok(Q::int(-20)));
        assert_eq!(val(" \n 7 \t"), Ok(Q::int(7)));
        assert_eq!(val("007"), Ok(Q::int(7)));
    }

    #[test]
    fn rejects_malformed_and_errors() {
        for bad in [
            "",
            " ",
            "2+",
            "+2",
            "2 3",
            "2(3)",
            "(2+3",
            "2+3)",
            "2.5",
            "2x3",
            "2×3",
            "2=2",
            "()",
            "2**3",
            "1,000",
            "--",
            "1 + 2\n3 + 4",
        ] {
            assert!(val(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(val("1/0"), Err("division by zero".into()));
        assert_eq!(val("1/(2-2)"), Err("division by zero".into()));
        assert!(val(&"9".repeat(45)).is_err());
        let big = format!("{} * {}", "9".repeat(30), "9".repeat(30));
        assert!(val(&big).is_err());
        let no_neg = Limits {
            unary_minus: false,
            ..Limits::default()
        };
        assert!(parse("-3 + 4", &no_neg).is_err());
        assert!(parse("3 - 4", &no_neg).is_ok());
    }

    #[test]
    fn limits_bound_hostile_input() {
        let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(val(&deep).is_err());
        let deep = format!("{}1{}", "(".repeat(64), ")".repeat(64));
        assert_eq!(val(&deep), Ok(Q::int(1)));
        let deep = format!("{}1{}", "(".repeat(65), ")".repeat(65));
        assert!(val(&deep).unwrap_err().contains("nesting"));
        // A flat chain at the token limit evaluates (bounded recursion depth).
        let chain = vec!["1"; 512].join("/");
        assert!(val(&chain).is_ok());
        assert!(val(&format!("{}1", "-".repeat(100_000))).is_err());
        let long = vec!["1"; 400].join("+");
        assert_eq!(val(&long), Ok(Q::int(400)));
        assert!(val(&vec!["1"; 600].join("+")).is_err());
        let lim = Limits {
            max_bytes: 20,
            ..Limits::default()
        };
        assert!(parse(&"1+".repeat(20), &lim).is_err());
    }

    #[test]
    fn rational_arithmetic_is_exact_and_checked() {
        assert_eq!(q(2, -4), q(-1, 2));
        assert_eq!(q(0, -5), Q::int(0));
        assert_eq!(q(6, 3).as_int(), Some(2));
        assert_eq!(q(1, 3).as_int(), None);
        assert_eq!(Q::new(1, 0), Err(EvalError::DivByZero));
        assert_eq!(Q::new(i128::MIN, -1), Err(EvalError::Overflow));
        assert_eq!(Q::int(i128::MIN).checked_neg(), Err(EvalError::Overflow));
        assert_eq!(
            Q::int(i128::MAX).checked_add(Q::int(1)),
            Err(EvalError::Overflow)
        );
        assert_eq!(
            Q::int(i128::MAX).checked_mul(Q::int(2)),
            Err(EvalError::Overflow)
        );
        assert_eq!(Q::int(1).checked_div(Q::int(0)), Err(EvalError::DivByZero));
        assert_eq!(q(1, 3).to_string(), "1/3");
        assert_eq!(q(2, 3).checked_mul(q(3, 4)), Ok(q(1, 2)));
        assert_eq!(q(2, 3).checked_div(q(-4, 3)), Ok(q(-1, 2)));
    }

    fn random_expr(rng: &mut Rng, leaves: usize) -> Expr {
        let e = if leaves == 1 {
            Expr::Lit(rng.range_i64(0, 20).into())
        } else {
            let l = rng.range(1, leaves - 1);
            let op = Op::ALL[rng.index(4)];
            Expr::bin(op, random_expr(rng, l), random_expr(rng, leaves - l))
        };
        if rng.chance(1, 6) { Expr::negate(e) } else { e }
    }

    #[test]
    fn printing_round_trips() {
        let mut rng = Rng::from_seed(11);
        for _ in 0..3000 {
            let n = rng.range(1, 9);
            let e = random_expr(&mut rng, n);
            let text = e.to_string();
            let back = parse(&text, &Limits::default()).unwrap();
            assert_eq!(back.eval(), e.eval(), "{text}");
            assert_eq!(back.literals(), e.literals(), "{text}");
            assert_eq!(back.to_string(), text);
        }
        let e = Expr::bin(Op::Sub, Expr::Lit(3), Expr::Lit(-5));
        assert_eq!(e.to_string(), "3 - (-5)");
        assert_eq!(val(&e.to_string()), Ok(Q::int(8)));
    }

    proptest! {
        #[test]
        fn never_panics(s in "[0-9()+*/ -]{0,300}") {
            if let Ok(e) = parse(&s, &Limits::default()) {
                let _ = e.eval();
                let _ = e.to_string();
            }
        }

        #[test]
        fn never_panics_on_anything(s in ".{0,200}") {
            let _ = val(&s);
        }
    }
}
