//! LLM review verdicts (code review, then question review).

use serde::{Deserialize, Serialize};

/// A judge's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Whether the judge passed it.
    pub pass: bool,
    /// Problems the judge listed.
    pub problems: Vec<String>,
}

/// Parse a judge reply: a JSON object `{"verdict": "pass"|"fail",
/// "problems": [...]}` anywhere in the reply, else a bare `PASS`/`FAIL`
/// word. `None` when neither is found.
pub fn parse_verdict(reply: &str) -> Option<Verdict> {
    if let Some(v) = crate::extract::extract_json(reply, false)
        && let Some(s) = v["verdict"].as_str()
    {
        let problems = v["problems"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        return match s.trim().to_ascii_lowercase().as_str() {
            "pass" | "accept" | "ok" => Some(Verdict {
                pass: true,
                problems,
            }),
            "fail" | "reject" => Some(Verdict {
                pass: false,
                problems,
            }),
            _ => None,
        };
    }
    let upper = reply.to_ascii_uppercase();
    let pass = upper.contains("PASS");
    let fail = upper.contains("FAIL");
    match (pass, fail) {
        (true, false) => Some(Verdict {
            pass: true,
            problems: Vec::new(),
        }),
        (false, true) => Some(Verdict {
            pass: false,
            problems: vec![reply.chars().take(2000).collect()],
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let v = parse_verdict("Looks fine.\n{\"verdict\": \"pass\", \"problems\": []}").unwrap();
        assert!(v.pass);
        let v = parse_verdict(
            "```json\n{\"verdict\": \"FAIL\", \"problems\": [\"verify accepts anything\"]}\n```",
        )
        .unwrap();
        assert_eq!(v.problems, vec!["verify accepts anything"]);
        assert!(!v.pass);
        assert!(parse_verdict("PASS").unwrap().pass);
        assert!(parse_verdict("hmm").is_none());
    }
}
