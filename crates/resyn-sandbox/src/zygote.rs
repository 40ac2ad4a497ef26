//! The zygote: one sandboxed interpreter that forks workers.
//!
//! A zygote is started like a worker used to be (bubblewrap or the direct
//! backend, rlimits, namespaces, the first seccomp filter), imports the
//! harness and common standard-library modules once, denies itself `exec`,
//! and then only forks: it never receives a module's source. The host talks
//! to it over a `SOCK_SEQPACKET` socket pair (the zygote's fd 3), one
//! message per request (JSON but for spawn) and one JSON reply, serialized by
//! a mutex:
//!
//! - spawn, with the worker's socket attached (`SCM_RIGHTS`): fork a
//!   worker, which applies its own layers and then speaks the worker
//!   protocol ([`crate::protocol`]) on that socket. Made for every worker,
//!   so it is binary: `S`, the worker's id (u64, little-endian), strict
//!   (u8), then its private directory (JSON parsing in the zygote would touch
//!   pages that every fork makes it copy again);
//! - `poll {cid}`: the worker's exit status if it has exited;
//! - `kill {cid}`: SIGKILL the worker and reap it.
//!
//! Invariants: workers are forked only from the zygote, which runs no
//! environment code, so every worker starts from the same pristine state;
//! a worker's socket is known only to the host and that worker; when the
//! zygote dies its workers die too (the pid namespace with bubblewrap, the
//! parent-death signal without), and the host sees their sockets close.

use std::io::{IoSlice, Read};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::process::{Child, ExitStatus};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustix::net::{
    AddressFamily, RecvFlags, SendAncillaryBuffer, SendAncillaryMessage, SendFlags, SocketFlags,
    SocketType,
};
use serde_json::{Value, json};

use crate::launch::{Isolation, Launcher, Prepared};
use crate::{Error, Result, sys};

/// How a worker ended, as its zygote saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    Code(i32),
    Signal(i32),
}

/// A running zygote.
pub(crate) struct Zygote {
    ctl: Mutex<Ctl>,
    /// Host pid of the zygote's top process (bubblewrap or the interpreter).
    pid: u32,
    pub bwrap: bool,
    dead: AtomicBool,
    /// CPU seconds the zygote itself used (bit pattern of an f64).
    cpu: AtomicU64,
    next_cid: AtomicU64,
    /// Limit for one control exchange (the zygote is trusted and quick; a
    /// zygote that does not answer in time is killed).
    patience: Duration,
}

struct Ctl {
    child: Child,
    sock: OwnedFd,
    /// Set once the zygote's process has been reaped.
    status: Option<ExitStatus>,
}

/// Why a control exchange failed: the zygote is gone (or was killed for
/// not answering), or it refused the request.
#[derive(Debug)]
pub(crate) enum CtlError {
    Dead(String),
    Refused(String),
}

impl Zygote {
    /// Start a zygote and wait until it is ready to fork. `spawn` runs the
    /// command on the pool's spawner thread; `init` is merged into the init
    /// request (e.g. a marker file to create).
    pub(crate) fn start(
        launcher: &Launcher,
        spawn: &dyn Fn(std::process::Command) -> std::io::Result<Child>,
        init: Value,
    ) -> Result<Zygote> {
        let (host, theirs) = rustix::net::socketpair(
            AddressFamily::UNIX,
            SocketType::SEQPACKET,
            SocketFlags::CLOEXEC,
            None,
        )
        .map_err(|e| Error::io("creating the zygote's control socket", e.into()))?;
        let (mut err_r, err_w) = std::io::pipe().map_err(|e| Error::io("creating a pipe", e))?;
        let Prepared { command, keep } = launcher
            .prepare(&theirs, err_w.into())
            .map_err(|e| Error::io("preparing the sandbox command", e))?;
        let child = spawn(command)
            .map_err(|e| Error::io(format!("starting the sandbox ({})", launcher.describe()), e))?;
        // The zygote has its copies now.
        drop((theirs, keep));
        let limits = &launcher.limits;
        let z = Zygote {
            pid: child.id(),
            ctl: Mutex::new(Ctl {
                child,
                sock: host,
                status: None,
            }),
            bwrap: matches!(launcher.isolation, Isolation::Bubblewrap(_)),
            dead: AtomicBool::new(false),
            cpu: AtomicU64::new(0),
            next_cid: AtomicU64::new(1),
            patience: limits.startup_timeout,
        };
        let mut request = json!({
            "child": launcher.worker_spec(),
            "exec_filter": launcher.exec_filter_hex(),
        });
        if let (Value::Object(r), Value::Object(extra)) = (&mut request, init) {
            r.extend(extra);
        }
        let deadline = Instant::now() + limits.startup_timeout;
        let ready = {
            let mut ctl = z.lock();
            recv(&ctl.sock, deadline)
                .and_then(|_hello| {
                    send(&ctl.sock, &json_bytes(&request), None)?;
                    recv(&ctl.sock, deadline)
                })
                .inspect_err(|_| {
                    ctl.kill();
                })
        };
        let reply = match ready {
            Ok(r) if r["ok"] == true => r,
            failed => {
                z.dead.store(true, Ordering::Relaxed);
                // What bubblewrap or the interpreter said before dying.
                let _ = sys::set_nonblocking(err_r.as_fd());
                let mut buf = Vec::new();
                let _ = (&mut err_r).take(8192).read_to_end(&mut buf);
                let said = String::from_utf8_lossy(&buf).trim().to_string();
                let status = z.lock().reap();
                let why = match failed {
                    Err(CtlError::Dead(w) | CtlError::Refused(w)) => w,
                    Ok(r) => format!("unexpected reply {r}"),
                };
                return Err(if why.starts_with("no answer") {
                    Error::Timeout {
                        call: "sandbox start-up".into(),
                        limit: limits.startup_timeout,
                    }
                } else {
                    Error::Crash {
                        call: "sandbox start-up".into(),
                        status: format!(
                            "{} ({why}){}",
                            describe_top(status, z.bwrap),
                            if said.is_empty() {
                                String::new()
                            } else {
                                format!("; it said: {said}")
                            }
                        ),
                    }
                });
            }
        };
        z.note_cpu(&reply);
        if reply["exec_filter"] != "installed" {
            let status = reply["exec_filter"].as_str().unwrap_or("?").to_string();
            z.lock().kill();
            return Err(Error::Crash {
                call: "sandbox start-up".into(),
                status: format!("the zygote could not deny itself exec: {status}"),
            });
        }
        Ok(z)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ctl> {
        // The guarded state is a socket and a child handle; a panic elsewhere
        // leaves them usable.
        self.ctl.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn note_cpu(&self, reply: &Value) {
        if let Some(c) = reply["cpu"].as_f64() {
            self.cpu.store(c.to_bits(), Ordering::Relaxed);
        }
    }

    /// Host pid of the zygote's top process.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// CPU seconds the zygote has used itself (forking).
    pub(crate) fn cpu(&self) -> f64 {
        f64::from_bits(self.cpu.load(Ordering::Relaxed))
    }

    /// Whether the zygote is still running.
    pub(crate) fn alive(&self) -> bool {
        if self.dead.load(Ordering::Relaxed) {
            return false;
        }
        // Between exchanges nothing may be readable: a readable socket is a
        // hang-up (the zygote never speaks first).
        let Ok(ctl) = self.ctl.try_lock() else {
            return true;
        };
        if sys::has_pending(ctl.sock.as_fd()) {
            drop(ctl);
            self.mark_dead();
            return false;
        }
        true
    }

    fn mark_dead(&self) {
        self.dead.store(true, Ordering::Relaxed);
        self.lock().kill();
    }

    /// One request and its (JSON) reply. A zygote that fails an exchange is
    /// killed.
    fn request(&self, msg: &[u8], fd: Option<BorrowedFd<'_>>) -> Result<Value, CtlError> {
        if self.dead.load(Ordering::Relaxed) {
            return Err(CtlError::Dead("the zygote has exited".into()));
        }
        let mut ctl = self.lock();
        let got =
            send(&ctl.sock, msg, fd).and_then(|()| recv(&ctl.sock, Instant::now() + self.patience));
        match got {
            Ok(reply) => {
                drop(ctl);
                self.note_cpu(&reply);
                match reply["error"].as_str() {
                    Some(e) => Err(CtlError::Refused(e.to_string())),
                    None => Ok(reply),
                }
            }
            Err(e) => {
                self.dead.store(true, Ordering::Relaxed);
                ctl.kill();
                Err(e)
            }
        }
    }

    /// Fork a worker whose socket is `chan` and whose private directory is
    /// `scratch`; `strict`: the worker exits rather than run with a layer
    /// that failed. Returns the worker's id in this zygote.
    pub(crate) fn spawn(&self, chan: BorrowedFd<'_>, scratch: &Path, strict: bool) -> Result<u64> {
        use std::os::unix::ffi::OsStrExt;
        let cid = self.next_cid.fetch_add(1, Ordering::Relaxed);
        let dir = scratch.as_os_str().as_bytes();
        let mut msg = Vec::with_capacity(10 + dir.len());
        msg.push(b'S');
        msg.extend_from_slice(&cid.to_le_bytes());
        msg.push(u8::from(strict));
        msg.extend_from_slice(dir);
        match self.request(&msg, Some(chan)) {
            Ok(_) => Ok(cid),
            Err(CtlError::Refused(why)) => Err(Error::io(
                "forking a sandbox worker",
                std::io::Error::other(why),
            )),
            Err(CtlError::Dead(why)) => Err(Error::Crash {
                call: "worker start-up".into(),
                status: format!("the sandbox's zygote is gone: {why}"),
            }),
        }
    }

    /// The worker's exit status, if it has exited (`None` while it runs or
    /// when the zygote is gone).
    pub(crate) fn poll(&self, cid: u64) -> Option<Exit> {
        exit(
            &self
                .request(&json_bytes(&json!({"op": "poll", "cid": cid})), None)
                .ok()?,
        )
    }

    /// SIGKILL the worker (if it still runs) and reap it; its exit status.
    pub(crate) fn kill(&self, cid: u64) -> Option<Exit> {
        exit(
            &self
                .request(&json_bytes(&json!({"op": "kill", "cid": cid})), None)
                .ok()?,
        )
    }

    /// Kill the zygote (and with it every worker it forked).
    pub(crate) fn kill_all(&self) {
        self.dead.store(true, Ordering::Relaxed);
        self.lock().kill();
    }

    /// End the zygote and every worker it forked, all at once: hang up, so
    /// that it kills them together and reaps them (their time is then
    /// accounted to this process), and wait briefly for it to exit. Later
    /// requests fail at once (the zygote is gone), so workers dropped
    /// afterwards cost no round trip each.
    pub(crate) fn hang_up(&self) {
        self.dead.store(true, Ordering::Relaxed);
        let mut ctl = self.lock();
        if ctl.status.is_some() {
            return;
        }
        let _ = rustix::net::shutdown(&ctl.sock, rustix::net::Shutdown::Both);
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            match ctl.child.try_wait() {
                Ok(Some(st)) => {
                    ctl.status = Some(st);
                    return;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(1)),
                Err(_) => return,
            }
        }
    }

    /// How the zygote's top process ended, in words (once it has).
    pub(crate) fn describe_end(&self) -> String {
        let status = self.lock().reap();
        describe_top(status, self.bwrap)
    }
}

impl Ctl {
    fn kill(&mut self) {
        if self.status.is_none() {
            sys::kill_group(self.child.id());
            self.status = self.child.wait().ok();
        }
    }

    /// The top process's status: wait briefly for it to exit on its own,
    /// then kill it.
    fn reap(&mut self) -> Option<ExitStatus> {
        if self.status.is_some() {
            return self.status;
        }
        let until = Instant::now() + Duration::from_millis(500);
        while Instant::now() < until {
            match self.child.try_wait() {
                Ok(Some(st)) => {
                    self.status = Some(st);
                    sys::kill_group(self.child.id());
                    return self.status;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(1)),
                Err(_) => break,
            }
        }
        self.kill();
        None
    }
}

impl Drop for Zygote {
    fn drop(&mut self) {
        self.hang_up();
        self.lock().kill();
    }
}

fn exit(reply: &Value) -> Option<Exit> {
    let st = &reply["status"];
    if let Some(s) = st["signal"].as_i64() {
        return Some(Exit::Signal(s as i32));
    }
    st["exit"].as_i64().map(|c| Exit::Code(c as i32))
}

fn json_bytes(msg: &Value) -> Vec<u8> {
    // A `Value` always serializes.
    serde_json::to_vec(msg).unwrap_or_default()
}

fn send(sock: &OwnedFd, bytes: &[u8], fd: Option<BorrowedFd<'_>>) -> Result<(), CtlError> {
    let fds: Vec<BorrowedFd<'_>> = fd.into_iter().collect();
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !fds.is_empty() && !control.push(SendAncillaryMessage::ScmRights(&fds)) {
        return Err(CtlError::Refused("no room for the descriptor".into()));
    }
    loop {
        match rustix::net::sendmsg(
            sock,
            &[IoSlice::new(bytes)],
            &mut control,
            SendFlags::NOSIGNAL,
        ) {
            Ok(_) => return Ok(()),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(CtlError::Dead(format!("sending to the zygote: {e}"))),
        }
    }
}

fn recv(sock: &OwnedFd, deadline: Instant) -> Result<Value, CtlError> {
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match sys::wait_ready(sock.as_fd(), libc::POLLIN, deadline) {
            Ok(true) => {}
            Ok(false) => return Err(CtlError::Dead("no answer from the zygote in time".into())),
            Err(e) => return Err(CtlError::Dead(format!("waiting for the zygote: {e}"))),
        }
        match rustix::net::recv(sock, &mut buf[..], RecvFlags::DONTWAIT) {
            Ok((_, 0)) => return Err(CtlError::Dead("the zygote exited".into())),
            Ok((_, n)) => {
                return serde_json::from_slice(&buf[..n])
                    .map_err(|e| CtlError::Dead(format!("malformed reply from the zygote: {e}")));
            }
            Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => {}
            Err(e) => return Err(CtlError::Dead(format!("reading from the zygote: {e}"))),
        }
    }
}

/// Words for how the sandbox's top process ended.
pub(crate) fn describe_top(status: Option<ExitStatus>, bwrap: bool) -> String {
    use std::os::unix::process::ExitStatusExt;
    let Some(st) = status else {
        return "the sandbox stopped answering and was killed".into();
    };
    if let Some(sig) = st.signal() {
        return describe_exit(Exit::Signal(sig));
    }
    match st.code() {
        // bwrap reports a child killed by signal N as exit status 128 + N.
        Some(c) if bwrap && c > 128 && c < 128 + 65 => describe_exit(Exit::Signal(c - 128)),
        Some(c) => describe_exit(Exit::Code(c)),
        None => "the sandbox ended".into(),
    }
}

/// Words for how a worker ended.
pub(crate) fn describe_exit(exit: Exit) -> String {
    match exit {
        Exit::Signal(sig) => format!(
            "the interpreter was killed by signal {sig} ({})",
            signal_words(sig)
        ),
        Exit::Code(c) => format!(
            "the interpreter exited with status {c} (os._exit() or a fatal interpreter error)"
        ),
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
