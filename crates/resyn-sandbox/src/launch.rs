//! Building the zygote's command line for the chosen backend.
//!
//! Bubblewrap: every namespace (`--unshare-all`: user, pid, net, ipc, uts,
//! cgroup), `--die-with-parent`, `--new-session`, `--clearenv` plus a fixed
//! allow-list of variables, `--cap-drop ALL`, and a filesystem of only:
//! `/usr` read-only (with `/usr/local` hidden), the host's `/lib*`, `/bin`,
//! `/sbin` (symlinks or read-only binds, as on the host), the interpreter's
//! prefixes read-only, fresh `/proc` and `/dev`, a size-capped private tmpfs
//! at `/tmp` (the working directory), and `/` itself remounted read-only. The
//! user's home, `/etc`, `/work`, the environment file: none are visible (the
//! module source travels over the protocol pipe).
//!
//! Direct (no bwrap): the interpreter itself, with namespaces, rlimits and
//! seccomp applied in the child by [`crate::sys::configure_child`].
//!
//! The sandboxed interpreter is a zygote ([`crate::zygote`]): its fd 3 is the
//! control socket, and the workers it forks each get a private writable
//! directory — with bubblewrap a tmpfs of their own mounted at `/tmp`, without
//! it a host directory resyn creates for them ([`crate::scratch`]) — which is
//! their working directory, `HOME` and `TMPDIR`, and the only place Landlock
//! lets them write.

use std::ffi::OsString;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::config::Limits;
use crate::python::PythonInfo;
use crate::scratch::{ScratchDir, ScratchRoot};
use crate::seccomp::{self, Insn};
use crate::sys::{self, ChildSetup, DirectNs, Rlimit};

/// The harness, shipped inside the binary.
pub(crate) const HARNESS: &str = include_str!("harness.py");

/// Resolved backend.
#[derive(Debug, Clone)]
pub(crate) enum Isolation {
    Bubblewrap(PathBuf),
    Direct,
}

/// Everything needed to start zygotes and workers.
pub(crate) struct Launcher {
    pub isolation: Isolation,
    pub python: PythonInfo,
    pub limits: Limits,
    filter: Vec<Insn>,
    /// Direct backend: where workers' private directories are made.
    scratch: Option<ScratchRoot>,
}

/// A command ready to spawn plus the descriptors that must stay open until
/// it has been spawned.
pub(crate) struct Prepared {
    pub command: Command,
    pub keep: Vec<OwnedFd>,
}

/// The zygote's environment (each worker adds `HOME` and `TMPDIR`, its own
/// directory).
const ENV: &[(&str, &str)] = &[
    ("LANG", "C.UTF-8"),
    ("PYTHONDONTWRITEBYTECODE", "1"),
    ("PYTHONHASHSEED", "0"),
    ("PYTHONUTF8", "1"),
];

/// A worker's private directory inside bubblewrap: its own tmpfs.
pub(crate) const BWRAP_SCRATCH: &str = "/tmp";

impl Launcher {
    /// A launcher; for the direct backend this creates the sandbox's root of
    /// private worker directories under `scratch_parent` (removing stale
    /// roots of dead processes there).
    pub(crate) fn new(
        isolation: Isolation,
        python: PythonInfo,
        limits: Limits,
        scratch_parent: &Path,
    ) -> std::io::Result<Self> {
        let scratch = match isolation {
            Isolation::Direct => Some(ScratchRoot::create(scratch_parent)?),
            Isolation::Bubblewrap(_) => None,
        };
        let private_tmp = matches!(isolation, Isolation::Bubblewrap(_));
        Ok(Self {
            isolation,
            python,
            limits,
            filter: seccomp::zygote_filter(private_tmp),
            scratch,
        })
    }

    /// Direct backend: the directory holding the workers' directories.
    pub(crate) fn scratch_root(&self) -> Option<&Path> {
        self.scratch.as_ref().map(ScratchRoot::path)
    }

    /// Where a worker may write, in words (for the enforcement report).
    pub(crate) fn describe_scratch(&self) -> String {
        match &self.scratch {
            Some(root) => format!(
                "a private directory per worker under {} (mode 0700, removed when the worker ends)",
                root.path().display()
            ),
            None => format!(
                "a private tmpfs per worker at {BWRAP_SCRATCH} ({} MiB, gone when the worker ends)",
                self.limits.tmp_bytes >> 20
            ),
        }
    }

    /// A new worker's private directory: `(as the worker sees it, the host
    /// directory to remove once the worker is dead)`. With bubblewrap the
    /// worker mounts its own tmpfs there.
    pub(crate) fn worker_scratch(&self) -> std::io::Result<(PathBuf, Option<ScratchDir>)> {
        match &self.scratch {
            Some(root) => {
                let dir = root.worker_dir()?;
                Ok((dir.path().to_owned(), Some(dir)))
            }
            None => Ok((PathBuf::from(BWRAP_SCRATCH), None)),
        }
    }

    /// What every worker applies to itself after the fork (the `child`
    /// part of the zygote's init request): a private tmpfs (bubblewrap),
    /// Landlock (with reads confined to the system paths without
    /// bubblewrap, whose workers would otherwise see the host), the
    /// module filter.
    pub(crate) fn worker_spec(&self) -> serde_json::Value {
        let bwrap = matches!(self.isolation, Isolation::Bubblewrap(_));
        serde_json::json!({
            "tmp_bytes": if bwrap { Some(self.limits.tmp_bytes) } else { None },
            "landlock": true,
            "reads": if bwrap { None } else { Some(self.read_paths()) },
            "module_filter": seccomp::to_hex(&seccomp::module_filter()),
        })
    }

    /// Direct backend: what a worker may read besides its own directory —
    /// the system's libraries and the interpreter.
    fn read_paths(&self) -> Vec<String> {
        let mut v: Vec<PathBuf> = [
            "/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/dev", "/proc",
        ]
        .into_iter()
        .map(PathBuf::from)
        .collect();
        v.extend(self.python.prefixes.iter().cloned());
        v.push(self.python.executable.clone());
        v.into_iter()
            .filter(|p| p.exists())
            .filter_map(|p| p.to_str().map(str::to_string))
            .collect()
    }

    /// The zygote's own filter (no exec), for its init request.
    pub(crate) fn exec_filter_hex(&self) -> String {
        seccomp::to_hex(&seccomp::exec_filter())
    }

    pub(crate) fn describe(&self) -> String {
        match &self.isolation {
            Isolation::Bubblewrap(p) => format!("bubblewrap ({})", p.display()),
            Isolation::Direct => "direct (no bubblewrap)".into(),
        }
    }

    fn rlimits(&self) -> Vec<(Rlimit, u64)> {
        let l = &self.limits;
        let mut v = vec![
            (Rlimit::Core, 0),
            (Rlimit::Fsize, l.file_size_bytes),
            (Rlimit::Cpu, l.cpu_seconds),
            (Rlimit::As, l.memory_bytes),
        ];
        if let Some(n) = l.processes {
            v.push((Rlimit::Nproc, n));
        }
        // Last: the bwrap helper needs a few descriptors while it sets up.
        v.push((Rlimit::Nofile, l.open_files));
        v
    }

    fn python_args(&self) -> [OsString; 4] {
        ["-S".into(), "-B".into(), "-c".into(), HARNESS.into()]
    }

    /// Prepare a zygote command whose fd 3 is `control`.
    pub(crate) fn prepare(&self, control: &OwnedFd, stderr: OwnedFd) -> std::io::Result<Prepared> {
        let mut fd_map = vec![(control.as_raw_fd(), 3)];
        let mut keep = Vec::new();
        let (mut command, direct, filter) = match &self.isolation {
            Isolation::Bubblewrap(bwrap) => {
                let (r, mut w) = std::io::pipe()?;
                w.write_all(&seccomp::to_bytes(&self.filter))?;
                drop(w);
                let r: OwnedFd = r.into();
                fd_map.push((r.as_raw_fd(), 4));
                keep.push(r);
                let mut c = Command::new(bwrap);
                c.args(self.bwrap_args(4));
                c.arg("--")
                    .arg(&self.python.executable)
                    .args(self.python_args());
                (c, None, None)
            }
            Isolation::Direct => {
                let mut c = Command::new(&self.python.executable);
                c.args(self.python_args());
                // The zygote writes nothing; each worker gets its own directory.
                c.current_dir("/");
                let (uid, gid) = sys::ids();
                let direct = DirectNs {
                    uid_map: format!("65534 {uid} 1").into_bytes(),
                    gid_map: format!("65534 {gid} 1").into_bytes(),
                };
                (
                    c,
                    Some(direct),
                    Some(seccomp::to_sock_filters(&self.filter)),
                )
            }
        };
        command
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(stderr));
        if let Isolation::Direct = self.isolation {
            command.envs(ENV.iter().copied());
        }
        sys::configure_child(
            &mut command,
            ChildSetup {
                fd_map,
                rlimits: self.rlimits(),
                direct,
                seccomp: filter,
            },
        );
        Ok(Prepared { command, keep })
    }

    fn bwrap_args(&self, seccomp_fd: i32) -> Vec<OsString> {
        let mut a: Vec<OsString> = Vec::new();
        let mut push = |items: &[&dyn AsRefOs]| {
            for i in items {
                a.push(i.os());
            }
        };
        push(&[
            &"--unshare-all",
            &"--die-with-parent",
            &"--new-session",
            &"--clearenv",
            &"--cap-drop",
            &"ALL",
            &"--hostname",
            &"sandbox",
            &"--uid",
            &"65534",
            &"--gid",
            &"65534",
        ]);
        for (k, v) in ENV {
            push(&[&"--setenv", k, v]);
        }
        push(&[&"--ro-bind", &"/usr", &"/usr"]);
        let usr_local = Path::new("/usr/local").is_dir();
        if usr_local {
            push(&[&"--tmpfs", &"/usr/local"]);
        }
        for top in ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] {
            let p = Path::new(top);
            match std::fs::read_link(p) {
                Ok(target) => push(&[&"--symlink", &target, &top]),
                Err(_) if p.is_dir() => push(&[&"--ro-bind", &top, &top]),
                Err(_) => {}
            }
        }
        let mut bound: Vec<PathBuf> = vec!["/usr".into()];
        for prefix in &self.python.prefixes {
            if prefix.starts_with("/usr") && !prefix.starts_with("/usr/local") {
                continue;
            }
            push(&[&"--ro-bind", prefix, prefix]);
            bound.push(prefix.clone());
        }
        let exe = &self.python.executable;
        let under_usr = exe.starts_with("/usr") && !exe.starts_with("/usr/local");
        if !under_usr && !bound.iter().any(|b| exe.starts_with(b)) {
            push(&[&"--ro-bind", exe, exe]);
        }
        if usr_local {
            push(&[&"--remount-ro", &"/usr/local"]);
        }
        let size = self.limits.tmp_bytes.to_string();
        let fd = seccomp_fd.to_string();
        push(&[
            &"--proc",
            &"/proc",
            &"--dev",
            &"/dev",
            &"--size",
            &size,
            &"--tmpfs",
            &BWRAP_SCRATCH,
            &"--remount-ro",
            &"/dev",
            &"--remount-ro",
            &"/",
            &"--chdir",
            &BWRAP_SCRATCH,
            &"--seccomp",
            &fd,
        ]);
        a
    }
}

/// Anything usable as one argument.
trait AsRefOs {
    fn os(&self) -> OsString;
}
impl AsRefOs for &str {
    fn os(&self) -> OsString {
        (*self).into()
    }
}
impl AsRefOs for String {
    fn os(&self) -> OsString {
        self.into()
    }
}
impl AsRefOs for PathBuf {
    fn os(&self) -> OsString {
        self.clone().into_os_string()
    }
}

/// Find `bwrap` on `PATH`.
pub(crate) fn find_bwrap() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("bwrap"))
        .find(|p| {
            use std::os::unix::fs::PermissionsExt;
            p.metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}
