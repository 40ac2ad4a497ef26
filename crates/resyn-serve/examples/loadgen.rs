//! Load generator for `resyn serve`: keep-alive HTTP/1.1 clients on
//! loopback posting `/verify` (or `/openrlhf`) batches; prints throughput
//! (verifications per second) and request latency percentiles as JSON.
//!
//! ```sh
//! resyn generate sudoku maze tower_of_hanoi --count 200 -d 1-10 -o /tmp/inst.jsonl
//! resyn serve --instances /tmp/inst.jsonl --addr 127.0.0.1:8000 &
//! cargo run --release -p resyn-serve --example loadgen -- \
//!     --addr 127.0.0.1:8000 --instances /tmp/inst.jsonl --mode id --batch 1024 --clients 4 --secs 10
//! ```
//! Modes: `id` (items refer to instances the server loaded), `ground_truth`
//! (items carry verifier-mode ground-truth strings), `openrlhf` (OpenRLHF
//! protocol, labels are ground truths). Every response is the instance's
//! reference, so each item runs the verifier to a full verdict.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use resyn_core::Instance;
use serde_json::{Value, json};

struct Opts {
    addr: String,
    instances: String,
    mode: String,
    batch: usize,
    clients: usize,
    secs: f64,
}

fn parse() -> Opts {
    let mut o = Opts {
        addr: "127.0.0.1:8000".into(),
        instances: String::new(),
        mode: "id".into(),
        batch: 1024,
        clients: 4,
        secs: 10.0,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let v = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--addr" => o.addr = v,
            "--instances" => o.instances = v,
            "--mode" => o.mode = v,
            "--batch" => o.batch = v.parse().expect("--batch N"),
            "--clients" => o.clients = v.parse().expect("--clients N"),
            "--secs" => o.secs = v.parse().expect("--secs S"),
            other => panic!("unknown option {other}"),
        }
    }
    assert!(!o.instances.is_empty(), "--instances FILE is required");
    o
}

fn ground_truth(i: &Instance) -> String {
    json!({"reward_mode": "verifier", "id": i.id, "env": i.env, "env_version": i.env_version,
           "seed": i.seed, "difficulty": i.difficulty, "data": i.data})
    .to_string()
}

/// Request bodies, each a batch of `batch` items cycling through the instances.
fn bodies(o: &Opts, insts: &[Instance]) -> (String, Vec<Vec<u8>>) {
    let mut out = Vec::new();
    for b in 0..8 {
        let pick = |k: usize| &insts[(b * o.batch + k) % insts.len()];
        let body = match o.mode.as_str() {
            "id" => {
                json!({"items": (0..o.batch).map(|k| json!({"id": pick(k).id, "response": pick(k).reference})).collect::<Vec<_>>()})
            }
            "ground_truth" => {
                json!({"items": (0..o.batch).map(|k| json!({"ground_truth": ground_truth(pick(k)), "response": pick(k).reference})).collect::<Vec<_>>()})
            }
            "openrlhf" => {
                let prompt = |i: &Instance| {
                    format!(
                        "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n",
                        i.prompt
                    )
                };
                json!({
                    "query": (0..o.batch).map(|k| format!("{}{}<|im_end|>", prompt(pick(k)), pick(k).reference)).collect::<Vec<_>>(),
                    "prompts": (0..o.batch).map(|k| prompt(pick(k))).collect::<Vec<_>>(),
                    "labels": (0..o.batch).map(|k| ground_truth(pick(k))).collect::<Vec<_>>(),
                })
            }
            m => panic!("unknown mode {m}"),
        };
        out.push(body.to_string().into_bytes());
    }
    let path = if o.mode == "openrlhf" {
        "/openrlhf"
    } else {
        "/verify"
    };
    (path.to_string(), out)
}

fn request(s: &mut BufReader<TcpStream>, addr: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let w = s.get_mut();
    w.write_all(head.as_bytes()).expect("write");
    w.write_all(body).expect("write");
    let mut status = 0;
    let mut len = 0usize;
    let mut line = String::new();
    loop {
        line.clear();
        s.read_line(&mut line).expect("read");
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if status == 0 {
            status = l
                .split_whitespace()
                .nth(1)
                .and_then(|c| c.parse().ok())
                .expect("status");
        } else if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().expect("content-length");
        }
    }
    let mut buf = vec![0; len];
    s.read_exact(&mut buf).expect("body");
    (status, buf)
}

fn main() {
    let o = parse();
    let text = std::fs::read_to_string(&o.instances).expect("read instances");
    let insts: Vec<Instance> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("instance line"))
        .collect();
    let (path, bodies) = bodies(&o, &insts);
    // Warm up and check one request.
    let mut c = BufReader::new(TcpStream::connect(&o.addr).expect("connect"));
    let (st, b) = request(&mut c, &o.addr, &path, &bodies[0]);
    let v: Value = serde_json::from_slice(&b).expect("json answer");
    assert_eq!(st, 200, "{v}");
    let deadline = Instant::now() + Duration::from_secs_f64(o.secs);
    let start = Instant::now();
    let lat: Vec<Vec<f64>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..o.clients)
            .map(|t| {
                let (o, bodies, path) = (&o, &bodies, &path);
                s.spawn(move || {
                    let mut c = BufReader::new(TcpStream::connect(&o.addr).expect("connect"));
                    c.get_ref().set_nodelay(true).ok();
                    let mut lat = Vec::new();
                    let mut k = t;
                    while Instant::now() < deadline {
                        let t0 = Instant::now();
                        let (st, _) = request(&mut c, &o.addr, path, &bodies[k % bodies.len()]);
                        assert_eq!(st, 200);
                        lat.push(t0.elapsed().as_secs_f64());
                        k += 1;
                    }
                    lat
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("client")).collect()
    });
    let wall = start.elapsed().as_secs_f64();
    let mut all: Vec<f64> = lat.into_iter().flatten().collect();
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| all[((all.len() as f64 - 1.0) * p).round() as usize] * 1e3;
    let requests = all.len();
    println!(
        "{}",
        json!({
            "mode": o.mode, "batch": o.batch, "clients": o.clients, "seconds": wall,
            "requests": requests, "requests_per_sec": requests as f64 / wall,
            "verifications_per_sec": (requests * o.batch) as f64 / wall,
            "latency_ms": {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99), "max": pct(1.0)},
        })
    );
}
