//! Solve rates on resyn environments, whichever are registered.

use std::collections::HashMap;

use resyn_eval::{Cache, EnvSelection, env_items};
use resyn_llm::test_server::{Behavior, TestServer};

use crate::common::*;

#[tokio::test]
async fn per_env_and_per_difficulty_solve_rates() {
    let registry = resyn_envs::registry();
    let sel = EnvSelection {
        ids: vec!["all".into()],
        categories: vec![],
        difficulties: (1, 4),
        per_level: 3,
        seed: 5,
    };
    let items = env_items(&registry, &sel).unwrap();
    assert!(!items.is_empty());
    // The "model" answers with the reference up to difficulty 2, then gives up.
    let mut map = HashMap::new();
    for item in &items {
        let resyn_eval::Target::Env { instance, .. } = &item.target else {
            unreachable!()
        };
        let b = if instance.difficulty <= 2 {
            Behavior::answer(instance.reference.clone())
        } else {
            Behavior::answer("I am not sure. <answer></answer>")
        };
        map.insert(item.prompt.clone(), b);
    }
    let server = TestServer::start(by_prompt(map));
    let report = run(
        &items,
        &config(1),
        &client(&server, 8),
        &mut Cache::in_memory(),
    )
    .await;
    assert!(report.complete);
    let envs = report.suites.iter().find(|s| s.suite == "envs").unwrap();
    assert_eq!(envs.groups.len(), registry.len());
    for g in &envs.groups {
        let m = registry.get(&g.name).unwrap().meta();
        let levels: Vec<u8> = g.by_difficulty.iter().map(|l| l.difficulty).collect();
        let want: Vec<u8> = (1u8..=4)
            .filter(|d| (m.min_difficulty..=m.max_difficulty).contains(d))
            .collect();
        assert_eq!(levels, want, "{}", g.name);
        for l in &g.by_difficulty {
            assert_eq!(l.stats.samples, 3);
            let expect = if l.difficulty <= 2 { 1.0 } else { 0.0 };
            assert_eq!(l.stats.mean, expect, "{} d{}", g.name, l.difficulty);
            // Wilson interval for 3/3 or 0/3.
            assert!(l.stats.ci.0 <= l.stats.mean && l.stats.mean <= l.stats.ci.1);
            assert!(
                l.stats.ci.1 - l.stats.ci.0 > 0.3,
                "3 samples give a wide interval"
            );
        }
    }
    // Identical prompts (small instance spaces at low levels) are asked once.
    let distinct: std::collections::HashSet<&str> =
        items.iter().map(|i| i.prompt.as_str()).collect();
    assert_eq!(server.request_count(), distinct.len() as u64);
}

#[test]
fn selection_errors_are_clear() {
    let registry = resyn_envs::registry();
    let sel = |ids: &[&str], d: (u8, u8)| EnvSelection {
        ids: ids.iter().map(|s| s.to_string()).collect(),
        categories: vec![],
        difficulties: d,
        per_level: 1,
        seed: 0,
    };
    let e = env_items(&registry, &sel(&["no_such_env"], (1, 1)))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no_such_env") && e.contains("resyn envs"), "{e}");
    let first = registry.iter().next().unwrap().meta().clone();
    if first.max_difficulty < 10 {
        let e = env_items(&registry, &sel(&[&first.id], (10, 10)))
            .unwrap_err()
            .to_string();
        assert!(e.contains("supports difficulties"), "{e}");
    }
    // Categories select every environment of the category.
    let cat = first.category;
    let items = env_items(
        &registry,
        &EnvSelection {
            categories: vec![cat],
            ..sel(&[], (1, 1))
        },
    )
    .unwrap();
    assert!(
        items
            .iter()
            .all(|i| registry.get(&i.group).unwrap().meta().category == cat)
    );
    assert!(items.iter().any(|i| i.group == first.id));
}

/// Counts how an environment is asked to verify.
struct Counting {
    inner: std::sync::Arc<dyn resyn_core::Environment>,
    single: std::sync::atomic::AtomicUsize,
    batches: std::sync::Mutex<Vec<usize>>,
}

impl resyn_core::Environment for Counting {
    fn meta(&self) -> &resyn_core::EnvMeta {
        self.inner.meta()
    }
    fn generate(&self, seed: u64, difficulty: u8) -> resyn_core::Result<resyn_core::Instance> {
        self.inner.generate(seed, difficulty)
    }
    fn verify(&self, instance: &resyn_core::Instance, response: &str) -> resyn_core::Verdict {
        self.single
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.verify(instance, response)
    }
    fn verify_batch(&self, items: &[(&resyn_core::Instance, &str)]) -> Vec<resyn_core::Verdict> {
        self.batches.lock().unwrap().push(items.len());
        items.iter().map(|(i, r)| self.inner.verify(i, r)).collect()
    }
}

#[tokio::test]
async fn environments_are_verified_in_batches() {
    let inner = resyn_envs::registry().iter().next().unwrap().clone();
    let env = std::sync::Arc::new(Counting {
        inner,
        single: Default::default(),
        batches: Default::default(),
    });
    let mut registry = resyn_core::Registry::new();
    registry.register(env.clone()).unwrap();
    let sel = EnvSelection {
        ids: vec!["all".into()],
        categories: vec![],
        difficulties: (1, 10),
        per_level: 13,
        seed: 0,
    };
    let items = env_items(&registry, &sel).unwrap();
    let server = TestServer::start(Behavior::answer("<answer>x</answer>"));
    let report = run(
        &items,
        &config(1),
        &client(&server, 8),
        &mut Cache::in_memory(),
    )
    .await;
    assert_eq!(report.suites[0].stats.samples, items.len() as u64);
    assert_eq!(env.single.load(std::sync::atomic::Ordering::SeqCst), 0);
    let batches = env.batches.lock().unwrap().clone();
    assert_eq!(batches.iter().sum::<usize>(), items.len());
    assert!(batches.iter().all(|&b| b <= resyn_eval::VERIFY_CHUNK));
    assert_eq!(
        batches.len(),
        items.len().div_ceil(resyn_eval::VERIFY_CHUNK)
    );
}

#[tokio::test]
async fn a_reports_completions_come_back_from_its_cache_for_rescoring() {
    let registry = resyn_envs::registry();
    let sel = EnvSelection {
        ids: vec!["sudoku".into(), "maze".into()],
        categories: vec![],
        difficulties: (1, 2),
        per_level: 2,
        seed: 9,
    };
    let items = env_items(&registry, &sel).unwrap();
    let mut map = HashMap::new();
    for item in &items {
        let resyn_eval::Target::Env { instance, .. } = &item.target else {
            unreachable!()
        };
        map.insert(
            item.prompt.clone(),
            Behavior::answer(instance.reference.clone()),
        );
    }
    let server = TestServer::start(by_prompt(map));
    let dir = TempDir::new("completions");
    let cache_path = dir.join("c.jsonl");
    let mut cache = Cache::open(&cache_path).unwrap();
    let report = run(&items, &config(2), &client(&server, 4), &mut cache).await;
    drop(cache);
    let path = dir.join("r.json");
    let cache = Cache::read(&cache_path).unwrap();
    let found = resyn_eval::env_completions(&report, &path, &registry, &cache).unwrap();
    assert_eq!((found.missing, found.benchmark_items), (0, 0));
    assert_eq!(found.completions.len(), items.len() * 2);
    for (c, item) in found
        .completions
        .iter()
        .zip(items.iter().flat_map(|i| [i, i]))
    {
        assert_eq!(c.instance.id, item.id);
        assert_eq!(c.text, c.instance.reference, "the cached completion");
    }
    assert_eq!(
        found
            .completions
            .iter()
            .map(|c| c.sample)
            .collect::<Vec<_>>()[..2],
        [0, 1]
    );
    // Without the cache, every scored sample is missing.
    let none = resyn_eval::env_completions(&report, &path, &registry, &Cache::in_memory()).unwrap();
    assert_eq!((none.completions.len(), none.missing), (0, items.len() * 2));

    // Items that cannot be regenerated are errors naming the report and item.
    let item0 = report.items[0].id.clone();
    let mut old = report.clone();
    old.items[0].seed = None;
    let err = resyn_eval::env_completions(&old, &path, &registry, &cache).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("r.json") && msg.contains(&item0) && msg.contains("no seed"),
        "{msg}"
    );
    let mut moved = report.clone();
    moved.items[0].seed = Some(12_345);
    let msg = resyn_eval::env_completions(&moved, &path, &registry, &cache)
        .unwrap_err()
        .to_string();
    assert!(msg.contains(&item0) && msg.contains("changed"), "{msg}");
    let mut gone = report.clone();
    gone.items[0].group = "no_such_env".into();
    let msg = resyn_eval::env_completions(&gone, &path, &registry, &cache)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("unknown environment `no_such_env`"), "{msg}");
}
