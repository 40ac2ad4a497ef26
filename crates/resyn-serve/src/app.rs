//! The router, its layers, and serving with graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::timeout::TimeoutLayer;
use tower::{BoxError, ServiceBuilder};

use crate::{ApiError, AppState, ops};

/// The reward server's router (see the crate docs for the routes).
///
/// Layers, outermost first: request metrics (every route); then, on the
/// scoring routes only, so `/health` and `/metrics` answer under load: the
/// timeout (503 `timeout`), the global concurrency limit (excess requests
/// wait for a permit *inside* the timeout, so time queued counts), and the
/// body-size limit (413).
pub fn app(state: AppState) -> Router {
    let limits = state.limits;
    let permits = Arc::new(Semaphore::new(limits.concurrency));
    let scoring = Router::new()
        .route("/verify", post(crate::verify::verify))
        .route("/openrlhf", post(crate::openrlhf::reward))
        .route("/get_reward", post(crate::openrlhf::reward))
        .route("/curriculum/draw", post(crate::curriculum::draw))
        .route("/curriculum/report", post(crate::curriculum::report))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(move |e: BoxError| async move {
                    if e.is::<tower::timeout::error::Elapsed>() {
                        ApiError::timeout(limits.timeout)
                    } else {
                        ApiError::internal(e)
                    }
                }))
                .layer(TimeoutLayer::new(limits.timeout))
                .layer(middleware::from_fn_with_state(permits, concurrency_limit)),
        )
        .layer(DefaultBodyLimit::max(limits.max_body_bytes));
    Router::new()
        .route("/health", get(ops::health))
        .route("/metrics", get(ops::metrics))
        .route("/curriculum", get(crate::curriculum::status))
        .merge(scoring)
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

/// Wait for one of the scoring permits, then handle the request. (tower's
/// `ConcurrencyLimit` waits in `poll_ready`, which `Timeout` does not time.)
async fn concurrency_limit(
    State(permits): State<Arc<Semaphore>>,
    req: Request,
    next: Next,
) -> Response {
    match permits.acquire_owned().await {
        Ok(_permit) => next.run(req).await,
        // The semaphore is never closed.
        Err(e) => ApiError::internal(e).into_response(),
    }
}

async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let start = Instant::now();
    let resp = next.run(req).await;
    state
        .metrics
        .record_request(&route, resp.status().as_u16(), start.elapsed());
    resp
}

/// Serve `app(state)` on `listener` until `shutdown` completes, then stop
/// accepting connections and finish the requests in flight.
///
/// # Errors
/// I/O errors of the listener.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, app(state), shutdown).await
}

/// Serve any router on `listener` until `shutdown` completes, then finish
/// the requests in flight (shared with the gallery, `resyn ui`).
///
/// # Errors
/// I/O errors of the listener.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, only SIGTERM stops the server.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Bind `addr` and serve until Ctrl-C or SIGTERM on a new multi-threaded
/// runtime; `ready` is called with the bound address (port 0 picks one).
///
/// # Errors
/// Runtime creation, bind and listener I/O errors.
pub fn run(
    addr: SocketAddr,
    state: AppState,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    run_router(addr, app(state), ready)
}

/// [`run`] for any router: bind `addr`, call `ready` with the bound address,
/// serve until Ctrl-C or SIGTERM on a new multi-threaded runtime.
///
/// # Errors
/// Runtime creation, bind and listener I/O errors.
pub fn run_router(
    addr: SocketAddr,
    router: Router,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(addr).await?;
        ready(listener.local_addr()?);
        serve_router(listener, router, shutdown_signal()).await
    })
}
