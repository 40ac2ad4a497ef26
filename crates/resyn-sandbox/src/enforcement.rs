//! The enforcement report: which isolation layers actually hold.
//!
//! Statuses are not inferred from configuration: a probe worker, forked by a
//! zygote with exactly the settings real workers get, observes its own
//! sandbox from the inside (its uid map, its `/proc`, its network devices,
//! whether `fork` and `socket` fail, whether it can signal its zygote or
//! touch another worker's files, ...), and [`Enforcement`] is computed from
//! those facts.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{Limits, SandboxPolicy};
use crate::sandbox::ProcessModel;

/// One isolation layer, in the order the layers are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Layer {
    /// Empty environment but for a fixed allow-list (`PYTHONHASHSEED`, ...).
    EnvScrub,
    /// No inherited file descriptors besides stdio and the protocol pipes.
    Fds,
    /// `RLIMIT_AS`, `RLIMIT_CPU`, `RLIMIT_FSIZE`, `RLIMIT_NOFILE`, `RLIMIT_CORE=0`.
    Rlimits,
    /// A user namespace (no host capabilities, host ids unmapped).
    UserNs,
    /// A pid namespace: no other process is visible or signalable.
    PidNs,
    /// A mount namespace with a minimal read-only view and a private tmpfs.
    MountNs,
    /// A private writable directory per worker, the only place it may write:
    /// bubblewrap's tmpfs at `/tmp`, or (direct backend) a directory resyn
    /// creates on the host and Landlock confines writes to. It is the
    /// worker's working directory, `HOME` and `TMPDIR`. Observed by trying to
    /// create a file in the host's shared temporary directories (and, direct
    /// backend, next to the other workers' directories) and looking on the
    /// host whether it arrived.
    PrivateTmp,
    /// A fresh network namespace with no interface but loopback.
    NetNs,
    /// `PR_SET_NO_NEW_PRIVS`.
    NoNewPrivs,
    /// Landlock (optional; applied by the harness before environment code
    /// loads): writes only in the worker's private directory, no TCP
    /// bind/connect, signals and abstract unix sockets scoped to the sandbox.
    Landlock,
    /// A seccomp filter denying process creation, sockets, ptrace, mount,
    /// namespaces, bpf, perf, keyrings, io_uring and the like.
    Seccomp,
    /// Modules cannot reach one another: each runs in its own process
    /// forked from a zygote that never runs environment code, and cannot
    /// signal the zygote or other workers, read their memory, or see or
    /// write their files. With a shared zygote this rests on each worker's
    /// private `/tmp` (or Landlock-confined directory), Landlock signal
    /// scoping and `PR_SET_DUMPABLE=0`, all observed by the probe; when any
    /// is missing, every worker gets a zygote (a sandbox) of its own.
    ModuleIsolation,
}

impl Layer {
    /// Every layer, in application order.
    pub const ALL: [Layer; 12] = [
        Self::EnvScrub,
        Self::Fds,
        Self::Rlimits,
        Self::UserNs,
        Self::PidNs,
        Self::MountNs,
        Self::PrivateTmp,
        Self::NetNs,
        Self::NoNewPrivs,
        Self::Landlock,
        Self::Seccomp,
        Self::ModuleIsolation,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EnvScrub => "env_scrub",
            Self::Fds => "fds",
            Self::Rlimits => "rlimits",
            Self::UserNs => "user_ns",
            Self::PidNs => "pid_ns",
            Self::MountNs => "mount_ns",
            Self::PrivateTmp => "private_tmp",
            Self::NetNs => "net_ns",
            Self::NoNewPrivs => "no_new_privs",
            Self::Landlock => "landlock",
            Self::Seccomp => "seccomp",
            Self::ModuleIsolation => "module_isolation",
        }
    }

    /// Optional layers are never required by [`SandboxPolicy::strict`].
    pub fn is_optional(self) -> bool {
        matches!(self, Self::Landlock)
    }
}

impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How far a layer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerStatus {
    /// Fully in force, observed from inside the sandbox.
    Enforced,
    /// Partly in force (the detail says what is missing).
    Partial,
    /// Not in force.
    Unavailable,
}

impl std::fmt::Display for LayerStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Enforced => "enforced",
            Self::Partial => "partial",
            Self::Unavailable => "unavailable",
        })
    }
}

/// One layer's line in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerReport {
    /// The layer.
    pub layer: Layer,
    /// Its status.
    pub status: LayerStatus,
    /// Whether the policy requires it.
    pub required: bool,
    /// What was observed.
    pub detail: String,
}

/// What a [`crate::Sandbox`] enforces; printed by `resyn sandbox doctor --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enforcement {
    /// `bubblewrap <path>` or `direct`.
    pub backend: String,
    /// The Python interpreter and its version.
    pub python: String,
    /// Each layer, in application order.
    pub layers: Vec<LayerReport>,
}

impl Enforcement {
    /// The status of `layer`.
    pub fn status(&self, layer: Layer) -> LayerStatus {
        self.layers
            .iter()
            .find(|r| r.layer == layer)
            .map_or(LayerStatus::Unavailable, |r| r.status)
    }

    /// Required layers that are not [`LayerStatus::Enforced`].
    pub fn missing_required(&self) -> Vec<Layer> {
        self.layers
            .iter()
            .filter(|r| r.required && r.status != LayerStatus::Enforced)
            .map(|r| r.layer)
            .collect()
    }

    /// A human-readable table.
    pub fn to_text(&self) -> String {
        let mut s = format!("backend: {}\npython:  {}\n", self.backend, self.python);
        for r in &self.layers {
            s.push_str(&format!(
                "{:<16} {:<12} {:<9} {}\n",
                r.layer.as_str(),
                r.status.to_string(),
                if r.required { "required" } else { "" },
                r.detail
            ));
        }
        s
    }
}

/// Environment variables a worker may see.
pub(crate) const ALLOWED_ENV: &[&str] = &[
    "HOME",
    "LANG",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONHASHSEED",
    "PYTHONUTF8",
    "PWD",
    "TMPDIR",
];

/// Compute the report from the probe worker's facts.
pub(crate) fn evaluate(
    facts: &Value,
    model: &ProcessModel,
    limits: &Limits,
    policy: &SandboxPolicy,
    backend: String,
    python: String,
) -> Enforcement {
    let layers = Layer::ALL
        .into_iter()
        .map(|layer| {
            let (status, detail) = judge(layer, facts, limits, model);
            LayerReport {
                layer,
                status,
                required: policy.requires(layer),
                detail,
            }
        })
        .collect();
    Enforcement {
        backend,
        python,
        layers,
    }
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn judge(layer: Layer, f: &Value, limits: &Limits, model: &ProcessModel) -> (LayerStatus, String) {
    use LayerStatus::*;
    let status_field = |k: &str| f["status"][k].as_str().unwrap_or("").to_string();
    match layer {
        Layer::EnvScrub => {
            let extra: Vec<String> = strs(&f["env"])
                .into_iter()
                .filter(|k| !ALLOWED_ENV.contains(&k.as_str()))
                .collect();
            if extra.is_empty() {
                (Enforced, format!("only {}", ALLOWED_ENV.join(", ")))
            } else {
                (
                    Partial,
                    format!("extra variables visible: {}", extra.join(", ")),
                )
            }
        }
        Layer::Fds => {
            let fds: Vec<i64> = f["fds"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default();
            // The probe lists /proc/self/fd through one more descriptor.
            let extra: Vec<i64> = fds.into_iter().filter(|&fd| fd > 5).collect();
            if extra.is_empty() {
                (
                    Enforced,
                    "only stdin/stdout/stderr (/dev/null) and the protocol pipes (3, 4)".into(),
                )
            } else {
                (Partial, format!("unexpected descriptors open: {extra:?}"))
            }
        }
        Layer::Rlimits => judge_rlimits(f, limits),
        Layer::ModuleIsolation => judge_module_isolation(f, model),
        Layer::UserNs => {
            let map = f["uid_map"].as_str().unwrap_or("");
            let init = map.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"];
            if map.starts_with('!') || map.is_empty() {
                (Unavailable, format!("cannot read uid_map ({map})"))
            } else if init {
                (Unavailable, "runs in the host user namespace".into())
            } else {
                (
                    Enforced,
                    format!(
                        "uid_map `{}`",
                        map.split_whitespace().collect::<Vec<_>>().join(" ")
                    ),
                )
            }
        }
        Layer::PidNs => {
            let pid = f["pid"].as_i64().unwrap_or(-1);
            let procs = f["procs"].as_i64().unwrap_or(-1);
            if (1..=3).contains(&pid) && (1..=3).contains(&procs) {
                (Enforced, format!("pid {pid}, {procs} processes visible"))
            } else {
                (
                    Unavailable,
                    format!("pid {pid}, {procs} processes visible in /proc"),
                )
            }
        }
        Layer::MountNs => {
            let visible = strs(&f["visible"]);
            let root_rw = f["root_writable"].as_bool().unwrap_or(true);
            let tmp_rw = f["scratch"]["writable"].as_bool().unwrap_or(false);
            if visible.is_empty() && !root_rw && tmp_rw {
                (Enforced, "read-only minimal view (system libraries, the Python prefix), private writable /tmp".into())
            } else if !root_rw && tmp_rw {
                (
                    Partial,
                    format!("host paths visible: {}", visible.join(", ")),
                )
            } else {
                (
                    Unavailable,
                    format!(
                        "root writable: {root_rw}; host paths visible: {}",
                        if visible.is_empty() {
                            "none".into()
                        } else {
                            visible.join(", ")
                        }
                    ),
                )
            }
        }
        Layer::PrivateTmp => judge_private_tmp(f),
        Layer::NetNs => {
            let devs = strs(&f["net_dev"]);
            if devs.iter().all(|d| d == "lo") {
                (Enforced, "no network interface but loopback".into())
            } else {
                (
                    Unavailable,
                    format!("network interfaces visible: {}", devs.join(", ")),
                )
            }
        }
        Layer::NoNewPrivs => {
            if status_field("NoNewPrivs") == "1" {
                (Enforced, "PR_SET_NO_NEW_PRIVS set".into())
            } else {
                (Unavailable, "NoNewPrivs is not set".into())
            }
        }
        Layer::Landlock => {
            let st = f["landlock"].as_str().unwrap_or("not reported").to_string();
            let abi = st
                .strip_prefix("enforced: ABI ")
                .and_then(|r| r.split(',').next())
                .and_then(|n| n.trim().parse::<u32>().ok());
            match abi {
                Some(a) if a >= 4 => (Enforced, st),
                Some(_) => (Partial, format!("{st} (kernel too old for network rules)")),
                None => (Unavailable, st),
            }
        }
        Layer::Seccomp => {
            let mode = status_field("Seccomp");
            let fork = f["fork"].as_str().unwrap_or("?").to_string();
            let sock = f["socket_inet"].as_str().unwrap_or("?").to_string();
            let unix = f["socket_unix"].as_str().unwrap_or("?").to_string();
            let denied = |s: &str| s.starts_with("errno");
            // execve of a missing file: EPERM (1) when the second-stage filter
            // holds, ENOENT (2) when exec is allowed.
            let exec = match f["exec"].as_str() {
                Some("errno 1") => "execve denied".to_string(),
                _ => format!(
                    "execve allowed (second-stage filter: {})",
                    f["exec_filter"].as_str().unwrap_or("?")
                ),
            };
            if mode == "2" && denied(&fork) && denied(&sock) && denied(&unix) {
                (
                    Enforced,
                    format!(
                        "filter mode 2; fork, clone without CLONE_THREAD, socket denied; {exec}"
                    ),
                )
            } else if mode == "2" {
                (
                    Partial,
                    format!(
                        "filter installed but fork: {fork}, socket(AF_INET): {sock}, socket(AF_UNIX): {unix}"
                    ),
                )
            } else {
                (Unavailable, format!("no filter (Seccomp: {mode:?})"))
            }
        }
    }
}

/// Why workers may not share a zygote on this host, from the probe's facts
/// (`None`: they may).
pub(crate) fn shared_zygote_blocker(f: &Value) -> Option<String> {
    let layers = &f["layers"];
    let failed: Vec<String> = layers
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, st)| {
            let st = st.as_str().unwrap_or("");
            ![
                "enforced",
                "installed",
                "private",
                "dropped",
                "not dumpable",
            ]
            .iter()
            .any(|ok| st.starts_with(ok))
        })
        .map(|(k, st)| format!("{k}: {}", st.as_str().unwrap_or("?")))
        .collect();
    if !failed.is_empty() {
        return Some(format!(
            "worker layers not in force ({})",
            failed.join("; ")
        ));
    }
    let landlock = layers["landlock"].as_str().unwrap_or("");
    if !landlock.contains("signals and abstract sockets scoped") {
        return Some("Landlock cannot scope signals here (ABI 6 needed)".into());
    }
    if f["signal_zygote"] != "errno 1" {
        return Some(format!(
            "a worker can signal its zygote ({})",
            f["signal_zygote"]
        ));
    }
    if !f["zygote_mem"]
        .as_str()
        .is_some_and(|s| s.starts_with("errno"))
    {
        return Some("a worker can read its zygote's memory".into());
    }
    if f["dumpable"] != 0 {
        return Some(format!("workers stay dumpable ({})", f["dumpable"]));
    }
    for (path, got) in f["siblings"].as_object().into_iter().flatten() {
        let denied = |k: &str| got[k].as_str().is_some_and(|s| s.starts_with("errno"));
        if got["visible"] == true && !(denied("read") && denied("write")) {
            return Some(format!("a worker can reach another's file {path} ({got})"));
        }
    }
    if f["neighbour_intact"] == false {
        return Some("a worker changed another worker's directory".into());
    }
    None
}

fn judge_module_isolation(f: &Value, model: &ProcessModel) -> (LayerStatus, String) {
    match model {
        ProcessModel::SharedZygote => {
            let files = if f["siblings"]
                .as_object()
                .is_some_and(|s| s.values().all(|g| g["visible"] == false))
            {
                "a private tmpfs at /tmp each"
            } else {
                "reads and writes confined to its own directory by Landlock"
            };
            (
                LayerStatus::Enforced,
                format!(
                    "shared zygote: every worker forked from one pristine interpreter; a worker \
                     cannot signal the zygote or other workers (Landlock scope), read their memory \
                     (not dumpable) or reach their files ({files})"
                ),
            )
        }
        ProcessModel::ZygotePerWorker { reason } => (
            LayerStatus::Enforced,
            format!("one zygote (a whole sandbox) per worker: {reason}"),
        ),
    }
}

fn judge_private_tmp(f: &Value) -> (LayerStatus, String) {
    let s = &f["scratch"];
    let dir = s["path"].as_str().unwrap_or("?");
    let pointed: Vec<&str> = ["cwd", "HOME", "TMPDIR"]
        .into_iter()
        .filter(|k| s[*k].as_str() != Some(dir))
        .collect();
    let desc = f["scratch_desc"].as_str().unwrap_or("a private directory");
    let leaked = strs(&f["shared_leaked"]);
    let checked = strs(&f["shared_dirs"]);
    if s["writable"].as_bool() != Some(true) {
        (
            LayerStatus::Unavailable,
            format!("the worker cannot write its private directory {dir}"),
        )
    } else if !leaked.is_empty() {
        (
            LayerStatus::Partial,
            format!(
                "{desc}, but a worker's writes reach the host in {} (no Landlock to confine them)",
                leaked.join(", ")
            ),
        )
    } else if !pointed.is_empty() {
        (
            LayerStatus::Partial,
            format!(
                "{desc}, but {} point{} elsewhere",
                pointed.join(", "),
                if pointed.len() == 1 { "s" } else { "" }
            ),
        )
    } else {
        (
            LayerStatus::Enforced,
            format!(
                "{desc}; its cwd, HOME and TMPDIR; no write reached {}",
                checked.join(", ")
            ),
        )
    }
}

fn judge_rlimits(f: &Value, limits: &Limits) -> (LayerStatus, String) {
    let want: [(&str, u64); 5] = [
        ("AS", limits.memory_bytes),
        ("CPU", limits.cpu_seconds),
        ("FSIZE", limits.file_size_bytes),
        ("NOFILE", limits.open_files),
        ("CORE", 0),
    ];
    let mut ok = BTreeSet::new();
    let mut bad = Vec::new();
    for (name, value) in want {
        let got = &f["rlimits"][name];
        let pair = (got[0].as_i64(), got[1].as_i64());
        if pair == (Some(value as i64), Some(value as i64)) {
            ok.insert(name);
        } else {
            bad.push(format!("{name} is {got}, want {value}"));
        }
    }
    let nproc = match limits.processes {
        Some(n) => format!("; NPROC={n} (not enforced for root)"),
        None => "; NPROC unset (process creation is denied by seccomp)".into(),
    };
    let summary = format!(
        "AS={}MiB CPU={}s FSIZE={}MiB NOFILE={} CORE=0 (soft=hard){nproc}",
        limits.memory_bytes >> 20,
        limits.cpu_seconds,
        limits.file_size_bytes >> 20,
        limits.open_files
    );
    if bad.is_empty() {
        (LayerStatus::Enforced, summary)
    } else if !ok.is_empty() {
        (LayerStatus::Partial, bad.join("; "))
    } else {
        (LayerStatus::Unavailable, bad.join("; "))
    }
}

/// How to fix a host that lacks required layers.
pub(crate) fn hint(missing: &[Layer], bwrap: bool) -> String {
    let mut s = String::new();
    if !bwrap {
        s.push_str(
            "bubblewrap was not found: install it (Debian/Ubuntu: `apt-get install bubblewrap`, \
             Fedora: `dnf install bubblewrap`). ",
        );
    }
    if missing.iter().any(|l| {
        matches!(
            l,
            Layer::NetNs | Layer::UserNs | Layer::PidNs | Layer::MountNs
        )
    }) {
        s.push_str(
            "Namespaces need unprivileged user namespaces: check `sysctl user.max_user_namespaces` \
             (> 0), `kernel.unprivileged_userns_clone=1` and, in containers, a seccomp/AppArmor \
             profile that allows unshare. ",
        );
    }
    s.push_str(
        "To run anyway with weaker isolation, opt out explicitly: `--allow-weak-sandbox` \
         (SandboxPolicy::allow_weak()).",
    );
    s
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn facts(writable: bool, cwd: &str, leaked: &[&str]) -> Value {
        json!({
            "scratch": {"path": "/s/w0", "cwd": cwd, "HOME": "/s/w0", "TMPDIR": "/s/w0",
                        "writable": writable},
            "scratch_desc": "a private directory per worker under /s",
            "shared_dirs": ["/tmp", "/s"],
            "shared_leaked": leaked,
        })
    }

    #[test]
    fn private_tmp_is_enforced_only_when_nothing_leaks() {
        let (st, detail) = judge_private_tmp(&facts(true, "/s/w0", &[]));
        assert_eq!(st, LayerStatus::Enforced, "{detail}");
        assert!(detail.contains("no write reached /tmp, /s"), "{detail}");

        // Without Landlock the probe's file arrives in the host's /tmp.
        let (st, detail) = judge_private_tmp(&facts(true, "/s/w0", &["/tmp"]));
        assert_eq!(st, LayerStatus::Partial, "{detail}");
        assert!(detail.contains("reach the host in /tmp"), "{detail}");

        let (st, detail) = judge_private_tmp(&facts(true, "/elsewhere", &[]));
        assert_eq!(st, LayerStatus::Partial, "{detail}");
        assert!(detail.contains("but cwd points elsewhere"), "{detail}");

        let (st, _) = judge_private_tmp(&facts(false, "/s/w0", &[]));
        assert_eq!(st, LayerStatus::Unavailable);
        let (st, _) = judge_private_tmp(&json!({}));
        assert_eq!(st, LayerStatus::Unavailable);
    }

    /// The text of `resyn sandbox doctor`, for a fixed report: every layer,
    /// one partly enforced, one unavailable.
    #[test]
    fn doctor_text() {
        let layers = Layer::ALL
            .iter()
            .map(|&layer| {
                let (status, detail) = match layer {
                    Layer::Rlimits => (LayerStatus::Partial, "RLIMIT_AS not set"),
                    Layer::Landlock => (LayerStatus::Unavailable, "kernel without landlock"),
                    _ => (LayerStatus::Enforced, "observed from inside"),
                };
                LayerReport {
                    layer,
                    status,
                    required: !layer.is_optional(),
                    detail: detail.into(),
                }
            })
            .collect();
        let report = Enforcement {
            backend: "bubblewrap /usr/bin/bwrap".into(),
            python: "/usr/bin/python3 (3.11.2)".into(),
            layers,
        };
        insta::assert_snapshot!(report.to_text());
        assert_eq!(report.missing_required(), [Layer::Rlimits]);
    }
}
