//! The seccomp-bpf filter, assembled by hand.
//!
//! A deny-list: environment code is ordinary Python and needs most syscalls,
//! so the filter denies the families that let code escape or reach out —
//! process creation (`fork`, `vfork`, `clone` without `CLONE_THREAD` or with
//! namespace flags, `clone3`), sockets, tracing and cross-process memory,
//! mounts and namespaces, bpf, perf, keyrings, io_uring (which can bypass
//! seccomp for socket operations), module loading, clocks and reboot.
//! Denied calls fail with `EPERM` (`ENOSYS` for `clone3`, so glibc falls back
//! to `clone` for threads), which Python reports as a precise exception.
//!
//! Invariants: a foreign architecture is killed outright, and on x86_64 every
//! x32-ABI syscall number (bit 30 set) is denied, so the deny-list cannot be
//! bypassed through an alternative syscall table. `execve` must stay allowed
//! in this filter, which is installed before the interpreter is exec'd; the
//! harness installs [`exec_filter`] (denying `execve`/`execveat`) on itself
//! before any environment code runs.

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

/// Syscalls denied with `EPERM`.
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
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_unshare,
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

/// Assemble the filter.
pub(crate) fn filter() -> Vec<Insn> {
    let eperm = RET_ERRNO | libc::EPERM as u32;
    let enosys = RET_ERRNO | libc::ENOSYS as u32;
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
        stmt(BPF_RET_K, enosys),
    ]);
    p.extend([
        jump(BPF_JMP_JEQ_K, libc::SYS_clone3 as u32, 0, 1),
        stmt(BPF_RET_K, enosys),
        // clone: threads only, and no namespace flags.
        jump(BPF_JMP_JEQ_K, libc::SYS_clone as u32, 0, 5),
        stmt(BPF_LD_W_ABS, OFF_ARG0_LO),
        jump(BPF_JMP_JSET_K, CLONE_NS_MASK, 2, 0),
        jump(BPF_JMP_JSET_K, CLONE_THREAD, 0, 1),
        stmt(BPF_RET_K, RET_ALLOW),
        stmt(BPF_RET_K, eperm),
    ]);
    for nr in denied() {
        p.push(jump(BPF_JMP_JEQ_K, nr as u32, 0, 1));
        p.push(stmt(BPF_RET_K, eperm));
    }
    p.push(stmt(BPF_RET_K, RET_ALLOW));
    p
}

/// The second-stage filter the harness installs on itself before it loads
/// any environment code: `execve` and `execveat` fail with `EPERM`. (The
/// first-stage filter must allow them, because it is installed before the
/// interpreter is exec'd.)
pub(crate) fn exec_filter() -> Vec<Insn> {
    let eperm = RET_ERRNO | libc::EPERM as u32;
    vec![
        stmt(BPF_LD_W_ABS, OFF_ARCH),
        jump(BPF_JMP_JEQ_K, AUDIT_ARCH, 1, 0),
        stmt(BPF_RET_K, RET_KILL_PROCESS),
        stmt(BPF_LD_W_ABS, OFF_NR),
        jump(BPF_JMP_JEQ_K, libc::SYS_execve as u32, 1, 0),
        jump(BPF_JMP_JEQ_K, libc::SYS_execveat as u32, 0, 1),
        stmt(BPF_RET_K, eperm),
        stmt(BPF_RET_K, RET_ALLOW),
    ]
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

    #[test]
    fn filter_semantics() {
        let p = filter();
        assert!(p.len() < 4096);
        let eperm = RET_ERRNO | libc::EPERM as u32;
        let sys = |n: libc::c_long| n as u32;
        assert_eq!(run(&p, AUDIT_ARCH, sys(libc::SYS_read), 0), RET_ALLOW);
        assert_eq!(run(&p, AUDIT_ARCH, sys(libc::SYS_execve), 0), RET_ALLOW);
        assert_eq!(run(&p, AUDIT_ARCH, sys(libc::SYS_socket), 2), eperm);
        assert_eq!(run(&p, AUDIT_ARCH, sys(libc::SYS_unshare), 0), eperm);
        assert_eq!(
            run(&p, 0x4000_0003, sys(libc::SYS_read), 0),
            RET_KILL_PROCESS
        );
        let thread = 0x003d_0f00;
        assert_eq!(run(&p, AUDIT_ARCH, sys(libc::SYS_clone), thread), RET_ALLOW);
        assert_eq!(run(&p, AUDIT_ARCH, sys(libc::SYS_clone), 0x11), eperm);
        assert_eq!(
            run(&p, AUDIT_ARCH, sys(libc::SYS_clone), thread | 0x4000_0000),
            eperm
        );
        assert_eq!(
            run(&p, AUDIT_ARCH, sys(libc::SYS_clone3), 0),
            RET_ERRNO | libc::ENOSYS as u32
        );
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(run(&p, AUDIT_ARCH, sys(libc::SYS_fork), 0), eperm);
            assert_eq!(
                run(&p, AUDIT_ARCH, 0x4000_0000 | sys(libc::SYS_socket), 0),
                RET_ERRNO | libc::ENOSYS as u32
            );
        }
        assert_eq!(to_bytes(&p).len(), p.len() * 8);

        let x = exec_filter();
        assert_eq!(run(&x, AUDIT_ARCH, sys(libc::SYS_execve), 0), eperm);
        assert_eq!(run(&x, AUDIT_ARCH, sys(libc::SYS_execveat), 0), eperm);
        assert_eq!(run(&x, AUDIT_ARCH, sys(libc::SYS_read), 0), RET_ALLOW);
    }
}
