//! Every `unsafe` operation of the crate: the steps run in the forked child
//! before `exec`, and a few thin syscall wrappers.
//!
//! The child steps run in a fixed order (birdcage style), each commented:
//! session, descriptors, namespaces (direct backend), rlimits, parent-death
//! signal, no_new_privs and seccomp last (direct backend; with bubblewrap,
//! bwrap installs the filter just before it execs the interpreter). Between
//! `fork` and `exec` only async-signal-safe syscalls are made: everything the
//! closure needs (paths, buffers, the filter) is prepared before the fork, and
//! nothing allocates.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Instant;

/// A resource limit to set (soft = hard).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rlimit {
    As,
    Cpu,
    Fsize,
    Nofile,
    Core,
    Nproc,
}

/// Namespaces the direct backend creates in the child.
pub(crate) struct DirectNs {
    /// `"<inside> <outside> 1"` for `/proc/self/uid_map`.
    pub uid_map: Vec<u8>,
    /// The same for `gid_map`.
    pub gid_map: Vec<u8>,
}

/// What the child does between `fork` and `exec`.
pub(crate) struct ChildSetup {
    /// `(source, target)`: `source` (close-on-exec in the parent) becomes
    /// `target` in the child, inherited across `exec`. Targets are 3, 4, ...
    pub fd_map: Vec<(RawFd, RawFd)>,
    /// Limits to apply.
    pub rlimits: Vec<(Rlimit, u64)>,
    /// Direct backend: namespaces to unshare.
    pub direct: Option<DirectNs>,
    /// Direct backend: seccomp filter to install.
    pub seccomp: Option<Vec<libc::sock_filter>>,
}

// `sock_filter` is plain data; the raw pointers in the closure's captures are
// only the buffers it owns.
struct SendFilters(Vec<libc::sock_filter>);
// SAFETY: `sock_filter` holds only integers; the wrapper exists because libc
// does not mark it `Send`.
unsafe impl Send for SendFilters {}
// SAFETY: as above; the filter is only read.
unsafe impl Sync for SendFilters {}

fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn set_rlimit(which: Rlimit, value: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: value as libc::rlim_t,
        rlim_max: value as libc::rlim_t,
    };
    // SAFETY: `lim` is a valid rlimit for the duration of the call.
    let rc = unsafe {
        match which {
            Rlimit::As => libc::setrlimit(libc::RLIMIT_AS, &lim),
            Rlimit::Cpu => libc::setrlimit(libc::RLIMIT_CPU, &lim),
            Rlimit::Fsize => libc::setrlimit(libc::RLIMIT_FSIZE, &lim),
            Rlimit::Nofile => libc::setrlimit(libc::RLIMIT_NOFILE, &lim),
            Rlimit::Core => libc::setrlimit(libc::RLIMIT_CORE, &lim),
            Rlimit::Nproc => libc::setrlimit(libc::RLIMIT_NPROC, &lim),
        }
    };
    cvt(rc).map(drop)
}

/// Write `data` to the NUL-terminated `path` (async-signal-safe).
fn write_file(path: &[u8], data: &[u8]) -> io::Result<()> {
    debug_assert_eq!(path.last(), Some(&0));
    // SAFETY: `path` is NUL-terminated (checked by callers' literals).
    let fd = cvt(unsafe { libc::open(path.as_ptr().cast(), libc::O_WRONLY | libc::O_CLOEXEC) })?;
    // SAFETY: `data` is a valid buffer of `data.len()` bytes; `fd` is ours.
    let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    // SAFETY: closing the descriptor we opened.
    unsafe { libc::close(fd) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Register `setup` to run in the child of `cmd`.
pub(crate) fn configure_child(cmd: &mut Command, setup: ChildSetup) {
    let ChildSetup {
        fd_map,
        rlimits,
        direct,
        seccomp,
    } = setup;
    let seccomp = seccomp.map(SendFilters);
    let first_free = fd_map.iter().map(|&(_, t)| t).max().unwrap_or(2) + 1;
    let closure = move || -> io::Result<()> {
        // 1. Session: a new session and process group, so the parent can kill
        //    the whole group and no terminal is reachable.
        // SAFETY: plain syscall.
        cvt(unsafe { libc::setsid() })?;

        // 2. Descriptors: move each source above the targets first (so that
        //    no target clobbers a source), then onto its target.
        let mut tmp = [-1 as RawFd; 8];
        for (slot, &(src, _)) in tmp.iter_mut().zip(&fd_map) {
            // SAFETY: duplicating a descriptor we own.
            *slot = cvt(unsafe { libc::fcntl(src, libc::F_DUPFD_CLOEXEC, 16) })?;
        }
        for (&t, &(_, dst)) in tmp.iter().zip(&fd_map) {
            // SAFETY: `t` is open (above); dup2 clears close-on-exec on `dst`.
            cvt(unsafe { libc::dup2(t, dst) })?;
        }
        //    Everything else becomes close-on-exec: nothing leaks into the
        //    sandbox that the parent (or a library in it) forgot to protect.
        // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets flags.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_close_range,
                first_free as libc::c_uint,
                libc::c_uint::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            )
        };
        if rc != 0 {
            for fd in first_free..4096 {
                // SAFETY: setting a flag; EBADF for closed numbers is fine.
                unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
            }
        }

        // 3. Namespaces (direct backend): user + network + IPC + UTS. A
        //    failure is not fatal here: the probe observes and reports it,
        //    and the policy decides.
        if let Some(ns) = &direct {
            let flags =
                libc::CLONE_NEWUSER | libc::CLONE_NEWNET | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS;
            // SAFETY: plain syscall; the child is single-threaded after fork.
            if unsafe { libc::unshare(flags) } == 0 {
                write_file(b"/proc/self/setgroups\0", b"deny")?;
                write_file(b"/proc/self/uid_map\0", &ns.uid_map)?;
                write_file(b"/proc/self/gid_map\0", &ns.gid_map)?;
            }
        }

        // 4. Resource limits, soft = hard.
        for &(which, value) in &rlimits {
            set_rlimit(which, value)?;
        }

        // 5. Die with the parent (the pool's spawner thread).
        // SAFETY: plain prctl.
        cvt(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) })?;

        // 6. no_new_privs and seccomp, last (direct backend).
        if let Some(SendFilters(filters)) = &seccomp {
            // SAFETY: plain prctl.
            cvt(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) })?;
            let prog = libc::sock_fprog {
                len: filters.len() as libc::c_ushort,
                filter: filters.as_ptr().cast_mut(),
            };
            // SAFETY: `prog` points at `filters`, alive for the call; the
            // kernel copies the program.
            cvt(unsafe {
                libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &prog as *const libc::sock_fprog,
                    0,
                    0,
                )
            })?;
        }
        Ok(())
    };
    // SAFETY: the closure only makes async-signal-safe syscalls on data
    // prepared before the fork and does not allocate.
    unsafe { cmd.pre_exec(closure) };
}

/// Set `O_NONBLOCK` on a descriptor.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: fcntl on a descriptor borrowed for the call.
    let flags = cvt(unsafe { libc::fcntl(raw, libc::F_GETFL) })?;
    // SAFETY: as above.
    cvt(unsafe { libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) }).map(drop)
}

/// Wait until `fd` is ready for `events` (POLLIN/POLLOUT) or `deadline`
/// passes. Returns `false` on timeout. Hang-up and errors count as ready (the
/// following read or write reports them).
pub(crate) fn wait_ready(
    fd: BorrowedFd<'_>,
    events: libc::c_short,
    deadline: Instant,
) -> io::Result<bool> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(false);
        }
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the call.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if rc > 0 {
            return Ok(true);
        }
    }
}

/// Whether `fd` has data (or hang-up) pending right now.
pub(crate) fn has_pending(fd: BorrowedFd<'_>) -> bool {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the call.
    let rc = unsafe { libc::poll(&mut pfd, 1, 0) };
    rc > 0
}

/// SIGKILL the process group led by `pid` (and `pid` itself).
pub(crate) fn kill_group(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: plain kill(2); errors (already dead) are irrelevant.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
        libc::kill(pid, libc::SIGKILL);
    }
}

/// Memory of a set of processes, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Memory {
    /// Processes counted.
    pub processes: usize,
    /// Resident set size, summed (pages shared between the processes are
    /// counted once per process).
    pub rss: u64,
    /// Proportional set size: each shared page split between its sharers,
    /// so the sum is what the processes cost together.
    pub pss: u64,
    /// Unique set size: pages no other process maps (what killing the
    /// processes would free, at least).
    pub uss: u64,
}

/// RSS, PSS and USS of one process, from `/proc/<pid>/smaps_rollup`.
pub fn process_memory(pid: u32) -> Option<Memory> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let mut m = Memory {
        processes: 1,
        ..Memory::default()
    };
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let (Some(key), Some(kb)) = (it.next(), it.next().and_then(|v| v.parse::<u64>().ok()))
        else {
            continue;
        };
        match key {
            "Rss:" => m.rss = kb << 10,
            "Pss:" => m.pss = kb << 10,
            "Private_Clean:" | "Private_Dirty:" => m.uss += kb << 10,
            _ => {}
        }
    }
    Some(m)
}

/// Memory of `roots` and all their descendants (read from `/proc`).
pub fn tree_memory(roots: &[u32]) -> Memory {
    let mut children: std::collections::HashMap<u32, Vec<u32>> = std::collections::HashMap::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // `pid (comm) state ppid ...`; comm may contain spaces.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut total = Memory::default();
    let mut stack: Vec<u32> = roots.to_vec();
    while let Some(pid) = stack.pop() {
        if let Some(m) = process_memory(pid) {
            total.processes += 1;
            total.rss += m.rss;
            total.pss += m.pss;
            total.uss += m.uss;
        }
        stack.extend(children.get(&pid).into_iter().flatten());
    }
    total
}

/// Raise this process's soft `RLIMIT_NOFILE` to at least `want` (at most the
/// hard limit); never lowers it.
pub(crate) fn raise_nofile(want: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit for the duration of the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return;
    }
    let target = (want as libc::rlim_t).min(lim.rlim_max);
    if target > lim.rlim_cur {
        lim.rlim_cur = target;
        // SAFETY: as above; raising the soft limit up to the hard one is
        // always permitted.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    }
}

/// Resident memory of a process in bytes, from `/proc/<pid>/statm`.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf is a plain query.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

/// The real uid and gid of this process.
pub(crate) fn ids() -> (u32, u32) {
    // SAFETY: getuid/getgid cannot fail and touch no memory.
    unsafe { (libc::getuid(), libc::getgid()) }
}
