//! The seccomp-bpf filters, assembled by hand.
//!
//! Three filters stack (the kernel applies every installed filter and the
//! strictest verdict wins):
//!
//! 1. [`zygote_filter`], installed before the interpreter is exec'd (by
//!    bubblewrap, or by [`crate::sys::configure_child`]). A deny-list:
//!    environment code is ordinary Python and needs most syscalls, so it
//!    denies the families that let code escape or reach out — sockets,
//!    tracing and cross-process memory, mounts and namespaces, bpf, perf,
//!    keyrings, io_uring (which can bypass seccomp for socket operations),
//!    module loading, clocks and reboot. Process creation is allowed here
//!    (`clone` without namespace flags) because the zygote forks workers;
//!    with a private `/tmp` per worker (bubblewrap), so are `mount` and
//!    `unshare(CLONE_NEWUSER | CLONE_NEWNS)` exactly, which a worker uses
//!    once to mount its own tmpfs.
//! 2. [`exec_filter`], installed by the zygote on itself before it forks
//!    anything: `execve`/`execveat` fail.
//! 3. [`module_filter`], installed by each worker on itself after its other
//!    layers and before it reads its first request: process creation
//!    (`fork`, `vfork`, `clone` without `CLONE_THREAD`), `unshare`, `mount`,
//!    `umount2`, `setns` and exec fail. So environment code runs under all
//!    three: no process creation, no exec, no mounts or namespaces.
//!
//! Denied calls fail with `EPERM` (`ENOSYS` for `clone3`, so glibc falls back
//! to `clone` for threads), which Python reports as a precise exception.
//!
//! Invariants: a foreign architecture is killed outright, and on x86_64 every
//! x32-ABI syscall number (bit 30 set) is denied, so the deny-list cannot be
//! bypassed through an alternative syscall table. `execve` must stay allowed
//! in the first filter, which is installed before the interpreter is exec'd.

/// One classic-BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Insn {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

/// BPF_LD | BPF_W | BPF_ABS (`BPF_LD` and `BPF_W` are 0).
const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JMP_JEQ_K: u16 = 0x05 | 0x10;
const BPF_JMP_JGE_K: u16 = 0x05 | 0x30;
const BPF_JMP_JSET_K: u16 = 0x05 | 0x40;
const BPF_RET_K: u16 = 0x06;

const RET_KILL_PROCESS: u32 = 0x8000_0000;
const RET_ERRNO: u32 = 0x0005_0000;
const RET_ALLOW: u32 = 0x7fff_0000;

const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
/// Low 32 bits of `args[0]` (little-endian `seccomp_data`).
const OFF_ARG0_LO: u32 = 16;

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;

const CLONE_THREAD: u32 = 0x0001_0000;
/// CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET.
const CLONE_NS_MASK: u32 = 0x0002_0000 | 0x0200_0000 | 0x7c00_0000;

fn stmt(code: u16, k: u32) -> Insn {
    Insn {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Insn {
    Insn { code, jt, jf, k }
}

/// Syscalls the first filter denies with `EPERM`; `mount` and `unshare`
/// are handled separately ([`zygote_filter`]).
fn denied() -> Vec<libc::c_long> {
    let mut v = vec![
        // Networking.
        libc::SYS_socket,
        libc::SYS_socketpair,
        libc::SYS_connect,
        libc::SYS_bind,
        libc::SYS_listen,
        libc::SYS_accept,
        libc::SYS_accept4,
        // Other processes.
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_kcmp,
        libc::SYS_pidfd_open,
        libc::SYS_pidfd_getfd,
        libc::SYS_pidfd_send_signal,
        // Mounts and namespaces.
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_setns,
        libc::SYS_open_tree,
        libc::SYS_move_mount,
        libc::SYS_fsopen,
        libc::SYS_fsconfig,
        libc::SYS_fsmount,
        libc::SYS_fspick,
        libc::SYS_mount_setattr,
        // Kernel attack surface.
        libc::SYS_bpf,
        libc::SYS_perf_event_open,
        libc::SYS_userfaultfd,
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_personality,
        libc::SYS_name_to_handle_at,
        libc::SYS_open_by_handle_at,
        libc::SYS_fanotify_init,
        // Host administration.
        libc::SYS_kexec_load,
        libc::SYS_kexec_file_load,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_reboot,
        libc::SYS_swapon,
        libc::SYS_swapoff,
        libc::SYS_acct,
        libc::SYS_quotactl,
        libc::SYS_settimeofday,
        libc::SYS_clock_settime,
        libc::SYS_clock_adjtime,
        libc::SYS_adjtimex,
        libc::SYS_sethostname,
        libc::SYS_setdomainname,
        libc::SYS_syslog,
        libc::SYS_vhangup,
    ];
    #[cfg(target_arch = "x86_64")]
    v.extend([
        libc::SYS_fork,
        libc::SYS_vfork,
        libc::SYS_iopl,
        libc::SYS_ioperm,
        libc::SYS_uselib,
    ]);
    v
}

/// The flags of the one `unshare` a worker makes for its private `/tmp`.
const PRIVATE_TMP_UNSHARE: u32 = 0x1000_0000 | 0x0002_0000; // CLONE_NEWUSER | CLONE_NEWNS

/// The arch check every filter starts with; leaves the syscall number loaded.
fn prologue() -> Vec<Insn> {
    let mut p = vec![
        stmt(BPF_LD_W_ABS, OFF_ARCH),
        jump(BPF_JMP_JEQ_K, AUDIT_ARCH, 1, 0),
        stmt(BPF_RET_K, RET_KILL_PROCESS),
        stmt(BPF_LD_W_ABS, OFF_NR),
    ];
    #[cfg(target_arch = "x86_64")]
    p.extend([
        // x32 ABI: any number with bit 30 set.
        jump(BPF_JMP_JGE_K, 0x4000_0000, 0, 1),
        stmt(BPF_RET_K, RET_ERRNO | libc::ENOSYS as u32),
    ]);
    p
}

/// `nr` fails with `ret`.
fn deny(p: &mut Vec<Insn>, nr: libc::c_long, ret: u32) {
    p.push(jump(BPF_JMP_JEQ_K, nr as u32, 0, 1));
    p.push(stmt(BPF_RET_K, ret));
}

/// The first filter (see the module docs): the zygote's, inherited by every
/// worker. `private_tmp`: workers mount their own `/tmp` (bubblewrap).
pub(crate) fn zygote_filter(private_tmp: bool) -> Vec<Insn> {
    let eperm = RET_ERRNO | libc::EPERM as u32;
    let enosys = RET_ERRNO | libc::ENOSYS as u32;
    let mut p = prologue();
    deny(&mut p, libc::SYS_clone3, enosys);
    p.extend([
        // clone: no namespace flags (threads and plain forks pass).
        jump(BPF_JMP_JEQ_K, libc::SYS_clone as u32, 0, 4),
        stmt(BPF_LD_W_ABS, OFF_ARG0_LO),
        jump(BPF_JMP_JSET_K, CLONE_NS_MASK, 0, 1),
        stmt(BPF_RET_K, eperm),
        stmt(BPF_RET_K, RET_ALLOW),
    ]);
    if private_tmp {
        p.extend([
            // unshare: exactly a user + mount namespace.
            jump(BPF_JMP_JEQ_K, libc::SYS_unshare as u32, 0, 4),
            stmt(BPF_LD_W_ABS, OFF_ARG0_LO),
            jump(BPF_JMP_JEQ_K, PRIVATE_TMP_UNSHARE, 0, 1),
            stmt(BPF_RET_K, RET_ALLOW),
            stmt(BPF_RET_K, eperm),
        ]);
    } else {
        deny(&mut p, libc::SYS_unshare, eperm);
        deny(&mut p, libc::SYS_mount, eperm);
    }
    for nr in denied() {
        deny(&mut p, nr, eperm);
    }
    p.push(stmt(BPF_RET_K, RET_ALLOW));
    p
}

/// The third filter (see the module docs): what environment code must never
/// do that the zygote may.
pub(crate) fn module_filter() -> Vec<Insn> {
    let eperm = RET_ERRNO | libc::EPERM as u32;
    let mut p = prologue();
    deny(&mut p, libc::SYS_clone3, RET_ERRNO | libc::ENOSYS as u32);
    p.extend([
        // clone: threads only.
        jump(BPF_JMP_JEQ_K, libc::SYS_clone as u32, 0, 4),
        stmt(BPF_LD_W_ABS, OFF_ARG0_LO),
        jump(BPF_JMP_JSET_K, CLONE_THREAD, 1, 0),
        stmt(BPF_RET_K, eperm),
        stmt(BPF_RET_K, RET_ALLOW),
    ]);
    let mut nrs = vec![
        libc::SYS_unshare,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_setns,
        libc::SYS_execve,
        libc::SYS_execveat,
    ];
    #[cfg(target_arch = "x86_64")]
    nrs.extend([libc::SYS_fork, libc::SYS_vfork]);
    for nr in nrs {
        deny(&mut p, nr, eperm);
    }
    p.push(stmt(BPF_RET_K, RET_ALLOW));
    p
}

/// The second filter (see the module docs): the zygote installs it on
/// itself before it forks anything; `execve` and `execveat` fail.
pub(crate) fn exec_filter() -> Vec<Insn> {
    let eperm = RET_ERRNO | libc::EPERM as u32;
    let mut p = prologue();
    deny(&mut p, libc::SYS_execve, eperm);
    deny(&mut p, libc::SYS_execveat, eperm);
    p.push(stmt(BPF_RET_K, RET_ALLOW));
    p
}

/// A filter as hex text (how the harness receives it).
pub(crate) fn to_hex(p: &[Insn]) -> String {
    to_bytes(p).iter().map(|b| format!("{b:02x}")).collect()
}

/// The filter as `struct sock_filter` values, for `PR_SET_SECCOMP`.
pub(crate) fn to_sock_filters(p: &[Insn]) -> Vec<libc::sock_filter> {
    p.iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect()
}

/// The filter in the binary form `bwrap --seccomp FD` reads.
pub(crate) fn to_bytes(p: &[Insn]) -> Vec<u8> {
    let mut out = Vec::with_capacity(p.len() * 8);
    for i in p {
        out.extend_from_slice(&i.code.to_ne_bytes());
        out.push(i.jt);
        out.push(i.jf);
        out.extend_from_slice(&i.k.to_ne_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Interpret the filter for one syscall, as the kernel would.
    fn run(p: &[Insn], arch: u32, nr: u32, arg0: u32) -> u32 {
        let mut acc = 0u32;
        let mut pc = 0usize;
        loop {
            let i = p[pc];
            match i.code {
                BPF_LD_W_ABS => {
                    acc = match i.k {
                        OFF_NR => nr,
                        OFF_ARCH => arch,
                        OFF_ARG0_LO => arg0,
                        k => panic!("unexpected load offset {k}"),
                    };
                    pc += 1;
                }
                BPF_RET_K => return i.k,
                code => {
                    let taken = match code {
                        BPF_JMP_JEQ_K => acc == i.k,
                        BPF_JMP_JGE_K => acc >= i.k,
                        BPF_JMP_JSET_K => acc & i.k != 0,
                        c => panic!("unexpected opcode {c:#x}"),
                    };
                    pc += 1 + usize::from(if taken { i.jt } else { i.jf });
                }
            }
        }
    }

    const EPERM: u32 = RET_ERRNO | libc::EPERM as u32;
    const ENOSYS: u32 = RET_ERRNO | libc::ENOSYS as u32;

    fn sys(n: libc::c_long) -> u32 {
        n as u32
    }

    /// The combined verdict of stacked filters: the strictest wins (KILL
    /// below ERRNO below ALLOW in the kernel's precedence).
    fn stacked(filters: &[Vec<Insn>], nr: libc::c_long, arg0: u32) -> u32 {
        filters
            .iter()
            .map(|p| run(p, AUDIT_ARCH, sys(nr), arg0))
            .min_by_key(|&v| match v & 0xffff_0000 {
                RET_KILL_PROCESS => 0,
                RET_ERRNO => 1,
                _ => 2,
            })
            .unwrap()
    }

    const THREAD: u32 = 0x003d_0f00;
    const FORK: u32 = 0x0120_0011; // CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD

    #[test]
    fn the_zygote_filter_allows_forks_but_no_escape() {
        for private_tmp in [false, true] {
            let p = zygote_filter(private_tmp);
            assert!(p.len() < 4096);
            assert_eq!(run(&p, AUDIT_ARCH, sys(libc::SYS_read), 0), RET_ALLOW);
            assert_eq!(run(&p, AUDIT_ARCH, sys(libc::SYS_execve), 0), RET_ALLOW);
            assert_eq!(run(&p, AUDIT_ARCH, sys(libc::SYS_socket), 2), EPERM);
            assert_eq!(run(&p, AUDIT_ARCH, sys(libc::SYS_ptrace), 0), EPERM);
            assert_eq!(
                run(&p, 0x4000_0003, sys(libc::SYS_read), 0),
                RET_KILL_PROCESS
            );
            assert_eq!(run(&p, AUDIT_ARCH, sys(libc::SYS_clone), THREAD), RET_ALLOW);
            assert_eq!(run(&p, AUDIT_ARCH, sys(libc::SYS_clone), FORK), RET_ALLOW);
            assert_eq!(
                run(&p, AUDIT_ARCH, sys(libc::SYS_clone), FORK | 0x4000_0000),
                EPERM
            );
            assert_eq!(run(&p, AUDIT_ARCH, sys(libc::SYS_clone3), 0), ENOSYS);
            // Only the private /tmp's exact unshare, and only with it.
            let unshare = run(&p, AUDIT_ARCH, sys(libc::SYS_unshare), PRIVATE_TMP_UNSHARE);
            assert_eq!(unshare == RET_ALLOW, private_tmp);
            let mount = run(&p, AUDIT_ARCH, sys(libc::SYS_mount), 0);
            assert_eq!(mount == RET_ALLOW, private_tmp);
            assert_eq!(
                run(&p, AUDIT_ARCH, sys(libc::SYS_unshare), 0x4000_0000),
                EPERM
            );
            assert_eq!(
                run(
                    &p,
                    AUDIT_ARCH,
                    sys(libc::SYS_unshare),
                    PRIVATE_TMP_UNSHARE | 0x4000_0000
                ),
                EPERM
            );
            #[cfg(target_arch = "x86_64")]
            {
                assert_eq!(run(&p, AUDIT_ARCH, sys(libc::SYS_fork), 0), EPERM);
                assert_eq!(
                    run(&p, AUDIT_ARCH, 0x4000_0000 | sys(libc::SYS_socket), 0),
                    ENOSYS
                );
            }
        }
        assert_eq!(
            to_bytes(&zygote_filter(true)).len(),
            zygote_filter(true).len() * 8
        );
    }

    #[test]
    fn environment_code_runs_under_all_three_filters() {
        let all = [zygote_filter(true), exec_filter(), module_filter()];
        assert_eq!(stacked(&all, libc::SYS_read, 0), RET_ALLOW);
        assert_eq!(stacked(&all, libc::SYS_clone, THREAD), RET_ALLOW);
        for (nr, arg0) in [
            (libc::SYS_clone, FORK),
            (libc::SYS_unshare, PRIVATE_TMP_UNSHARE),
            (libc::SYS_mount, 0),
            (libc::SYS_umount2, 0),
            (libc::SYS_setns, 0),
            (libc::SYS_execve, 0),
            (libc::SYS_execveat, 0),
            (libc::SYS_socket, 1),
            (libc::SYS_ptrace, 0),
        ] {
            assert_eq!(stacked(&all, nr, arg0), EPERM, "syscall {nr}");
        }
        assert_eq!(stacked(&all, libc::SYS_clone3, 0), ENOSYS);
        // The zygote itself (first two filters) forks but never execs.
        let zygote = [zygote_filter(true), exec_filter()];
        assert_eq!(stacked(&zygote, libc::SYS_clone, FORK), RET_ALLOW);
        assert_eq!(stacked(&zygote, libc::SYS_execve, 0), EPERM);
    }
}
