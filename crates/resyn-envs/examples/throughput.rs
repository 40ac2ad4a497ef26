//! Single-thread throughput of native environments, for `bench/rg_compare.py`.
//!
//! Usage: `throughput SECONDS ENV:DIFFICULTY...`; prints one JSON object per
//! spec: `{"env", "difficulty", "generate_per_s", "verify_per_s"}`.
//! Verification scores the reference responses of a pool of instances (the
//! same thing the Python side scores: the known-correct answer).

use std::hint::black_box;
use std::time::{Duration, Instant};

fn rate(budget: Duration, mut f: impl FnMut(u64)) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget || n < 10 {
        // Check the clock every few iterations only.
        for _ in 0..8 {
            f(n);
            n += 1;
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let budget = Duration::from_secs_f64(seconds);
    let registry = resyn_envs::registry();
    for spec in args {
        let Some((id, d)) = spec.split_once(':') else {
            eprintln!("bad spec `{spec}`: expected ENV:DIFFICULTY");
            std::process::exit(2);
        };
        let d: u8 = d.parse().unwrap_or(1);
        let env = match registry.get(id) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        };
        let gen_rate = rate(budget, |n| {
            black_box(env.generate(black_box(n), d).ok());
        });
        let pool: Vec<_> = (0..256)
            .filter_map(|s| env.generate(1_000_000 + s, d).ok())
            .collect();
        let verify_rate = rate(budget, |n| {
            let inst = &pool[n as usize % pool.len()];
            black_box(env.verify(black_box(inst), black_box(&inst.reference)));
        });
        println!(
            "{}",
            serde_json::json!({"env": id, "difficulty": d, "generate_per_s": gen_rate, "verify_per_s": verify_rate})
        );
    }
}
