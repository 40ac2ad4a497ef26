//! `kill -9` in the middle of a run that checkpoints every step; the run
//! resumes from its last checkpoint with the same instance stream.
//!
//! The child is this test binary itself, running the ignored test
//! `kill::child_training_loop` with `RESYN_CURRICULUM_CHILD_DIR` set.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use resyn_curriculum::Generator;

use crate::common::{self, BATCH, step};

const CHILD_DIR: &str = "RESYN_CURRICULUM_CHILD_DIR";
const CHILD_LOG: &str = "RESYN_CURRICULUM_CHILD_LOG";
const SEED: u64 = 21;

/// A training loop that never ends by itself: resume from `state.json` if
/// it exists, then per step append `step<TAB>record` to the log file and
/// checkpoint. The step number is the stream position over `BATCH`
/// (native environments never fail to generate).
fn train_forever(dir: &Path, log: &str) {
    let state = dir.join("state.json");
    let mut g = if state.exists() {
        Generator::load(common::registry(), &state).unwrap()
    } else {
        common::generator(SEED)
    };
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(log))
        .unwrap();
    loop {
        let n = g.position() / BATCH as u64;
        let record = step(&mut g);
        writeln!(log, "{n}\t{record}").unwrap();
        log.flush().unwrap();
        g.save(&state).unwrap();
    }
}

#[test]
#[ignore = "the child process of kill_9_mid_run_resumes_the_same_stream"]
fn child_training_loop() {
    if let (Some(dir), Ok(log)) = (std::env::var_os(CHILD_DIR), std::env::var(CHILD_LOG)) {
        train_forever(Path::new(&dir), &log);
    }
}

fn spawn(dir: &Path, log: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "kill::child_training_loop",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir)
        .env(CHILD_LOG, log)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The step a checkpoint was taken after (its position over `BATCH`).
fn checkpoint_step(dir: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join("state.json")).ok()?;
    let g = Generator::from_state_json(common::registry(), &text).ok()?;
    Some(g.position() / BATCH as u64)
}

/// Wait (bounded) until the child has checkpointed step `at_least`, then
/// kill it with SIGKILL, wherever it is.
fn kill_after(child: &mut Child, dir: &Path, at_least: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while checkpoint_step(dir).is_none_or(|s| s < at_least) {
        assert!(Instant::now() < deadline, "the child made no progress");
        assert!(child.try_wait().unwrap().is_none(), "the child exited");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The complete `step<TAB>record` lines of a log (a killed writer may
/// have left the last one cut off).
fn logged(dir: &Path, log: &str) -> Vec<(u64, String)> {
    let text = std::fs::read_to_string(dir.join(log)).unwrap();
    let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
    complete
        .lines()
        .map(|l| {
            let (n, rest) = l.split_once('\t').unwrap();
            (n.parse().unwrap(), rest.to_string())
        })
        .collect()
}

#[test]
fn kill_9_mid_run_resumes_the_same_stream() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut first = spawn(dir, "first.log");
    kill_after(&mut first, dir, 8);

    // Whatever the kill interrupted, the checkpoint is whole.
    let at = checkpoint_step(dir).expect("a readable checkpoint after kill -9");
    assert!(at >= 8);

    // The uninterrupted run, for reference.
    let mut reference = common::generator(SEED);
    let expected: Vec<String> = (0..at + 12).map(|_| step(&mut reference)).collect();

    // Before the kill the child followed the reference (it may have logged
    // a step past its last checkpoint; that step is redone on resume).
    let first_log = logged(dir, "first.log");
    assert!(first_log.len() as u64 >= at);
    for (i, (n, record)) in first_log.iter().enumerate() {
        assert_eq!(*n, i as u64);
        assert_eq!(*record, expected[i], "first run, step {i}");
    }

    // A new process resumes from the checkpoint: the same stream.
    let mut second = spawn(dir, "second.log");
    kill_after(&mut second, dir, at + 12);
    let second_log = logged(dir, "second.log");
    assert_eq!(
        second_log[0].0, at,
        "the resumed run starts at its checkpoint"
    );
    for (n, record) in second_log.iter().take(12) {
        assert_eq!(*record, expected[*n as usize], "resumed run, step {n}");
    }
}
