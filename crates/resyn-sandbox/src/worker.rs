//! One worker: a sandboxed interpreter running the harness, hosting at most
//! one environment module for its whole life.
//!
//! Invariants: a worker is used by one thread at a time (it is checked out of
//! the pool); after any fault (timeout, crash, protocol error, memory error,
//! forbidden operation, `sys.exit`) it is killed — the whole sandbox, by
//! process group and, through bubblewrap's `--die-with-parent` and the pid
//! namespace, everything inside — and never reused.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Child, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::launch::{Isolation, Launcher, Prepared};
use crate::protocol::{ChanError, Channel, Frame};
use crate::scratch::ScratchDir;
use crate::{Error, Result, sys};

/// Identifies the module a worker hosts (content hash of file name and source).
pub(crate) type ModuleKey = [u8; 32];

/// A request to the spawner thread.
pub(crate) type SpawnJob = (std::process::Command, mpsc::Sender<std::io::Result<Child>>);

/// A running worker.
pub(crate) struct Worker {
    child: Child,
    chan: Channel,
    next_id: u64,
    bwrap: bool,
    /// The module it hosts (`None`: a probe worker).
    pub key: Option<ModuleKey>,
    /// CPU seconds used so far (reported by the harness).
    pub cpu: f64,
    /// Set after any fault: the worker must be killed, not reused.
    pub broken: bool,
    /// Direct backend: the worker's private directory. Declared last so it is
    /// removed only after `Drop` has killed and reaped the worker.
    _scratch: Option<ScratchDir>,
}

/// What the init exchange returned.
pub(crate) struct InitReply {
    pub frame: Frame,
}

/// The outcome of one call (a batch of items).
pub(crate) struct CallOutcome {
    /// Results received, in order (possibly fewer than requested).
    pub items: Vec<Value>,
    /// Why the call stopped early, attributed to item `items.len()`.
    pub fault: Option<Fault>,
    /// Captured stdout / stderr (capped).
    pub out: String,
    /// Captured stderr.
    pub err: String,
}

/// A process-level failure during a call.
#[derive(Debug, Clone)]
pub(crate) enum Fault {
    Timeout(Duration),
    Crash(String),
    Protocol(String),
}

impl Fault {
    pub(crate) fn into_error(self, call: String) -> Error {
        match self {
            Fault::Timeout(limit) => Error::Timeout { call, limit },
            Fault::Crash(status) => Error::Crash { call, status },
            Fault::Protocol(detail) => Error::Protocol { call, detail },
        }
    }
}

impl Worker {
    /// Start a worker and run the init exchange (`init` is the JSON request
    /// with id 0; the worker's scratch directory is added as `scratch`).
    /// `spawn` runs the command on the pool's spawner thread.
    pub(crate) fn start(
        launcher: &Launcher,
        spawn: &dyn Fn(std::process::Command) -> std::io::Result<Child>,
        key: Option<ModuleKey>,
        mut init: Value,
        init_budget: Duration,
    ) -> Result<(Worker, InitReply)> {
        let init_call = match init["filename"].as_str() {
            Some(f) if !init["source"].is_null() => {
                format!("loading `{f}` (module top-level code)")
            }
            _ => "probe".to_string(),
        };
        let (req_r, req_w) = std::io::pipe().map_err(|e| Error::io("creating a pipe", e))?;
        let (rep_r, rep_w) = std::io::pipe().map_err(|e| Error::io("creating a pipe", e))?;
        let (mut err_r, err_w) = std::io::pipe().map_err(|e| Error::io("creating a pipe", e))?;
        let req_r: OwnedFd = req_r.into();
        let rep_w: OwnedFd = rep_w.into();
        let Prepared {
            command,
            keep,
            scratch_inside,
            scratch,
        } = launcher
            .prepare(&req_r, &rep_w, err_w.into())
            .map_err(|e| Error::io("preparing the worker command", e))?;
        init["scratch"] = Value::from(scratch_inside.to_string_lossy());
        // On failure `scratch` is dropped here, which removes the directory.
        let child = spawn(command).map_err(|e| {
            Error::io(
                format!("starting a sandbox worker ({})", launcher.describe()),
                e,
            )
        })?;
        // The child has its copies now.
        drop((req_r, rep_w, keep));
        let chan = Channel::new(req_w, rep_r).map_err(|e| Error::io("configuring pipes", e))?;
        let mut w = Worker {
            child,
            chan,
            next_id: 1,
            bwrap: matches!(launcher.isolation, Isolation::Bubblewrap(_)),
            key,
            cpu: 0.0,
            broken: false,
            _scratch: scratch,
        };
        let payload = serde_json::to_vec(&init).map_err(|e| Error::Protocol {
            call: "init".into(),
            detail: e.to_string(),
        })?;
        let max = launcher.limits.max_frame_bytes;
        let startup = launcher.limits.startup_timeout;
        let got = w
            .chan
            .recv(max, Instant::now() + startup)
            .map_err(|e| (e, startup, false))
            .and_then(|_hello| {
                let deadline = Instant::now() + init_budget;
                w.chan
                    .send(&payload, deadline)
                    .and_then(|()| w.chan.recv(max, deadline))
                    .map_err(|e| (e, init_budget, true))
            });
        match got {
            Ok(bytes) => match serde_json::from_slice::<Frame>(&bytes) {
                Ok(frame) if frame.id == 0 && frame.end => {
                    w.cpu = frame.cpu;
                    Ok((w, InitReply { frame }))
                }
                Ok(_) => {
                    w.kill();
                    Err(Error::Protocol {
                        call: "init".into(),
                        detail: "unexpected reply to init".into(),
                    })
                }
                Err(e) => {
                    w.kill();
                    Err(Error::Protocol {
                        call: "init".into(),
                        detail: format!("malformed init reply: {e}"),
                    })
                }
            },
            Err((e, limit, loading)) => {
                let status = if matches!(e, ChanError::Timeout) {
                    w.kill();
                    None
                } else {
                    w.reap()
                };
                // What bwrap or the interpreter said before dying.
                let _ = sys::set_nonblocking(err_r.as_fd());
                let mut buf = Vec::new();
                let _ = (&mut err_r).take(8192).read_to_end(&mut buf);
                let said = String::from_utf8_lossy(&buf).trim().to_string();
                Err(match e {
                    ChanError::Timeout => Error::Timeout {
                        call: if loading {
                            init_call
                        } else {
                            "worker start-up".into()
                        },
                        limit,
                    },
                    _ => Error::Crash {
                        call: if loading {
                            init_call
                        } else {
                            "worker start-up".into()
                        },
                        status: format!(
                            "{}{}",
                            describe_status(status, w.bwrap),
                            if said.is_empty() {
                                String::new()
                            } else {
                                format!("; it said: {said}")
                            }
                        ),
                    },
                })
            }
        }
    }

    /// The host pid of the worker's top process (bwrap or the interpreter).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Send `op` (a JSON object without `id`) for `n` items and collect the
    /// results, re-arming `timeout` at every frame.
    pub(crate) fn call(
        &mut self,
        mut op: serde_json::Map<String, Value>,
        n: usize,
        timeout: Duration,
        max_frame: usize,
    ) -> CallOutcome {
        let id = self.next_id;
        self.next_id += 1;
        op.insert("id".into(), Value::from(id));
        let mut out = CallOutcome {
            items: Vec::with_capacity(n),
            fault: None,
            out: String::new(),
            err: String::new(),
        };
        let fail = |w: &mut Worker, out: &mut CallOutcome, f: Fault| {
            w.broken = true;
            out.fault = Some(f);
        };
        if self.chan.pending() {
            fail(
                self,
                &mut out,
                Fault::Protocol(
                    "the worker wrote data nobody asked for (or exited) between calls".into(),
                ),
            );
            return out;
        }
        let payload = match serde_json::to_vec(&Value::Object(op)) {
            Ok(p) => p,
            Err(e) => {
                out.fault = Some(Fault::Protocol(format!("cannot encode request: {e}")));
                return out;
            }
        };
        if let Err(e) = self.chan.send(&payload, Instant::now() + timeout) {
            let f = self.chan_fault(e, timeout);
            fail(self, &mut out, f);
            return out;
        }
        loop {
            let deadline = Instant::now() + timeout;
            let bytes = match self.chan.recv(max_frame, deadline) {
                Ok(b) => b,
                Err(e) => {
                    let f = self.chan_fault(e, timeout);
                    fail(self, &mut out, f);
                    return out;
                }
            };
            let frame: Frame = match serde_json::from_slice(&bytes) {
                Ok(f) => f,
                Err(e) => {
                    fail(
                        self,
                        &mut out,
                        Fault::Protocol(format!("malformed reply frame: {e}")),
                    );
                    return out;
                }
            };
            if frame.id != id {
                fail(
                    self,
                    &mut out,
                    Fault::Protocol(format!(
                        "reply for request {} while {id} was pending",
                        frame.id
                    )),
                );
                return out;
            }
            out.items.extend(frame.items);
            if out.items.len() > n {
                let got = out.items.len();
                fail(
                    self,
                    &mut out,
                    Fault::Protocol(format!("{got} results for {n} items")),
                );
                out.items.truncate(n);
                return out;
            }
            if frame.end {
                self.cpu = frame.cpu;
                out.out = frame.out;
                out.err = frame.err;
                if out.items.len() != n {
                    let got = out.items.len();
                    fail(
                        self,
                        &mut out,
                        Fault::Protocol(format!("{got} results for {n} items")),
                    );
                }
                return out;
            }
        }
    }

    fn chan_fault(&mut self, e: ChanError, timeout: Duration) -> Fault {
        match e {
            ChanError::Timeout => {
                self.kill();
                Fault::Timeout(timeout)
            }
            ChanError::Closed => {
                let st = self.reap();
                Fault::Crash(describe_status(st, self.bwrap))
            }
            ChanError::TooBig(n) => {
                Fault::Protocol(format!("reply frame of {n} bytes is over the limit"))
            }
            ChanError::Io(e) => Fault::Protocol(format!("pipe error: {e}")),
        }
    }

    /// Kill the whole sandbox now and reap it.
    pub(crate) fn kill(&mut self) {
        self.broken = true;
        sys::kill_group(self.child.id());
        let _ = self.child.wait();
    }

    /// After the worker closed its pipe: wait briefly for it to exit on its
    /// own (so its real status is reported), then kill whatever is left.
    fn reap(&mut self) -> Option<ExitStatus> {
        self.broken = true;
        let until = Instant::now() + Duration::from_millis(500);
        let mut natural = None;
        while Instant::now() < until {
            match self.child.try_wait() {
                Ok(Some(st)) => {
                    natural = Some(st);
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(1)),
                Err(_) => break,
            }
        }
        sys::kill_group(self.child.id());
        if natural.is_none() {
            let _ = self.child.wait();
        }
        natural
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            sys::kill_group(self.child.id());
            let _ = self.child.wait();
        }
    }
}

/// Words for how a worker ended.
fn describe_status(status: Option<ExitStatus>, bwrap: bool) -> String {
    use std::os::unix::process::ExitStatusExt;
    let Some(st) = status else {
        return "the worker stopped answering and was killed".into();
    };
    if let Some(sig) = st.signal() {
        return format!(
            "the interpreter was killed by signal {sig} ({})",
            signal_words(sig)
        );
    }
    match st.code() {
        // bwrap reports a child killed by signal N as exit status 128 + N.
        Some(c) if bwrap && c > 128 && c < 128 + 65 => format!(
            "the interpreter was killed by signal {} ({})",
            c - 128,
            signal_words(c - 128)
        ),
        Some(c) => format!(
            "the interpreter exited with status {c} (os._exit() or a fatal interpreter error)"
        ),
        None => "the worker ended".into(),
    }
}

fn signal_words(sig: i32) -> &'static str {
    match sig {
        libc::SIGSEGV => {
            "SIGSEGV: segmentation fault, e.g. C-stack overflow from unbounded recursion or ctypes misuse"
        }
        libc::SIGXCPU => "SIGXCPU: the worker's CPU-time limit was exhausted",
        libc::SIGXFSZ => "SIGXFSZ: file size limit exceeded",
        libc::SIGKILL => "SIGKILL",
        libc::SIGABRT => "SIGABRT: the interpreter aborted, often after running out of memory",
        libc::SIGSYS => "SIGSYS: a forbidden system call",
        libc::SIGBUS => "SIGBUS: bus error",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGHUP => "SIGHUP",
        libc::SIGFPE => "SIGFPE: arithmetic fault",
        libc::SIGILL => "SIGILL: illegal instruction",
        _ => "signal",
    }
}
