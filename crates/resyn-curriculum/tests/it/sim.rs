//! The simulator: deterministic, and the done-criterion of issue 16 (the
//! controller gives more groups with a learning signal than both baselines).

use resyn_curriculum::CurriculumConfig;
use resyn_curriculum::sim::{RlveParams, Scenario, Strategy, environments, simulate};

fn strategies() -> [Strategy; 3] {
    [
        Strategy::Uniform,
        Strategy::Rlve(RlveParams::default()),
        Strategy::Resyn(CurriculumConfig::default()),
    ]
}

#[test]
fn simulation_is_deterministic_and_seeded() {
    let s = Scenario {
        steps: 40,
        ..Scenario::default()
    };
    for strategy in strategies() {
        assert_eq!(
            simulate(&s, &strategy).unwrap(),
            simulate(&s, &strategy).unwrap()
        );
    }
    let other = Scenario { seed: 1, ..s };
    assert_ne!(environments(&s), environments(&other));
    let r = simulate(&other, &Strategy::Uniform).unwrap();
    assert_eq!(r.steps.len(), 40);
}

#[test]
fn issue_16_controller_beats_both_baselines_on_learning_signal() {
    for seed in [0, 1] {
        let s = Scenario {
            seed,
            ..Scenario::default()
        };
        let [u, r, c] = strategies().map(|x| simulate(&s, &x).unwrap());
        assert!(
            c.signal_fraction > r.signal_fraction && c.signal_fraction > u.signal_fraction,
            "seed {seed}: resyn {} rlve {} uniform {}",
            c.signal_fraction,
            r.signal_fraction,
            u.signal_fraction
        );
        for x in [&u, &r, &c] {
            assert!((0.0..=1.0).contains(&x.signal_fraction));
            assert!((0.0..=1.0).contains(&x.wasted_fraction));
            // Skill only grows.
            assert!(
                x.steps
                    .windows(2)
                    .all(|w| w[1].mean_skill >= w[0].mean_skill)
            );
            assert!(x.final_skill >= x.initial_skill);
        }
    }
}
