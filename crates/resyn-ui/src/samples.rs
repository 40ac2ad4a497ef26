//! Sample instances generated live, and the answer box's verdicts. This is
//! the only module that runs environments: Python and synthesized ones run
//! in the registry's sandbox, never in this process.

use resyn_core::{Environment, Instance, Verdict, wrap_answer};

use crate::UiError;

/// One requested sample and what generating it gave.
#[derive(Debug)]
pub(crate) struct Sample {
    pub(crate) seed: u64,
    pub(crate) difficulty: u8,
    /// The instance, or why it could not be generated.
    pub(crate) instance: Result<Instance, String>,
}

/// The difficulties shown by default: the easiest, the middle and the
/// hardest level.
pub(crate) fn default_levels(min: u8, max: u8) -> Vec<u8> {
    let mut v = vec![min, min + (max.saturating_sub(min)) / 2, max];
    v.dedup();
    v
}

/// Generate `(seed, difficulty)` samples in one batch.
pub(crate) fn generate(env: &dyn Environment, requests: &[(u64, u8)]) -> Vec<Sample> {
    env.generate_batch(requests)
        .into_iter()
        .zip(requests)
        .map(|(r, &(seed, difficulty))| Sample {
            seed,
            difficulty,
            instance: r.map_err(|e| e.to_string()),
        })
        .collect()
}

/// Check a difficulty against the environment's range.
pub(crate) fn check_difficulty(env: &dyn Environment, d: u8) -> Result<u8, UiError> {
    let m = env.meta();
    if (m.min_difficulty..=m.max_difficulty).contains(&d) {
        Ok(d)
    } else {
        Err(UiError::bad_request(format!(
            "difficulty {d} is outside {}'s range {}-{}",
            m.id, m.min_difficulty, m.max_difficulty
        )))
    }
}

/// Regenerate the instance and verify `response` against it; `wrap` puts
/// the text in `<answer>` tags first (for a bare answer).
pub(crate) fn try_answer(
    env: &dyn Environment,
    seed: u64,
    difficulty: u8,
    response: &str,
    wrap: bool,
) -> Result<Verdict, UiError> {
    let difficulty = check_difficulty(env, difficulty)?;
    let instance = env.generate(seed, difficulty).map_err(|e| {
        UiError::unavailable(
            "Generation failed",
            format!(
                "{} could not generate seed {seed} difficulty {difficulty}: {e}",
                env.meta().id
            ),
        )
    })?;
    let response = if wrap {
        wrap_answer(response)
    } else {
        response.to_string()
    };
    Ok(env.verify(&instance, &response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_levels_cover_the_range_once() {
        assert_eq!(default_levels(1, 10), vec![1, 5, 10]);
        assert_eq!(default_levels(3, 3), vec![3]);
        assert_eq!(default_levels(1, 2), vec![1, 2]);
    }

    #[test]
    fn answers_are_verified_against_the_regenerated_instance() {
        let reg = resyn_envs::registry();
        let env = reg.get("sudoku").unwrap().as_ref();
        let inst = env.generate(4, 2).unwrap();
        let ok = try_answer(env, 4, 2, &inst.reference, false).unwrap();
        assert!(ok.correct, "{ok:?}");
        let wrong = try_answer(env, 4, 2, "nonsense", true).unwrap();
        assert!(!wrong.correct);
        let bad = try_answer(env, 4, 11, "x", false).unwrap_err();
        assert_eq!(bad.status.as_u16(), 422);
    }
}
