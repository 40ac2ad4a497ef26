//! Every route in-process (`app(state).oneshot(request)`), error pages
//! included, over the fixture store.

use axum::http::StatusCode;
use serde_json::Value;

use crate::fixture::{ENV, Fixture, HOSTILE, assert_inert, get, on, post_form};

/// The text of `<p id="shown">`.
fn shown(html: &str) -> &str {
    let start = html.find("id=\"shown\"").unwrap();
    let rest = &html[start..];
    &rest[rest.find('>').unwrap() + 1..rest.find("</p>").unwrap()]
}

/// Rows of the environment table, and those not hidden.
fn env_rows(html: &str) -> (usize, usize) {
    let all = html.matches("<tr data-source=").count();
    let hidden = html.matches(" hidden><th scope=\"row\">").count();
    (all, all - hidden)
}

#[tokio::test]
async fn the_list_shows_every_source_and_filters_without_javascript() {
    let f = Fixture::new();
    let app = on(&f.store);
    let (status, headers, html) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_inert(&html);
    let native = resyn_envs::registry().len();
    let (all, visible) = env_rows(&html);
    assert_eq!((all, visible), (native + 2, native + 2));
    assert!(html.contains(&format!("Showing {} of {}", native + 2, native + 2)));
    for want in [
        ENV,
        HOSTILE,
        "sudoku",
        "calibrated",
        "not calibrated",
        "Search",
        "<label for=\"q\">",
    ] {
        assert!(html.contains(want), "the list lacks {want:?}");
    }
    // The same rules as the script, on the server.
    let (_, _, html) = get(&app, "/?source=synth").await;
    assert_eq!(env_rows(&html), (native + 2, 2));
    assert_eq!(shown(&html), format!("Showing 2 of {}.", native + 2));
    let (_, _, html) = get(&app, "/?q=ADD+TWO&status=calibrated").await;
    assert_eq!(env_rows(&html).1, 1);
    assert!(html.contains("<option value=\"calibrated\" selected>"));
    let (_, _, html) = get(&app, "/?category=spatial").await;
    assert!(env_rows(&html).1 >= 1 && env_rows(&html).1 < native);
}

#[tokio::test]
async fn a_synthesized_environment_shows_its_evidence() {
    let f = Fixture::new();
    let app = on(&f.store);
    let (status, _, html) = get(&app, &format!("/envs/{ENV}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_inert(&html);
    assert!(html.contains("passed: </span> Cross-verification: 100.0% agreement"));
    for want in [
        "Why it was kept",
        "7 checks passed",
        "100 of 100 rejected",
        "100.0% agreement on 120 answers",
        "Cross-verification",
        "Probe verdicts",
        "all rejected",
        "Stage history",
        "api:missing_api",
        "a report field no view knows",
        "shown generically",
        "solver-model",
        "2 LLM calls",
        "2,000 prompt",
        "Repair rounds",
    ] {
        assert!(html.contains(want), "the page lacks {want:?}");
    }
    // The curve: one point per level, falling.
    assert_eq!(html.matches("<circle class=\"pt\"").count(), 10);
    assert!(html.contains("data-difficulty=\"1\" data-value=\"1.0000\""));
    assert!(html.contains("data-difficulty=\"10\" data-value=\"0.0000\""));
    // Samples at the easiest, middle and hardest level, generated live.
    for d in [1, 5, 10] {
        assert!(
            html.contains(&format!("Difficulty {d} · seed 0")),
            "no sample at {d}"
        );
    }
    assert!(html.contains("What is "));
    // Links to its run and candidate; highlighted code.
    assert!(html.contains(&format!("href=\"/runs/{}\"", f.run)));
    assert!(html.contains(&format!("href=\"/candidates/{}\"", f.cands[0])));
    assert!(
        html.contains("<span class=\"tok-kw\">def</span> <span class=\"tok-def\">generate</span>")
    );
    // Answer boxes post to the verifier.
    assert_eq!(
        html.matches("<form class=\"try\" method=\"post\" action=\"/envs/add_fixture/try\">")
            .count(),
        3
    );
}

#[tokio::test]
async fn hostile_text_is_escaped_everywhere() {
    let f = Fixture::new();
    let app = on(&f.store);
    let pages = [
        "/".to_string(),
        format!("/envs/{HOSTILE}"),
        format!("/runs/{}", f.run),
        format!("/candidates/{}", f.cands[1]),
        format!("/candidates/{}", f.cands[2]),
        format!("/calls/{}", f.call),
    ];
    for p in &pages {
        let (status, _, html) = get(&app, p).await;
        assert_eq!(status, StatusCode::OK, "{p}: {html}");
        assert_inert(&html);
        assert!(
            html.contains("&lt;script&gt;alert('pwned')&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt;")
                || p == "/",
            "{p} does not show the hostile text as text"
        );
    }
    let (_, _, html) = get(&app, &format!("/envs/{HOSTILE}")).await;
    // Its cross-verification is below the run's threshold: marked failed.
    assert!(
        html.contains("failed: </span> Cross-verification: 50.0% agreement"),
        "{html}"
    );
    // The code's comment and the generated prompt are text too.
    assert!(html.contains("&lt;/pre&gt;&lt;/code&gt;&lt;script&gt;alert('code')&lt;/script&gt;"));
    assert!(
        html.contains("&lt;img src=x onerror=&quot;alert(2)&quot;&gt;"),
        "the prompt is text"
    );
}

#[tokio::test]
async fn samples_at_a_chosen_difficulty_and_bad_input_pages() {
    let f = Fixture::new();
    let app = on(&f.store);
    let (status, _, html) = get(&app, "/envs/sudoku?difficulty=3&seed=7").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Difficulty 3 · seed 7"));
    let inst = resyn_envs::registry()
        .get("sudoku")
        .unwrap()
        .generate(7, 3)
        .unwrap();
    let first_line = inst.prompt.lines().next().unwrap();
    assert!(html.contains(&maud::html! { (first_line) }.into_string()));
    assert!(html.contains("A native environment, written in Rust"));
    for (path, status, text) in [
        (
            "/envs/sudoku?difficulty=11",
            422,
            "outside sudoku&#39;s range",
        ),
        ("/envs/sudoku?difficulty=300", 422, "out of range"),
        (
            "/envs/sudoku?seed=abc",
            422,
            "`seed` must be a non-negative integer",
        ),
        ("/envs/no_such_env", 404, "Environment not found"),
        ("/runs/999", 404, "Run not found"),
        ("/runs/abc", 404, "not a run id"),
        ("/candidates/999", 404, "Candidate not found"),
        ("/calls/999", 404, "LLM call not found"),
        ("/nothing/here", 404, "Page not found"),
    ] {
        let (s, headers, html) = get(&app, path).await;
        assert_eq!(s.as_u16(), status, "{path}: {html}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let text = text.replace("&#39;", "'");
        assert!(html.contains(&text), "{path}: {html}");
        assert!(html.contains("<h1>"), "{path}: an error page is a page");
    }
    let (s, _, html) = crate::fixture::send(
        &app,
        axum::http::Request::builder()
            .method("DELETE")
            .uri("/")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert!(html.contains("read-only"));
}

#[tokio::test]
async fn the_answer_box_verifies_and_never_writes() {
    let f = Fixture::new();
    let before = std::fs::read(&f.store).unwrap();
    let app = on(&f.store);
    // A synthesized environment (sandboxed Python): the reference, a wrong
    // answer, a bare answer wrapped by the box.
    let (_, _, html) = get(&app, &format!("/envs/{ENV}?difficulty=2&seed=5")).await;
    let start = html.find("id=\"ref-0\">").unwrap() + "id=\"ref-0\">".len();
    let reference = &html[start..start + html[start..].find("</pre>").unwrap()];
    let url = format!("/envs/{ENV}/try");
    let form = |resp: &str, wrap: bool| {
        let enc: String = resp
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        format!(
            "seed=5&difficulty=2&response={enc}{}",
            if wrap { "&wrap=1" } else { "" }
        )
    };
    let reference = reference.replace("&lt;", "<").replace("&gt;", ">");
    let bare = reference
        .trim_start_matches("<answer>")
        .trim_end_matches("</answer>")
        .trim()
        .to_string();
    let verdict = |body: &str| serde_json::from_str::<Value>(body).unwrap();
    let (s, body) = post_form(&app, &url, &form(&reference, false), true).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let v = verdict(&body);
    assert_eq!(
        (v["correct"].as_bool(), v["reward"].as_f64()),
        (Some(true), Some(1.0)),
        "{v}"
    );
    let v = verdict(&post_form(&app, &url, &form(&bare, true), true).await.1);
    assert_eq!(v["correct"], true, "the box wraps a bare answer: {v}");
    let v = verdict(&post_form(&app, &url, &form(&bare, false), true).await.1);
    assert_eq!(
        (v["correct"].as_bool(), v["reason"].as_str()),
        (Some(false), Some("no_answer")),
        "{v}"
    );
    // Sums at difficulty 2 lie within ±200.
    let v = verdict(&post_form(&app, &url, &form("100000", true), true).await.1);
    assert_eq!(
        (v["correct"].as_bool(), v["reason"].as_str()),
        (Some(false), Some("wrong")),
        "{v}"
    );
    // Without JavaScript the form answers a page.
    let (s, html) = post_form(&app, &url, &form(&bare, true), false).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("<h1>Verdict</h1>") && html.contains(">correct</span>"),
        "{html}"
    );
    // Bad input: JSON errors for the script, pages otherwise.
    let (s, body) = post_form(&app, &url, "seed=x&difficulty=2&response=1", true).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["error"]["message"].as_str().unwrap().contains("`seed`"));
    let (s, _) = post_form(&app, &url, "seed=1&difficulty=0&response=1", true).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, html) = post_form(
        &app,
        "/envs/nope/try",
        "seed=1&difficulty=1&response=1",
        false,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(html.contains("Environment not found"));
    // A native environment through the same route.
    let (s, body) = post_form(
        &app,
        "/envs/sudoku/try",
        "seed=1&difficulty=1&response=x",
        true,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["correct"],
        false
    );
    drop(app);
    assert!(
        std::fs::read(&f.store).unwrap() == before,
        "the UI changed the store file"
    );
}

#[tokio::test]
async fn runs_candidates_and_calls() {
    let f = Fixture::new();
    let app = on(&f.store);
    let (s, _, html) = get(&app, "/runs").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&format!("href=\"/runs/{}\"", f.run)));
    assert!(html.contains(&format!("href=\"/runs/{}\"", f.live_run)));
    assert!(
        html.contains("fixture-model") && html.contains("finished") && html.contains("running")
    );
    let (s, _, html) = get(&app, &format!("/runs/{}", f.run)).await;
    assert_eq!(s, StatusCode::OK);
    // Funnel bars: proposed, then pipeline order, whatever order events came in.
    let stages: Vec<&str> = html
        .split("class=\"bar bar-pass\"")
        .skip(1)
        .map(|s| {
            let at = s.find("data-stage=\"").unwrap() + "data-stage=\"".len();
            &s[at..at + s[at..].find('"').unwrap()]
        })
        .collect();
    assert_eq!(
        stages,
        [
            "proposed",
            "extract",
            "validate",
            "name",
            "review",
            "cross_verify",
            "calibrate",
            "store"
        ]
    );
    assert!(
        html.contains("data-stage=\"validate\" data-value=\"1\""),
        "one rejected at validate"
    );
    for want in [
        "api:missing_api",
        "never_solved",
        "Rejection reasons",
        "3,000",
        "HTTP 500",
        "1 min 01 s",
        "5 candidates",
        &format!("href=\"/calls/{}\"", f.call),
        &format!("href=\"/envs/{ENV}\""),
    ] {
        assert!(html.contains(want), "the run page lacks {want:?}");
    }
    assert!(
        !html.contains("data-refresh"),
        "a finished run does not refresh"
    );
    let (_, _, html) = get(&app, &format!("/runs/{}", f.live_run)).await;
    assert!(
        html.contains("data-refresh=\"5\""),
        "a running run refreshes"
    );
    assert!(html.contains("<noscript><meta http-equiv=\"refresh\" content=\"10\"></noscript>"));
    let (s, _, html) = get(&app, &format!("/candidates/{}", f.cands[2])).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Why it was rejected") && html.contains("Traceback: "));
    let (_, _, html) = get(&app, &format!("/candidates/{}", f.cands[0])).await;
    assert!(
        html.contains("tok-kw")
            && html.contains("Stage history")
            && html.contains("Cross-verifier")
    );
    let (s, _, html) = get(&app, &format!("/calls/{}", f.call)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("You write environments.") && html.contains("<h2>Reply</h2>"));
}

#[tokio::test]
async fn assets_are_embedded() {
    let f = Fixture::new();
    let app = on(&f.store);
    let (s, h, css) = get(&app, "/assets/style.css").await;
    assert_eq!(s, StatusCode::OK);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/css"));
    assert!(css.contains(":focus-visible"));
    let (s, h, js) = get(&app, "/assets/app.js").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(
        js.contains("textContent") && !js.contains("innerHTML ="),
        "the script never sets HTML"
    );
    for asset in [&css, &js] {
        assert!(
            !asset.contains("http://") && !asset.contains("https://"),
            "no network"
        );
    }
}

#[tokio::test]
async fn a_long_call_log_lists_the_newest_calls_and_counts_them_all() {
    let f = Fixture::new();
    let writer = resyn_store::Store::open(&f.store).unwrap();
    for k in 0..500 {
        writer
            .record_call(&resyn_store::CallRecord {
                run_id: Some(f.run),
                purpose: "solve".into(),
                request_hash: format!("solve-{k}"),
                request: serde_json::json!({}),
                status: "ok".into(),
                prompt_tokens: 10,
                ..Default::default()
            })
            .unwrap();
    }
    drop(writer);
    let (_, _, html) = get(&on(&f.store), &format!("/runs/{}", f.run)).await;
    assert!(html.contains("The last 500 of 503 calls"), "{html}");
    assert!(
        !html.contains(&format!("href=\"/calls/{}\"", f.call)),
        "the oldest call is not listed"
    );
    // The totals per purpose still count every call.
    assert!(
        html.contains(">solve</th><td class=\"num\">500</td>"),
        "{html}"
    );
}
