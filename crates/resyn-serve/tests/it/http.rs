//! Over real HTTP on 127.0.0.1: a server on its own runtime, raw clients.

use std::net::SocketAddr;
use std::thread::JoinHandle;

use resyn_serve::{AppState, serve};
use serde_json::{Value, json};

use crate::common::{assert_error, ground_truth, http, instances, post_json, state, think};

struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(state: AppState) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(l.local_addr().unwrap()).unwrap();
                serve(l, state, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            });
        });
        Self {
            addr: rx.recv().unwrap(),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Graceful shutdown; returns once the server has stopped.
    fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

#[test]
fn bad_input_gets_json_4xx() {
    let srv = Server::start(state());
    let a = srv.addr;
    let (s, b) = http(
        a,
        "POST",
        "/verify",
        Some("application/json"),
        b"{\"items\": [",
    );
    assert_error(s, &serde_json::from_str(&b).unwrap(), 400, "malformed_json");
    let (s, b) = http(
        a,
        "POST",
        "/verify",
        Some("application/json"),
        b"not json at all",
    );
    assert_error(s, &serde_json::from_str(&b).unwrap(), 400, "malformed_json");
    let (s, v) = post_json(a, "/verify", &json!({"items": "x"}));
    assert_error(s, &v, 422, "invalid_request");
    let (s, v) = post_json(
        a,
        "/verify",
        &json!({"items": [{"id": 5, "response": "r"}]}),
    );
    assert_error(s, &v, 422, "invalid_request");
    let (s, v) = post_json(a, "/verify", &json!({"items": [], "extra": 1}));
    assert_error(s, &v, 422, "invalid_request");
    let (s, b) = http(a, "POST", "/verify", Some("text/plain"), b"{}");
    assert_error(
        s,
        &serde_json::from_str(&b).unwrap(),
        415,
        "unsupported_media_type",
    );
    let mut inst = instances(1).remove(0);
    inst.env = "unheard_of".into();
    let (s, v) = post_json(
        a,
        "/verify",
        &json!({"items": [{"instance": inst, "response": ""}]}),
    );
    assert_error(s, &v, 422, "unknown_environment");
    let (s, v) = post_json(
        a,
        "/verify",
        &json!({"items": [{"id": "missing", "response": ""}]}),
    );
    assert_error(s, &v, 422, "unknown_instance");
    let (s, v) = post_json(a, "/openrlhf", &json!({"query": "x", "labels": []}));
    assert_error(s, &v, 422, "invalid_request");
}

#[test]
fn oversized_bodies_get_413() {
    let limits = resyn_serve::Limits {
        max_body_bytes: 1024,
        ..Default::default()
    };
    let st = crate::common::state_with(limits, Default::default());
    let srv = Server::start(st);
    let body = json!({"items": [{"id": "x", "response": "y".repeat(8192)}]});
    let (s, v) = post_json(srv.addr, "/verify", &body);
    assert_error(s, &v, 413, "body_too_large");
    // The server is still healthy afterwards.
    let (s, b) = http(srv.addr, "GET", "/health", None, b"");
    assert_eq!(s, 200, "{b}");
}

#[test]
fn concurrent_clients_get_their_own_answers() {
    let insts = instances(16);
    let srv = Server::start(state());
    let addr = srv.addr;
    std::thread::scope(|s| {
        for t in 0..8 {
            let insts = &insts;
            s.spawn(move || {
                for round in 0..10 {
                    // Client t sends correct answers for even items only.
                    let items: Vec<Value> = insts
                        .iter()
                        .enumerate()
                        .map(|(i, inst)| {
                            let resp = if (i + t + round) % 2 == 0 {
                                think(&inst.reference)
                            } else {
                                "<answer>no</answer>".into()
                            };
                            if i % 2 == 0 {
                                json!({"id": inst.id, "response": resp})
                            } else {
                                json!({"ground_truth": ground_truth(inst), "response": resp})
                            }
                        })
                        .collect();
                    let (status, v) = post_json(addr, "/verify", &json!({"items": items}));
                    assert_eq!(status, 200, "{v}");
                    for (i, r) in v["results"].as_array().unwrap().iter().enumerate() {
                        let want = if (i + t + round) % 2 == 0 { 1.0 } else { 0.0 };
                        assert_eq!(
                            r["score"].as_f64(),
                            Some(want),
                            "client {t} round {round} item {i}: {r}"
                        );
                    }
                }
            });
        }
    });
    let (s, text) = http(addr, "GET", "/metrics", None, b"");
    assert_eq!(s, 200);
    assert!(
        text.contains("resyn_http_requests_total{route=\"/verify\",status=\"200\"} 80"),
        "{text}"
    );
    assert!(
        text.contains("resyn_verifications_total{reason=\"ok\"} 640"),
        "{text}"
    );
    assert!(
        text.contains("resyn_http_request_duration_seconds_count{route=\"/verify\"} 80"),
        "{text}"
    );
    // Per environment: every response was verified by its environment.
    let sum = |prefix: &str| -> u64 {
        text.lines()
            .filter(|l| l.starts_with(prefix))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum()
    };
    assert_eq!(sum("resyn_env_verifications_total{env="), 80 * 16, "{text}");
    assert_eq!(sum("resyn_verifications_total{reason="), 80 * 16, "{text}");
    for inst in &insts {
        let count = format!("resyn_env_verify_seconds_count{{env=\"{}\"}}", inst.env);
        assert!(text.contains(&count), "{count}\n{text}");
    }
}

#[test]
fn graceful_shutdown_stops_the_server() {
    let mut srv = Server::start(state());
    let (s, _) = http(srv.addr, "GET", "/health", None, b"");
    assert_eq!(s, 200);
    srv.stop();
    assert!(
        std::net::TcpStream::connect(srv.addr).is_err(),
        "still accepting after shutdown"
    );
}
