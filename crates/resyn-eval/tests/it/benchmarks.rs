//! Every benchmark's loading, prompting and scoring, end to end.

use std::collections::HashMap;

use resyn_eval::Cache;
use resyn_eval::bench::Benchmark;
use resyn_llm::test_server::{Behavior, TestServer};

use crate::common::*;

/// (item id, scripted response, expected correct, expected reason)
fn script() -> Vec<(&'static str, Behavior, bool, &'static str)> {
    use Behavior as B;
    vec![
        (
            "bbh/date_understanding/0",
            B::answer(
                "Christmas Eve 1937 is 12/24/1937; 10 days earlier is 12/14/1937.\n<answer>(D)</answer>",
            ),
            true,
            "ok",
        ),
        (
            "bbh/date_understanding/1",
            B::answer("Today is 11/11/2019, so one year ago is 11/11/2018. So the answer is (B)."),
            true,
            "ok",
        ),
        (
            "bbh/date_understanding/2",
            B::answer("<answer>(A)</answer>"),
            false,
            "wrong",
        ),
        (
            "bbh/boolean_expressions/0",
            B::answer("not not True = True; not (True) = False.\n<answer>False</answer>"),
            true,
            "ok",
        ),
        (
            "bbh/boolean_expressions/1",
            B::refusal("I can't help with that."),
            false,
            "no_answer",
        ),
        (
            "bbh/boolean_expressions/2",
            B::truncated("Let me evaluate step by step: not ( False ) is True, so"),
            false,
            "no_answer",
        ),
        (
            "bbh/word_sorting/0",
            B::answer("<answer>costume, counterpart, oven</answer>"),
            true,
            "ok",
        ),
        (
            "bbh/word_sorting/1",
            B::answer("<answer>hat doll</answer>"),
            false,
            "wrong",
        ),
        (
            "bbh/dyck_languages/0",
            B::answer("<answer>]}]</answer>"),
            true,
            "ok",
        ),
        (
            "bbeh/multistep_arithmetic/0",
            B::answer(r"3 >< 5 = -2, -2 >< 4 = 2, -2 ; 2 = 4, so \boxed{4}"),
            true,
            "ok",
        ),
        (
            "bbeh/multistep_arithmetic/1",
            B::answer("<answer>21.0</answer>"),
            true,
            "ok",
        ),
        (
            "bbeh/boolean_expressions/0",
            B::answer("<answer>C</answer>"),
            true,
            "ok",
        ),
        (
            "bbeh/boolean_expressions/1",
            B::answer("<answer>false</answer>"),
            false,
            "wrong",
        ),
        (
            "gsm8k/0",
            B::answer("48 / 2 = 24 in May; 48 + 24 = 72.\n<answer>72</answer>"),
            true,
            "ok",
        ),
        ("gsm8k/1", B::answer("<answer>$10.00</answer>"), true, "ok"),
        (
            "gsm8k/2",
            B::answer("1,150 + 1,150 = 2,300\n#### 2,300"),
            true,
            "ok",
        ),
        ("gsm8k/3", B::answer("<answer>6</answer>"), false, "wrong"),
        (
            "aime/2024-I-1",
            B::answer(r"... the walk takes \boxed{204} minutes."),
            true,
            "ok",
        ),
        (
            "aime/2024-I-4",
            B::answer("<answer>115</answer>"),
            false,
            "wrong",
        ),
        (
            "aime/2024-II-3",
            B::answer("<answer>45</answer>"),
            true,
            "ok",
        ),
    ]
}

#[tokio::test]
async fn every_benchmark_is_scored_as_documented() {
    let mut items = bench_items(Benchmark::Bbh, "bbh");
    items.extend(bench_items(Benchmark::Bbeh, "bbeh"));
    items.extend(bench_items(Benchmark::Gsm8k, "gsm8k/test.jsonl"));
    items.extend(bench_items(Benchmark::Aime, "aime/aime_2024.jsonl"));
    let script = script();
    assert_eq!(items.len(), script.len(), "every fixture item is scripted");
    let mut map = HashMap::new();
    for (id, behavior, _, _) in &script {
        let item = items
            .iter()
            .find(|i| i.id == *id)
            .unwrap_or_else(|| panic!("no item {id}"));
        map.insert(item.prompt.clone(), behavior.clone());
    }
    let server = TestServer::start(by_prompt(map));
    let client = client(&server, 4);
    let report = run(&items, &config(1), &client, &mut Cache::in_memory()).await;
    assert!(report.complete);
    for (id, _, correct, reason) in &script {
        let r = report.items.iter().find(|i| i.id == *id).unwrap();
        let s = &r.samples[0];
        assert_eq!(
            (s.correct, s.reason.as_str()),
            (*correct, *reason),
            "{id}: {s:?}"
        );
    }
    let suite = |name: &str| report.suites.iter().find(|s| s.suite == name).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert!(close(suite("bbh").stats.mean, 5.0 / 9.0));
    // macro: date 2/3, boolean 1/3, word 1/2, dyck 1 -> mean 0.625
    assert!(close(
        suite("bbh").macro_mean,
        (2.0 / 3.0 + 1.0 / 3.0 + 0.5 + 1.0) / 4.0
    ));
    assert!(close(suite("bbeh").stats.mean, 0.75));
    assert!(close(suite("gsm8k").stats.mean, 0.75));
    assert!(close(suite("aime").stats.mean, 2.0 / 3.0));
    assert_eq!(suite("bbh").stats.truncated, 1);
    assert_eq!(suite("bbh").stats.no_answer, 2);
    // The prompts follow the documented templates.
    let seen = server.requests();
    assert_eq!(seen.len(), items.len());
    assert!(
        seen.iter()
            .all(|r| r.prompt.contains("<answer>") && r.body["temperature"] == 0.0)
    );
    let gsm = seen
        .iter()
        .find(|r| r.prompt.starts_with("Natalia"))
        .unwrap();
    assert!(
        gsm.prompt.ends_with("for example <answer>42</answer>."),
        "{}",
        gsm.prompt
    );
    // Usage and timings are filled in.
    assert_eq!(report.usage.new_calls, items.len() as u64);
    assert!(report.usage.completion_tokens > 0);
    assert!(report.timings.latency_ms.p50 > 0.0);
    let table = report.summary_table();
    assert!(
        table.contains("date_understanding") && table.contains("gsm8k"),
        "{table}"
    );
}

#[tokio::test]
async fn mean_and_pass_at_k_over_seeded_samples() {
    let items = bench_items(Benchmark::Gsm8k, "gsm8k/test.jsonl");
    let targets: HashMap<String, String> = items
        .iter()
        .map(|i| (i.prompt.clone(), i.expected().unwrap().to_string()))
        .collect();
    // Right only for seeds that are multiples of 4: one sample in four.
    let server = TestServer::start(move |r: &resyn_llm::test_server::RecordedRequest| {
        let t = &targets[&r.prompt];
        if r.seed.unwrap().is_multiple_of(4) {
            Behavior::answer(format!("<answer>{t}</answer>"))
        } else {
            Behavior::answer("<answer>-1</answer>")
        }
    });
    let mut cfg = config(4);
    cfg.sampling.seed = Some(100);
    cfg.sampling.temperature = Some(0.7);
    let report = run(&items, &cfg, &client(&server, 8), &mut Cache::in_memory()).await;
    let s = &report.suites[0].stats;
    assert_eq!((s.items, s.samples, s.correct), (4, 16, 4));
    assert!((s.mean - 0.25).abs() < 1e-12);
    assert!((s.pass_at_k[&1] - 0.25).abs() < 1e-12);
    assert!((s.pass_at_k[&2] - 0.5).abs() < 1e-12);
    assert!((s.pass_at_k[&4] - 1.0).abs() < 1e-12);
    let mut seeds: Vec<u64> = server.requests().iter().map(|r| r.seed.unwrap()).collect();
    seeds.sort_unstable();
    seeds.dedup();
    assert_eq!(seeds, vec![100, 101, 102, 103]);
}
