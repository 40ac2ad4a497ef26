//! LLM review verdicts (code review, then question review).
//!
//! Judges do not always answer in the requested JSON shape, and a verdict
//! that cannot be read must not cost a candidate its review (nor drop the
//! problems the judge listed). [`parse_verdict`] reads, in order:
//! 1. a JSON object anywhere in the reply with a `verdict` (or `decision`,
//!    `result`) field — a word or phrase such as `pass`, `approved`,
//!    `needs revision`, `fail.` — or a boolean `pass`/`passed`/`approved`;
//! 2. otherwise the *last* verdict word or phrase in the text (`Verdict:
//!    needs revision`, `PASS`), so "it would fail if ..., but: pass" reads as
//!    pass; the problems are the reply's bullet or numbered lines.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A judge's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Whether the judge passed it.
    pub pass: bool,
    /// Problems the judge listed.
    pub problems: Vec<String>,
}

/// Phrases that mean "pass" or "fail". Of two phrases ending at the same
/// word, the longer one decides ("needs revision" over "revision", "no
/// revision needed" over "needed").
const PHRASES: &[(&str, bool)] = &[
    ("no revision needed", true),
    ("no revisions needed", true),
    ("no changes needed", true),
    ("not ok", false),
    ("needs major revision", false),
    ("needs minor revision", false),
    ("needs revision", false),
    ("needs revisions", false),
    ("needs changes", false),
    ("needs work", false),
    ("not acceptable", false),
    ("not approved", false),
    ("does not pass", false),
    ("do not accept", false),
    ("request changes", false),
    ("changes requested", false),
    ("revise", false),
    ("revision", false),
    ("rejected", false),
    ("reject", false),
    ("failed", false),
    ("failing", false),
    ("fail", false),
    ("unacceptable", false),
    ("approved", true),
    ("approve", true),
    ("accepted", true),
    ("accept", true),
    ("acceptable", true),
    ("passed", true),
    ("passes", true),
    ("pass", true),
    ("lgtm", true),
    ("ok", true),
];

/// Parse a judge reply (see the module docs). `None` when it holds no
/// verdict at all.
pub fn parse_verdict(reply: &str) -> Option<Verdict> {
    if let Some(v) = crate::extract::extract_json(reply, false)
        && let Some(pass) = json_verdict(&v)
    {
        let mut problems = json_problems(&v);
        if !pass && problems.is_empty() {
            problems = text_problems(reply);
        }
        return Some(Verdict { pass, problems });
    }
    let pass = last_phrase(reply)?;
    let problems = if pass {
        Vec::new()
    } else {
        text_problems(reply)
    };
    Some(Verdict { pass, problems })
}

/// Parse a judge's verdict on one disputed answer: `{"correct": bool}`
/// (or `"verdict": "correct" | "incorrect"`), else the last of the words
/// correct/incorrect/right/wrong in the text. `None` when it holds none.
pub fn parse_judgement(reply: &str) -> Option<bool> {
    if let Some(v) = crate::extract::extract_json(reply, false) {
        for key in ["correct", "is_correct", "valid"] {
            if let Some(b) = v[key].as_bool() {
                return Some(b);
            }
        }
        if let Some(s) = v["verdict"].as_str() {
            return judgement_word(s);
        }
    }
    judgement_word(reply)
}

fn judgement_word(text: &str) -> Option<bool> {
    let words = normalize(text);
    let words: Vec<&str> = words.split(' ').collect();
    let mut last = None;
    for (k, w) in words.iter().enumerate() {
        let negated = k > 0 && words[k - 1] == "not";
        let v = match *w {
            "correct" | "right" | "valid" => Some(!negated),
            "incorrect" | "wrong" | "invalid" => Some(negated),
            _ => None,
        };
        if v.is_some() {
            last = v;
        }
    }
    last
}

fn json_verdict(v: &Value) -> Option<bool> {
    for key in ["verdict", "decision", "result", "status"] {
        match &v[key] {
            Value::String(s) => {
                let words = normalize(s);
                if let Some(&(_, pass)) = PHRASES.iter().find(|(p, _)| words == *p) {
                    return Some(pass);
                }
                if let Some(pass) = last_phrase(s) {
                    return Some(pass);
                }
            }
            Value::Bool(b) => return Some(*b),
            _ => {}
        }
    }
    ["pass", "passed", "approved", "accept", "accepted", "ok"]
        .iter()
        .find_map(|k| v[*k].as_bool())
}

fn json_problems(v: &Value) -> Vec<String> {
    for key in ["problems", "issues", "reasons", "comments"] {
        match &v[key] {
            Value::Array(a) => {
                return a
                    .iter()
                    .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_string))
                    .filter(|p| !p.trim().is_empty())
                    .collect();
            }
            Value::String(s) if !s.trim().is_empty() => return vec![s.clone()],
            _ => {}
        }
    }
    Vec::new()
}

/// Lower case, letters and digits only, single spaces.
fn normalize(s: &str) -> String {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The verdict of the last verdict phrase in `text` (whole words only).
fn last_phrase(text: &str) -> Option<bool> {
    let words = format!(" {} ", normalize(text));
    PHRASES
        .iter()
        .filter_map(|&(p, pass)| {
            words
                .rfind(&format!(" {p} "))
                .map(|at| (at + p.len(), p.len(), pass))
        })
        // The phrase that ends last; of those, the longest.
        .max_by_key(|&(end, len, _)| (end, len))
        .map(|(_, _, pass)| pass)
}

/// Bullet or numbered lines of a reply, else the reply itself (capped).
fn text_problems(reply: &str) -> Vec<String> {
    let bullets: Vec<String> = reply
        .lines()
        .map(str::trim)
        .filter_map(|l| {
            let rest = l
                .strip_prefix("- ")
                .or_else(|| l.strip_prefix("* "))
                .or_else(|| {
                    let digits = l.find(|c: char| !c.is_ascii_digit())?;
                    (digits > 0)
                        .then(|| {
                            l[digits..]
                                .strip_prefix(". ")
                                .or(l[digits..].strip_prefix(") "))
                        })
                        .flatten()
                })?;
            (!rest.trim().is_empty()).then(|| rest.trim().to_string())
        })
        .collect();
    if bullets.is_empty() {
        vec![reply.trim().chars().take(2000).collect()]
    } else {
        bullets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(reply: &str) -> bool {
        parse_verdict(reply)
            .unwrap_or_else(|| panic!("no verdict in {reply:?}"))
            .pass
    }

    #[test]
    fn json_verdicts() {
        let v = parse_verdict("Looks fine.\n{\"verdict\": \"pass\", \"problems\": []}").unwrap();
        assert!(v.pass);
        let v = parse_verdict(
            "```json\n{\"verdict\": \"FAIL\", \"problems\": [\"verify accepts anything\"]}\n```",
        )
        .unwrap();
        assert_eq!(v.problems, vec!["verify accepts anything"]);
        assert!(!v.pass);
        let v =
            parse_verdict(r#"{"verdict": "needs revision", "problems": ["level 1 is too hard"]}"#)
                .unwrap();
        assert!(!v.pass);
        assert_eq!(v.problems, vec!["level 1 is too hard"]);
        assert!(pass(r#"{"verdict": "pass.", "problems": []}"#));
        assert!(pass(r#"{"verdict": "Approved"}"#));
        assert!(!pass(r#"{"verdict": "Needs_Revision", "issues": ["x"]}"#));
        assert!(pass(r#"{"pass": true}"#));
        assert!(!pass(r#"{"approved": false, "problems": ["y"]}"#));
    }

    #[test]
    fn text_verdicts_take_the_last_phrase() {
        assert!(pass("PASS"));
        assert!(pass("Looks complete; no revision needed."));
        assert!(!pass("Overall: not OK"));
        assert!(pass("pass."));
        assert!(!pass(
            "Verdict: needs revision\n- the prompt leaks the answer\n- level 10 is trivial"
        ));
        assert!(pass(
            "It would fail on empty input, but that is handled. Verdict: pass"
        ));
        assert!(!pass("Verdict: FAIL"));
        assert!(parse_verdict("hmm, interesting").is_none());
        // Whole words only: "password" is no verdict.
        assert!(parse_verdict("the password field").is_none());
    }

    #[test]
    fn text_problems_are_the_listed_lines() {
        let v = parse_verdict("Needs revision:\n1. level 1 is too hard\n2) NAME is vague\n* typo")
            .unwrap();
        assert!(!v.pass);
        assert_eq!(
            v.problems,
            vec!["level 1 is too hard", "NAME is vague", "typo"]
        );
        let v = parse_verdict("fail because the verifier ignores the data").unwrap();
        assert_eq!(
            v.problems,
            vec!["fail because the verifier ignores the data"]
        );
    }

    #[test]
    fn judgements_read_json_and_words() {
        assert_eq!(
            parse_judgement("```json\n{\"correct\": false, \"reason\": \"x\"}\n```"),
            Some(false)
        );
        assert_eq!(parse_judgement("{\"verdict\": \"correct\"}"), Some(true));
        assert_eq!(parse_judgement("The answer is not correct."), Some(false));
        assert_eq!(
            parse_judgement("Checking... looks wrong at first, but it is right."),
            Some(true)
        );
        assert_eq!(parse_judgement("I cannot tell."), None);
    }
}
