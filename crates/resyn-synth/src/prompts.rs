//! Prompt templates of every LLM call. Each function returns the user
//! message; [`SYSTEM`] is the shared system message.
//!
//! Invariant: prompts are pure functions of their arguments (no time, no
//! randomness), so identical work produces byte-identical requests, which
//! the store replays on resume instead of asking again.

/// System message of every generation call.
pub const SYSTEM: &str = "You are an expert Python programmer who designs reasoning environments \
for reinforcement learning with verifiable rewards. You write correct, deterministic, \
self-contained code and follow output formats exactly.";

/// How `verify()` receives the answer: said once, in every prompt that
/// asks for a verifier.
pub const ANSWER_STRING: &str = "answer is exactly the text the solver put between the \
<answer> and </answer> tags, with leading and trailing whitespace (and newlines) removed; \
inner newlines are kept";

/// The environment module format, as shown to the model; `imports` is the
/// validator's allowlist.
pub fn format(imports: &[String]) -> String {
    FORMAT
        .replace("{ANSWER_STRING}", ANSWER_STRING)
        .replace("{IMPORTS}", &imports.join(", "))
}

const FORMAT: &str = r#"An environment is ONE self-contained Python module (standard library only) with:

- NAME: str — unique snake_case id (a-z, 0-9, _; starts with a letter; at most 64 chars).
- CATEGORY: str — one of constraint_satisfaction, algorithmic, spatial, logic, math.
- DESCRIPTION: str — one paragraph: the task, what makes an answer correct, how difficulty scales.
- VERSION: int — optional, default 1.
- MULTIPLE_SOLUTIONS: bool — optional; set True when an instance can have several correct answers
  (the verifier then checks validity instead of comparing with the reference).
- generate(rng, difficulty) -> dict — rng is a random.Random; difficulty is an int 1..10 (1 easy,
  10 hard). Use ONLY rng for randomness (never the random module's global functions, time, or
  global state): the same rng seed must give the same instance. Return
  {"prompt": str, "data": <JSON data the verifier needs>, "reference": str}:
  * prompt: the complete question shown to the solver, ending with an "Answer format:" paragraph
    saying exactly how to write the answer. Do not mention answer tags: resyn appends the
    instruction to put the final answer inside <answer></answer> tags. Never reveal the answer.
  * data: JSON-serializable (dict/list/str/int/float/bool/None) hidden data for verify().
  * reference: a correct answer text in the documented answer format.
- verify(instance, answer) -> float — instance is {"prompt", "data", "difficulty", "seed"};
  {ANSWER_STRING}. Return 1.0 if correct else 0.0.
  Check the answer by logic/constraints where possible, parse strictly (reject extra tokens,
  several candidate answers, wrong counts), never raise (wrap parsing in try/except and
  return 0.0), and never accept the prompt text, empty or garbage answers.
- solve(instance) -> str — optional: computes a correct answer from the instance.

Allowed imports (nothing else): {IMPORTS}.
No file, network, process, time or eval/exec use. generate() must finish in well under a second
at difficulty 10; verify() in milliseconds."#;

/// Proposal prompt: several tasks for a keyword, avoiding existing titles.
pub fn proposal(keyword: &str, category: &str, n: usize, existing: &[String]) -> String {
    let mut s = format!(
        "Propose {n} distinct reasoning tasks for the keyword \"{keyword}\" (category: {category}).\n\n\
         Prefer tasks whose answers can be checked by logic or constraints without a reference answer \
         (e.g. checking that a proposed assignment satisfies every constraint), or that are easy with \
         code but hard by hand. Each task must have instances generated at 10 difficulty levels, \
         with difficulty that really scales (bigger instances, more constraints, more steps).\n\n\
         Reply with a JSON array only; each element an object with keys:\n\
         \"title\" (short, unique), \"description\" (the task precisely), \"verification\" (how an \
         answer is checked, and why by checking rather than by comparison with a reference), \
         \"difficulty_scaling\" (what grows from level 1 to 10), \"category\" (one of \
         constraint_satisfaction, algorithmic, spatial, logic, math).\n"
    );
    if !existing.is_empty() {
        s.push_str("\nThese tasks already exist; do not repeat them or make near copies:\n");
        for t in existing.iter().rev().take(200) {
            s.push_str("- ");
            s.push_str(t);
            s.push('\n');
        }
    }
    s
}

/// JSON schema of a proposal reply (`n` tasks), for structured output.
pub fn proposal_schema(n: usize) -> serde_json::Value {
    let text = serde_json::json!({"type": "string", "minLength": 1});
    serde_json::json!({
        "type": "array",
        "minItems": 1,
        "maxItems": n.max(1),
        "items": {
            "type": "object",
            "properties": {
                "title": text,
                "description": text,
                "verification": text,
                "difficulty_scaling": text,
                "category": {
                    "type": "string",
                    "enum": ["constraint_satisfaction", "algorithmic", "spatial", "logic", "math"],
                },
            },
            "required": ["title", "description", "verification", "difficulty_scaling", "category"],
            "additionalProperties": false,
        },
    })
}

/// Implementation prompt: format, few-shot examples, the proposal.
pub fn implement(
    proposal: &serde_json::Value,
    examples: &[(String, String)],
    imports: &[String],
) -> String {
    let mut s = format!("{}\n\n", format(imports));
    for (k, (name, code)) in examples.iter().enumerate() {
        s.push_str(&format!(
            "### Example environment {} ({name})\n```python\n{}\n```\n\n",
            k + 1,
            code.trim_end()
        ));
    }
    s.push_str(&format!(
        "### Task to implement\n{}\n\nWrite the complete environment module for this task. Reply with \
         exactly one ```python code block containing the whole module.",
        pretty(proposal)
    ));
    s
}

/// Repair prompt: the current code and the precise error.
pub fn repair(code: &str, stage: &str, reason: &str, detail: &str, imports: &[String]) -> String {
    format!(
        "{}\n\nThe environment module below failed resyn's `{stage}` check (reason: {reason}).\n\n\
         ### Error\n{detail}\n\n### Module\n```python\n{}\n```\n\nFix the problem (and anything else \
         wrong you notice) and reply with the complete corrected module in exactly one ```python \
         code block.",
        format(imports),
        code.trim_end()
    )
}

/// Repair prompt when the reply had no usable code.
pub fn reimplement(proposal: &serde_json::Value, error: &str, imports: &[String]) -> String {
    format!(
        "{}\n\n### Task to implement\n{}\n\nYour previous reply could not be used: {error}\n\n\
         Reply with exactly one ```python code block containing the whole module.",
        format(imports),
        pretty(proposal)
    )
}

/// Code review prompt (review step 1).
pub fn code_review(proposal: &serde_json::Value, code: &str) -> String {
    format!(
        "Review this reasoning environment as a strict judge.\n\n### Task\n{}\n\n### Module\n```python\n{}\n```\n\n\
         Check: (1) verification is reference-free (checks the answer by logic/constraints) or the task has a \
         real computational advantage for code over hand reasoning; (2) the implementation is complete and \
         correct (generate, verify, reference consistent; no crash paths); (3) difficulty really scales \
         from 1 to 10. Reply with a JSON object only: {{\"verdict\": \"pass\" or \"fail\", \"problems\": \
         [\"...\"]}}.",
        pretty(proposal),
        code.trim_end()
    )
}

/// Question review prompt (review step 2): rendered questions.
pub fn question_review(samples: &[(u8, String, String)]) -> String {
    let mut s = String::from(
        "Review these generated questions (with their reference answers) as a strict judge. Check that \
         each question is well specified (a careful solver knows exactly what to answer and in which \
         format), has no loopholes (no trivial or ambiguous answers accepted), does not reveal its \
         answer, and that difficulty really increases with the level.\n\n",
    );
    for (d, q, a) in samples {
        s.push_str(&format!(
            "### Level {d}\nQuestion:\n{}\nReference answer:\n{}\n\n",
            q.trim(),
            a.trim()
        ));
    }
    s.push_str("Reply with a JSON object only: {\"verdict\": \"pass\" or \"fail\", \"problems\": [\"...\"]}.");
    s
}

/// Cross-verifier prompt: a verifier from rendered questions alone (never
/// the module's description or code, so its mistakes are its own).
pub fn cross_verifier(questions: &[String], imports: &[String]) -> String {
    let mut s = String::from(
        "Write a verifier for the reasoning task these questions pose, working only from the \
         question text.\n\n",
    );
    for (k, q) in questions.iter().enumerate() {
        s.push_str(&format!("### Example question {}\n{}\n\n", k + 1, q.trim()));
    }
    s.push_str(&format!(
        "Write a Python function `verify(instance, answer) -> float` (standard library only; \
         allowed imports: {}) where instance[\"prompt\"] is a question like the ones above, \
         exactly as shown, and {ANSWER_STRING}. Recover the problem by parsing the question text, \
         then return 1.0 if the answer is correct and 0.0 otherwise. Accept every answer the \
         question allows (some questions have several correct answers: check validity, not \
         equality with one solution), parse strictly in the stated answer format, and never \
         raise. Reply with exactly one ```python code block.",
        imports.join(", ")
    ));
    s
}

/// Asked of a reviewer when verifiers disagree on an answer.
pub fn judge(question: &str, answer: &str) -> String {
    format!(
        "Judge whether an answer to the question below is correct. Work the problem out \
         carefully; the question may allow several correct answers, so check the answer \
         against the question's requirements rather than against one solution, and apply \
         its stated answer format.\n\n### Question\n{}\n\n### Answer\n{}\n\n\
         Reply with a JSON object only: {{\"correct\": true or false, \"reason\": \"...\"}}.",
        question.trim(),
        answer
    )
}

/// Appended when a judge's reply had no verdict.
pub const JSON_ONLY: &str = "Answer with the JSON object only.";

// ------------------------------------------------------------ repair evidence
//
// What a failed stage tells the model on repair (the `### Error` of
// [`repair`]), and stores as the failure's detail.

/// `NAME` is taken.
pub fn name_taken(name: &str) -> String {
    format!(
        "NAME = {name:?} is already used by another environment; choose a different, more \
         specific NAME"
    )
}

/// The reviewer's problems.
pub fn review_problems(step: &str, problems: &[String]) -> String {
    let list = if problems.is_empty() {
        "(the reviewer listed no specific problem)".to_string()
    } else {
        problems.join("\n- ")
    };
    format!(
        "An independent reviewer rejected the environment ({step}). Fix every problem listed:\n- {list}"
    )
}

/// One disputed answer: where it came from, the question, the exact string
/// `verify()` received, and each check's verdict (`None`: raised).
pub struct Disputed<'a> {
    /// Position in the message, from 1.
    pub n: usize,
    /// Instance seed and difficulty.
    pub seed: u64,
    /// Instance difficulty.
    pub difficulty: u8,
    /// "a model's answer", "a constructed answer", ...
    pub origin: &'a str,
    /// The question as the verifiers see it.
    pub question: &'a str,
    /// Exactly what `verify()` received.
    pub answer: &'a str,
    /// `(who, verdict)`, the module's `verify()` first.
    pub votes: &'a [(&'a str, Option<bool>)],
}

/// The evidence of one disputed answer.
pub fn disputed_answer(d: &Disputed<'_>) -> String {
    let mut s = format!(
        "--- Disputed answer {} (seed {}, difficulty {}, {})\nQuestion:\n{}\n\
         Answer string passed to verify(): {:?}\n",
        d.n,
        d.seed,
        d.difficulty,
        d.origin,
        clip(d.question, 1500),
        d.answer
    );
    for (who, verdict) in d.votes {
        let said = match verdict {
            Some(true) => "correct",
            Some(false) => "wrong",
            None => "no verdict (raised)",
        };
        s.push_str(&format!("- {who}: {said}\n"));
    }
    s
}

/// Independent checks outvoted the module's `verify()`.
pub fn overruled(overruled: usize, compared: usize, evidence: &[String]) -> String {
    format!(
        "Independent checks overrule your verify() on {overruled} of {compared} compared \
         answers. Either verify() is wrong on these answers or the question does not say \
         precisely enough what a correct answer is. For each: the question, the exact string \
         verify() received, and what each check said.\n\n{}",
        evidence.join("\n")
    )
}

/// Disagreements no majority settles.
pub fn unresolved(n: usize, evidence: &[String]) -> String {
    format!(
        "{n} disagreements between the verifiers have no majority:\n{}",
        evidence.join("\n")
    )
}

/// A repair flipped a verdict adjudication upheld.
pub fn settled_changed(
    count: usize,
    seed: u64,
    difficulty: u8,
    question: &str,
    answer: &str,
    correct: bool,
) -> String {
    format!(
        "Your verify() now judges {count} answer(s) differently from what independent checks \
         settled in an earlier round. Example (seed {seed}, difficulty {difficulty}):\n\
         Question:\n{}\nAnswer string passed to verify(): {answer:?}\nSettled: {}; your \
         verify() now says the opposite. Keep verify() correct on these answers.",
        clip(question, 1500),
        if correct { "correct" } else { "wrong" }
    )
}

/// A solver's solve rates did not pass calibration.
pub fn calibration_failed(
    rates: &[String],
    c: &crate::calibrate::Calibration,
    policy: &crate::calibrate::Policy,
) -> String {
    format!(
        "A solver model's solve rate by difficulty level (solved/answered): {}. \
         (trend z = {:.2}, one-sided p = {:.3}; pooled rate of the top two levels {:.2}, \
         at most {:.2} allowed; of the bottom two {:.2}, at least {:.2} required; the \
         rate must fall significantly as the level rises.) Change how generate() scales \
         with difficulty so that level 1 is solvable and level 10 is clearly harder.",
        rates.join(", "),
        c.z,
        c.p_value,
        c.top_rate,
        policy.max_top_rate,
        c.bottom_rate,
        policy.min_bottom_rate,
    )
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max).collect();
    format!("{head}…")
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

#[cfg(test)]
mod tests {
    //! The text of every prompt, rendered with fixed inputs: a change to what
    //! the model is told shows up as a snapshot diff to review.

    use serde_json::json;

    use super::*;
    use crate::calibrate::{Level, Policy, assess};

    fn proposal_value() -> serde_json::Value {
        json!({
            "title": "Modular exponentiation",
            "description": "Compute a^b mod n for given integers.",
            "verification": "Recompute pow(a, b, n) and compare.",
            "difficulty_scaling": "Bigger numbers at higher levels.",
            "category": "math",
        })
    }

    const CODE: &str = "NAME = \"modexp\"\n\ndef generate(rng, difficulty):\n    ...\n";

    /// The validator's default allowlist: what the pipeline tells the model.
    fn imports() -> Vec<String> {
        crate::validate::ValidationConfig::default().allowed_imports
    }

    #[test]
    fn system_and_format() {
        insta::assert_snapshot!("system", SYSTEM);
        insta::assert_snapshot!("format", format(&imports()));
    }

    #[test]
    fn proposal_prompt() {
        let existing = vec!["Sudoku".to_string(), "Knapsack".to_string()];
        insta::assert_snapshot!(proposal("modular arithmetic", "math", 4, &existing));
        insta::assert_snapshot!(
            "proposal_without_existing",
            proposal("graph coloring", "constraint_satisfaction", 2, &[])
        );
    }

    #[test]
    fn proposal_schema_json() {
        let text = serde_json::to_string_pretty(&proposal_schema(3)).unwrap();
        insta::assert_snapshot!(text);
    }

    #[test]
    fn implementation_prompt() {
        let examples = vec![(
            "robot_walk".to_string(),
            "NAME = \"robot_walk\"\n".to_string(),
        )];
        insta::assert_snapshot!(implement(&proposal_value(), &examples, &imports()));
    }

    #[test]
    fn repair_prompts() {
        insta::assert_snapshot!(
            "repair",
            repair(
                CODE,
                "validate",
                "parse:syntax_error",
                "line 3: invalid syntax",
                &imports()
            )
        );
        insta::assert_snapshot!(
            "reimplement",
            reimplement(
                &proposal_value(),
                "no ```python block in the reply",
                &imports()
            )
        );
    }

    #[test]
    fn review_prompts() {
        insta::assert_snapshot!("code_review", code_review(&proposal_value(), CODE));
        let samples = vec![
            (1, "Compute 2^3 mod 5.".to_string(), "3".to_string()),
            (10, "Compute 7^123 mod 1000.".to_string(), "543".to_string()),
        ];
        insta::assert_snapshot!("question_review", question_review(&samples));
    }

    #[test]
    fn cross_verification_prompt() {
        let questions = vec![
            "Compute 2^3 mod 5.".to_string(),
            "Compute 7^123 mod 1000.".to_string(),
        ];
        insta::assert_snapshot!(cross_verifier(&questions, &imports()));
    }

    #[test]
    fn adjudication_prompts() {
        insta::assert_snapshot!("judge", judge("Compute 2^3 mod 5.", "3"));
        insta::assert_snapshot!("json_only", JSON_ONLY);
        let votes = [
            ("the module's verify()", Some(false)),
            ("second verifier", Some(true)),
            ("tie-breaking verifier", None),
        ];
        let evidence = vec![disputed_answer(&Disputed {
            n: 1,
            seed: 4,
            difficulty: 2,
            origin: "a model's answer",
            question: "Compute 2^3 mod 5.",
            answer: "3",
            votes: &votes,
        })];
        insta::assert_snapshot!("overruled", overruled(1, 40, &evidence));
        insta::assert_snapshot!("unresolved", unresolved(1, &evidence));
        insta::assert_snapshot!(
            "settled_changed",
            settled_changed(2, 4, 2, "Compute 2^3 mod 5.", "3", true)
        );
    }

    #[test]
    fn repair_evidence() {
        insta::assert_snapshot!("name_taken", name_taken("modexp"));
        let problems = vec![
            "verify() accepts 03 for 3".to_string(),
            "level 10 is no harder than level 9".to_string(),
        ];
        insta::assert_snapshot!("review_problems", review_problems("code review", &problems));
        insta::assert_snapshot!(
            "review_problems_none_listed",
            review_problems("question review", &[])
        );
        let curve: Vec<Level> = (1..=10)
            .map(|d| Level {
                difficulty: d,
                n: 8,
                solved: 8 - u32::from(d) / 5,
                truncated: 0,
            })
            .collect();
        let rates: Vec<String> = curve
            .iter()
            .map(|l| format!("{}: {}/{}", l.difficulty, l.solved, l.n))
            .collect();
        let policy = Policy::default();
        let c = assess(curve, 8, &policy);
        insta::assert_snapshot!(
            "calibration_failed",
            calibration_failed(&rates, &c, &policy)
        );
    }
}
