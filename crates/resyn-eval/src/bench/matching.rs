//! Answer extraction and matching for the public benchmarks.
//!
//! **Extraction** (all benchmarks), first rule that finds something wins:
//! 1. resyn's shared rule ([`resyn_core::extract_answer`], what its
//!    environments use): the last `<answer>...</answer>` block after any
//!    reasoning, else the last `\boxed{...}`;
//! 2. the text after the last "answer is" / "answer:" (case-insensitive),
//!    to the end of its line, as in the common BBH chain-of-thought format;
//! 3. for GSM8K only, the text after the last `####`.
//!
//! A response with none of these has no answer and scores 0.
//!
//! **Matching**:
//! - [`Matcher::Choice`] (BBH/BBEH multiple choice, target like `(B)`): the
//!   prediction's option letter (`(B)`, `B`, `B)`, `(B) text`, `option B`)
//!   must equal the target's; a prediction equal to an option's text (parsed
//!   from the `Options:` lines of the question) counts as that option.
//! - [`Matcher::Exact`] (other BBH/BBEH targets): equal after normalization
//!   (strip `**`, `$`, `\boxed{}`/`\text{}` wrappers, quotes, a trailing
//!   period; lowercase; collapse whitespace), or equal as numbers when both
//!   are numbers, or equal with commas dropped when the target has none
//!   (word lists), or equal with all whitespace removed when the target is
//!   only brackets (Dyck languages).
//! - [`Matcher::Numeric`] (GSM8K): both sides are read as numbers after
//!   dropping `$`, thousands commas, `%` and a trailing period, so `$1,234`,
//!   `1234.0` and `1234.` equal `1234`; if the prediction is not a bare
//!   number, its last number is used ("18 dollars" → 18). Equal within a
//!   relative 1e-9.
//! - [`Matcher::Integer`] (AIME): the prediction must be an integer (leading
//!   zeros allowed, `33.0` accepted; else its last integer) equal to the target.

use resyn_core::{ExtractConfig, extract_answer};

/// How a prediction is compared with a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Matcher {
    /// Multiple-choice letter.
    Choice,
    /// Normalized exact match (with numeric equivalence).
    Exact,
    /// Numeric equivalence (GSM8K).
    Numeric,
    /// Integer equality (AIME).
    Integer,
}

impl Matcher {
    /// The matcher for a BBH/BBEH target: [`Matcher::Choice`] for `(X)`, else [`Matcher::Exact`].
    pub fn for_text_target(target: &str) -> Self {
        if choice_letter_exact(target.trim()).is_some() {
            Self::Choice
        } else {
            Self::Exact
        }
    }

    /// Whether `prediction` matches `target`; `question` supplies the option
    /// texts for [`Matcher::Choice`].
    pub fn matches(self, prediction: &str, target: &str, question: &str) -> bool {
        match self {
            Self::Choice => {
                let Some(want) = choice_letter_exact(target.trim()) else {
                    return false;
                };
                choice_letter(prediction).or_else(|| option_by_text(prediction, question))
                    == Some(want)
            }
            Self::Exact => exact_match(prediction, target),
            Self::Numeric => match (parse_numeric(prediction), parse_numeric(target)) {
                (Some(a), Some(b)) => numbers_equal(a, b),
                _ => false,
            },
            Self::Integer => match (parse_integer(prediction), parse_integer(target)) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }
}

/// Extract the final answer from a response (see the module docs).
pub fn extract(response: &str, gsm8k_hashes: bool) -> Option<String> {
    if let Ok(found) = extract_answer(response, &ExtractConfig::default()) {
        return Some(found.text.trim().to_string());
    }
    let lower = response.to_ascii_lowercase();
    let phrase = ["answer is", "answer:"]
        .iter()
        .filter_map(|p| lower.rfind(p).map(|i| i + p.len()))
        .max();
    if let Some(start) = phrase {
        // ASCII lowercasing keeps byte offsets, so `start` is a boundary.
        let rest = &response[start..];
        let line = rest.lines().next().unwrap_or("").trim();
        let line = line.trim_start_matches(':').trim();
        if !line.is_empty() {
            return Some(line.to_string());
        }
    }
    if let Some(i) = response.rfind("####").filter(|_| gsm8k_hashes) {
        let line = response[i + 4..].lines().next().unwrap_or("").trim();
        if !line.is_empty() {
            return Some(line.to_string());
        }
    }
    None
}

/// Strip wrappers LaTeX and markdown put around an answer.
fn unwrap(s: &str) -> String {
    let mut s = s.trim().to_string();
    loop {
        let before = s.clone();
        for wrapper in ["\\boxed{", "\\text{", "\\textbf{", "\\mathrm{"] {
            if s.starts_with(wrapper) && s.ends_with('}') {
                s = s[wrapper.len()..s.len() - 1].trim().to_string();
            }
        }
        for (open, close) in [
            ("**", "**"),
            ("$", "$"),
            ("`", "`"),
            ("\"", "\""),
            ("'", "'"),
        ] {
            if s.len() >= open.len() + close.len() && s.starts_with(open) && s.ends_with(close) {
                s = s[open.len()..s.len() - close.len()].trim().to_string();
            }
        }
        if s == before {
            return s;
        }
    }
}

/// Normalized text for exact matching.
pub fn normalize(s: &str) -> String {
    let s = unwrap(s).replace("**", "");
    let s = s.trim().trim_end_matches('.').trim();
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn exact_match(prediction: &str, target: &str) -> bool {
    let (p, t) = (normalize(prediction), normalize(target));
    if p == t {
        return true;
    }
    if let (Some(a), Some(b)) = (parse_bare_number(&p), parse_bare_number(&t)) {
        return numbers_equal(a, b);
    }
    if !t.contains(',') && p.contains(',') {
        let p2 = p.replace(',', " ");
        if p2.split_whitespace().collect::<Vec<_>>().join(" ") == t {
            return true;
        }
    }
    let is_brackets = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| "()[]{}<>".contains(c) || c.is_whitespace())
    };
    if is_brackets(&t) {
        let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        return squash(&p) == squash(&t);
    }
    false
}

/// `(X)` exactly → `x`.
fn choice_letter_exact(s: &str) -> Option<char> {
    let b = s.as_bytes();
    (b.len() == 3 && b[0] == b'(' && b[2] == b')' && b[1].is_ascii_alphabetic())
        .then(|| (b[1] as char).to_ascii_lowercase())
}

/// The option letter a prediction names, if it names one.
fn choice_letter(prediction: &str) -> Option<char> {
    let p = normalize(prediction);
    let p = p.strip_prefix("option ").unwrap_or(&p).trim();
    let b = p.as_bytes();
    if b.is_empty() {
        return None;
    }
    // "(b)" or "(b) text"
    if b.len() >= 3 && b[0] == b'(' && b[2] == b')' && b[1].is_ascii_alphabetic() {
        return Some(b[1] as char);
    }
    // "b"
    if b.len() == 1 && b[0].is_ascii_alphabetic() {
        return Some(b[0] as char);
    }
    // "b)", "b.", "b:" followed by optional text
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && matches!(b[1], b')' | b'.' | b':') {
        return Some(b[0] as char);
    }
    None
}

/// Option texts from `(A) text` lines of a question, matched by normalized text.
fn option_by_text(prediction: &str, question: &str) -> Option<char> {
    let p = normalize(prediction);
    question.lines().find_map(|line| {
        let line = line.trim();
        let letter = choice_letter_exact(line.get(..3)?)?;
        (normalize(&line[3..]) == p).then_some(letter)
    })
}

/// A bare number (no surrounding text) after normalization.
fn parse_bare_number(s: &str) -> Option<f64> {
    let t = s.trim().trim_end_matches('.');
    let t = t.trim_start_matches("\\$").trim_start_matches('$');
    let t = t.trim_end_matches('%').trim();
    let t = strip_thousands(t)?;
    t.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Remove thousands separators when they are well placed (`1,234,567`).
fn strip_thousands(s: &str) -> Option<String> {
    if !s.contains(',') {
        return Some(s.to_string());
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let int = int.strip_prefix('-').unwrap_or(int);
    let groups: Vec<&str> = int.split(',').collect();
    let ok = !groups[0].is_empty()
        && groups[0].len() <= 3
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.bytes().all(|c| c.is_ascii_digit()));
    let _ = frac;
    ok.then(|| s.replace(',', ""))
}

/// Numbers appearing in free text, in order (`-1,234.5` → -1234.5).
fn numbers_in(s: &str) -> Vec<f64> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let neg = i > 0 && b[i - 1] == b'-' && (i < 2 || !b[i - 2].is_ascii_alphanumeric());
            let start = i;
            while i < b.len()
                && (b[i].is_ascii_digit()
                    || (b[i] == b','
                        && i + 3 < b.len() + 1
                        && b.get(i + 1..i + 4)
                            .is_some_and(|g| g.iter().all(u8::is_ascii_digit))
                        && !b.get(i + 4).is_some_and(u8::is_ascii_digit)))
            {
                i += 1;
            }
            if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let text = s[start..i].replace(',', "");
            if let Ok(x) = text.parse::<f64>() {
                out.push(if neg { -x } else { x });
            }
        } else {
            i += 1;
        }
    }
    out
}

/// GSM8K-style number: a bare number, else the last number in the text.
pub fn parse_numeric(s: &str) -> Option<f64> {
    let u = unwrap(s);
    let u = u.replace("\\$", "$").replace("\\%", "%");
    parse_bare_number(&u).or_else(|| numbers_in(&u).last().copied())
}

/// AIME-style integer: a bare integer (leading zeros fine, `33.0` fine),
/// else the last integer in the text.
pub fn parse_integer(s: &str) -> Option<i64> {
    let as_int = |x: f64| (x.fract() == 0.0 && x.abs() < 1e15).then_some(x as i64);
    let u = unwrap(s);
    if let Some(x) = parse_bare_number(&u) {
        return as_int(x);
    }
    numbers_in(&u).last().copied().and_then(as_int)
}

fn numbers_equal(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE_Q: &str = "Today is Christmas Eve of 1937. What is the date 10 days ago in MM/DD/YYYY?\nOptions:\n(A) 12/14/2026\n(B) 12/14/1950\n(C) 12/14/2007\n(D) 12/14/1937\n(E) 07/14/1938\n(F) 12/14/1988";

    #[test]
    fn extraction_order() {
        assert_eq!(
            extract("so <answer> (D) </answer>", false).as_deref(),
            Some("(D)")
        );
        assert_eq!(extract(r"thus \boxed{204}", false).as_deref(), Some("204"));
        assert_eq!(
            extract(
                "Let's think step by step. ... So the answer is (D).\nDone",
                false
            )
            .as_deref(),
            Some("(D).")
        );
        assert_eq!(
            extract("Final Answer: True", false).as_deref(),
            Some("True")
        );
        assert_eq!(
            extract("She earns 9 * 2 = 18.\n#### 18", true).as_deref(),
            Some("18")
        );
        assert_eq!(extract("#### 18", false), None);
        assert_eq!(extract("no idea", true), None);
        // A truncated answer block is not an answer.
        assert_eq!(extract("<answer>12", false), None);
    }

    #[test]
    fn bbh_multiple_choice() {
        let m = Matcher::for_text_target("(D)");
        assert_eq!(m, Matcher::Choice);
        for p in [
            "(D)",
            "D",
            "(d)",
            "D)",
            "(D) 12/14/1937",
            "option D",
            "**(D)**",
            "12/14/1937",
        ] {
            assert!(m.matches(p, "(D)", DATE_Q), "{p}");
        }
        for p in ["(A)", "A", "12/14/1950", "", "D or A", "Dog"] {
            assert!(!m.matches(p, "(D)", DATE_Q), "{p}");
        }
    }

    #[test]
    fn bbh_exact_targets() {
        let ok = |p: &str, t: &str| {
            assert_eq!(Matcher::for_text_target(t), Matcher::Exact);
            Matcher::Exact.matches(p, t, "")
        };
        // boolean_expressions, navigate, web_of_lies, formal_fallacies
        assert!(ok("True", "True"));
        assert!(ok("true.", "True"));
        assert!(!ok("False", "True"));
        assert!(ok("No", "No"));
        assert!(ok("**invalid**", "invalid"));
        assert!(!ok("valid", "invalid"));
        // multistep_arithmetic_two, object_counting
        assert!(ok("-101", "-101"));
        assert!(ok("-101.0", "-101"));
        assert!(ok("$12$", "12"));
        assert!(!ok("101", "-101"));
        // word_sorting
        assert!(ok(
            "alan, blank, cardinal, dyad",
            "alan blank cardinal dyad"
        ));
        assert!(!ok("blank alan cardinal dyad", "alan blank cardinal dyad"));
        // dyck_languages
        assert!(ok("] ) }", "] ) }"));
        assert!(ok("])}", "] ) }"));
        assert!(!ok("} ) ]", "] ) }"));
        // BBEH free-form answers
        assert!(ok("\\boxed{\\text{Blue}}", "blue"));
        assert!(ok("  The  Dog ", "the dog"));
    }

    #[test]
    fn gsm8k_numeric() {
        let ok = |p: &str, t: &str| Matcher::Numeric.matches(p, t, "");
        assert!(ok("18", "18"));
        assert!(ok("$18", "18"));
        assert!(ok("\\$18.00", "18"));
        assert!(ok("1,234", "1234"));
        assert!(ok("1234.0", "1234"));
        assert!(ok("1234.", "1234"));
        assert!(ok("18 dollars", "18"));
        assert!(ok("She pays 3 * 6 = 18", "18"));
        assert!(ok("0.5", ".5"));
        assert!(ok("-3", "-3"));
        assert!(ok("25%", "25"));
        assert!(!ok("17", "18"));
        assert!(!ok("eighteen", "18"));
        assert!(!ok("", "18"));
        assert_eq!(parse_numeric("1,2,3"), Some(3.0));
        assert_eq!(
            numbers_in("from 1,000 to 2,50 and x-7"),
            vec![1000.0, 2.0, 50.0, 7.0]
        );
    }

    #[test]
    fn aime_integer() {
        let ok = |p: &str, t: &str| Matcher::Integer.matches(p, t, "");
        assert!(ok("33", "033"));
        assert!(ok("033", "33"));
        assert!(ok("\\boxed{204}", "204"));
        assert!(ok("$204$", "204"));
        assert!(ok("204.0", "204"));
        assert!(ok("m+n = 204", "204"));
        assert!(!ok("204.5", "204"));
        assert!(!ok("203", "204"));
        assert!(!ok("\\frac{1}{2}", "204"));
    }
}
