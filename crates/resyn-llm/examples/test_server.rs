//! A standalone test server for benchmarks: answers every request with a
//! fixed text after an optional latency, prints its base URL on stdout, and
//! serves counters at `GET /stats`. Runs until killed.
//!
//! `cargo run -p resyn-llm --features test-server --example test_server -- [--latency-ms N] [--workers N] [--answer TEXT] [--port N]`

use std::time::Duration;

use resyn_llm::test_server::{Behavior, TestServer};

fn main() {
    let mut latency = 0u64;
    let mut workers = 1usize;
    let mut port = 0u16;
    let mut answer = "<answer>0</answer>".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage(&a));
        match a.as_str() {
            "--latency-ms" => latency = val().parse().unwrap_or_else(|_| usage("--latency-ms")),
            "--workers" => workers = val().parse().unwrap_or_else(|_| usage("--workers")),
            "--port" => port = val().parse().unwrap_or_else(|_| usage("--port")),
            "--answer" => answer = val(),
            _ => usage(&a),
        }
    }
    let server = TestServer::builder()
        .latency(Duration::from_millis(latency))
        .workers(workers)
        .port(port)
        .record(false)
        .start(Behavior::answer(answer));
    println!("{}", server.base_url());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn usage(arg: &str) -> ! {
    eprintln!(
        "bad argument `{arg}`; usage: test_server [--latency-ms N] [--workers N] [--answer TEXT] [--port N]"
    );
    std::process::exit(2)
}
