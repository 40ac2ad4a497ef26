//! Batched scoring agrees with one-at-a-time scoring, keeps input order
//! across environments, and reports bad items in place.

// Fixtures and helpers panic on failure, like the tests that call them.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use resyn_core::testing::CannotRun;
use resyn_core::{Environment, Instance, ReasonCode};
use resyn_reward::{Error, RewardConfig, Scorer, Target};
use serde_json::json;

fn ground_truth(i: &Instance) -> String {
    json!({"reward_mode": "verifier", "id": i.id, "env": i.env, "env_version": i.env_version,
           "seed": i.seed, "difficulty": i.difficulty, "data": i.data})
    .to_string()
}

/// Instances of every native environment, interleaved.
fn mixed() -> Vec<Instance> {
    let reg = resyn_envs::registry();
    let envs: Vec<_> = reg.iter().cloned().collect();
    (0..400u64)
        .map(|k| {
            let env: &Arc<dyn Environment> = &envs[k as usize % envs.len()];
            let m = env.meta();
            let d =
                m.min_difficulty + (k % u64::from(m.max_difficulty - m.min_difficulty + 1)) as u8;
            env.generate(k, d).unwrap()
        })
        .collect()
}

#[test]
fn batch_equals_single_in_input_order() {
    let scorer = Scorer::new(resyn_envs::registry());
    let cfg = RewardConfig {
        format_weight: 0.25,
        ..Default::default()
    };
    let insts = mixed();
    let responses: Vec<String> = insts
        .iter()
        .enumerate()
        .map(|(k, i)| match k % 3 {
            0 => i.reference.clone(),
            1 => format!("<think>x</think>{}", i.reference),
            _ => "<answer>definitely not</answer>".to_string(),
        })
        .collect();
    let gts: Vec<String> = insts.iter().map(ground_truth).collect();
    let items: Vec<(&str, &str)> = gts
        .iter()
        .zip(&responses)
        .map(|(g, r)| (g.as_str(), r.as_str()))
        .collect();
    let batch = scorer.score_ground_truths(&items, &cfg);
    assert_eq!(batch.len(), insts.len());
    for (k, ((g, r), b)) in items.iter().zip(&batch).enumerate() {
        let single = scorer.score_ground_truth(g, r, &cfg).unwrap();
        assert_eq!(b.as_ref().unwrap(), &single, "item {k}");
        if k % 3 != 2 {
            assert!(single.verdict.correct, "item {k}: {single:?}");
        }
        assert_eq!(single.format_ok, k % 3 == 1);
    }
    // Whole instances give the same rewards as their ground truths.
    let targets: Vec<Target> = insts
        .iter()
        .map(|i| Target::Instance(Arc::new(i.clone())))
        .collect();
    let t_items: Vec<(&Target, &str)> = targets
        .iter()
        .zip(&responses)
        .map(|(t, r)| (t, r.as_str()))
        .collect();
    let by_target = scorer.score_targets(&t_items, &cfg);
    for (a, b) in by_target.iter().zip(&batch) {
        assert_eq!(a.as_ref().unwrap(), b.as_ref().unwrap());
    }
}

#[test]
fn bad_items_fail_alone() {
    let scorer = Scorer::new(resyn_envs::registry());
    let cfg = RewardConfig::default();
    let inst = &mixed()[0];
    let good = ground_truth(inst);
    let mut alien = inst.clone();
    alien.env = "no_such_env".into();
    let alien = ground_truth(&alien);
    let code = json!({"reward_mode": "code", "id": "i", "env": "whatever", "env_version": 1, "answer": "A B"}).to_string();
    let items = [
        (good.as_str(), inst.reference.as_str()),
        ("{not json", "x"),
        (alien.as_str(), "x"),
        (code.as_str(), "<answer> a  b </answer>"),
        (r#"{"reward_mode":"llm_answer"}"#, "x"),
    ];
    let out = scorer.score_ground_truths(&items, &cfg);
    assert!(out[0].as_ref().unwrap().verdict.correct);
    assert!(matches!(out[1], Err(Error::GroundTruth(_))));
    assert!(matches!(&out[2], Err(Error::UnknownEnvironment(e)) if e == "no_such_env"));
    assert!(
        out[3].as_ref().unwrap().verdict.correct,
        "code mode: canonical match"
    );
    assert!(matches!(out[4], Err(Error::GroundTruth(_))));
}

#[test]
fn stale_env_version_is_an_invalid_instance_verdict() {
    let scorer = Scorer::new(resyn_envs::registry());
    let mut inst = mixed()[0].clone();
    inst.env_version += 1;
    let r = scorer
        .score_ground_truth(
            &ground_truth(&inst),
            &inst.reference,
            &RewardConfig::default(),
        )
        .unwrap();
    assert_eq!(
        (r.score, r.verdict.reason),
        (0.0, ReasonCode::InvalidInstance)
    );
}

#[test]
fn an_environment_that_cannot_run_is_an_error_never_a_zero() {
    let good = &mixed()[0];
    let mut reg = resyn_envs::registry();
    let stuck = CannotRun::like(reg.get(&good.env).unwrap().as_ref(), "cannot_run");
    reg.register(Arc::new(stuck)).unwrap();
    let scorer = Scorer::new(reg);
    let cfg = RewardConfig::default();
    let mut stuck = good.clone();
    stuck.env = "cannot_run".into();
    let (good_gt, stuck_gt) = (ground_truth(good), ground_truth(&stuck));
    let items = [
        (good_gt.as_str(), good.reference.as_str()),
        (stuck_gt.as_str(), good.reference.as_str()),
        (stuck_gt.as_str(), "<answer>anything</answer>"),
    ];
    let out = scorer.score_ground_truths(&items, &cfg);
    assert!(out[0].as_ref().unwrap().verdict.correct, "{:?}", out[0]);
    for r in &out[1..] {
        match r {
            Err(e @ Error::Unavailable { env, detail }) => {
                assert_eq!(env, "cannot_run");
                assert_eq!(detail, CannotRun::DETAIL);
                assert!(e.to_string().contains("cannot run on this machine"), "{e}");
            }
            other => panic!("expected Error::Unavailable, got {other:?}"),
        }
    }
    // One at a time too.
    assert!(matches!(
        scorer.score_ground_truth(&stuck_gt, &good.reference, &cfg),
        Err(Error::Unavailable { .. })
    ));
}
