//! Verification checks: references, solver outputs, `verify` never failing,
//! reward range, wrong-answer probes.

use std::collections::BTreeMap;

use super::generation::Generated;
use super::{
    Check, Ctx, Failure, InfraError, Outcome, Passed, ProbeOutcome, Scored, call_failure, excerpt,
};
use crate::probes::{self, ProbeSpec, reference_answer};
use crate::{ExtractConfig, Instance, Rng, extract_answer, wrap_answer};

pub(super) fn run(ctx: &mut Ctx<'_, '_>, g: Generated) -> Result<Outcome, InfraError> {
    if let Err(f) = references(ctx, &g.instances)? {
        return Ok(Err(f));
    }
    if let Err(f) = solutions(ctx, &g)? {
        return Ok(Err(f));
    }
    let outcomes = match probes(ctx, &g.instances)? {
        Ok(o) => o,
        Err(f) => return Ok(Err(f)),
    };
    Ok(Ok(Passed {
        instances: g.instances,
        probes: outcomes,
    }))
}

type Step<T> = Result<Result<T, Failure>, InfraError>;

/// Every reference response scores exactly 1.
fn references(ctx: &mut Ctx<'_, '_>, instances: &[Instance]) -> Step<()> {
    let items: Vec<(&Instance, &str)> = instances
        .iter()
        .map(|i| (i, i.reference.as_str()))
        .collect();
    for (r, i) in ctx.subject.verify(&items).into_iter().zip(instances) {
        let detail = |what: String| {
            format!(
                "the reference answer of seed {} difficulty {} {what}\nreference answer: {:?}",
                i.seed,
                i.difficulty,
                reference_answer(i)
            )
        };
        match r {
            Ok(Scored::Reward(1.0)) => {}
            Ok(Scored::Reward(x)) => {
                return Ok(Err(Failure::new(
                    Check::Reference,
                    "reference_rejected",
                    detail(format!("scores {x} (must be 1.0)")),
                )));
            }
            Ok(Scored::Unreadable(v)) => {
                return Ok(Err(Failure::new(
                    Check::Reference,
                    "reference_unreadable",
                    detail(format!("cannot be read as an answer: {}", v.detail)),
                )));
            }
            Err(e) => {
                let mut f = call_failure(
                    Check::Reference,
                    &e,
                    detail(format!("made verify() fail: {}", e.message)),
                )?;
                f.reason = format!("verify_{}", e.reason);
                return Ok(Err(f));
            }
        }
    }
    ctx.pass(Check::Reference);
    Ok(Ok(()))
}

/// Every solver output, wrapped as an answer, scores exactly 1.
fn solutions(ctx: &mut Ctx<'_, '_>, g: &Generated) -> Step<()> {
    if g.solutions.is_empty() {
        return Ok(Ok(()));
    }
    let wrapped: Vec<String> = g.solutions.iter().map(|(_, s)| wrap_answer(s)).collect();
    let items: Vec<(&Instance, &str)> = g
        .solutions
        .iter()
        .zip(&wrapped)
        .map(|((k, _), w)| (&g.instances[*k], w.as_str()))
        .collect();
    for (r, (k, sol)) in ctx.subject.verify(&items).into_iter().zip(&g.solutions) {
        let got = match r {
            Ok(Scored::Reward(1.0)) => continue,
            Ok(Scored::Reward(x)) => format!("scores {x}"),
            Ok(Scored::Unreadable(v)) => format!("is unreadable: {}", v.detail),
            Err(e) if e.infra => return Err(InfraError(e)),
            Err(e) => format!("makes verify() fail: {}", e.message),
        };
        let i = &g.instances[*k];
        return Ok(Err(Failure::new(
            Check::Solve,
            "solution_rejected",
            format!(
                "solve() output for seed {} difficulty {} {got}\nsolve() returned: {sol:?}",
                i.seed, i.difficulty
            ),
        )));
    }
    ctx.stats.solved = g.solutions.len();
    ctx.pass(Check::Solve);
    Ok(Ok(()))
}

/// Send every probe; `verify` must not fail, rewards must be in range, and
/// wrong answers must be rejected.
fn probes(ctx: &mut Ctx<'_, '_>, instances: &[Instance]) -> Step<Vec<ProbeOutcome>> {
    let mut specs = probes::build(instances, ctx.t.probe_others);
    if let Some(wrong) = ctx.o.wrong {
        // One generator per difficulty, drawn in seed order: reproducible.
        let mut rng = Rng::from_seed(0);
        for (k, inst) in instances.iter().enumerate() {
            if k == 0 || instances[k - 1].difficulty != inst.difficulty {
                rng = Rng::from_seed(u64::from(inst.difficulty));
            }
            for w in wrong(inst, &mut rng) {
                probes::push_unless_reference(
                    &mut specs,
                    k,
                    inst,
                    "env_specific_wrong",
                    wrap_answer(&w),
                );
            }
        }
    }
    let items: Vec<(&Instance, &str)> = specs
        .iter()
        .map(|p| (&instances[p.inst], p.response.as_str()))
        .collect();
    let scored = ctx.subject.verify(&items);
    let mut outcomes = Vec::with_capacity(specs.len());
    let mut families: BTreeMap<String, [usize; 2]> = BTreeMap::new();
    let mut first_accept: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (k, (r, p)) in scored.into_iter().zip(&specs).enumerate() {
        let i = &instances[p.inst];
        let reward = match r {
            Ok(Scored::Reward(x)) => x,
            Ok(Scored::Unreadable(_)) => 0.0,
            Err(e) => {
                let detail = format!(
                    "verify() must return 0.0 for malformed answers, never fail; on seed {} difficulty {} with probe `{}` (response {:?}) it failed: {}",
                    i.seed,
                    i.difficulty,
                    p.family,
                    excerpt(&p.response),
                    e.message
                );
                return Ok(Err(call_failure(Check::VerifyError, &e, detail)?));
            }
        };
        if let Some(f) = out_of_range(ctx, reward, p, i) {
            return Ok(Err(f));
        }
        let e = families.entry(p.family.to_string()).or_default();
        e[1] += 1;
        if reward > 0.0 {
            if legit(ctx, p, i) {
                ctx.stats.probes_legit += 1;
            } else {
                e[0] += 1;
                first_accept.entry(p.family).or_insert(k);
            }
        }
        outcomes.push(ProbeOutcome {
            inst: p.inst,
            family: p.family,
            response: p.response.clone(),
            reward,
        });
    }
    ctx.pass(Check::VerifyError);
    ctx.pass(Check::RewardRange);
    ctx.stats.probes = outcomes.len();
    ctx.stats.probes_rejected = outcomes.iter().filter(|o| o.reward == 0.0).count();
    ctx.stats.probe_families = families.clone();
    for (family, k) in &first_accept {
        let p = &specs[*k];
        let [acc, sent] = families[*family];
        #[allow(clippy::cast_precision_loss)]
        let rate = acc as f64 / sent as f64;
        if !p.strict && ctx.o.multiple_solutions && rate <= ctx.t.lenient_tolerance {
            continue;
        }
        let i = &instances[p.inst];
        let hint = if p.strict {
            "no correct answer looks like this, so verify() must return 0"
        } else if ctx.o.multiple_solutions {
            "even with MULTIPLE_SOLUTIONS this is accepted too often"
        } else {
            "the module has a unique answer per instance (it does not set MULTIPLE_SOLUTIONS = True), so every other answer must score 0"
        };
        return Ok(Err(Failure::new(
            Check::Probes,
            format!("accepted_{family}"),
            format!(
                "verify() accepted the wrong answer probe `{family}` ({acc} of {sent} times); {hint}. Example: seed {} difficulty {}, reward {}, response:\n{}\nreference answer: {:?}",
                i.seed,
                i.difficulty,
                outcomes[*k].reward,
                excerpt(&p.response),
                reference_answer(i)
            ),
        )));
    }
    ctx.pass(Check::Probes);
    Ok(Ok(outcomes))
}

/// A reward that is not finite, outside [0, 1], or partial without
/// declared partial credit.
fn out_of_range(ctx: &Ctx<'_, '_>, reward: f64, p: &ProbeSpec, i: &Instance) -> Option<Failure> {
    let (reason, rule) = if !reward.is_finite() || !(0.0..=1.0).contains(&reward) {
        ("reward_out_of_range", "rewards must be in [0, 1]")
    } else if !ctx.o.partial_credit && reward != 0.0 && reward != 1.0 {
        (
            "non_binary_reward",
            "rewards must be 0 or 1 (this environment declares no partial credit)",
        )
    } else {
        return None;
    };
    Some(Failure::new(
        Check::RewardRange,
        reason,
        format!(
            "verify() returned {reward} for probe `{}` on seed {} difficulty {}; {rule}",
            p.family, i.seed, i.difficulty
        ),
    ))
}

/// Whether the oracle judges an accepted probe legitimately right. Even a
/// "strict" family can hold a right answer for some tasks (a truncated
/// countdown expression can still reach the target); the oracle knows.
fn legit(ctx: &Ctx<'_, '_>, p: &ProbeSpec, i: &Instance) -> bool {
    let Some(oracle) = ctx.o.acceptable else {
        return false;
    };
    let answer = extract_answer(&p.response, &ExtractConfig::default())
        .map(|a| a.text.trim())
        .unwrap_or("");
    oracle(i, answer)
}
