//! Framing between the host and a worker.
//!
//! Frames are a 4-byte little-endian length followed by UTF-8 JSON, over a
//! stream socket pair private to the host and one worker (the worker reads
//! requests on its fd 3 and writes replies on its fd 4, both that socket; one
//! descriptor per worker on the host side). Every reply frame echoes the
//! request id, so a stale or forged frame is detected; a request is sent only
//! when no reply bytes are pending.
//!
//! A request for `n` items is answered by one or more frames
//! `{"id", "end", "items": [...]}` whose items concatenate to exactly `n`
//! results in request order; the harness flushes a frame at least every
//! ~10 ms while items complete, so the per-call deadline is re-armed per
//! frame. The last frame has `"end": true` and carries the captured
//! `out`/`err` text and the worker's CPU seconds (`cpu`).
//!
//! The init request (id 0) loads the module. When it carries `want_code`,
//! the worker's first frame after the hello is `{"id": 0, "end": false,
//! "code": ...}` (the compiled module, for [`crate::code_cache`]), sent
//! before any of the module's code runs; when it carries `code`, the worker
//! uses that instead of compiling and reports `code_cache: hit|rejected`.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::Instant;

use serde::Deserialize;
use serde_json::Value;

use crate::sys;

/// Why a frame could not be exchanged.
#[derive(Debug)]
pub(crate) enum ChanError {
    /// The deadline passed.
    Timeout,
    /// The worker closed its end (it exited or was killed).
    Closed,
    /// The frame announced is over the limit.
    TooBig(usize),
    /// Any other I/O failure.
    Io(io::Error),
}

/// The host's end of a worker's socket (non-blocking).
pub(crate) struct Channel {
    sock: UnixStream,
}

impl Channel {
    pub(crate) fn new(sock: UnixStream) -> io::Result<Self> {
        sock.set_nonblocking(true)?;
        Ok(Self { sock })
    }

    /// Whether reply bytes (or a hang-up) are pending: nothing should be,
    /// between calls.
    pub(crate) fn pending(&self) -> bool {
        sys::has_pending(self.sock.as_fd())
    }

    pub(crate) fn send(&mut self, payload: &[u8], deadline: Instant) -> Result<(), ChanError> {
        let len = u32::try_from(payload.len()).map_err(|_| ChanError::TooBig(payload.len()))?;
        let mut frame = Vec::with_capacity(payload.len() + 4);
        frame.extend_from_slice(&len.to_le_bytes());
        frame.extend_from_slice(payload);
        let mut off = 0;
        while off < frame.len() {
            match self.sock.write(&frame[off..]) {
                Ok(0) => return Err(ChanError::Closed),
                Ok(n) => off += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if !sys::wait_ready(self.sock.as_fd(), libc::POLLOUT, deadline)
                        .map_err(ChanError::Io)?
                    {
                        return Err(ChanError::Timeout);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    return Err(ChanError::Closed);
                }
                Err(e) => return Err(ChanError::Io(e)),
            }
        }
        Ok(())
    }

    fn read_exact(&mut self, buf: &mut [u8], deadline: Instant) -> Result<(), ChanError> {
        let mut off = 0;
        while off < buf.len() {
            match self.sock.read(&mut buf[off..]) {
                Ok(0) => return Err(ChanError::Closed),
                Ok(n) => off += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if !sys::wait_ready(self.sock.as_fd(), libc::POLLIN, deadline)
                        .map_err(ChanError::Io)?
                    {
                        return Err(ChanError::Timeout);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Err(ChanError::Closed);
                }
                Err(e) => return Err(ChanError::Io(e)),
            }
        }
        Ok(())
    }

    pub(crate) fn recv(&mut self, max: usize, deadline: Instant) -> Result<Vec<u8>, ChanError> {
        let mut hdr = [0u8; 4];
        self.read_exact(&mut hdr, deadline)?;
        let len = u32::from_le_bytes(hdr) as usize;
        if len > max {
            return Err(ChanError::TooBig(len));
        }
        let mut body = vec![0u8; len];
        self.read_exact(&mut body, deadline)?;
        Ok(body)
    }
}

/// One reply frame.
#[derive(Debug, Deserialize)]
pub(crate) struct Frame {
    pub id: u64,
    pub end: bool,
    #[serde(default)]
    pub items: Vec<Value>,
    #[serde(default)]
    pub out: String,
    #[serde(default)]
    pub err: String,
    #[serde(default)]
    pub cpu: f64,
    /// Init replies: whether loading succeeded.
    #[serde(default)]
    pub ok: Option<bool>,
    /// Init replies: the module's metadata.
    #[serde(default)]
    pub meta: Option<Value>,
    /// Init replies: the probe's facts.
    #[serde(default)]
    pub probe: Option<Value>,
    /// Init replies: the failure. Hello frames: the sandbox layer that
    /// failed in a strict worker.
    #[serde(default)]
    pub error: Option<Value>,
    /// Hello frames: `false` when the worker could not apply its layers.
    #[serde(default)]
    pub hello: Option<bool>,
    /// The code frame of an init exchange: the compiled module (base64 of
    /// its marshal), sent before the module's code runs.
    #[serde(default)]
    pub code: Option<String>,
    /// Init replies when cached code was sent: `hit` or `rejected`.
    #[serde(default)]
    pub code_cache: Option<String>,
}
