//! Getting code and JSON out of realistic LLM replies.
//!
//! Replies wrap code in chatter, use several fenced blocks (an example call,
//! a test, the module), forget the closing fence, or are cut off
//! (`finish_reason: "length"`). [`extract_code`] picks the block that defines
//! both `generate` and `verify` (the last such block, models put the final
//! version last), else the longest Python-looking block; a truncated reply is
//! rejected outright, since a cut module is never what the model meant.

use serde_json::Value;

/// Why no code could be taken from a reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// The reply was cut off by the token limit (`finish_reason: "length"`).
    #[error(
        "the reply was truncated by the token limit (finish_reason \"length\") after {chars} characters; a cut-off module is unusable"
    )]
    Truncated {
        /// Length of the truncated reply.
        chars: usize,
    },
    /// The reply is empty.
    #[error("the reply is empty")]
    Empty,
    /// No code block defines `generate` and `verify`.
    #[error("no code in the reply defines both generate() and verify(); reply starts: {start:?}")]
    NoModule {
        /// The first characters of the reply.
        start: String,
    },
}

/// One fenced block: its info string (language) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block<'a> {
    /// The info string after the opening fence (`python`, `py`, ...).
    pub lang: &'a str,
    /// The body between the fences.
    pub body: &'a str,
    /// Whether the closing fence was missing (body runs to the end).
    pub unclosed: bool,
}

/// Fenced blocks (```` ``` ```` or `~~~`) in order of appearance.
pub fn fenced_blocks(text: &str) -> Vec<Block<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = find_fence(rest) {
        let (fence, after) = (&rest[open..open + 3], open + 3);
        let line_end = rest[after..].find('\n').map_or(rest.len(), |i| after + i);
        let lang = rest[after..line_end].trim();
        let body_start = (line_end + 1).min(rest.len());
        let body_rest = &rest[body_start..];
        match find_closing(body_rest, fence) {
            Some(close) => {
                out.push(Block {
                    lang,
                    body: &body_rest[..close],
                    unclosed: false,
                });
                rest = &rest[body_start + close + 3..];
            }
            None => {
                out.push(Block {
                    lang,
                    body: body_rest,
                    unclosed: true,
                });
                break;
            }
        }
    }
    out
}

/// An opening fence at the start of a line.
fn find_fence(s: &str) -> Option<usize> {
    let mut start = 0;
    while start < s.len() {
        let line = &s[start..];
        let trimmed = line.trim_start_matches([' ', '\t']);
        let indent = line.len() - trimmed.len();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            return Some(start + indent);
        }
        start += line.find('\n').map_or(line.len(), |i| i + 1);
    }
    None
}

/// The closing fence: a line consisting of the fence (optionally indented).
fn find_closing(s: &str, fence: &str) -> Option<usize> {
    let mut start = 0;
    while start < s.len() {
        let line = &s[start..];
        let end = line.find('\n').unwrap_or(line.len());
        let t = line[..end].trim();
        if t.starts_with(fence)
            && t.trim_start_matches(fence.chars().next().unwrap_or('`'))
                .is_empty()
        {
            return Some(start + line[..end].find(fence).unwrap_or(0));
        }
        start += end + 1;
    }
    None
}

fn defines(code: &str, name: &str) -> bool {
    code.lines().any(|l| {
        let l = l.trim_end();
        l.strip_prefix("def ")
            .and_then(|r| r.strip_prefix(name))
            .is_some_and(|r| r.trim_start().starts_with('('))
    })
}

fn is_module(code: &str) -> bool {
    defines(code, "generate") && defines(code, "verify")
}

/// The environment module in a reply.
///
/// # Errors
/// [`ExtractError::Truncated`] when `truncated`; [`ExtractError::Empty`];
/// [`ExtractError::NoModule`] when nothing defines `generate` and `verify`.
pub fn extract_code(reply: &str, truncated: bool) -> Result<String, ExtractError> {
    if truncated {
        return Err(ExtractError::Truncated {
            chars: reply.chars().count(),
        });
    }
    extract_with(reply, is_module)
}

/// A code block defining `verify` (the cross-verifier), by the same rules.
///
/// # Errors
/// As [`extract_code`].
pub fn extract_verifier(reply: &str, truncated: bool) -> Result<String, ExtractError> {
    if truncated {
        return Err(ExtractError::Truncated {
            chars: reply.chars().count(),
        });
    }
    extract_with(reply, |c| defines(c, "verify"))
}

fn extract_with(reply: &str, ok: impl Fn(&str) -> bool) -> Result<String, ExtractError> {
    if reply.trim().is_empty() {
        return Err(ExtractError::Empty);
    }
    let blocks = fenced_blocks(reply);
    // Closed blocks first; the last qualifying one wins.
    if let Some(b) = blocks.iter().rev().find(|b| !b.unclosed && ok(b.body)) {
        return Ok(normalize(b.body));
    }
    if let Some(b) = blocks.iter().rev().find(|b| ok(b.body)) {
        return Ok(normalize(b.body));
    }
    // A module with the wrong API is still the module: hand it to
    // validation, whose error tells the model what is missing.
    if let Some(b) = blocks
        .iter()
        .filter(|b| !b.unclosed && looks_like_module(b.body))
        .max_by_key(|b| b.body.len())
    {
        return Ok(normalize(b.body));
    }
    // No fences: the reply itself may be bare code, possibly after chatter.
    if blocks.is_empty() && ok(reply) {
        let start = reply.lines().position(looks_like_code_start).unwrap_or(0);
        let code: Vec<&str> = reply.lines().skip(start).collect();
        return Ok(normalize(&code.join("\n")));
    }
    Err(ExtractError::NoModule {
        start: reply.chars().take(120).collect(),
    })
}

/// Defines functions and assigns `NAME` (an environment module, API aside).
fn looks_like_module(code: &str) -> bool {
    code.lines().any(|l| l.starts_with("def "))
        && code.lines().any(|l| {
            l.strip_prefix("NAME")
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
}

fn looks_like_code_start(l: &str) -> bool {
    let t = l.trim_start();
    [
        "import ",
        "from ",
        "def ",
        "NAME",
        "\"\"\"",
        "'''",
        "#",
        "CATEGORY",
        "DESCRIPTION",
    ]
    .iter()
    .any(|p| t.starts_with(p))
        && !l.starts_with(' ')
}

fn normalize(code: &str) -> String {
    let mut s = code.replace("\r\n", "\n").replace('\t', "    ");
    while s.ends_with(['\n', ' ']) {
        s.pop();
    }
    s.push('\n');
    s
}

/// The first JSON value of the wanted shape in a reply: inside a fenced block
/// or bare, possibly surrounded by chatter. `want_array` selects arrays,
/// otherwise objects.
pub fn extract_json(reply: &str, want_array: bool) -> Option<Value> {
    let shape_ok = |v: &Value| {
        if want_array {
            v.is_array()
        } else {
            v.is_object()
        }
    };
    for b in fenced_blocks(reply) {
        if let Ok(v) = serde_json::from_str::<Value>(b.body.trim())
            && shape_ok(&v)
        {
            return Some(v);
        }
    }
    let (open, close) = if want_array { ('[', ']') } else { ('{', '}') };
    // Try every opening bracket with the last matching closing bracket
    // first, then shorter spans.
    for (i, _) in reply.match_indices(open) {
        let tail = &reply[i..];
        let mut ends: Vec<usize> = tail.match_indices(close).map(|(j, _)| j).collect();
        ends.reverse();
        for j in ends.into_iter().take(8) {
            if let Ok(v) = serde_json::from_str::<Value>(&tail[..=j])
                && shape_ok(&v)
            {
                return Some(v);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODULE: &str = "NAME = \"x\"\n\ndef generate(rng, difficulty):\n    return {}\n\ndef verify(instance, answer):\n    return 0.0\n";

    #[test]
    fn picks_the_module_among_chatter_and_blocks() {
        let reply = format!(
            "Sure! Here is the environment.\n\n```python\n{MODULE}```\n\nYou can test it with:\n\n```python\nprint(generate(random.Random(0), 3))\n```\nHope this helps."
        );
        assert_eq!(extract_code(&reply, false).unwrap(), MODULE);
        // The last defining block wins.
        let v2 = MODULE.replace("0.0", "1.0");
        let reply = format!("```py\n{MODULE}```\nImproved:\n```python\n{v2}```\n");
        assert_eq!(extract_code(&reply, false).unwrap(), v2);
    }

    #[test]
    fn bare_code_unclosed_fence_and_failures() {
        let reply = format!("Here you go:\n{MODULE}");
        assert_eq!(extract_code(&reply, false).unwrap(), MODULE);
        let reply = format!("```python\n{MODULE}");
        assert_eq!(extract_code(&reply, false).unwrap(), MODULE);
        assert_eq!(
            extract_code(&reply, true),
            Err(ExtractError::Truncated {
                chars: reply.chars().count()
            })
        );
        assert_eq!(extract_code("  ", false), Err(ExtractError::Empty));
        assert!(matches!(
            extract_code("```python\nprint(1)\n```", false),
            Err(ExtractError::NoModule { .. })
        ));
        let tilde = format!("~~~\n{MODULE}~~~\n");
        assert_eq!(extract_code(&tilde, false).unwrap(), MODULE);
    }

    #[test]
    fn json_in_chatter() {
        let v = extract_json("Here:\n```json\n[{\"a\": 1}]\n```", true).unwrap();
        assert_eq!(v[0]["a"], 1);
        let v = extract_json(
            "Verdict: {\"verdict\": \"pass\", \"problems\": []} done",
            false,
        )
        .unwrap();
        assert_eq!(v["verdict"], "pass");
        assert!(extract_json("no json [here", true).is_none());
        let v = extract_json("a [1, [2]] b ]", true).unwrap();
        assert_eq!(v, serde_json::json!([1, [2]]));
    }
}
