//! Generation checks: generate, determinism, uniqueness, prompt length,
//! answer leak.

use std::collections::HashSet;

use super::{Check, Ctx, Failure, InfraError, call_failure, norm};
use crate::probes::reference_answer;
use crate::{ANSWER_INSTRUCTION, Instance, MAX_DIFFICULTY, MIN_DIFFICULTY, instance_id};

/// Instances and solver outputs (index into `instances`, bare answer).
pub(super) struct Generated {
    pub instances: Vec<Instance>,
    pub solutions: Vec<(usize, String)>,
}

type Step<T> = Result<Result<T, Failure>, InfraError>;

pub(super) fn run(ctx: &mut Ctx<'_, '_>) -> Step<Generated> {
    let g = match generate(ctx)? {
        Ok(g) => g,
        Err(f) => return Ok(Err(f)),
    };
    ctx.pass(Check::Generate);
    for check in [determinism, uniqueness, prompt_length, answer_leak] {
        if let Err(f) = check(ctx, &g.instances)? {
            return Ok(Err(f));
        }
    }
    Ok(Ok(g))
}

fn requests(ctx: &Ctx<'_, '_>) -> Vec<(u64, u8)> {
    let seeds = ctx.t.seeds;
    ctx.o
        .difficulties
        .clone()
        .unwrap_or(MIN_DIFFICULTY..=MAX_DIFFICULTY)
        .flat_map(|d| (0..seeds).map(move |s| (s, d)))
        .collect()
}

/// Every difficulty × seed generates, with the right fields; difficulties
/// out of range are refused.
fn generate(ctx: &mut Ctx<'_, '_>) -> Step<Generated> {
    let s = ctx.subject;
    // One call first: a looping generator costs one timeout, not hundreds.
    let first = s.generate(&[(0, MIN_DIFFICULTY)], false);
    if let Some(Err(e)) = first.results.first() {
        let detail = format!("{}{}", e.message, first.output);
        return Ok(Err(call_failure(Check::Generate, e, detail)?));
    }
    let requests = requests(ctx);
    let batch = s.generate(&requests, true);
    let mut instances = Vec::with_capacity(requests.len());
    let mut solutions = Vec::new();
    for (r, &(seed, d)) in batch.results.into_iter().zip(&requests) {
        let (inst, solution) = match r {
            Ok(x) => x,
            Err(e) => {
                let detail = format!("{}{}", e.message, batch.output);
                return Ok(Err(call_failure(Check::Generate, &e, detail)?));
            }
        };
        if let Some(f) = bad_fields(ctx, &inst, seed, d) {
            return Ok(Err(f));
        }
        if let Some(sol) = solution {
            solutions.push((instances.len(), sol));
        }
        instances.push(inst);
    }
    if instances.len() != requests.len() {
        return Ok(Err(Failure::new(
            Check::Generate,
            "missing_results",
            format!(
                "{} requests gave {} instances",
                requests.len(),
                instances.len()
            ),
        )));
    }
    let m = s.meta();
    for bad in [0u8, m.max_difficulty.saturating_add(1)] {
        if (bad < m.min_difficulty || bad > m.max_difficulty)
            && let Some(Ok(_)) = s.generate(&[(0, bad)], false).results.first()
        {
            return Ok(Err(Failure::new(
                Check::Generate,
                "difficulty_out_of_range_accepted",
                format!(
                    "difficulty {bad} is outside {}..={} but generated an instance",
                    m.min_difficulty, m.max_difficulty
                ),
            )));
        }
    }
    ctx.stats.instances = instances.len();
    Ok(Ok(Generated {
        instances,
        solutions,
    }))
}

/// The instance's identity fields, its answer instruction and its JSON round
/// trip.
fn bad_fields(ctx: &Ctx<'_, '_>, inst: &Instance, seed: u64, d: u8) -> Option<Failure> {
    let m = ctx.subject.meta();
    let fail = |reason: &str, what: String| {
        Some(Failure::new(
            Check::Generate,
            reason,
            format!("generate(seed={seed}, difficulty={d}): {what}"),
        ))
    };
    if (
        inst.env.as_str(),
        inst.env_version,
        inst.seed,
        inst.difficulty,
    ) != (m.id.as_str(), m.version, seed, d)
        || inst.id != instance_id(&m.id, m.version, seed, d)
    {
        return fail(
            "wrong_fields",
            format!(
                "the instance says env {} v{}, seed {}, difficulty {}, id {}",
                inst.env, inst.env_version, inst.seed, inst.difficulty, inst.id
            ),
        );
    }
    if !inst.prompt.contains("<answer>") {
        return fail(
            "no_answer_instruction",
            "the prompt does not tell the model to answer in <answer> tags".into(),
        );
    }
    let back = serde_json::to_string(inst)
        .ok()
        .and_then(|j| serde_json::from_str::<Instance>(&j).ok());
    if back.as_ref() != Some(inst) {
        return fail(
            "json_round_trip",
            "the instance does not survive a JSON round trip".into(),
        );
    }
    None
}

/// A fresh run in reverse order gives byte-identical instances.
fn determinism(ctx: &mut Ctx<'_, '_>, instances: &[Instance]) -> Step<()> {
    let requests = requests(ctx);
    let reversed: Vec<(u64, u8)> = requests.iter().rev().copied().collect();
    let again = ctx.subject.generate_fresh(&reversed);
    for (r, inst) in again.results.into_iter().rev().zip(instances) {
        let b = match r {
            Ok((b, _)) => b,
            Err(e) => {
                if e.infra {
                    return Err(InfraError(e));
                }
                return Ok(Err(Failure::new(
                    Check::Determinism,
                    "nondeterministic",
                    format!(
                        "generate(seed={}, difficulty={}) succeeded the first time but failed on a fresh worker in reverse order: {}",
                        inst.seed, inst.difficulty, e.message
                    ),
                )));
            }
        };
        if let Some(d) = difference(inst, &b) {
            return Ok(Err(Failure::new(
                Check::Determinism,
                "nondeterministic",
                format!(
                    "generate(seed={}, difficulty={}) is not deterministic (use only the rng argument; no time, no global state): {d}",
                    inst.seed, inst.difficulty
                ),
            )));
        }
    }
    ctx.pass(Check::Determinism);
    Ok(Ok(()))
}

/// At every difficulty, enough seeds give distinct prompts.
fn uniqueness(ctx: &mut Ctx<'_, '_>, instances: &[Instance]) -> Step<()> {
    let mut min_ratio = 1.0f64;
    for d in MIN_DIFFICULTY..=MAX_DIFFICULTY {
        let ps: Vec<&str> = instances
            .iter()
            .filter(|i| i.difficulty == d)
            .map(|i| i.prompt.as_str())
            .collect();
        if ps.is_empty() {
            continue;
        }
        let distinct: HashSet<&str> = ps.iter().copied().collect();
        #[allow(clippy::cast_precision_loss)]
        let ratio = distinct.len() as f64 / ps.len() as f64;
        min_ratio = min_ratio.min(ratio);
        if ratio < ctx.t.min_unique_ratio {
            return Ok(Err(Failure::new(
                Check::Uniqueness,
                "too_few_distinct_instances",
                format!(
                    "at difficulty {d}, only {} of {} seeds give distinct prompts (need {:.0}%): instances must vary with the rng",
                    distinct.len(),
                    ps.len(),
                    ctx.t.min_unique_ratio * 100.0
                ),
            )));
        }
    }
    ctx.stats.unique_ratio = min_ratio;
    ctx.pass(Check::Uniqueness);
    Ok(Ok(()))
}

/// The environment's own prompt text, without the appended answer
/// instruction, in characters.
fn prompt_chars(i: &Instance) -> usize {
    let p = i
        .prompt
        .strip_suffix(ANSWER_INSTRUCTION)
        .unwrap_or(&i.prompt);
    p.trim_end().chars().count()
}

/// Prompts within bounds.
fn prompt_length(ctx: &mut Ctx<'_, '_>, instances: &[Instance]) -> Step<()> {
    let (lo, hi) = (ctx.t.min_prompt_chars, ctx.t.max_prompt_chars);
    ctx.stats.prompt_chars_min = instances.iter().map(prompt_chars).min().unwrap_or(0);
    ctx.stats.prompt_chars_max = instances.iter().map(prompt_chars).max().unwrap_or(0);
    for i in instances {
        let n = prompt_chars(i);
        if n < lo || n > hi {
            return Ok(Err(Failure::new(
                Check::PromptLength,
                if n < lo {
                    "prompt_too_short"
                } else {
                    "prompt_too_long"
                },
                format!(
                    "the prompt of seed {} difficulty {} has {n} characters; allowed {lo}..={hi}",
                    i.seed, i.difficulty
                ),
            )));
        }
    }
    ctx.pass(Check::PromptLength);
    Ok(Ok(()))
}

/// The reference answer does not appear verbatim in the prompt (a few
/// coincidences are tolerated; a systematic leak is not).
fn answer_leak(ctx: &mut Ctx<'_, '_>, instances: &[Instance]) -> Step<()> {
    let mut leaks = Vec::new();
    let mut long = 0usize;
    for i in instances {
        let a = norm(reference_answer(i));
        if a.chars().count() < ctx.t.leak_min_chars {
            continue;
        }
        long += 1;
        if norm(&i.prompt).contains(&a) {
            leaks.push(i);
        }
    }
    if let Some(i) = leaks.first().filter(|_| leaks.len() * 10 > long) {
        return Ok(Err(Failure::new(
            Check::AnswerLeak,
            "answer_in_prompt",
            format!(
                "the reference answer appears verbatim in the prompt for {} of {long} instances, e.g. seed {} difficulty {}: {:?}",
                leaks.len(),
                i.seed,
                i.difficulty,
                reference_answer(i)
            ),
        )));
    }
    ctx.pass(Check::AnswerLeak);
    Ok(Ok(()))
}

/// Where two generations of one instance differ.
pub(crate) fn difference(a: &Instance, b: &Instance) -> Option<String> {
    let fields = [
        ("prompt", a.prompt.clone(), b.prompt.clone()),
        ("data", a.data.to_string(), b.data.to_string()),
        ("reference", a.reference.clone(), b.reference.clone()),
    ];
    fields
        .into_iter()
        .find(|(_, x, y)| x != y)
        .map(|(name, x, y)| {
            let at = x
                .char_indices()
                .zip(y.chars())
                .find(|((_, c1), c2)| c1 != c2)
                .map_or(x.len().min(y.len()), |((i, _), _)| i);
            let snip = |s: &str| {
                s.get(at..)
                    .unwrap_or("")
                    .chars()
                    .take(60)
                    .collect::<String>()
            };
            format!(
                "`{name}` differs at byte {at}: first run {:?}, second run {:?}",
                snip(&x),
                snip(&y)
            )
        })
}
