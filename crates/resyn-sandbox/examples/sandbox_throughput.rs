//! Verify throughput of a simple Python verifier: the sandboxed worker pool
//! (batched) against spawning one Python process per call, side by side.
//! Also reports worker start-up latency and memory per worker.
//!
//! Run: `cargo run --release -p resyn-sandbox --example sandbox_throughput`
//! (or `bash bench/sandbox_throughput.sh`).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use resyn_core::{Environment, Instance};
use resyn_sandbox::{PythonEnv, Sandbox, SandboxConfig};

const VERIFIER: &str = r#"
NAME = "bench_add"
CATEGORY = "math"
DESCRIPTION = "Add two integers."

def generate(rng, difficulty):
    a, b = rng.randint(-10 ** 6, 10 ** 6), rng.randint(-10 ** 6, 10 ** 6)
    return {"prompt": "What is %d + %d?" % (a, b), "data": {"a": a, "b": b}, "reference": str(a + b)}

def verify(instance, answer):
    text = answer.strip()
    if not text.lstrip("-").isdigit():
        return 0.0
    d = instance["data"]
    return 1.0 if int(text) == d["a"] + d["b"] else 0.0
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let sandbox = Sandbox::new(SandboxConfig::default())?;
    let probe_time = t.elapsed();
    let cores = std::thread::available_parallelism()?.get();
    println!(
        "host: {cores} cores; sandbox: {}",
        sandbox.enforcement().backend
    );
    println!(
        "sandbox set-up (resolve python + probe worker): {:.0} ms",
        ms(probe_time)
    );

    // Worker start-up latency: fresh worker, harness boot, module load.
    let mut startups = Vec::new();
    for i in 0..10 {
        let t = Instant::now();
        let env = PythonEnv::from_source(&format!("startup_{i}.py"), VERIFIER.into(), &sandbox)?;
        startups.push(t.elapsed());
        drop(env);
    }
    startups.sort();
    println!(
        "worker start-up (fork from the zygote, the worker's layers, module load; code cache on): median {:.1} ms, min {:.1} ms, max {:.1} ms",
        ms(startups[5]),
        ms(startups[0]),
        ms(startups[9])
    );
    sandbox.shutdown_idle();

    // Memory per worker (RSS of the whole sandbox: bwrap, its init, python).
    let env = PythonEnv::from_source("bench_add.py", VERIFIER.into(), &sandbox)?;
    let insts: Vec<Instance> = env
        .generate_batch(&(0..2000).map(|s| (s, 5)).collect::<Vec<_>>())
        .into_iter()
        .collect::<Result<_, _>>()?;
    let wrong: Vec<String> = insts
        .iter()
        .map(|i| format!("<answer>{}</answer>", i.data["a"]))
        .collect();
    let mut items: Vec<(&Instance, &str)> = Vec::new();
    for _ in 0..5 {
        for (i, w) in insts.iter().zip(&wrong) {
            items.push((i, i.reference.as_str()));
            items.push((i, w.as_str()));
        }
    }
    // Warm up every worker of the env.
    env.verify_batch(&items[..4000]);
    let m = sandbox.memory();
    println!(
        "sandbox memory with {} worker(s) warm: {} processes, RSS {:.1} MiB, PSS {:.1} MiB, USS {:.1} MiB",
        sandbox.stats().live,
        m.processes,
        mib(m.rss),
        mib(m.pss),
        mib(m.uss)
    );

    // Pool, batched.
    let mut done = 0usize;
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(3) {
        let v = env.verify_batch(&items);
        assert_eq!(v.iter().filter(|v| v.correct).count(), items.len() / 2);
        done += v.len();
    }
    let pool_rate = done as f64 / t.elapsed().as_secs_f64();
    println!(
        "pool (batches of {}, {} worker(s)): {:.0} verifications/s",
        items.len(),
        sandbox.config().workers_per_env_effective(),
        pool_rate
    );

    // One plain (unsandboxed) Python process per call, same verifier.
    let python = resolve_python()?;
    let runner = format!(
        "{VERIFIER}\nimport json, sys\nd = json.loads(sys.argv[1])\nprint(verify(d['instance'], d['answer']))\n"
    );
    let n = 100;
    let t = Instant::now();
    for (inst, resp) in items.iter().take(n) {
        let answer = resyn_core::extract_answer(resp, &Default::default())?.text;
        let arg = serde_json::json!({"instance": {"prompt": inst.prompt, "data": inst.data, "difficulty": inst.difficulty, "seed": inst.seed}, "answer": answer});
        let out = Command::new(&python)
            .args(["-S", "-c", &runner, &arg.to_string()])
            .stdin(Stdio::null())
            .output()?;
        assert!(out.status.success());
    }
    let per_call_rate = n as f64 / t.elapsed().as_secs_f64();
    println!("process per call (plain python -S, no sandbox): {per_call_rate:.1} verifications/s");

    // One sandboxed worker per call (start-up + one verify).
    let n = 20;
    let t = Instant::now();
    for (k, (inst, resp)) in items.iter().take(n).enumerate() {
        let env = PythonEnv::from_source(&format!("once_{k}.py"), VERIFIER.to_string(), &sandbox)?;
        env.verify(inst, resp);
        drop(env);
        sandbox.shutdown_idle();
    }
    let sandboxed_per_call = n as f64 / t.elapsed().as_secs_f64();
    println!(
        "a fresh sandboxed worker per call (fork, layers, load, verify, stop): {sandboxed_per_call:.1} verifications/s"
    );
    println!(
        "speed-up of the pool: {:.0}x over plain process-per-call, {:.0}x over a fresh sandboxed worker per call",
        pool_rate / per_call_rate,
        pool_rate / sandboxed_per_call
    );
    std::io::stdout().flush()?;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn resolve_python() -> Result<String, Box<dyn std::error::Error>> {
    let out = Command::new(std::env::var("RESYN_PYTHON").unwrap_or_else(|_| "python3".into()))
        .args(["-c", "import sys; print(sys.executable)"])
        .output()?;
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

fn mib(b: u64) -> f64 {
    b as f64 / (1 << 20) as f64
}
