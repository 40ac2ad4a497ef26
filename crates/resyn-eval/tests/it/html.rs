//! The HTML report, rendered by headless Chromium: the test injects a probe
//! script that measures what the browser actually lays out (bar heights,
//! plotted points, visible text) and reads it back with `--dump-dom`.
//!
//! Skips, saying so, when no Chromium is installed (`apt-get install -y
//! chromium`; `RESYN_CHROMIUM` may name the binary). Set
//! `RESYN_HTML_SCREENSHOT=path.png` to also keep a screenshot.

use std::collections::HashMap;
use std::path::PathBuf;

use resyn_eval::bench::Benchmark;
use resyn_eval::{Cache, EnvSelection, EvalItem, Report, Target, env_items};
use resyn_llm::test_server::{Behavior, RecordedRequest, TestServer};
use resyn_test::{chromium, chromium_cmd};

use crate::common::*;

/// Items: two environments at difficulties 1-4 and the BBH + GSM8K fixtures.
fn items() -> Vec<EvalItem> {
    let registry = resyn_envs::registry();
    let ids: Vec<String> = registry
        .iter()
        .take(2)
        .map(|e| e.meta().id.clone())
        .collect();
    let mut items = env_items(
        &registry,
        &EnvSelection {
            ids,
            categories: vec![],
            difficulties: (1, 4),
            per_level: 4,
            seed: 0,
        },
    )
    .unwrap();
    items.extend(bench_items(Benchmark::Bbh, "bbh"));
    items.extend(bench_items(Benchmark::Gsm8k, "gsm8k/test.jsonl"));
    items
}

/// A model that solves environments up to `max_level` and every `every`-th benchmark item.
async fn report(items: &[EvalItem], model: &str, max_level: u8, every: usize) -> Report {
    let mut map = HashMap::new();
    for (k, it) in items.iter().enumerate() {
        let right = match &it.target {
            Target::Env { instance, .. } => {
                (instance.difficulty <= max_level).then(|| instance.reference.clone())
            }
            Target::Bench(b) => (k % every == 0).then(|| format!("<answer>{}</answer>", b.target)),
        };
        map.insert(
            it.prompt.clone(),
            right.unwrap_or_else(|| "<answer>?</answer>".into()),
        );
    }
    let server =
        TestServer::start(move |r: &RecordedRequest| Behavior::answer(map[&r.prompt].clone()));
    let mut cfg = config(1);
    cfg.model = model.into();
    run(items, &cfg, &client(&server, 8), &mut Cache::in_memory()).await
}

const PROBE: &str = r#"<script>
(() => {
  const box = e => { const b = e.getBoundingClientRect(); return [b.x, b.y, b.width, b.height]; };
  const r = {
    svgs: [...document.querySelectorAll('svg')].map(box),
    bars: [...document.querySelectorAll('rect.bar')].map(e => ({run: e.dataset.run, suite: e.dataset.suite, group: e.dataset.group, value: +e.dataset.value, box: box(e), color: getComputedStyle(e).fill})),
    points: [...document.querySelectorAll('circle.pt')].map(e => ({run: e.dataset.run, env: e.dataset.env, d: +e.dataset.difficulty, value: +e.dataset.value, box: box(e)})),
    text: document.body.innerText,
  };
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(r);
  document.body.appendChild(pre);
})();
</script>"#;

#[tokio::test]
async fn html_report_renders_in_headless_chromium() {
    let items = items();
    let base = report(&items, "base-7b", 2, 2).await;
    let trained = report(&items, "trained-7b", 3, 1).await;
    let html = resyn_eval::html::render(&[("base".into(), &base), ("trained".into(), &trained)]);
    // Self-contained: no scripts, no external resources.
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"));

    let Some(bin) = chromium() else {
        eprintln!(
            "SKIPPED html_report_renders_in_headless_chromium: chromium not found (apt-get install -y chromium, or set RESYN_CHROMIUM)"
        );
        return;
    };
    let dir = TempDir::new("html");
    let page = dir.join("report.html");
    std::fs::write(&page, html.replace("</body>", &format!("{PROBE}</body>"))).unwrap();
    let out = chromium_cmd(&bin, &dir.join("profile"))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom.find("<pre id=\"probe\">").unwrap_or_else(|| {
        panic!(
            "no probe output; chromium stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    }) + "<pre id=\"probe\">".len();
    let end = start + dom[start..].find("</pre>").unwrap();
    let json = dom[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let probe: serde_json::Value = serde_json::from_str(&json).unwrap();

    // Text a reader sees.
    let text = probe["text"].as_str().unwrap();
    for want in [
        "resyn evaluation",
        "base-7b",
        "trained-7b",
        "Benchmarks",
        "Solve rate vs difficulty",
        "trained vs base",
        "date_understanding",
    ] {
        assert!(text.contains(want), "page does not show {want:?}");
    }
    let mut envs: Vec<String> = items
        .iter()
        .filter(|i| i.suite == "envs")
        .map(|i| i.group.clone())
        .collect();
    envs.dedup();
    for e in &envs {
        assert!(text.contains(e.as_str()), "page does not show env {e}");
    }
    // Every chart has a real size.
    let svgs = probe["svgs"].as_array().unwrap();
    assert_eq!(
        svgs.len(),
        2 + envs.len(),
        "overview + BBH subtasks + one per env"
    );
    for s in svgs {
        assert!(
            s[2].as_f64().unwrap() > 100.0 && s[3].as_f64().unwrap() > 100.0,
            "{s}"
        );
    }
    // Bars: drawn heights are proportional to the values, colours differ by run.
    let bars = probe["bars"].as_array().unwrap();
    let overview: Vec<_> = bars.iter().filter(|b| b["suite"] == b["group"]).collect();
    assert_eq!(overview.len(), 2 * 2, "bbh and gsm8k, base and trained");
    let scale: Vec<f64> = overview
        .iter()
        .filter(|b| b["value"].as_f64().unwrap() > 0.0)
        .map(|b| b["box"][3].as_f64().unwrap() / b["value"].as_f64().unwrap())
        .collect();
    assert!(!scale.is_empty());
    for s in &scale {
        assert!(
            (s - scale[0]).abs() < 1.0,
            "bar heights not proportional: {scale:?}"
        );
    }
    let gsm_trained = overview
        .iter()
        .find(|b| b["suite"] == "gsm8k" && b["run"] == "trained")
        .unwrap();
    assert_eq!(gsm_trained["value"].as_f64().unwrap(), 1.0);
    let colors: std::collections::HashSet<_> =
        overview.iter().map(|b| b["color"].to_string()).collect();
    assert_eq!(colors.len(), 2);
    // Points: one per run, env and level; higher solve rates are drawn higher.
    let points = probe["points"].as_array().unwrap();
    assert_eq!(points.len(), 2 * envs.len() * 4);
    for p in points {
        let b = &p["box"];
        assert!(b[2].as_f64().unwrap() > 0.0, "invisible point {p}");
        let d = p["d"].as_u64().unwrap();
        let max = if p["run"] == "base" { 2 } else { 3 };
        assert_eq!(
            p["value"].as_f64().unwrap(),
            if d <= max { 1.0 } else { 0.0 },
            "{p}"
        );
    }
    let y_of = |run: &str, d: u64| {
        points
            .iter()
            .find(|p| p["run"] == run && p["d"] == d)
            .unwrap()["box"][1]
            .as_f64()
            .unwrap()
    };
    assert!(
        y_of("trained", 3) + 50.0 < y_of("base", 3),
        "solved points sit higher"
    );

    // A screenshot is produced (and kept when asked).
    let shot = std::env::var("RESYN_HTML_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| dir.join("shot.png"));
    let clean = dir.join("clean.html");
    std::fs::write(&clean, &html).unwrap();
    let status = chromium_cmd(&bin, &dir.join("profile"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", clean.display()))
        .output()
        .unwrap();
    let png = std::fs::read(&shot)
        .unwrap_or_else(|_| panic!("no screenshot: {}", String::from_utf8_lossy(&status.stderr)));
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
}
