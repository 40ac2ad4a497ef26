//! `resyn serve --curriculum`: online instances over HTTP, and a server
//! killed with SIGKILL resumes its run from `--curriculum-state`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::TempDir;

/// Start `resyn serve` on a free port; returns the child and its address.
fn start(dir: &TempDir) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_resyn"))
        .current_dir(dir.root())
        .env_remove("RESYN_ENV_DIRS")
        .env_remove("RESYN_STORE")
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--curriculum",
            "online.toml",
        ])
        .args([
            "--curriculum-state",
            "state.json",
            "--curriculum-log",
            "decisions.jsonl",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the server printed its address")
            .unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    (child, addr)
}

/// One JSON POST over HTTP/1.1; the decoded answer.
fn post(addr: SocketAddr, path: &str, body: &Value) -> Value {
    let body = body.to_string();
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{raw}");
    serde_json::from_str(body).unwrap()
}

/// Draw `n`, report every response right (two per instance).
fn step(addr: SocketAddr, n: usize) -> Vec<Value> {
    let batch = post(addr, "/curriculum/draw", &json!({"n": n}))["instances"]
        .as_array()
        .unwrap()
        .clone();
    let outcomes: Vec<Value> = batch
        .iter()
        .flat_map(|i| {
            (0..2).map(move |_| {
                json!({"id": i["id"], "env": i["env"], "difficulty": i["difficulty"], "reward": 1.0})
            })
        })
        .collect();
    post(addr, "/curriculum/report", &json!({"outcomes": outcomes}));
    batch
}

#[test]
fn serve_curriculum_resumes_after_kill_9() {
    let dir = TempDir::new("serve-curriculum");
    let config = "seed = 5\n[select]\nids = [\"maze\", \"knapsack\", \"sudoku\"]\n\
                  [curriculum]\nmin_samples = 8\ngroup_size = 2\n";
    std::fs::write(dir.join("online.toml"), config).unwrap();

    // The same run in this process, uninterrupted.
    let c = resyn_data::DatasetConfig::from_toml_str(config).unwrap();
    let mut reference = resyn_data::online_generator(&c, &resyn_envs::registry(), None).unwrap();
    let mut expected = Vec::new();
    for _ in 0..6 {
        let batch = reference.draw(4).unwrap();
        let outcomes: Vec<resyn_curriculum::Outcome> = batch
            .iter()
            .flat_map(|i| {
                (0..2).map(|_| resyn_curriculum::Outcome {
                    id: Some(i.id.clone()),
                    env: i.env.clone(),
                    difficulty: i.difficulty,
                    reward: 1.0,
                })
            })
            .collect();
        reference.report(&outcomes).unwrap();
        expected.push(serde_json::to_value(&batch).unwrap());
    }

    let (mut server, addr) = start(&dir);
    let mut got: Vec<Value> = (0..3).map(|_| Value::Array(step(addr, 4))).collect();
    server.kill().unwrap(); // SIGKILL: no shutdown, the state saved after the last report counts
    server.wait().unwrap();
    let (mut server, addr) = start(&dir);
    got.extend((0..3).map(|_| Value::Array(step(addr, 4))));
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(got, expected);

    let log = std::fs::read_to_string(dir.join("decisions.jsonl")).unwrap();
    let seqs: Vec<u64> = log
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert!(!seqs.is_empty());
    assert_eq!(
        seqs,
        (0..seqs.len() as u64).collect::<Vec<_>>(),
        "one log across the restart"
    );
}
