//! First call to a module not yet started, with the pool warm; memory with
//! every module resident.
//!
//! Run: `cargo run --release -p resyn-sandbox --example sandbox_first_call -- DIR [N]`
//! where DIR holds the environment modules (`bench/sandbox_scale.sh` makes
//! one of 400) and N is how many first calls to time (default 100).
//!
//! Opens every module of DIR (metadata from the source, no interpreter),
//! starts the sandbox with one module, then for N other modules times their
//! first `generate` (fork from the zygote, the worker's own layers, module
//! load, the call) one after another; then starts every remaining module and
//! reports the sandbox's memory (RSS, PSS, USS summed over its processes).

use std::time::{Duration, Instant};

use resyn_core::Environment;
use resyn_sandbox::{LazySandbox, PythonEnv, SandboxConfig, open_dir};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: sandbox_first_call DIR [N]")?;
    let n: usize = args.next().map_or(Ok(100), |s| s.parse())?;
    let t = Instant::now();
    let sandbox = LazySandbox::new(SandboxConfig::default());
    let envs: Vec<PythonEnv> = open_dir(&dir, &sandbox)
        .into_iter()
        .collect::<Result<_, _>>()?;
    println!(
        "opened {} modules in {:.1} ms (no interpreter)",
        envs.len(),
        ms(t.elapsed())
    );
    let t = Instant::now();
    let sb = sandbox.get().map_err(|e| e.to_string())?;
    envs[0].generate(0, 1)?;
    println!(
        "sandbox start-up and the first module: {:.0} ms; process model: {:?}",
        ms(t.elapsed()),
        sb.process_model()
    );
    let mut lat: Vec<Duration> = Vec::new();
    for env in envs.iter().skip(1).take(n) {
        let t = Instant::now();
        env.generate(0, 1)?;
        lat.push(t.elapsed());
    }
    lat.sort();
    let pct = |q: f64| ms(lat[((lat.len() - 1) as f64 * q).round() as usize]);
    let mean = ms(lat.iter().sum::<Duration>()) / lat.len() as f64;
    println!(
        "first call (fork, layers, load, generate) over {} modules: p50 {:.1} ms, p90 {:.1} ms, \
         max {:.1} ms, mean {mean:.1} ms",
        lat.len(),
        pct(0.5),
        pct(0.9),
        pct(1.0)
    );
    for env in &envs {
        env.generate(0, 1)?;
    }
    if std::env::var_os("RESYN_BENCH_NO_MEMORY").is_some() {
        return Ok(());
    }
    let m = sb.memory();
    let live = sb.stats().live;
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    println!(
        "{live} modules resident: {} processes, RSS {:.0} MiB, PSS {:.0} MiB, USS {:.0} MiB \
         ({:.2} MiB PSS, {:.2} MiB USS per module)",
        m.processes,
        mib(m.rss),
        mib(m.pss),
        mib(m.uss),
        mib(m.pss) / live as f64,
        mib(m.uss) / live as f64
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
