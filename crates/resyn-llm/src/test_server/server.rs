//! The server itself: routing, recording, gauges, lifecycle.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use super::{Behavior, Responder};
use crate::Message;

/// One request as the server received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// Arrival order, from 0.
    pub seq: u64,
    /// The parsed JSON body.
    pub body: serde_json::Value,
    /// `model` field.
    pub model: String,
    /// All messages.
    pub messages: Vec<Message>,
    /// The last user message (empty if none).
    pub prompt: String,
    /// `n` (1 when absent).
    pub n: u32,
    /// `seed`, if sent.
    pub seed: Option<u64>,
    /// How many earlier requests had a byte-identical body.
    pub repeat: usize,
    /// The `Authorization` header, if sent.
    pub authorization: Option<String>,
}

/// Counters served at `GET /stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ServerStats {
    /// Chat requests received.
    pub requests: u64,
    /// Chat requests being handled now.
    pub in_flight: usize,
    /// Most chat requests handled at once since start (or the last reset).
    pub max_in_flight: usize,
}

struct Shared {
    responder: Box<dyn Responder>,
    record: bool,
    latency: Duration,
    log: Mutex<Vec<RecordedRequest>>,
    seen: Mutex<HashMap<Vec<u8>, usize>>,
    requests: AtomicU64,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// Decrements the in-flight gauge however the handler ends (including when
/// the client hangs up and the handler future is dropped).
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(s: &'a Shared) -> Self {
        let now = s.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        s.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(s)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Options for [`TestServer`].
#[derive(Debug, Clone)]
pub struct TestServerBuilder {
    latency: Duration,
    record: bool,
    workers: usize,
    port: u16,
}

impl Default for TestServerBuilder {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            record: true,
            workers: 1,
            port: 0,
        }
    }
}

impl TestServerBuilder {
    /// Delay every chat response by this much (on top of scripted delays).
    pub fn latency(mut self, d: Duration) -> Self {
        self.latency = d;
        self
    }

    /// Keep the request log (default on; turn off for long benchmarks).
    pub fn record(mut self, on: bool) -> Self {
        self.record = on;
        self
    }

    /// Runtime worker threads (default 1).
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }

    /// Port on 127.0.0.1 (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Bind and start serving in a background thread.
    ///
    /// # Panics
    /// If the port cannot be bound or the runtime cannot start: this is test
    /// infrastructure, and a test cannot go on without its server.
    pub fn start(self, responder: impl Responder) -> TestServer {
        let shared = Arc::new(Shared {
            responder: Box::new(responder),
            record: self.record,
            latency: self.latency,
            log: Mutex::new(Vec::new()),
            seen: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        #[allow(clippy::expect_used)]
        let listener = std::net::TcpListener::bind(("127.0.0.1", self.port))
            .expect("test server: bind 127.0.0.1");
        #[allow(clippy::expect_used)]
        let addr = listener.local_addr().expect("test server: local address");
        #[allow(clippy::expect_used)]
        listener
            .set_nonblocking(true)
            .expect("test server: non-blocking listener");
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/chat/completions", post(chat))
            .route("/stats", get(stats))
            .with_state(shared.clone());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let workers = self.workers;
        let thread = std::thread::Builder::new()
            .name("resyn-test-server".into())
            .spawn(move || {
                #[allow(clippy::expect_used)]
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(workers)
                    .enable_all()
                    .build()
                    .expect("test server: runtime");
                rt.block_on(async move {
                    #[allow(clippy::expect_used)]
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("test server: listener");
                    tokio::select! {
                        r = axum::serve(listener, app) => {
                            if let Err(e) = r { eprintln!("test server stopped: {e}"); }
                        }
                        _ = stop_rx => {}
                    }
                });
                // Dropping the runtime cancels handlers still sleeping.
                rt.shutdown_timeout(Duration::from_millis(200));
            });
        #[allow(clippy::expect_used)]
        let thread = thread.expect("test server: spawn thread");
        TestServer {
            addr,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

/// A running test server; stops when dropped.
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// Options: latency, recording, workers, port.
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder::default()
    }

    /// Start with default options.
    pub fn start(responder: impl Responder) -> Self {
        Self::builder().start(responder)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/v1`, to pass as a client's base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every request received so far, in arrival order (empty when
    /// recording is off).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Chat requests received so far.
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Counters and gauges.
    pub fn stats(&self) -> ServerStats {
        stats_of(&self.shared)
    }

    /// Reset the log, the counters and the max-in-flight gauge.
    pub fn reset(&self) {
        let s = &self.shared;
        s.log.lock().unwrap_or_else(PoisonError::into_inner).clear();
        s.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        s.requests.store(0, Ordering::SeqCst);
        s.max_in_flight
            .store(s.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn stats_of(s: &Shared) -> ServerStats {
    ServerStats {
        requests: s.requests.load(Ordering::SeqCst),
        in_flight: s.in_flight.load(Ordering::SeqCst),
        max_in_flight: s.max_in_flight.load(Ordering::SeqCst),
    }
}

async fn stats(State(s): State<Arc<Shared>>) -> Response {
    json_response(StatusCode::OK, &serde_json::json!(stats_of(&s)), None)
}

async fn chat(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let _gauge = InFlight::enter(&s);
    let seq = s.requests.fetch_add(1, Ordering::SeqCst);
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &serde_json::json!({"error": {"message": "request body is not JSON"}}),
            None,
        );
    };
    let messages: Vec<Message> =
        serde_json::from_value(json["messages"].clone()).unwrap_or_default();
    let prompt = messages
        .iter()
        .rev()
        .find(|m| m.role == crate::Role::User)
        .map(|m| m.content.clone())
        .unwrap_or_default();
    let repeat = {
        let mut seen = s.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let c = seen.entry(body.to_vec()).or_insert(0);
        *c += 1;
        *c - 1
    };
    let req = RecordedRequest {
        seq,
        model: json["model"].as_str().unwrap_or_default().to_string(),
        n: json["n"]
            .as_u64()
            .map_or(1, |n| u32::try_from(n).unwrap_or(1)),
        seed: json["seed"].as_u64(),
        body: json,
        messages,
        prompt,
        repeat,
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    let mut behavior = s.responder.respond(&req);
    // Record on arrival, so requests whose client hung up are logged too.
    if s.record {
        s.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(req.clone());
    }
    if !s.latency.is_zero() {
        tokio::time::sleep(s.latency).await;
    }
    while let Behavior::Delay(d, inner) = behavior {
        tokio::time::sleep(d).await;
        behavior = *inner;
    }
    act(&req, behavior)
}

fn tokens(s: &str) -> u64 {
    (s.chars().count() as u64).div_ceil(4)
}

fn act(req: &RecordedRequest, behavior: Behavior) -> Response {
    let prompt_tokens: u64 = req.messages.iter().map(|m| tokens(&m.content)).sum();
    let completion = |content: serde_json::Value, refusal: Option<&str>, finish: &str| {
        let text_tokens = content.as_str().map_or(0, tokens);
        let choices: Vec<_> = (0..req.n.max(1))
            .map(|i| {
                serde_json::json!({
                    "index": i,
                    "message": {"role": "assistant", "content": content, "refusal": refusal},
                    "logprobs": null,
                    "finish_reason": finish,
                })
            })
            .collect();
        serde_json::json!({
            "id": format!("chatcmpl-test-{}", req.seq),
            "object": "chat.completion",
            "created": 0,
            "model": req.model,
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": text_tokens * u64::from(req.n.max(1)),
                "total_tokens": prompt_tokens + text_tokens * u64::from(req.n.max(1)),
            },
        })
    };
    match behavior {
        Behavior::Reply {
            text,
            finish_reason,
        } => json_response(
            StatusCode::OK,
            &completion(serde_json::Value::String(text), None, &finish_reason),
            None,
        ),
        Behavior::Refusal(msg) => json_response(
            StatusCode::OK,
            &completion(serde_json::Value::Null, Some(&msg), "stop"),
            None,
        ),
        Behavior::Status {
            status,
            body,
            retry_after,
        } => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            raw_response(code, body, retry_after)
        }
        Behavior::Malformed(raw) => raw_response(StatusCode::OK, raw, None),
        // Unwrapped by the caller.
        Behavior::Delay(_, inner) => act(req, *inner),
    }
}

fn json_response(
    status: StatusCode,
    v: &serde_json::Value,
    retry_after: Option<String>,
) -> Response {
    raw_response(status, v.to_string(), retry_after)
}

fn raw_response(status: StatusCode, body: String, retry_after: Option<String>) -> Response {
    let mut resp = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(ra) = retry_after.and_then(|v| v.parse().ok()) {
        resp.headers_mut().insert(header::RETRY_AFTER, ra);
    }
    resp
}
