//! `resyn ui` and `resyn gallery` in a real browser.
//!
//! The store is written by `resyn synth` against the replay server (with a
//! solver, so one environment is calibrated), plus an environment whose
//! description and code are hostile HTML and a second, running run, both
//! added through the store API. `resyn ui` serves it with `envs/python`;
//! headless Chromium (driven over the DevTools protocol) loads every kind
//! of page, checks the key elements, uses the filter, the answer box,
//! keyboard navigation and the live refresh of a running run, and requires
//! a clean console (no error, exception or failed load) on every page. The
//! static export is checked the same way over `file://`.
//!
//! Screenshots are kept in `target/tmp/ui-screenshots/` for a person to
//! look at. Skips, saying so, without Chromium (`apt-get install -y
//! chromium`, or `RESYN_CHROMIUM`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use resyn_llm::test_server::TestServer;
use resyn_store::{Accepted, NewCandidate, NewEnvironment, Store};
use resyn_synth::replay::Replay;
use resyn_test::{Browser, add_module, chromium, store_event, stored_env};
use serde_json::json;

use crate::resyn;
use crate::synth::Setup;

const HOSTILE: &str = "hostile_fixture";

/// A working module whose comment and prompt try to break out of a page.
fn hostile_code() -> String {
    let format = "Answer format: a single integer.";
    format!(
        "# </pre></code><script>window.__pwned = \"code\"</script>{}",
        add_module(HOSTILE).replace(
            format,
            &format!("{format} <img src=x onerror=\\\"window.__pwned='prompt'\\\">")
        )
    )
}

/// Add the hostile environment and a running run with two candidates.
fn add_fixtures(path: &Path) -> i64 {
    let store = Store::open(path).unwrap();
    let env = NewEnvironment {
        description: "Add two integers. <script>window.__pwned = \"description\"</script>\
                      <img src=x onerror=\"window.__pwned='img'\">"
            .into(),
        provenance: json!({"keyword": "<b>bold</b>", "proposal": {"title": "<script>window.__pwned='title'</script>"}}),
        validation: json!({
            "offline": {"passed": true, "passed_checks": ["size", "parse"]},
            "cross_verify": {"agreement": 0.5, "compared": 2,
                             "disagreements": [{"answer": "<script>window.__pwned='x'</script>", "ours": 1, "theirs": 0}]},
        }),
        ..stored_env(HOSTILE, &hostile_code())
    };
    assert!(matches!(
        store.accept(&env, &store_event()).unwrap(),
        Accepted::Stored(_)
    ));
    let run = store.create_run(&json!({"model": "live-model"})).unwrap();
    add_candidates(&store, run, "first", 2);
    run
}

fn add_candidates(store: &Store, run: i64, keyword: &str, n: usize) {
    store
        .add_keywords(run, &[(keyword.into(), "math".into())])
        .unwrap();
    let kw = store
        .pending_keywords(run)
        .unwrap()
        .into_iter()
        .find(|k| k.keyword == keyword)
        .unwrap();
    let cands: Vec<NewCandidate> = (0..n)
        .map(|k| NewCandidate {
            keyword: keyword.into(),
            title: format!("{keyword} task {k}"),
            proposal: json!({}),
        })
        .collect();
    store.finish_keyword(kw.id, &cands).unwrap();
}

/// `resyn ui` on port 0; killed when dropped.
struct Ui {
    child: Child,
    url: String,
}

impl Ui {
    fn start(args: &[&str]) -> Ui {
        let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("resyn"))
            .arg("ui")
            .args(args)
            .args(["--addr", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        // Keep draining stderr so the server never blocks on it.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[resyn ui] {line}");
                if let Some(at) = line.find("http://") {
                    let url = line[at..].split_whitespace().next().unwrap_or("");
                    let _ = tx.send(url.trim_end_matches('/').to_string());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("resyn ui printed its address");
        Ui { child, url }
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where screenshots are kept.
fn shots() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Load a page and let its deferred script run.
fn load(b: &mut Browser, url: &str) {
    b.clear_errors();
    b.navigate(url).unwrap();
    b.wait_for(
        "document.readyState === 'complete'",
        Duration::from_secs(10),
    )
    .unwrap();
}

/// Load a page, require a clean console, save a screenshot.
fn visit(b: &mut Browser, url: &str, shot: &str) {
    load(b, url);
    snap(b, shot);
}

/// Load an error page: the only console error is its own status.
fn visit_error(b: &mut Browser, url: &str, status: u16, shot: &str) {
    load(b, url);
    let errors = b.console_errors();
    assert!(
        errors.len() == 1
            && errors[0].contains(&format!("status of {status}"))
            && errors[0].contains(url),
        "{shot}: {errors:#?}"
    );
    b.clear_errors();
    snap(b, shot);
}

fn snap(b: &mut Browser, shot: &str) {
    let errors = b.console_errors();
    assert!(errors.is_empty(), "{shot}: console errors: {errors:#?}");
    let overflow = num(
        b,
        "document.documentElement.scrollWidth - window.innerWidth",
    );
    assert!(
        overflow <= 0.0,
        "{shot}: the page is {overflow}px wider than the window"
    );
    let path = shots().join(format!("{shot}.png"));
    let bytes = b.screenshot(&path).unwrap();
    assert!(bytes > 10_000, "{shot}: a {bytes}-byte screenshot");
    eprintln!("screenshot: {}", path.display());
}

fn text(b: &mut Browser) -> String {
    b.eval("document.body.innerText")
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

fn num(b: &mut Browser, expr: &str) -> f64 {
    b.eval(expr).unwrap().as_f64().unwrap_or(f64::NAN)
}

fn envs_python() -> String {
    resyn_test::repo_path("envs/python").display().to_string()
}

#[test]
fn gallery_pages_work_in_headless_chromium() {
    let Some(bin) = chromium() else {
        eprintln!(
            "SKIPPED gallery_pages_work_in_headless_chromium: chromium not found (apt-get install -y chromium, or set RESYN_CHROMIUM)"
        );
        return;
    };
    let server = TestServer::builder().workers(2).start(Replay::new());
    let s = Setup::new();
    let url = server.base_url();
    resyn()
        .args(s.args(&url))
        .args(["--solver-base-url", &url, "--solver-model", "solver"])
        .assert()
        .success();
    let live_run = add_fixtures(&s.store());
    let store_path = s.store().display().to_string();
    let dirs = envs_python();
    let before = std::fs::read(s.store()).unwrap();

    let ui = Ui::start(&["--store", &store_path, "--env-dir", &dirs]);
    let mut b = Browser::launch(&bin, &s.dir.path().join("profile")).unwrap();
    let base = ui.url.clone();

    // The list: every source, the filter, keyboard navigation.
    visit(&mut b, &format!("{base}/"), "envs");
    let rows = num(&mut b, "document.querySelectorAll('#envs tbody tr').length");
    // The table fits the page at 1280px: no sideways scrolling.
    let wider = num(
        &mut b,
        "(t => t.scrollWidth - t.parentElement.clientWidth)(document.getElementById('envs'))",
    );
    assert!(wider <= 0.0, "the environment table is {wider}px too wide");
    assert!(rows >= 18.0 + 38.0 + 2.0, "{rows} rows");
    let page = text(&mut b);
    for want in [
        "Environments",
        "modexp_fixture",
        "sudoku",
        "robot_walk",
        HOSTILE,
        "calibrated",
    ] {
        assert!(page.contains(want), "the list does not show {want:?}");
    }
    b.press("Tab").unwrap();
    assert_eq!(
        b.eval("document.activeElement.textContent").unwrap(),
        "Skip to content"
    );
    assert!(
        num(
            &mut b,
            "document.activeElement.getBoundingClientRect().left"
        ) >= 0.0,
        "the skip link is visible when focused"
    );
    b.press("Enter").unwrap();
    b.wait_for(
        "document.activeElement.id === 'main'",
        Duration::from_secs(5),
    )
    .unwrap();
    b.press("Tab").unwrap();
    assert_eq!(
        b.eval("document.activeElement.id").unwrap(),
        "q",
        "the search box follows"
    );
    b.type_text("modexp").unwrap();
    b.wait_for(
        "document.getElementById('shown').textContent.startsWith('Showing 1 of')",
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(
        b.eval("[...document.querySelectorAll('#envs tbody tr')].filter(r => !r.hidden).map(r => r.dataset.source + ':' + r.querySelector('a').textContent).join()").unwrap(),
        "synth:modexp_fixture"
    );
    b.eval("const q = document.getElementById('q'); q.value = ''; const s = document.getElementById('source'); s.value = 'synth'; s.dispatchEvent(new Event('change', {bubbles: true})); 1").unwrap();
    let synth_rows = b.eval("[...document.querySelectorAll('#envs tbody tr')].filter(r => !r.hidden).map(r => r.dataset.source)").unwrap();
    let synth_rows = synth_rows.as_array().unwrap();
    assert!(
        synth_rows.len() >= 2 && synth_rows.iter().all(|s| s == "synth"),
        "{synth_rows:?}"
    );
    snap(&mut b, "envs-filtered");

    // A calibrated synthesized environment: curve, probes, code, samples, answer box.
    visit(&mut b, &format!("{base}/envs/modexp_fixture"), "env-synth");
    let page = text(&mut b);
    for want in [
        "Calibration",
        "Probe verdicts",
        "Cross-verification",
        "Provenance",
        "Stage history",
        "Why it was kept",
    ] {
        assert!(
            page.contains(want),
            "the environment page does not show {want:?}"
        );
    }
    let points = b.eval("[...document.querySelectorAll('circle.pt')].map(c => [+c.dataset.difficulty, +c.dataset.value, c.getBoundingClientRect().y])").unwrap();
    let points = points.as_array().unwrap();
    assert_eq!(points.len(), 10, "one point per level");
    for p in points.windows(2) {
        let (v0, y0, v1, y1) = (
            p[0][1].as_f64().unwrap(),
            p[0][2].as_f64().unwrap(),
            p[1][1].as_f64().unwrap(),
            p[1][2].as_f64().unwrap(),
        );
        assert_eq!(
            v0 > v1,
            y0 < y1,
            "a higher solve rate is drawn higher: {p:?}"
        );
    }
    assert!(
        num(
            &mut b,
            "document.querySelectorAll('#probes tbody tr').length"
        ) >= 10.0
    );
    assert!(
        num(
            &mut b,
            "document.querySelectorAll('pre.code .tok-kw').length"
        ) > 5.0,
        "highlighted code"
    );
    assert_eq!(
        num(&mut b, "document.querySelectorAll('article.sample').length"),
        3.0
    );
    // The reference verifies; a wrong answer does not.
    b.eval("document.querySelector('button[data-fill]').click(); document.querySelector('form.try button[type=submit]').click(); 1").unwrap();
    let done =
        "(t => !t.startsWith('Verifying') && t)(document.getElementById('out-0').textContent)";
    let verdict = b.wait_for(done, Duration::from_secs(30)).unwrap();
    assert!(
        verdict.as_str().unwrap().starts_with("correct reward 1"),
        "{verdict}"
    );
    b.eval("const t = document.getElementById('resp-0'); t.value = ''; t.focus(); document.getElementById('wrap-0').checked = true; 1").unwrap();
    b.type_text("999999999").unwrap();
    b.eval("document.querySelector('form.try button[type=submit]').click(); 1")
        .unwrap();
    let verdict = b.wait_for("document.getElementById('out-0').textContent.includes('not correct') && document.getElementById('out-0').textContent", Duration::from_secs(30)).unwrap();
    assert!(
        verdict.as_str().unwrap().contains("reason wrong"),
        "{verdict}"
    );
    snap(&mut b, "env-synth-verdict");

    // Hostile text is text: no script of its runs, nothing injected.
    visit(&mut b, &format!("{base}/envs/{HOSTILE}"), "env-hostile");
    assert_eq!(b.eval("typeof window.__pwned").unwrap(), "undefined");
    assert_eq!(
        num(&mut b, "document.scripts.length"),
        1.0,
        "only the gallery's own script"
    );
    assert_eq!(num(&mut b, "document.querySelectorAll('img').length"), 0.0);
    let page = text(&mut b);
    assert!(
        page.contains("<script>window.__pwned = \"description\"</script>"),
        "the description is shown as text"
    );
    assert!(
        page.contains("disagreements"),
        "unknown report fields are still shown"
    );

    // A Python environment from a directory, a native one.
    visit(&mut b, &format!("{base}/envs/robot_walk"), "env-python");
    assert!(text(&mut b).contains("robot_walk.py"));
    assert!(num(&mut b, "document.querySelectorAll('pre.code .line').length") > 10.0);
    visit(
        &mut b,
        &format!("{base}/envs/sudoku?difficulty=4&seed=3"),
        "env-native",
    );
    assert!(text(&mut b).contains("Difficulty 4 · seed 3"));

    // Runs: the list, a finished run's funnel and rejections, a candidate, a call.
    visit(&mut b, &format!("{base}/runs"), "runs");
    assert_eq!(
        num(&mut b, "document.querySelectorAll('#runs tbody tr').length"),
        2.0
    );
    visit(&mut b, &format!("{base}/runs/1"), "run");
    let bars = b.eval("[...document.querySelectorAll('rect.bar-pass.bar')].map(r => [+r.dataset.value, r.getBoundingClientRect().width])").unwrap();
    let bars = bars.as_array().unwrap();
    assert!(bars.len() >= 5, "{bars:?}");
    let scale: Vec<f64> = bars
        .iter()
        .filter(|x| x[0].as_f64().unwrap() > 0.0)
        .map(|x| x[1].as_f64().unwrap() / x[0].as_f64().unwrap())
        .collect();
    assert!(
        scale.iter().all(|s| (s - scale[0]).abs() < 0.5),
        "bar widths are proportional: {scale:?}"
    );
    let page = text(&mut b);
    for want in [
        "Stage funnel",
        "Rejection reasons",
        "never_solved",
        "LLM calls",
        "implement",
    ] {
        assert!(page.contains(want), "the run page does not show {want:?}");
    }
    let cand = b
        .eval("document.querySelector('#rejections a').getAttribute('href')")
        .unwrap();
    visit(
        &mut b,
        &format!("{base}{}", cand.as_str().unwrap()),
        "candidate",
    );
    assert!(text(&mut b).contains("Why it was rejected"));
    let call = b
        .eval("document.querySelector('#candidate-calls a').getAttribute('href')")
        .unwrap();
    visit(&mut b, &format!("{base}{}", call.as_str().unwrap()), "call");
    assert!(text(&mut b).contains("Reply"));

    // Error pages are pages.
    visit_error(
        &mut b,
        &format!("{base}/envs/no_such_env"),
        404,
        "not-found",
    );
    assert!(text(&mut b).contains("Environment not found"));

    // Reading never wrote the store.
    assert!(
        std::fs::read(s.store()).unwrap() == before,
        "the store file changed"
    );

    // A running run refreshes itself while a writer adds to it, and stops
    // when it ends.
    visit(&mut b, &format!("{base}/runs/{live_run}"), "run-live");
    assert_eq!(
        b.eval("document.getElementById('autorefresh').checked")
            .unwrap(),
        true
    );
    assert!(text(&mut b).contains("2 candidates"));
    let writer = Store::open(s.store()).unwrap();
    add_candidates(&writer, live_run, "second", 3);
    b.wait_for(
        "document.body.innerText.includes('5 candidates')",
        Duration::from_secs(20),
    )
    .unwrap();
    writer
        .update_run(live_run, resyn_store::RunStatus::Finished, 1000)
        .unwrap();
    b.wait_for("document.getElementById('autorefresh').disabled && document.querySelector('h1').innerText.includes('finished')", Duration::from_secs(20))
        .unwrap();
    snap(&mut b, "run-live-finished");
    drop(writer);
    drop(ui);

    // The static export, over file://.
    let out = s.dir.path().join("gallery");
    resyn()
        .args(["gallery", "--out"])
        .arg(&out)
        .args(["--store", &store_path, "--env-dir", &dirs])
        .assert()
        .success();
    let md = std::fs::read_to_string(out.join("GALLERY.md")).unwrap();
    assert!(
        md.contains("## modexp\\_fixture") && !md.contains("<script>"),
        "GALLERY.md"
    );
    let file = |p: &str| format!("file://{}", out.join(p).display());
    visit(&mut b, &file("index.html"), "static-envs");
    b.eval("const q = document.getElementById('q'); q.focus(); 1")
        .unwrap();
    b.type_text("sudoku").unwrap();
    b.wait_for(
        "document.getElementById('shown').textContent.startsWith('Showing 1 of')",
        Duration::from_secs(5),
    )
    .unwrap();
    b.eval("document.querySelector('#envs tbody tr:not([hidden]) a').click(); 1")
        .unwrap();
    b.wait_for(
        "location.pathname.endsWith('/envs/sudoku.html') && document.readyState === 'complete'",
        Duration::from_secs(10),
    )
    .unwrap();
    snap(&mut b, "static-env-native");
    visit(&mut b, &file("envs/modexp_fixture.html"), "static-env");
    assert_eq!(
        num(&mut b, "document.querySelectorAll('form.try').length"),
        0.0
    );
    assert_eq!(
        num(&mut b, "document.querySelectorAll('circle.pt').length"),
        10.0
    );
    visit(&mut b, &file("runs/1.html"), "static-run");
    assert!(text(&mut b).contains("Stage funnel"));
}
