//! One worker: a process forked by a zygote ([`crate::zygote`]), hosting at
//! most one environment module for its whole life.
//!
//! Invariants: a worker is used by one thread at a time (it is checked out of
//! the pool); after any fault (timeout, crash, protocol error, memory error,
//! forbidden operation, `sys.exit`) it is killed and never reused. A worker
//! whose zygote hosts only it (the per-worker process model) takes the
//! zygote, and so its whole sandbox, with it.

use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::process::Child;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::protocol::{ChanError, Channel, Frame};
use crate::scratch::ScratchDir;
use crate::zygote::{Exit, Zygote, describe_exit};
use crate::{Error, Result};

/// Identifies the module a worker hosts (content hash of file name and source).
pub(crate) type ModuleKey = [u8; 32];

/// A request to the spawner thread.
pub(crate) type SpawnJob = (std::process::Command, mpsc::Sender<std::io::Result<Child>>);

/// A running worker.
pub(crate) struct Worker {
    zygote: Arc<Zygote>,
    /// The worker's id in its zygote.
    cid: u64,
    /// Whether the zygote hosts only this worker.
    dedicated: bool,
    chan: Channel,
    next_id: u64,
    /// The module it hosts (`None`: a probe worker).
    pub key: Option<ModuleKey>,
    /// CPU seconds used so far (reported by the harness).
    pub cpu: f64,
    /// Set after any fault: the worker must be killed, not reused.
    pub broken: bool,
    /// Set once the worker is known to be dead (killed and reaped).
    reaped: bool,
    /// Direct backend: the worker's private directory. Declared last so it is
    /// removed only after `Drop` has killed and reaped the worker.
    _scratch: Option<ScratchDir>,
}

/// How to start a worker.
pub(crate) struct Start<'a> {
    pub zygote: Arc<Zygote>,
    pub dedicated: bool,
    /// A shared zygote's workers exit rather than run with a failed layer.
    pub strict: bool,
    /// The private directory (as the worker sees it; the host directory to
    /// remove once it is dead).
    pub scratch: (std::path::PathBuf, Option<ScratchDir>),
    pub key: Option<ModuleKey>,
    pub startup: Duration,
    pub max_frame: usize,
    /// The init request (id 0): the module to load, or the probe.
    pub init: &'a Value,
    /// Limit for the init call (module top-level code), counted from the
    /// moment the worker is ready to read it.
    pub init_budget: Duration,
}

/// What the init exchange returned.
pub(crate) struct InitReply {
    pub frame: Frame,
    /// The module's compiled code (base64 of its marshal), when the init
    /// request asked for it (`want_code`) and the source compiled.
    pub code: Option<String>,
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
    /// Fork a worker from `zygote` and run the init exchange.
    pub(crate) fn start(st: Start<'_>) -> Result<(Worker, InitReply)> {
        let init_call = match st.init["filename"].as_str() {
            Some(f) if !st.init["source"].is_null() => {
                format!("loading `{f}` (module top-level code)")
            }
            _ => "probe".to_string(),
        };
        let (host, theirs) =
            UnixStream::pair().map_err(|e| Error::io("creating a worker socket", e))?;
        let (scratch_inside, scratch) = st.scratch;
        let cid = st
            .zygote
            .spawn(theirs.as_fd(), &scratch_inside, st.strict)?;
        drop(theirs);
        let chan = Channel::new(host).map_err(|e| Error::io("configuring a worker socket", e))?;
        let mut w = Worker {
            zygote: st.zygote,
            cid,
            dedicated: st.dedicated,
            chan,
            next_id: 1,
            key: st.key,
            cpu: 0.0,
            broken: false,
            reaped: false,
            _scratch: scratch,
        };
        let want_code = st.init["want_code"] == true;
        let mut code = None;
        let payload = serde_json::to_vec(st.init).map_err(|e| Error::Protocol {
            call: "init".into(),
            detail: e.to_string(),
        })?;
        // The init request goes out at once (the socket holds it until the
        // worker reads it). Start-up (fork, layers) has its own limit; the
        // module's top-level code gets the call limit, from the moment the
        // worker says it is ready to read.
        let startup = Instant::now() + st.startup;
        let hello = w
            .chan
            .send(&payload, startup)
            .and_then(|()| w.chan.recv(st.max_frame, startup))
            .map_err(|e| (e, st.startup, false));
        let got = hello.and_then(|bytes| {
            if let Ok(f) = serde_json::from_slice::<Frame>(&bytes)
                && f.hello == Some(false)
            {
                let why = f.error.as_ref().and_then(Value::as_str).unwrap_or("?");
                return Ok(Err(why.to_string()));
            }
            let deadline = Instant::now() + st.init_budget;
            let mut reply = w.chan.recv(st.max_frame, deadline);
            // A worker asked to compile sends its code first, before any of
            // the module's code runs; only that frame is taken as the code
            // (anything else before the reply is a protocol error below).
            if want_code
                && let Ok(bytes) = &reply
                && let Ok(f) = serde_json::from_slice::<Frame>(bytes)
                && f.id == 0
                && !f.end
                && f.code.is_some()
            {
                code = f.code;
                reply = w.chan.recv(st.max_frame, deadline);
            }
            reply.map(Ok).map_err(|e| (e, st.init_budget, true))
        });
        match got {
            Ok(Ok(bytes)) => match serde_json::from_slice::<Frame>(&bytes) {
                Ok(frame) if frame.id == 0 && frame.end => {
                    w.cpu = frame.cpu;
                    Ok((w, InitReply { frame, code }))
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
            Ok(Err(layer)) => {
                w.kill();
                Err(Error::Crash {
                    call: "worker start-up".into(),
                    status: format!("a sandbox layer failed in the worker: {layer}"),
                })
            }
            Err((e, limit, loading)) => {
                let call = if loading {
                    init_call
                } else {
                    "worker start-up".into()
                };
                Err(match e {
                    ChanError::Timeout => {
                        w.kill();
                        Error::Timeout { call, limit }
                    }
                    _ => Error::Crash {
                        call,
                        status: w.describe_death(),
                    },
                })
            }
        }
    }

    /// Host pid of the worker's zygote's top process.
    pub(crate) fn zygote_pid(&self) -> u32 {
        self.zygote.pid()
    }

    /// Whether the worker can serve: not broken, its zygote alive, nothing
    /// pending on its socket (a hang-up or bytes nobody asked for).
    pub(crate) fn usable(&self) -> bool {
        !self.broken && self.zygote.alive() && !self.chan.pending()
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
            ChanError::Closed => Fault::Crash(self.describe_death()),
            ChanError::TooBig(n) => {
                Fault::Protocol(format!("reply frame of {n} bytes is over the limit"))
            }
            ChanError::Io(e) => Fault::Protocol(format!("pipe error: {e}")),
        }
    }

    /// Kill the worker now and reap it (with a dedicated zygote, the whole
    /// sandbox).
    pub(crate) fn kill(&mut self) {
        self.broken = true;
        if !self.reaped {
            self.reaped = true;
            self.zygote.kill(self.cid);
            if self.dedicated {
                self.zygote.kill_all();
            }
        }
    }

    /// After the worker closed its socket: wait briefly for it to exit on
    /// its own (so its real status is reported), then kill whatever is left;
    /// the status in words.
    fn describe_death(&mut self) -> String {
        self.broken = true;
        let until = Instant::now() + Duration::from_millis(500);
        let mut natural: Option<Exit> = None;
        while Instant::now() < until && self.zygote.alive() {
            if let Some(e) = self.zygote.poll(self.cid) {
                natural = Some(e);
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let zygote_gone = !self.zygote.alive();
        self.kill();
        match natural {
            Some(e) => describe_exit(e),
            // The whole sandbox ended (a dedicated zygote dies with its
            // worker when the worker kills its process group).
            None if zygote_gone => self.zygote.describe_end(),
            None => "the worker stopped answering and was killed".into(),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}
