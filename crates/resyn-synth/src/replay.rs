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
    (
        "fixture epsilon",
        &["cross_disagree", "modexp_copy", "depth_paraphrase"],
    ),
    // Not in [`KEYWORDS`]: the trust outcomes, run by the tests that ask.
    (
        "fixture zeta",
        &[
            "rare_false_accept",
            "multi_answer",
            "saturated",
            "review_revise",
        ],
    ),
    ("fixture eta", &["multi_answer_caves"]),
    // Behavioural dedup against a known environment the test stores first.
    ("fixture theta", &["lenient_sort"]),
    ("fixture iota", &["descending_sort"]),
    ("fixture kappa", &["depth_paraphrase"]),
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
    ("cross_disagree", "", "cross_verify", "module_overruled"),
];

/// The module the replay server writes for fixture `key` (a key of
/// [`EXPECTED`]), for tests that validate it directly.
pub fn fixture_code(key: &str) -> Option<String> {
    EXPECTED.iter().any(|e| e.0 == key).then(|| code(key))
}

fn code(key: &str) -> String {
    let module = match key {
        "multi_answer_caves" => return caving(false),
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
        "depth_paraphrase" => fixture!("depth_paraphrase.py"),
        "lenient_sort" => fixture!("order_lenient.py"),
        "descending_sort" => fixture!("order_descending.py"),
        "rare_false_accept" => fixture!("list_sum_rare.py"),
        "multi_answer" => fixture!("prime_factor.py"),
        "saturated" => fixture!("add_pair.py"),
        "review_revise" => fixture!("digit_product.py"),
        _ => fixture!("modexp.py"),
    };
    module.to_string()
}

/// `multi_answer` under another name and wording; `caved`: its verifier
/// "fixed" to accept only the smallest factor, as a wrong second verifier
/// would have it.
fn caving(caved: bool) -> String {
    let module = fixture!("prime_factor.py")
        .replace("# fixture: multi_answer", "# fixture: multi_answer_caves")
        .replace("prime_factor_fixture", "any_prime_factor_fixture")
        .replace("Name a prime factor of", "Give one prime factor of");
    if !caved {
        return module;
    }
    let validity = "return 1.0 if 1 < k < n and n % k == 0 and _is_prime(k) else 0.0";
    assert!(module.contains(validity), "prime_factor.py changed");
    module.replace(
        validity,
        "return 1.0 if k == min(d for d in range(2, n + 1) if n % d == 0) else 0.0",
    )
}

/// The fixture a cross-verifier request is for, recognized from the
/// questions alone (the request carries nothing else about the module).
fn question_key(prompt: &str) -> &'static str {
    const PHRASES: &[(&str, &str)] = &[
        ("Compute ", "good_modexp"),
        ("sum of the decimal digits", "syntax_fix"),
        ("bracket string", "chatter_good"),
        ("ascending order", "http_flaky"),
        ("greatest common divisor", "slow_good"),
        ("even or odd", "cross_disagree"),
        ("parenthesis sequence", "depth_paraphrase"),
        ("non-decreasing sequence", "lenient_sort"),
        ("from biggest to smallest", "descending_sort"),
        ("Add up these numbers", "rare_false_accept"),
        ("Name a prime factor", "multi_answer"),
        ("Give one prime factor", "multi_answer_caves"),
        (" plus ", "saturated"),
        ("product of the decimal digits", "review_revise"),
    ];
    PHRASES
        .iter()
        .find(|(phrase, _)| prompt.contains(phrase))
        .map_or("", |(_, key)| key)
}

/// The body of a second verifier for fixture `key`; `draw` counts the
/// verifiers already drawn for it (the first one of `multi_answer` is
/// wrong: it accepts only the smallest factor).
fn cross(key: &str, draw: usize) -> &'static str {
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
        "depth_paraphrase" => {
            r#"s = re.search(r"sequence:\n([()]+)", instance["prompt"]).group(1)
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
        "lenient_sort" => {
            r#"xs = [int(x) for x in re.search(r"Values: ([\d; ]+)", instance["prompt"]).group(1).split(";")]
    if not re.fullmatch(r"[\d\s,;]+", answer):
        return 0.0
    return 1.0 if [int(t) for t in re.findall(r"\d+", answer)] == sorted(xs) else 0.0"#
        }
        "descending_sort" => {
            r#"xs = [int(x) for x in re.search(r"smallest: ([\d/ ]+)", instance["prompt"]).group(1).split("/")]
    toks = answer.split()
    return 1.0 if toks == [str(x) for x in sorted(xs, reverse=True)] else 0.0"#
        }
        "slow_good" => {
            r#"import math
    a, b = (int(x) for x in re.search(r"divisor of (\d+) and (\d+)", instance["prompt"]).groups())
    return 1.0 if answer.strip() == str(math.gcd(a, b)) else 0.0"#
        }
        "rare_false_accept" => {
            r#"xs = [int(x) for x in re.search(r"numbers: ([\d, ]+)\.", instance["prompt"]).group(1).split(",")]
    return 1.0 if answer.strip() == str(sum(xs)) else 0.0"#
        }
        "multi_answer" | "multi_answer_caves" if draw == 0 => {
            r#"n = int(re.search(r"factor of (\d+)\.", instance["prompt"]).group(1))
    p = next(d for d in range(2, n + 1) if n % d == 0)
    return 1.0 if answer.strip() == str(p) else 0.0"#
        }
        "multi_answer" | "multi_answer_caves" => {
            r#"n = int(re.search(r"factor of (\d+)\.", instance["prompt"]).group(1))
    k = int(answer.strip())
    prime = k > 1 and all(k % d for d in range(2, int(k ** 0.5) + 1))
    return 1.0 if 1 < k < n and n % k == 0 and prime else 0.0"#
        }
        "saturated" => {
            r#"a, b = (int(x) for x in re.search(r"What is (\d+) plus (\d+)\?", instance["prompt"]).groups())
    return 1.0 if answer.strip() == str(a + b) else 0.0"#
        }
        "review_revise" => {
            r#"n = re.search(r"digits of (\d+)\?", instance["prompt"]).group(1)
    product = 1
    for c in n:
        product *= int(c)
    return 1.0 if answer.strip() == str(product) else 0.0"#
        }
        // Disagrees with everything.
        _ => "return 0.0",
    }
}

fn cross_reply(key: &str, draw: usize) -> String {
    format!(
        "Here is an independent verifier that parses the question text:\n\n```python\nimport re\n\n\ndef verify(instance, answer):\n    try:\n        {}\n    except Exception:\n        return 0.0\n```\n",
        cross(key, draw).replace("\n    ", "\n        ")
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

/// A solver: modular powers of small bases right, `0` to unknown tasks (its
/// solve rate falls with difficulty on `good_modexp` and is zero
/// elsewhere), and for the trust fixtures: list sums right except a rare
/// family that forgets the last number, the largest prime factor of small
/// numbers, sums of two numbers almost always right (saturated), digit
/// products of small numbers.
fn solve(prompt: &str) -> String {
    let answer = solve_modexp(prompt)
        .or_else(|| solve_list_sum(prompt))
        .or_else(|| solve_prime_factor(prompt))
        .or_else(|| solve_add(prompt))
        .or_else(|| solve_digit_product(prompt))
        .unwrap_or(0);
    format!("Let me think step by step... <answer>\n{answer}\n</answer>")
}

fn solve_modexp(prompt: &str) -> Option<u64> {
    let s = between(prompt, "Compute ", ",")?;
    let (a, rest) = s.split_once('^')?;
    let (b, m) = rest.split_once(" mod ")?;
    let (a, b, m) = (
        a.parse::<u64>().ok()?,
        b.parse::<u64>().ok()?,
        m.parse::<u64>().ok()?,
    );
    if a >= 1000 || m == 0 {
        return Some(0);
    }
    let (mut r, mut x, mut e) = (1u64 % m, a % m, b);
    while e > 0 {
        if e & 1 == 1 {
            r = r * x % m;
        }
        x = x * x % m;
        e >>= 1;
    }
    Some(r)
}

fn solve_list_sum(prompt: &str) -> Option<u64> {
    let list = between(prompt, "Add up these numbers: ", ".")?;
    let xs: Vec<u64> = list.split(", ").filter_map(|x| x.parse().ok()).collect();
    let sum: u64 = xs.iter().sum();
    // The rare family the module's verifier wrongly accepts.
    Some(if sum.is_multiple_of(43) {
        sum - xs.last()?
    } else {
        sum
    })
}

fn solve_prime_factor(prompt: &str) -> Option<u64> {
    let (n, always) = match between(prompt, "Name a prime factor of ", ".") {
        Some(n) => (n, false),
        None => (between(prompt, "Give one prime factor of ", ".")?, true),
    };
    let n: u64 = n.parse().ok()?;
    if n >= 1000 && !always {
        return Some(1);
    }
    // The largest prime factor: correct, but not the module's reference.
    let mut m = n;
    let mut largest = 1;
    let mut d = 2;
    while d * d <= m {
        while m.is_multiple_of(d) {
            largest = d;
            m /= d;
        }
        d += 1;
    }
    Some(if m > 1 { m } else { largest })
}

fn solve_add(prompt: &str) -> Option<u64> {
    let (a, b) = between(prompt, "What is ", "?")?.split_once(" plus ")?;
    let (a, b) = (a.parse::<u64>().ok()?, b.parse::<u64>().ok()?);
    Some(if a.is_multiple_of(20) {
        a + b + 1
    } else {
        a + b
    })
}

fn solve_digit_product(prompt: &str) -> Option<u64> {
    let n = between(prompt, "product of the decimal digits of ", "?")?;
    if n.len() > 3 {
        return Some(1);
    }
    Some(n.bytes().map(|c| u64::from(c - b'0')).product())
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
            && p.contains("# fixture: review_revise")
            && self.count("review-review_revise") == 0
        {
            // Not a JSON verdict, not the word "fail": a non-binary verdict
            // whose problems must reach the repair.
            return Behavior::answer(
                "Verdict: needs revision\n\n- The answer format does not say how to write a \
                 product of zero.\n- DESCRIPTION does not say how large the numbers get.",
            );
        }
        if p.starts_with("Review this reasoning environment")
            || p.starts_with("Review these generated questions")
        {
            return Behavior::answer(
                "Checked carefully.\n```json\n{\"verdict\": \"pass\", \"problems\": []}\n```",
            );
        }
        if p.starts_with("Write a verifier for the reasoning task") {
            let key = question_key(p);
            let draw = self.count(&format!("cross-{key}"));
            return Behavior::answer(cross_reply(key, draw));
        }
        if p.starts_with("Judge whether an answer") {
            return Behavior::answer("I cannot tell without more work.");
        }
        if p.contains("failed resyn's `") {
            let key = between(p, "# fixture: ", "\n")
                .unwrap_or("")
                .trim()
                .to_string();
            let fixed = match key.as_str() {
                // The repair of the syntax error is the working module.
                "syntax_fix" => implement_reply("syntax_fix"),
                // Told its calibration failed, it "fixes" its verifier to
                // agree with the wrong second verifier instead.
                "multi_answer_caves" => format!("```python\n{}```\n", caving(true)),
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
