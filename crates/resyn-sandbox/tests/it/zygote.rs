//! The zygote's life: a killed zygote is replaced (calls in flight get typed
//! errors, idle workers of the dead zygote are not handed out), a crashed
//! worker is replaced, and every new worker is a fresh process; time limits
//! count a call's own work, not the wait for a worker.

use std::time::Instant;

use resyn_core::Environment;
use resyn_sandbox::{Error, PythonEnv, Sandbox, SandboxConfig};

use crate::common::{CALL_TIMEOUT, config, generate_error_at};

/// Sleeps `difficulty - 1` eighths of the call limit in generate (so 6 is
/// 0.625 of the limit and 10 is over it); returns which process answered.
fn sleeper(name: &str, sb: &Sandbox) -> PythonEnv {
    PythonEnv::from_source(&format!("{name}.py"), sleeper_source(name), sb).unwrap()
}

fn sleeper_source(name: &str) -> String {
    let eighth = CALL_TIMEOUT.as_secs_f64() / 8.0;
    format!(
        r#"
import os, time
NAME = "{name}"
CATEGORY = "logic"
DESCRIPTION = "Sleeps on request."
TOKEN = os.urandom(8).hex()

def generate(rng, difficulty):
    time.sleep((difficulty - 1) * {eighth})
    return {{"prompt": "Say ok.", "data": TOKEN, "reference": "ok"}}

def verify(instance, answer):
    return 1.0 if answer.strip() == "ok" else 0.0
"#
    )
}

fn token(env: &PythonEnv) -> String {
    env.generate(0, 1)
        .unwrap()
        .data
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_killed_zygote_is_replaced_and_calls_in_flight_fail_typed() {
    let sb = Sandbox::new(config()).unwrap();
    let busy = sleeper("busy", &sb);
    let idle = sleeper("idle", &sb);
    let idle_before = token(&idle);
    let zygotes = sb.zygote_pids();
    assert_eq!(zygotes.len(), 1, "{zygotes:?}");
    let in_flight = std::thread::scope(|s| {
        // 0.625 of the limit: in flight when the zygote dies.
        let h = s.spawn(|| busy.try_generate_batch(&[(1, 6)], false));
        std::thread::sleep(CALL_TIMEOUT / 5);
        let st = std::process::Command::new("kill")
            .args(["-KILL", &zygotes[0].to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        h.join().unwrap()
    });
    let e = in_flight.results.into_iter().next().unwrap().unwrap_err();
    assert!(matches!(e, Error::Crash { .. }), "{e}");
    // The idle worker died with its zygote; a new one answers, from a new
    // zygote.
    let idle_after = token(&idle);
    assert_ne!(idle_after, idle_before);
    assert!(busy.generate(2, 1).is_ok());
    let now = sb.zygote_pids();
    assert_eq!(now.len(), 1);
    assert_ne!(now, zygotes);
}

#[test]
fn a_crashed_worker_is_replaced_by_a_fresh_process() {
    let sb = Sandbox::new(config()).unwrap();
    let src = r#"
import os
NAME = "crasher"
CATEGORY = "logic"
DESCRIPTION = "Dies on request."
TOKEN = os.urandom(8).hex()

def generate(rng, difficulty):
    if difficulty == 9:
        os.kill(os.getpid(), 9)
    return {"prompt": "Say ok.", "data": TOKEN, "reference": "ok"}

def verify(instance, answer):
    return 1.0
"#;
    let env = PythonEnv::from_source("crasher.py", src.into(), &sb).unwrap();
    let t1 = token(&env);
    assert_eq!(token(&env), t1, "an idle worker is reused");
    let e = generate_error_at(&env, 0, 9);
    assert!(matches!(e, Error::Crash { .. }), "{e}");
    assert!(e.to_string().contains("signal 9"), "{e}");
    let t2 = token(&env);
    assert_ne!(t2, t1, "the crashed worker was replaced");
    assert_eq!(sb.zygote_pids().len(), 1, "the zygote survived");
}

#[test]
fn time_limits_do_not_count_waiting_for_a_worker() {
    // One worker for everything: the second call waits for the first to
    // finish (and its worker to be replaced) before it starts. Each call
    // takes 0.625 of the limit, so the wait plus the call is longer than the
    // limit, and neither may time out.
    let sb = Sandbox::new(SandboxConfig {
        max_workers: 1,
        ..config()
    })
    .unwrap();
    let a = sleeper("slow_a", &sb);
    let b = sleeper("slow_b", &sb);
    let t = Instant::now();
    let (ra, rb) = std::thread::scope(|s| {
        let ha = s.spawn(|| a.try_generate_batch(&[(1, 6)], false));
        let hb = s.spawn(|| b.try_generate_batch(&[(1, 6)], false));
        (ha.join().unwrap(), hb.join().unwrap())
    });
    assert!(t.elapsed() > CALL_TIMEOUT, "the calls did not queue");
    for r in [ra, rb] {
        let r = r.results.into_iter().next().unwrap();
        assert!(r.is_ok(), "{r:?}");
    }
    // A batch is limited per item, not as a whole: three items of 0.625.
    let r = a.try_generate_batch(&[(1, 6), (2, 6), (3, 6)], false);
    assert!(r.results.iter().all(Result::is_ok), "{:?}", r.results);
    // A single item over the limit still times out.
    let r = a.try_generate_batch(&[(1, 10)], false);
    let e = r.results.into_iter().next().unwrap().unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    assert!(sb.stats().live <= 1);
}

#[test]
fn determinism_checks_run_on_a_fresh_process() {
    // Module-level randomness differs between processes only: validation's
    // second pass must run on a newly forked worker to see it.
    let sb = Sandbox::new(config()).unwrap();
    let env = sleeper("fresh", &sb);
    assert_eq!(token(&env), token(&env), "one resident worker");
    use resyn_core::conformance::{self, Check, Options, Stats, Thresholds};
    let thresholds = Thresholds {
        seeds: 2,
        ..Thresholds::default()
    };
    let options = Options {
        difficulties: Some(1..=1),
        ..Options::default()
    };
    let (mut passed, mut stats) = (Vec::new(), Stats::default());
    let failure = conformance::run(&env, &thresholds, &options, &mut passed, &mut stats)
        .unwrap()
        .expect_err("a fresh worker's instances differ");
    assert_eq!(failure.check, Check::Determinism, "{failure}");
}

#[test]
fn warming_up_starts_one_worker_in_the_background() {
    use resyn_sandbox::LazySandbox;
    let sb = Sandbox::new(config()).unwrap();
    let lazy = LazySandbox::from(sb.clone());
    // Opened from their source: no worker yet.
    let a = PythonEnv::open_source("warm_a.py", sleeper_source("warm_a"), &lazy).unwrap();
    let b = PythonEnv::open_source("warm_b.py", sleeper_source("warm_b"), &lazy).unwrap();
    assert_eq!(sb.stats().live, 0);
    // A worker appears without any call.
    a.warm_up();
    let until = Instant::now() + CALL_TIMEOUT * 4;
    while sb.stats().idle == 0 {
        assert!(Instant::now() < until, "no worker was started");
        std::thread::sleep(CALL_TIMEOUT / 100);
    }
    let t = token(&a);
    assert_eq!(sb.stats().live, 1, "the call used the warmed worker");
    // Warming a resident module does nothing.
    a.warm_up();
    assert_eq!(token(&a), t);
    // A call right after warm_up waits for that worker rather than starting
    // a second one.
    b.warm_up();
    b.warm_up();
    token(&b);
    assert_eq!(sb.stats().live, 2, "{:?}", sb.stats());
}

#[test]
fn warming_up_many_modules_uses_a_few_threads() {
    use resyn_sandbox::LazySandbox;
    let threads = || std::fs::read_dir("/proc/self/task").unwrap().count();
    let sb = Sandbox::new(SandboxConfig {
        max_workers: 40,
        ..config()
    })
    .unwrap();
    let lazy = LazySandbox::from(sb.clone());
    let envs: Vec<PythonEnv> = (0..30)
        .map(|k| {
            let name = format!("many_{k}");
            PythonEnv::open_source(&format!("{name}.py"), sleeper_source(&name), &lazy).unwrap()
        })
        .collect();
    let before = threads();
    for env in &envs {
        env.warm_up();
    }
    let most = threads();
    assert!(most <= before + 2, "{before} threads before, {most} after");
    let until = Instant::now() + CALL_TIMEOUT * 20;
    while sb.stats().idle < envs.len() {
        assert!(Instant::now() < until, "{:?}", sb.stats());
        std::thread::sleep(CALL_TIMEOUT / 100);
    }
    // Every call finds its worker: none is started twice.
    for env in &envs {
        token(env);
    }
    assert_eq!(sb.stats().live, envs.len());
}

/// A module that reports which of `typing`, `re` and `dataclasses` were
/// imported before its own code ran (it then imports `re` itself).
const PRELOAD_PROBE: &str = r#"
import sys
SEEN = [m for m in ("dataclasses", "re", "typing") if m in sys.modules]
import re
NAME = "preload_probe"
CATEGORY = "logic"
DESCRIPTION = "Reports what its worker had imported before it loaded."

def generate(rng, difficulty):
    return {"prompt": "Say ok.", "data": {"seen": SEEN}, "reference": "ok"}

def verify(instance, answer):
    return answer.strip() == "ok"
"#;

#[test]
fn a_lazy_sandbox_preloads_what_its_modules_import() {
    use resyn_sandbox::LazySandbox;
    let seen = |env: &PythonEnv| env.generate(0, 1).unwrap().data["seen"].clone();
    // Started on first use after the module was opened: only what the
    // modules import (`re`, and `sys`, built in) is preloaded.
    let lazy = LazySandbox::new(config());
    let env = PythonEnv::open_source("probe.py", PRELOAD_PROBE.into(), &lazy).unwrap();
    assert_eq!(seen(&env), serde_json::json!(["re"]));
    assert_eq!(
        lazy.started().unwrap().config().preload.as_deref(),
        Some(&["re".to_string(), "sys".to_string()][..])
    );
    // A sandbox started without knowing its modules preloads the whole list.
    let sb = Sandbox::new(config()).unwrap();
    let env = PythonEnv::from_source("probe.py", PRELOAD_PROBE.into(), &sb).unwrap();
    assert_eq!(
        seen(&env),
        serde_json::json!(["dataclasses", "re", "typing"])
    );
    // A module importing what was not preloaded still works.
    let lazy = LazySandbox::new(config());
    let first = PythonEnv::open_source("probe.py", PRELOAD_PROBE.into(), &lazy).unwrap();
    first.generate(0, 1).unwrap();
    let late = PRELOAD_PROBE
        .replace(
            "import re\n",
            "import re\nfrom dataclasses import dataclass\n",
        )
        .replace("preload_probe", "late_probe");
    let env = PythonEnv::open_source("late.py", late, &lazy).unwrap();
    assert_eq!(seen(&env), serde_json::json!(["re"]));
}
