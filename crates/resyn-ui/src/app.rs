//! The router, its layers, and serving.
//!
//! Every handler is thin: it parses the request, then renders on tokio's
//! blocking pool (SQLite reads and sandboxed Python never stall the async
//! runtime). Pages are HTML, errors included ([`UiError`]); the answer
//! box's endpoint also answers JSON when asked (`Accept:
//! application/json`), which is what the page's script does.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use maud::html;
use tower::timeout::TimeoutLayer;
use tower::{BoxError, ServiceBuilder};

use crate::html::{APP_JS, Links, Nav, Page, STYLE_CSS, badge, facts, layout, pre};
use crate::pages::{self, envs::Filter};
use crate::state::Ctx;
use crate::{UiError, UiState, samples};

/// Time for one request; generating samples may start the sandbox.
const TIMEOUT: Duration = Duration::from_secs(120);
/// Largest request body (the answer box's form).
const MAX_BODY: usize = 2 << 20;

/// Content Security Policy of every response: only this origin's own
/// stylesheet and script, no inline script, no framing. A second line of
/// defence behind escaping, should LLM-written text ever slip through.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The gallery's router: pages, the answer box, assets.
///
/// | route | what |
/// |---|---|
/// | `GET /` | environments, filtered by `q`, `source`, `category`, `status` |
/// | `GET /envs/{id}` | one environment; samples at `difficulty`, `seed` |
/// | `POST /envs/{id}/try` | verify `response` against seed/difficulty's instance |
/// | `GET /runs`, `GET /runs/{id}` | synthesis runs |
/// | `GET /candidates/{id}`, `GET /calls/{id}` | a candidate, an LLM call |
/// | `GET /assets/style.css`, `GET /assets/app.js` | embedded assets |
pub fn app(state: UiState) -> Router {
    Router::new()
        .route("/", get(envs))
        .route("/envs/{id}", get(env))
        .route("/envs/{id}/try", post(try_answer))
        .route("/runs", get(runs))
        .route("/runs/{id}", get(run_page))
        .route("/candidates/{id}", get(candidate))
        .route("/calls/{id}", get(call))
        .route("/assets/style.css", get(css))
        .route("/assets/app.js", get(js))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(|e: BoxError| async move {
                    if e.is::<tower::timeout::error::Elapsed>() {
                        UiError::unavailable(
                            "Timed out",
                            format!("The page took longer than {TIMEOUT:?} to render."),
                        )
                    } else {
                        UiError::internal(e)
                    }
                }))
                .layer(TimeoutLayer::new(TIMEOUT)),
        )
        .layer(middleware::from_fn(headers))
        .with_state(state)
}

/// Bind `addr` and serve until Ctrl-C or SIGTERM; `ready` gets the bound
/// address (port 0 picks one).
///
/// # Errors
/// Runtime creation, bind and listener I/O errors.
pub fn run(
    addr: SocketAddr,
    state: UiState,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    resyn_serve::run_router(addr, app(state), ready)
}

async fn headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // Pages show live data: revalidate every time.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// Render a page on the blocking pool.
async fn render<F>(state: UiState, f: F) -> Response
where
    F: FnOnce(&Ctx) -> Result<Page, UiError> + Send + 'static,
{
    let job = tokio::task::spawn_blocking(move || {
        let ctx = state.ctx(Links::server());
        let page = f(&ctx)?;
        Ok::<_, UiError>((page.status, layout(&page, &ctx.links, &pages::footer(&ctx))))
    });
    match job.await {
        Ok(Ok(page)) => page.into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(e) => UiError::internal(e).into_response(),
    }
}

/// A numeric id from the path, or a 404 page.
fn id_of(raw: &str, what: &str) -> Result<i64, UiError> {
    raw.parse().map_err(|_| {
        UiError::not_found(
            format!("{what} not found"),
            format!("`{raw}` is not a {} id.", what.to_lowercase()),
        )
    })
}

async fn envs(State(state): State<UiState>, Query(q): Query<BTreeMap<String, String>>) -> Response {
    let filter = Filter::from_query(&q);
    render(state, move |ctx| Ok(pages::envs::page(ctx, &filter))).await
}

async fn env(
    State(state): State<UiState>,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    render(state, move |ctx| {
        let q = pages::env::SampleQuery::from_query(&q)?;
        pages::env::page(ctx, &id, q)
    })
    .await
}

async fn runs(State(state): State<UiState>) -> Response {
    render(state, pages::runs::list).await
}

async fn run_page(State(state): State<UiState>, Path(id): Path<String>) -> Response {
    render(state, move |ctx| {
        pages::runs::detail(ctx, id_of(&id, "Run")?)
    })
    .await
}

async fn candidate(State(state): State<UiState>, Path(id): Path<String>) -> Response {
    render(state, move |ctx| {
        pages::candidates::page(ctx, id_of(&id, "Candidate")?)
    })
    .await
}

async fn call(State(state): State<UiState>, Path(id): Path<String>) -> Response {
    render(state, move |ctx| {
        pages::calls::page(ctx, id_of(&id, "LLM call")?)
    })
    .await
}

fn wants_json(h: &HeaderMap) -> bool {
    h.get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// `POST /envs/{id}/try`: form fields `seed`, `difficulty`, `response`,
/// optional `wrap`. Never writes anything.
async fn try_answer(
    State(state): State<UiState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<BTreeMap<String, String>>, FormRejection>,
) -> Response {
    let json = wants_json(&headers);
    let job = tokio::task::spawn_blocking(move || {
        let Form(f) = form.map_err(|e| UiError::bad_request(e.body_text()))?;
        let num = |k: &str| -> Result<u64, UiError> {
            let v = f.get(k).map_or("", |v| v.trim());
            v.parse().map_err(|_| {
                UiError::bad_request(format!("`{k}` must be a non-negative integer, not {v:?}"))
            })
        };
        let (seed, difficulty) = (num("seed")?, num("difficulty")?);
        let difficulty = u8::try_from(difficulty).map_err(|_| {
            UiError::bad_request(format!("difficulty {difficulty} is out of range"))
        })?;
        let response = f.get("response").cloned().unwrap_or_default();
        let wrap = f.get("wrap").is_some_and(|v| !v.is_empty() && v != "0");
        let ctx = state.ctx(Links::server());
        let env = ctx.snap.registry.get(&id).map_err(|_| {
            UiError::not_found(
                "Environment not found",
                format!("There is no environment `{id}` to verify against."),
            )
        })?;
        let verdict = samples::try_answer(env.as_ref(), seed, difficulty, &response, wrap)?;
        Ok::<_, UiError>((ctx, id, seed, difficulty, response, verdict))
    });
    let result = match job.await {
        Ok(r) => r,
        Err(e) => Err(UiError::internal(e)),
    };
    match (result, json) {
        (Ok((.., verdict)), true) => Json(verdict).into_response(),
        (Err(e), true) => (
            e.status,
            Json(serde_json::json!({"error": {"title": e.title, "message": e.message}})),
        )
            .into_response(),
        (Ok((ctx, id, seed, difficulty, response, v)), false) => {
            let body = html! {
                h1 { "Verdict" }
                p { "Your answer to " a href=(ctx.links.env(&id)) { (id) } ", difficulty " (difficulty) ", seed " (seed) ":" }
                (pre(&response))
                (facts(&[
                    ("Reward", Some(html! { (v.reward) })),
                    ("Correct", Some(if v.correct { badge("correct", "good") } else { badge("not correct", "bad") })),
                    ("Reason", Some(html! { (v.reason.as_str()) })),
                    ("Detail", (!v.detail.is_empty()).then(|| html! { (v.detail) })),
                ]))
                p { a href=(ctx.links.env(&id)) { "Back to " (id) } }
            };
            let page = Page::new("Verdict", Nav::Envs, body);
            layout(&page, &ctx.links, &pages::footer(&ctx)).into_response()
        }
        (Err(e), false) => e.into_response(),
    }
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", STYLE_CSS)
}

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

async fn not_found() -> UiError {
    UiError::not_found(
        "Page not found",
        "There is no such page. The environments and runs are linked from the top of every page.",
    )
}

async fn method_not_allowed() -> UiError {
    UiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        title: "Method not allowed".into(),
        message: "This gallery is read-only: pages answer GET, and only the answer box POSTs."
            .into(),
    }
}
