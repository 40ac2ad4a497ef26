//! Fixtures: a registry with native environments plus a deliberately slow
//! one, instances, ground truths, and a raw HTTP/1.1 client.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use resyn_core::{Category, EnvMeta, Environment, Instance, Registry, Source, Verdict};
use resyn_reward::{RewardConfig, Scorer};
use resyn_serve::{AppState, Limits};
use serde_json::{Value, json};

/// An environment whose verifier sleeps, to exercise timeouts.
pub(crate) struct SlowEnv(EnvMeta);

impl SlowEnv {
    pub(crate) fn new() -> Self {
        Self(EnvMeta {
            id: "slow".into(),
            version: 1,
            category: Category::Math,
            description: "sleeps in verify".into(),
            min_difficulty: 1,
            max_difficulty: 10,
            source: Source::Native,
            calibrated: None,
        })
    }
}

impl Environment for SlowEnv {
    fn meta(&self) -> &EnvMeta {
        &self.0
    }
    fn generate(&self, seed: u64, difficulty: u8) -> resyn_core::Result<Instance> {
        Ok(Instance {
            id: format!("slow-{seed}-{difficulty}"),
            env: "slow".into(),
            env_version: 1,
            seed,
            difficulty,
            prompt: "wait".into(),
            data: json!({}),
            reference: "<answer>x</answer>".into(),
        })
    }
    fn verify(&self, _: &Instance, _: &str) -> Verdict {
        std::thread::sleep(Duration::from_millis(400));
        Verdict::correct()
    }
}

pub(crate) fn registry() -> Registry {
    let mut r = resyn_envs::registry();
    r.register(Arc::new(SlowEnv::new())).unwrap();
    r
}

/// `n` tower_of_hanoi instances (seeds 0..n, difficulty 2).
pub(crate) fn instances(n: u64) -> Vec<Instance> {
    let reg = resyn_envs::registry();
    let env = reg.get("tower_of_hanoi").unwrap();
    (0..n).map(|s| env.generate(s, 2).unwrap()).collect()
}

pub(crate) fn state_with(limits: Limits, reward: RewardConfig) -> AppState {
    AppState::new(Scorer::new(registry()), instances(16), reward, limits).unwrap()
}

pub(crate) fn state() -> AppState {
    state_with(Limits::default(), RewardConfig::default())
}

/// The verifier-mode ground truth string of `inst`, as `resyn dataset build` writes it.
pub(crate) fn ground_truth(inst: &Instance) -> String {
    json!({
        "reward_mode": "verifier", "id": inst.id, "env": inst.env,
        "env_version": inst.env_version, "seed": inst.seed,
        "difficulty": inst.difficulty, "data": inst.data,
    })
    .to_string()
}

pub(crate) fn think(resp: &str) -> String {
    format!("<think>plan</think>\n{resp}")
}

/// One HTTP/1.1 request on a fresh connection; returns (status, body).
pub(crate) fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    ctype: Option<&str>,
    body: &[u8],
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(c) = ctype {
        head.push_str(&format!("Content-Type: {c}\r\n"));
    }
    head.push_str("\r\n");
    // The server may answer (413) and close before reading a large body; a
    // failed write is then expected, and the answer is still readable.
    let _ = s
        .write_all(head.as_bytes())
        .and_then(|()| s.write_all(body));
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    (status, body.to_string())
}

pub(crate) fn post_json(addr: SocketAddr, path: &str, body: &Value) -> (u16, Value) {
    let (status, text) = http(
        addr,
        "POST",
        path,
        Some("application/json"),
        body.to_string().as_bytes(),
    );
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Assert an error answer's status and code.
pub(crate) fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], want_code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}
