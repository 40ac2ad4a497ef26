//! Single-thread throughput of native environments, for `bench/rg_compare.py`.
//!
//! Usage: `throughput CPU_SECONDS ENV:DIFFICULTY...`; prints one JSON object per
//! spec: `{"env", "difficulty", "generate_per_s", "verify_per_s"}`.
//! Verification scores the reference responses of a pool of instances (the
//! same thing the Python side scores: the known-correct answer).

use std::hint::black_box;

/// The allocator the `resyn` CLI and the Python module use.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::Duration;

/// CPU time of this thread in nanoseconds. CPU time, not wall time: the
/// benchmark machine is shared, and a busy neighbour must not change the
/// measured rate (the Python side uses `time.thread_time`).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .expect("/proc/thread-self/schedstat is readable (Linux)")
}

/// Calls per CPU-second of `f`, run in doubling batches until `budget` of
/// CPU time is spent (so clock reads never dominate fast calls).
fn rate(budget: Duration, mut f: impl FnMut(u64)) -> f64 {
    let budget = budget.as_nanos() as u64;
    let start = thread_cpu_ns();
    let (mut n, mut batch) = (0u64, 1u64);
    loop {
        for _ in 0..batch {
            f(n);
            n += 1;
        }
        let spent = thread_cpu_ns() - start;
        if spent >= budget {
            return n as f64 * 1e9 / spent as f64;
        }
        batch = (batch * 2).min(1 << 16);
    }
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
        // THROUGHPUT_ONLY=verify skips generation and THROUGHPUT_ONLY=generate
        // skips verification (for profiling one side).
        let only = std::env::var("THROUGHPUT_ONLY").unwrap_or_default();
        let gen_rate = if only == "verify" {
            0.0
        } else {
            rate(budget, |n| {
                black_box(env.generate(black_box(n), d).ok());
            })
        };
        let pool: Vec<_> = (0..256)
            .filter_map(|s| env.generate(1_000_000 + s, d).ok())
            .collect();
        let verify_rate = if only == "generate" {
            0.0
        } else {
            rate(budget, |n| {
                let inst = &pool[n as usize % pool.len()];
                black_box(env.verify(black_box(inst), black_box(&inst.reference)));
            })
        };
        println!(
            "{}",
            serde_json::json!({"env": id, "difficulty": d, "generate_per_s": gen_rate, "verify_per_s": verify_rate})
        );
    }
}
