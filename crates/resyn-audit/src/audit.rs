//! [`audit`]: score every response with each judge of its environment and
//! compare.

use std::collections::{BTreeMap, HashMap};

use resyn_core::{
    ANSWER_INSTRUCTION, Environment, ExtractConfig, Instance, ReasonCode, Verdict, extract_answer,
};
use resyn_registry::Loaded;

use crate::judges::{Second, Which, solutions, stored_verifier};
use crate::report::{EnvAudit, Errors, Example, Report, SolveCheck};
use crate::{Error, Result};

/// Characters of the question an example shows.
const QUESTION_CHARS: usize = 200;
/// Characters of the answer an example shows.
const ANSWER_CHARS: usize = 200;

/// One real model response to audit.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The instance it answers. An empty prompt (instances rebuilt from a
    /// dataset row's ground truth) is regenerated for the examples.
    pub instance: Instance,
    /// The full response text, as the verifier receives it.
    pub response: String,
    /// Where it came from, for messages (`file:line`).
    pub origin: String,
}

/// How to audit.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// An environment fails when its disagreement rate exceeds this.
    pub max_disagreement: f64,
    /// Examples kept per environment.
    pub examples: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_disagreement: 0.0,
            examples: 3,
        }
    }
}

/// Score every response with its environment's own verifier, the second
/// verifier stored with it and its `solve()` (the last two in the sandbox),
/// and report per environment where they disagree.
///
/// # Errors
/// A response whose environment is unknown or of another version, naming
/// its origin; [`Error::Sandbox`] when the sandbox cannot start.
pub fn audit(loaded: &Loaded, responses: &[Response], options: &Options) -> Result<Report> {
    let mut by_env: BTreeMap<&str, (&dyn Environment, Vec<&Response>)> = BTreeMap::new();
    for r in responses {
        let inst = &r.instance;
        let env = loaded
            .registry
            .get(&inst.env)
            .map_err(|_| Error::UnknownEnvironment {
                origin: r.origin.clone(),
                env: inst.env.clone(),
            })?;
        let current = env.meta().version;
        if inst.env_version != current {
            return Err(Error::Version {
                origin: r.origin.clone(),
                id: inst.id.clone(),
                env: inst.env.clone(),
                version: inst.env_version,
                current,
            });
        }
        by_env
            .entry(&inst.env)
            .or_insert_with(|| (env.as_ref(), Vec::new()))
            .1
            .push(r);
    }
    let mut environments = Vec::with_capacity(by_env.len());
    for (env, rs) in by_env.into_values() {
        environments.push(audit_env(loaded, env, &rs, options)?);
    }
    Ok(Report {
        max_disagreement: options.max_disagreement,
        responses: responses.len(),
        failed: environments.iter().any(|e| e.failed),
        environments,
    })
}

fn audit_env(
    loaded: &Loaded,
    env: &dyn Environment,
    rs: &[&Response],
    options: &Options,
) -> Result<EnvAudit> {
    let meta = env.meta();
    let items: Vec<(&Instance, &str)> = rs
        .iter()
        .map(|r| (&r.instance, r.response.as_str()))
        .collect();
    let ours = env.verify_batch(&items);
    let second = stored_verifier(loaded, meta, Which::Second)?;
    let theirs = match &second {
        Second::Stored(py) => Some(py.verify_batch(&items)),
        Second::Missing | Second::Unloadable(_) => None,
    };
    // The tie-breaker judges the disagreements only.
    let disputed: Vec<usize> = theirs.as_ref().map_or_else(Vec::new, |t| {
        (0..rs.len())
            .filter(|&k| !failed(&ours[k]) && !failed(&t[k]) && ours[k].correct != t[k].correct)
            .collect()
    });
    let third = if disputed.is_empty() {
        Second::Missing
    } else {
        stored_verifier(loaded, meta, Which::TieBreaker)?
    };
    let mut tie: HashMap<usize, Verdict> = HashMap::new();
    if let Second::Stored(py) = &third {
        let items: Vec<(&Instance, &str)> = disputed.iter().map(|&k| items[k]).collect();
        tie.extend(disputed.iter().copied().zip(py.verify_batch(&items)));
    }
    let extract = ExtractConfig::default();
    let answers: Vec<Option<&str>> = rs
        .iter()
        .map(|r| extract_answer(&r.response, &extract).ok().map(|a| a.text))
        .collect();
    // solve() once per instance that has an answer to compare.
    let mut unique: BTreeMap<&str, &Instance> = BTreeMap::new();
    for (r, a) in rs.iter().zip(&answers) {
        if a.is_some() {
            unique.insert(&r.instance.id, &r.instance);
        }
    }
    let insts: Vec<&Instance> = unique.into_values().collect();
    let solved = solutions(loaded, &meta.id, &insts);

    let mut a = EnvAudit {
        env: meta.id.clone(),
        version: meta.version,
        source: meta.source,
        second_verifier: second.status(),
        tie_breaker: third.status(),
        has_solve: solved.is_some(),
        scored: rs.len(),
        compared: 0,
        disagreements: 0,
        disagreement_rate: None,
        module_only_accepts: 0,
        second_only_accepts: 0,
        module_outvoted: 0,
        second_outvoted: 0,
        solve_matches: 0,
        solve_rejected_by_module: 0,
        solve_rejected_by_second: 0,
        errors: Errors::default(),
        failed: false,
        examples: Vec::new(),
    };
    if let Second::Unloadable(e) = &second {
        a.errors.second = rs.len();
        a.errors.first = Some(format!("second verifier: {e}"));
    }
    if let Second::Unloadable(e) = &third {
        a.errors.tie_breaker = disputed.len();
        a.errors
            .first
            .get_or_insert_with(|| format!("tie-breaker: {e}"));
    }
    let mut questions = Questions::new(env);
    for (k, r) in rs.iter().enumerate() {
        let ours = &ours[k];
        let theirs = theirs.as_ref().map(|t| &t[k]);
        note_error(&mut a.errors, ours, "verify()", |e| &mut e.module);
        if let Some(t) = theirs {
            note_error(&mut a.errors, t, "second verifier", |e| &mut e.second);
        }
        let mut finding = false;
        if let Some(t) = theirs.filter(|t| !failed(t) && !failed(ours)) {
            a.compared += 1;
            if ours.correct != t.correct {
                a.disagreements += 1;
                if ours.correct {
                    a.module_only_accepts += 1;
                } else {
                    a.second_only_accepts += 1;
                }
                if let Some(v) = tie.get(&k) {
                    note_error(&mut a.errors, v, "tie-breaker", |e| &mut e.tie_breaker);
                    if !failed(v) {
                        if v.correct == ours.correct {
                            a.second_outvoted += 1;
                        } else {
                            a.module_outvoted += 1;
                        }
                    }
                }
                finding = true;
            }
        }
        let solve = match (answers[k], solved.as_ref().map(|s| &s[&r.instance.id])) {
            (_, None) => SolveCheck::Unavailable,
            (None, Some(_)) => SolveCheck::Differs,
            (Some(_), Some(Err(e))) => {
                a.errors.solve += 1;
                a.errors
                    .first
                    .get_or_insert_with(|| format!("solve(): {e}"));
                SolveCheck::Unavailable
            }
            (Some(ans), Some(Ok(s))) if ans.trim() == s.trim() => SolveCheck::Equal,
            (Some(_), Some(Ok(_))) => SolveCheck::Differs,
        };
        if solve == SolveCheck::Equal {
            a.solve_matches += 1;
            if !ours.correct && !failed(ours) {
                a.solve_rejected_by_module += 1;
                finding = true;
            }
            if theirs.is_some_and(|t| !t.correct && !failed(t)) {
                a.solve_rejected_by_second += 1;
                finding = true;
            }
        }
        if finding && a.examples.len() < options.examples {
            a.examples.push(Example {
                origin: r.origin.clone(),
                instance: r.instance.id.clone(),
                seed: r.instance.seed,
                difficulty: r.instance.difficulty,
                question: questions.excerpt(&r.instance),
                answer: answers[k].map(|t| cap(t, ANSWER_CHARS)),
                verify: ours.clone(),
                second: theirs.cloned(),
                tie_breaker: tie.get(&k).cloned(),
                solve,
            });
        }
    }
    #[allow(clippy::cast_precision_loss)] // response counts are far below 2^52
    let rate = (a.compared > 0).then(|| a.disagreements as f64 / a.compared as f64);
    a.disagreement_rate = rate;
    a.failed = rate.is_some_and(|r| r > options.max_disagreement) || a.solve_rejections() > 0;
    Ok(a)
}

/// Whether a verifier failed rather than judged: it raised, or could not
/// run at all.
fn failed(v: &Verdict) -> bool {
    matches!(v.reason, ReasonCode::EnvError | ReasonCode::Unavailable)
}

/// Count a verifier failure, keeping the first error's text.
fn note_error(errors: &mut Errors, v: &Verdict, who: &str, count: fn(&mut Errors) -> &mut usize) {
    if failed(v) {
        *count(errors) += 1;
        errors
            .first
            .get_or_insert_with(|| format!("{who}: {}", v.detail));
    }
}

/// Question excerpts for examples: from the instance's own prompt, else
/// (an instance rebuilt from a ground truth) from the same instance
/// generated again.
struct Questions<'a> {
    env: &'a dyn Environment,
    regenerated: HashMap<String, String>,
}

impl<'a> Questions<'a> {
    fn new(env: &'a dyn Environment) -> Self {
        Self {
            env,
            regenerated: HashMap::new(),
        }
    }

    fn excerpt(&mut self, inst: &Instance) -> String {
        if !inst.prompt.is_empty() {
            return question(&inst.prompt);
        }
        let env = self.env;
        self.regenerated
            .entry(inst.id.clone())
            .or_insert_with(|| {
                env.generate(inst.seed, inst.difficulty)
                    .ok()
                    .filter(|g| g.id == inst.id)
                    .map_or_else(|| "(question unavailable)".into(), |g| question(&g.prompt))
            })
            .clone()
    }
}

/// The start of a prompt, without the answer instruction resyn appends.
fn question(prompt: &str) -> String {
    let own = prompt.strip_suffix(ANSWER_INSTRUCTION).unwrap_or(prompt);
    excerpt(own, QUESTION_CHARS)
}

/// `text` with whitespace runs collapsed, cut to `max` characters.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    cap(&text.split_whitespace().collect::<Vec<_>>().join(" "), max)
}

/// `text` cut to `max` characters, marked when cut.
fn cap(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}
