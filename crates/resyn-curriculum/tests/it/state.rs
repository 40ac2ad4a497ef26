//! Saved state: exact restore, refusal of other environments, bad files.

use std::sync::Arc;

use proptest::prelude::*;
use resyn_core::{EnvMeta, Registry};
use resyn_curriculum::{Error, Generator, Outcome, RunOptions, STATE_FORMAT};

use crate::common::{self, Flaky, generator, outcomes, step};

#[test]
fn restore_continues_the_same_stream_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curriculum.json");
    let mut g = generator(11);
    for _ in 0..7 {
        step(&mut g);
    }
    // Mid-step: a batch drawn, part of it reported (groups open with and
    // without outcomes), decisions not yet taken.
    let batch = g.draw(10).unwrap();
    let all = outcomes(&batch);
    g.report(&all[..17]).unwrap();
    g.save(&path).unwrap();

    let mut restored = Generator::load(common::registry(), &path).unwrap();
    assert_eq!(restored.state_json(), g.state_json());
    assert_eq!(restored.position(), g.position());
    let mut a = vec![format!("{:?}", g.report(&all[17..]).unwrap())];
    let mut b = vec![format!("{:?}", restored.report(&all[17..]).unwrap())];
    for _ in 0..15 {
        a.push(step(&mut g));
        b.push(step(&mut restored));
    }
    assert_eq!(a, b);
    assert_eq!(restored.state_json(), g.state_json());
    // The continuation has real content: instances and decisions.
    assert!(a.iter().any(|r| r.contains(r#""action":"up""#)), "{a:?}");
}

#[test]
fn saving_replaces_the_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    let mut g = generator(12);
    g.save(&path).unwrap();
    step(&mut g);
    g.save(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, format!("{}\n", g.state_json()));
    assert!(text.contains(STATE_FORMAT));
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "temporary file left behind");
}

fn versioned(id: &str, version: u32) -> Arc<Flaky> {
    let f = Flaky::new(id, u64::MAX);
    Arc::new(Flaky {
        meta: EnvMeta {
            version,
            ..f.meta.clone()
        },
        fail_every: u64::MAX,
    })
}

#[test]
fn restore_refuses_other_environments() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    let mut reg = Registry::new();
    reg.register(versioned("a", 1)).unwrap();
    reg.register(versioned("b", 1)).unwrap();
    let g = Generator::new(reg, common::config(), RunOptions::default()).unwrap();
    g.save(&path).unwrap();

    let cases: Vec<(Vec<Arc<Flaky>>, &str)> = vec![
        (vec![versioned("a", 1)], "`b` is missing"),
        (
            vec![versioned("a", 1), versioned("b", 2)],
            "`b` is at version 2, saved at version 1",
        ),
        (
            vec![versioned("a", 1), versioned("b", 1), versioned("c", 1)],
            "`c` was not in the saved run",
        ),
    ];
    for (envs, want) in cases {
        let mut reg = Registry::new();
        for e in envs {
            reg.register(e).unwrap();
        }
        let e = Generator::load(reg, &path).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::State { .. }), "{msg}");
        assert!(msg.starts_with(&format!("{}: ", path.display())), "{msg}");
        assert!(msg.contains(want), "{msg}");
    }
}

#[test]
fn missing_corrupt_or_foreign_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.json");
    let e = Generator::load(common::registry(), &missing).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    assert!(e.to_string().contains("none.json"), "{e}");

    let g = generator(13);
    let json = g.state_json();
    let cases = [
        ("{}".to_string(), "not a curriculum state"),
        (json[..json.len() / 2].to_string(), "not a curriculum state"),
        (
            json.replace(STATE_FORMAT, "resyn-curriculum-state/999"),
            "format `resyn-curriculum-state/999`",
        ),
        (
            json.replace(r#""target_low":0.3"#, r#""target_low":0.95"#),
            "field `target_low`",
        ),
    ];
    let path = dir.path().join("bad.json");
    for (text, want) in cases {
        std::fs::write(&path, &text).unwrap();
        let e = Generator::load(common::registry(), &path).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("bad.json") && msg.contains(want), "{msg}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any rewards (not just 0 and 1) leave a state that parses back to
    /// the very same values, and the restored generator draws alike.
    #[test]
    fn state_round_trips_exactly(rewards in prop::collection::vec(0.0f64..=1.0, 40..200), seed in any::<u64>()) {
        let mut g = generator(seed);
        let mut k = 0;
        while k < rewards.len() {
            let batch = g.draw(6).unwrap();
            let o: Vec<Outcome> = outcomes(&batch)
                .into_iter()
                .map(|mut x| {
                    x.reward = rewards[k % rewards.len()];
                    k += 1;
                    x
                })
                .collect();
            g.report(&o).unwrap();
        }
        let json = g.state_json();
        let mut back = Generator::from_state_json(common::registry(), &json).unwrap();
        prop_assert_eq!(back.state_json(), json);
        prop_assert_eq!(back.draw(5).unwrap(), g.draw(5).unwrap());
    }
}
