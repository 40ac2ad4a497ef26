//! Each worker writes only in its own private directory: never in the host's
//! shared `/tmp`, never in another worker's directory, under both backends.
//! The direct backend's directories are created and removed by resyn, also
//! after faults and after the host process crashed.

use std::path::{Path, PathBuf};

use resyn_core::{Environment, Instance};
use resyn_sandbox::{
    Backend, Error, Layer, LayerStatus, Limits, PythonEnv, Sandbox, SandboxConfig, SandboxPolicy,
};
use serde_json::{Value, json};

use crate::common::{config, fixture, generate_error};

/// Root directories resyn names `resyn-sandbox-<pid>-<n>`.
const ROOT_PREFIX: &str = "resyn-sandbox-";

fn own_sandbox(backend: Backend, scratch_parent: Option<PathBuf>) -> Sandbox {
    let direct = backend == Backend::Direct;
    let cfg = SandboxConfig {
        backend,
        scratch_parent,
        // The direct backend lacks the mount and pid namespaces.
        policy: if direct {
            SandboxPolicy::allow_weak()
        } else {
            SandboxPolicy::strict()
        },
        // Room for the trespass report on stdout.
        limits: Limits {
            output_chars: 64 << 10,
            ..config().limits
        },
        ..config()
    };
    let sb = Sandbox::new(cfg).unwrap_or_else(|e| panic!("sandbox: {e}"));
    // What the write confinement rests on, observed by the probe.
    let report = sb.enforcement();
    for layer in [Layer::PrivateTmp, Layer::Landlock] {
        assert_eq!(
            report.status(layer),
            LayerStatus::Enforced,
            "{}",
            report.to_text()
        );
    }
    sb
}

fn trespasser(name: &str, sb: &Sandbox) -> PythonEnv {
    let src = std::fs::read_to_string(fixture("hostile/trespass.py")).unwrap();
    PythonEnv::from_source(name, src, sb).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Run `attacker`'s verify against `targets`; returns its report per path and
/// action.
fn attack(attacker: &PythonEnv, targets: &[&Path]) -> Value {
    let inst = attacker.generate(1, 1).unwrap();
    let inst = Instance {
        data: json!({ "targets": targets }),
        ..inst
    };
    let b = attacker.try_verify_batch(&[(&inst, "<answer>go</answer>")]);
    assert!(b.results[0].is_ok(), "{:?}\n{}", b.results[0], b.stderr);
    serde_json::from_str(b.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", b.stdout))
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Files of the host and of worker A that worker B attacks.
struct Victims {
    /// A directory of another program in the host's `/tmp`.
    dir: tempfile::TempDir,
    /// A file directly in `/tmp`.
    top: tempfile::NamedTempFile,
}

impl Victims {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("resyn-victim-")
            .tempdir_in("/tmp")
            .unwrap();
        std::fs::write(dir.path().join("existing.txt"), "original").unwrap();
        let top = tempfile::Builder::new()
            .prefix("resyn-victim-")
            .tempfile_in("/tmp")
            .unwrap();
        std::fs::write(top.path(), "original").unwrap();
        Victims { dir, top }
    }

    fn existing(&self) -> PathBuf {
        self.dir.path().join("existing.txt")
    }

    fn planted(&self) -> PathBuf {
        self.dir.path().join("planted.txt")
    }

    /// A new name directly in `/tmp`.
    fn top_new(&self) -> PathBuf {
        PathBuf::from(format!("{}.planted", self.top.path().display()))
    }

    fn assert_untouched(&self) {
        assert_eq!(read(&self.existing()), "original");
        assert_eq!(read(self.top.path()), "original");
        let names: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            ["existing.txt"],
            "nothing new in the victim directory"
        );
        for p in self.litter() {
            assert!(p.symlink_metadata().is_err(), "{} was created", p.display());
        }
    }

    /// What the attacks would create directly in `/tmp`.
    fn litter(&self) -> Vec<PathBuf> {
        let top = self.top.path().display().to_string();
        [".planted", ".dir", ".link", ".planted.dir", ".planted.link"]
            .iter()
            .map(|suffix| PathBuf::from(format!("{top}{suffix}")))
            .collect()
    }
}

impl Drop for Victims {
    fn drop(&mut self) {
        // In case a write got through: leave no litter in /tmp.
        for p in self.litter() {
            let _ = std::fs::remove_file(&p);
            let _ = std::fs::remove_dir(&p);
        }
    }
}

/// Worker A leaves a file in its private directory; worker B (another module,
/// so another worker) attacks the host's `/tmp` and A's directory; nothing
/// changes on the host nor in A. Returns B's report and A's directory as A
/// sees it.
fn trespass(sb: &Sandbox) -> (Value, PathBuf) {
    let victims = Victims::new();
    let a = trespasser("trespass_a.py", sb);
    let before = a.generate(1, 1).unwrap().data;
    let token = before["token"].as_str().unwrap().to_string();
    assert_eq!(before["mine"], token.as_str());
    let a_dir = PathBuf::from(before["cwd"].as_str().unwrap());
    assert_eq!(before["home"], before["cwd"], "{before}");
    assert_eq!(before["tmpdir"], before["cwd"], "{before}");

    let b = trespasser("trespass_b.py", sb);
    let a_mine = a_dir.join("mine.txt");
    let a_planted = a_dir.join("planted.txt");
    let targets = [
        victims.existing(),
        victims.planted(),
        victims.top.path().to_owned(),
        victims.top_new(),
        a_mine.clone(),
        a_planted.clone(),
    ];
    let report = attack(
        &b,
        &targets.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
    );

    victims.assert_untouched();
    // A is the same worker (same token) and its file is intact.
    let after = a.generate(1, 1).unwrap().data;
    assert_eq!(after["token"], token.as_str(), "worker A was replaced");
    assert_eq!(after["mine"], token.as_str(), "worker A's file was changed");
    if a_dir != Path::new("/tmp") {
        // Direct backend: A's directory is on the host.
        assert_eq!(read(&a_mine), token);
        let names: Vec<_> = std::fs::read_dir(&a_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["mine.txt"], "nothing new in A's directory");
    }
    (report, a_dir)
}

#[test]
fn direct_backend_workers_cannot_write_host_tmp_or_each_other() {
    let sb = own_sandbox(Backend::Direct, None);
    let (report, a_dir) = trespass(&sb);
    // A's directory is a fresh, owner-only directory of resyn's under the
    // host's temporary directory, not /tmp itself.
    let root = a_dir.parent().unwrap();
    let root_name = root.file_name().unwrap().to_str().unwrap();
    assert!(root_name.starts_with(ROOT_PREFIX), "{}", a_dir.display());
    assert_eq!(
        root.parent().unwrap(),
        std::fs::canonicalize(std::env::temp_dir()).unwrap()
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&a_dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "{mode:o}");
    // Every attempt was refused by the kernel (EACCES from Landlock, or
    // ENOENT/EXDEV where the target does not exist or cannot be linked),
    // not merely without effect.
    for (path, actions) in report.as_object().unwrap() {
        for (action, got) in actions.as_object().unwrap() {
            let got = got.as_str().unwrap();
            assert!(got.starts_with("errno"), "{action} {path}: {got}");
        }
        let existing = !path.ends_with("planted.txt") && !path.ends_with(".planted");
        if existing {
            for action in ["overwrite", "append", "truncate", "remove"] {
                assert_eq!(actions[action], "errno 13", "{action} {path}: {actions}");
            }
        } else {
            assert_eq!(actions["create"], "errno 13", "create {path}: {actions}");
        }
    }
}

#[test]
fn bubblewrap_workers_cannot_write_host_tmp_or_each_other() {
    let sb = own_sandbox(Backend::Auto, None);
    assert!(
        sb.enforcement().backend.starts_with("bubblewrap"),
        "{}",
        sb.enforcement().backend
    );
    let (report, a_dir) = trespass(&sb);
    // Each worker's /tmp is its own tmpfs: what B wrote under /tmp stayed in
    // B's (A's file and the host's are unchanged, checked in `trespass`);
    // the host directory of another program does not even exist inside.
    assert_eq!(a_dir, Path::new("/tmp"));
    let victim_dir_file = report
        .as_object()
        .unwrap()
        .iter()
        .find(|(p, _)| p.ends_with("existing.txt"))
        .map(|(_, a)| a.clone())
        .unwrap();
    assert_eq!(victim_dir_file["create"], "errno 2", "{victim_dir_file}");
}

/// Worker directories under `root`.
fn worker_dirs(root: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

/// The one root under `parent`.
fn only_root(parent: &Path) -> PathBuf {
    let roots: Vec<PathBuf> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(roots.len(), 1, "{roots:?}");
    let root = roots.into_iter().next().unwrap();
    let name = root.file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with(ROOT_PREFIX), "{name}");
    root
}

#[test]
fn private_directories_are_removed_when_workers_end() {
    let parent = tempfile::tempdir().unwrap();
    let sb = own_sandbox(Backend::Direct, Some(parent.path().to_owned()));
    let root = only_root(parent.path());
    assert_eq!(
        worker_dirs(&root),
        Vec::<PathBuf>::new(),
        "the probe's is gone"
    );

    let a = trespasser("trespass_a.py", &sb);
    let a_dir = PathBuf::from(a.generate(1, 1).unwrap().data["cwd"].as_str().unwrap());
    assert_eq!(worker_dirs(&root), std::slice::from_ref(&a_dir));

    // A crash, a timeout and a load error: each worker's directory goes with it.
    let crash = sb.load(fixture("hostile/os_exit.py")).unwrap();
    assert!(matches!(generate_error(&crash), Error::Crash { .. }));
    let hang = sb.load(fixture("hostile/loop_generate.py")).unwrap();
    assert!(matches!(generate_error(&hang), Error::Timeout { .. }));
    let broken = PythonEnv::from_source("broken.py", "def (".into(), &sb);
    assert!(matches!(broken, Err(Error::Load { .. })));
    assert_eq!(worker_dirs(&root), std::slice::from_ref(&a_dir));

    // Dropping the sandbox (and its environments) removes everything.
    drop((a, crash, hang, sb));
    assert!(!root.exists(), "{}", root.display());

    // So does a sandbox that refuses to start.
    let refused = Sandbox::new(SandboxConfig {
        backend: Backend::Direct,
        scratch_parent: Some(parent.path().to_owned()),
        policy: SandboxPolicy::strict(),
        ..config()
    });
    assert!(refused.is_err());
    assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 0);
}

/// Set in the child process of
/// `a_crashed_host_leaves_a_root_the_next_sandbox_removes`: the directory in
/// which the child makes its sandbox before it is killed.
const CRASH_PARENT_VAR: &str = "RESYN_TEST_CRASH_SCRATCH_PARENT";

#[test]
fn a_crashed_host_leaves_a_root_the_next_sandbox_removes() {
    if let Some(parent) = std::env::var_os(CRASH_PARENT_VAR) {
        // The child: a host process with a live worker, killed by the parent.
        let sb = own_sandbox(Backend::Direct, Some(parent.into()));
        let env = sb.load(fixture("good/add.py")).unwrap();
        env.generate(1, 1).unwrap();
        println!("RESYN-READY");
        std::thread::sleep(std::time::Duration::from_secs(60));
        panic!("the parent should have killed this process");
    }
    use std::io::BufRead;
    let parent = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "private_tmp::a_crashed_host_leaves_a_root_the_next_sandbox_removes",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CRASH_PARENT_VAR, parent.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    struct Reap(std::process::Child);
    impl Drop for Reap {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = child.stdout.take().unwrap();
    let mut child = Reap(child);
    let ready = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        // libtest prints `test NAME ... ` before the test's own output.
        .any(|l| l.ends_with("RESYN-READY"));
    assert!(ready, "the child did not get ready");
    child.0.kill().unwrap();
    child.0.wait().unwrap();

    // The crash left its root and its worker's directory behind...
    let stale = only_root(parent.path());
    assert_eq!(worker_dirs(&stale).len(), 1, "{}", stale.display());
    // ...which the next sandbox with the same parent removes.
    let sb = own_sandbox(Backend::Direct, Some(parent.path().to_owned()));
    assert!(!stale.exists(), "{}", stale.display());
    let fresh = only_root(parent.path());
    drop(sb);
    assert!(!fresh.exists());
}
