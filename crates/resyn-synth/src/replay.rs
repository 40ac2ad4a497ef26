//! Recorded-reply fixtures for a local OpenAI-compatible replay server
//! (feature `replay`; offline tests and benchmarks).
//!
//! [`Replay`] is a [`resyn_llm::test_server::Responder`]: it recognizes each
//! pipeline call by its prompt (proposal, implementation, repair, review,
//! cross-verifier, solver) and the fixture a candidate belongs to by the
//! `[fixture:KEY]` marker in its proposal (and the `# fixture: KEY` comment
//! in its code), and answers with realistic replies: chatter around code,
//! several code blocks, syntax errors, wrong APIs, non-deterministic
//! generators, verifiers that accept anything or reject their own
//! reference, infinite loops, hostile code, truncated replies
//! (`finish_reason: "length"`), HTTP 429 and 500 before success, and slow
//! replies. [`EXPECTED`] says what the pipeline must decide for each.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use resyn_llm::test_server::{Behavior, RecordedRequest, Responder};

macro_rules! fixture {
    ($f:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/llm/",
            $f
        ))
    };
}

/// The keyword file of the fixture run (`category: keyword` lines).
pub const KEYWORDS: &str = "math: fixture alpha\nlogic: fixture beta\nalgorithmic: fixture gamma\nspatial: fixture delta\nmath: fixture epsilon\n";

/// Fixture keys proposed per keyword; `delta` gets an unparseable reply.
const PROPOSALS: &[(&str, &[&str])] = &[
    (
        "fixture alpha",
        &["good_modexp", "syntax_fix", "wrong_api", "nondeterministic"],
    ),
    (
        "fixture beta",
        &[
            "accepts_anything",
            "rejects_reference",
            "infinite_loop",
            "hostile",
        ],
    ),
    (
        "fixture gamma",
        &["chatter_good", "truncated", "http_flaky", "slow_good"],
    ),
    ("fixture delta", &[]),
    ("fixture epsilon", &["cross_disagree", "modexp_copy"]),
];

/// What the pipeline must decide: `(key, accepted NAME or "", stage, reason prefix)`.
/// Rejections name the stage and the reason (prefix) they must be recorded with.
pub const EXPECTED: &[(&str, &str, &str, &str)] = &[
    ("good_modexp", "modexp_fixture", "store", "ok"),
    ("syntax_fix", "digit_sum_fixture", "store", "ok"),
    ("chatter_good", "bracket_depth_fixture", "store", "ok"),
    ("http_flaky", "sort_ints_fixture", "store", "ok"),
    ("slow_good", "gcd_fixture", "store", "ok"),
    ("wrong_api", "", "validate", "api:missing_api"),
    (
        "nondeterministic",
        "",
        "validate",
        "determinism:nondeterministic",
    ),
    ("accepts_anything", "", "validate", "probes:accepted_"),
    (
        "rejects_reference",
        "",
        "validate",
        "reference:reference_rejected",
    ),
    ("infinite_loop", "", "validate", "generate:timeout"),
    ("hostile", "", "validate", "imports:forbidden_import"),
    ("truncated", "", "extract", "truncated"),
    ("cross_disagree", "", "cross_verify", "disagreement"),
];

fn code(key: &str) -> &'static str {
    match key {
        "good_modexp" | "truncated" => fixture!("modexp.py"),
        "modexp_copy" => fixture!("modexp_copy.py"),
        "syntax_fix" => fixture!("digit_sum.py"),
        "chatter_good" => fixture!("bracket_depth.py"),
        "http_flaky" => fixture!("sort_ints.py"),
        "slow_good" => fixture!("gcd.py"),
        "cross_disagree" => fixture!("parity.py"),
        "wrong_api" => fixture!("wrong_api.py"),
        "nondeterministic" => fixture!("nondeterministic.py"),
        "accepts_anything" => fixture!("accepts_anything.py"),
        "rejects_reference" => fixture!("rejects_reference.py"),
        "infinite_loop" => fixture!("infinite_loop.py"),
        "hostile" => fixture!("hostile.py"),
        _ => fixture!("modexp.py"),
    }
}

fn cross(key: &str) -> &'static str {
    match key {
        "good_modexp" | "modexp_copy" | "truncated" => {
            r#"m = re.search(r"Compute (\d+)\^(\d+) mod (\d+)", instance["prompt"])
    a, b, n = (int(x) for x in m.groups())
    return 1.0 if answer.strip() == str(pow(a, b, n)) else 0.0"#
        }
        "syntax_fix" => {
            r#"m = re.search(r"digits of (\d+)\?", instance["prompt"])
    return 1.0 if answer.strip() == str(sum(int(c) for c in m.group(1))) else 0.0"#
        }
        "chatter_good" => {
            r#"s = re.search(r"bracket string ([()]+)", instance["prompt"]).group(1)
    depth = best = 0
    for c in s:
        depth += 1 if c == "(" else -1
        best = max(best, depth)
    return 1.0 if answer.strip() == str(best) else 0.0"#
        }
        "http_flaky" => {
            r#"xs = [int(x) for x in re.search(r"ascending order: ([\d, ]+)", instance["prompt"]).group(1).split(",")]
    toks = answer.split()
    return 1.0 if toks == [str(x) for x in sorted(xs)] else 0.0"#
        }
        "slow_good" => {
            r#"import math
    a, b = (int(x) for x in re.search(r"divisor of (\d+) and (\d+)", instance["prompt"]).groups())
    return 1.0 if answer.strip() == str(math.gcd(a, b)) else 0.0"#
        }
        // Disagrees with everything.
        _ => "return 0.0",
    }
}

fn cross_reply(key: &str) -> String {
    format!(
        "Here is an independent verifier that parses the question text:\n\n```python\nimport re\n\n\ndef verify(instance, answer):\n    try:\n        {}\n    except Exception:\n        return 0.0\n```\n",
        cross(key).replace("\n    ", "\n        ")
    )
}

fn implement_reply(key: &str) -> String {
    format!(
        "Sure! Below is a complete implementation of the environment.\n\nKey design points:\n- instances come only from `rng`;\n- the verifier parses strictly.\n\n```python\n{}```\n\nYou can try it like this:\n\n```python\nimport random\nprint(generate(random.Random(0), 3))\n```\n\nLet me know if you want changes!",
        code(key)
    )
}

/// Answers pipeline requests from the fixtures.
pub struct Replay {
    calls: Mutex<HashMap<String, usize>>,
    slow: Duration,
    bench: bool,
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replay")
            .field("bench", &self.bench)
            .finish_non_exhaustive()
    }
}

impl Default for Replay {
    fn default() -> Self {
        Self::new()
    }
}

impl Replay {
    /// The fixture responder; slow replies take 1.5 s.
    pub fn new() -> Self {
        Self {
            calls: Mutex::new(HashMap::new()),
            slow: Duration::from_millis(1500),
            bench: false,
        }
    }

    /// Benchmark mode: every keyword gets `good_modexp`-style proposals
    /// (unique titles), answered instantly.
    pub fn bench() -> Self {
        Self {
            bench: true,
            slow: Duration::ZERO,
            ..Self::new()
        }
    }

    /// Delay of the `slow_good` fixture.
    pub fn slow(mut self, d: Duration) -> Self {
        self.slow = d;
        self
    }

    fn count(&self, what: &str) -> usize {
        let mut c = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        let n = c.entry(what.to_string()).or_insert(0);
        *n += 1;
        *n - 1
    }

    fn proposals(&self, keyword: &str) -> Behavior {
        let keys: Vec<String> = if self.bench {
            let n = self.count(&format!("bench-kw-{keyword}"));
            (0..4)
                .map(|i| format!("bench-{}-{n}-{i}", keyword.replace(' ', "-")))
                .collect()
        } else {
            match PROPOSALS.iter().find(|(k, _)| *k == keyword) {
                Some((_, keys)) if !keys.is_empty() => keys.iter().map(|k| k.to_string()).collect(),
                Some(_) => {
                    return Behavior::answer(
                        "I am not sure which tasks you mean. Could you clarify the keyword?",
                    );
                }
                None => return Behavior::answer("[]"),
            }
        };
        let items: Vec<serde_json::Value> = keys
            .iter()
            .map(|k| {
                serde_json::json!({
                    "title": format!("Task {k} [fixture:{k}]"),
                    "description": format!("A fixture task [fixture:{k}]. Compute the requested value exactly."),
                    "verification": "Recompute from the instance data and compare.",
                    "difficulty_scaling": "Numbers grow with the level.",
                    "category": "math",
                })
            })
            .collect();
        Behavior::answer(format!(
            "Here are the proposed tasks:\n\n```json\n{}\n```\n",
            serde_json::to_string_pretty(&items).unwrap_or_default()
        ))
    }

    fn implement(&self, key: &str) -> Behavior {
        if key.starts_with("bench-") {
            let name = format!("modexp_{}", key.replace('-', "_").to_lowercase());
            let code = code("good_modexp")
                .replace("NAME = \"modexp_fixture\"", &format!("NAME = {name:?}"));
            return Behavior::answer(format!("```python\n{code}```\n"));
        }
        let n = self.count(&format!("implement-{key}"));
        match key {
            "syntax_fix" => Behavior::answer(format!(
                "```python\n{}```\n",
                fixture!("digit_sum_syntax.py")
            )),
            "truncated" => {
                let c = code(key);
                Behavior::truncated(format!(
                    "Here is the module:\n\n```python\n{}",
                    &c[..c.len() / 2]
                ))
            }
            "http_flaky" => match n {
                0 => Behavior::rate_limited(0.05),
                1 => Behavior::status(500),
                _ => Behavior::answer(implement_reply(key)),
            },
            "slow_good" => Behavior::answer(implement_reply(key)).after(self.slow),
            _ => Behavior::answer(implement_reply(key)),
        }
    }
}

/// A solver that gets modular powers of small bases right and answers `0`
/// to everything else: its solve rate falls with difficulty on
/// `good_modexp` and is zero elsewhere.
fn solve(prompt: &str) -> String {
    let nums = between(prompt, "Compute ", ",").and_then(|s| {
        let (a, rest) = s.split_once('^')?;
        let (b, m) = rest.split_once(" mod ")?;
        Some((
            a.parse::<u64>().ok()?,
            b.parse::<u64>().ok()?,
            m.parse::<u64>().ok()?,
        ))
    });
    let answer = match nums {
        Some((a, b, m)) if a < 1000 && m > 0 => {
            let (mut r, mut x, mut e) = (1u64 % m, a % m, b);
            while e > 0 {
                if e & 1 == 1 {
                    r = r * x % m;
                }
                x = x * x % m;
                e >>= 1;
            }
            r
        }
        _ => 0,
    };
    format!("Let me think step by step... <answer>\n{answer}\n</answer>")
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(&s[i..j])
}

impl Responder for Replay {
    fn respond(&self, req: &RecordedRequest) -> Behavior {
        let p = req.prompt.as_str();
        if p.starts_with("Below are example problems") {
            return Behavior::answer(
                "Keywords:\n```json\n[{\"keyword\": \"fixture alpha\", \"category\": \"math\"}]\n```",
            );
        }
        if p.starts_with("Propose ") {
            let kw = between(p, "for the keyword \"", "\"").unwrap_or("");
            return self.proposals(kw);
        }
        if p.starts_with("Review this reasoning environment")
            || p.starts_with("Review these generated questions")
        {
            return Behavior::answer(
                "Checked carefully.\n```json\n{\"verdict\": \"pass\", \"problems\": []}\n```",
            );
        }
        if p.starts_with("Write a verifier for the reasoning task") {
            let key = between(p, "[fixture:", "]").unwrap_or("");
            let key = if key.starts_with("bench-") {
                "good_modexp"
            } else {
                key
            };
            return Behavior::answer(cross_reply(key));
        }
        if p.contains("failed resyn's `") {
            let key = between(p, "# fixture: ", "\n")
                .unwrap_or("")
                .trim()
                .to_string();
            let fixed = match key.as_str() {
                // The repair of the syntax error is the working module.
                "syntax_fix" => implement_reply("syntax_fix"),
                other => implement_reply(other),
            };
            return Behavior::answer(fixed);
        }
        if p.contains("### Task to implement") {
            let key = between(p, "[fixture:", "]").unwrap_or("").to_string();
            return self.implement(&key);
        }
        if p.contains("<answer></answer>") {
            return Behavior::answer(solve(p));
        }
        Behavior::status(400)
    }
}
