//! A standalone replay server for benchmarks and manual runs: serves the
//! pipeline fixtures (or, with `--bench`, an endless supply of valid
//! candidates), prints its base URL on stdout, and serves counters at
//! `GET /stats`. Runs until killed. `--write-keywords FILE` writes the
//! keywords file the fixtures answer to (for `resyn synth --keywords FILE`).
//!
//! `cargo run -p resyn-synth --features replay --example replay_server -- [--bench] [--latency-ms N] [--workers N] [--write-keywords FILE]`

use std::time::Duration;

use resyn_llm::test_server::TestServer;
use resyn_synth::replay::{KEYWORDS, Replay};

fn main() {
    let mut latency = 0u64;
    let mut workers = 2usize;
    let mut bench = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> u64 {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage(name))
        };
        match a.as_str() {
            "--latency-ms" => latency = num("--latency-ms"),
            "--workers" => workers = usize::try_from(num("--workers")).unwrap_or(2),
            "--bench" => bench = true,
            "--write-keywords" => {
                let path = args.next().unwrap_or_else(|| usage("--write-keywords"));
                if let Err(e) = std::fs::write(&path, KEYWORDS) {
                    eprintln!("writing {path}: {e}");
                    std::process::exit(2)
                }
            }
            _ => usage(&a),
        }
    }
    let responder = if bench {
        Replay::bench()
    } else {
        Replay::new()
    };
    let server = TestServer::builder()
        .latency(Duration::from_millis(latency))
        .workers(workers)
        .record(false)
        .start(responder);
    println!("{}", server.base_url());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn usage(arg: &str) -> ! {
    eprintln!(
        "bad argument `{arg}`; usage: replay_server [--bench] [--latency-ms N] [--workers N] [--write-keywords FILE]"
    );
    std::process::exit(2)
}
