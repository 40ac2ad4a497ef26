# resyn sandbox harness: the zygote and the module workers it forks.
#
# Process model. The sandbox (bubblewrap, or the direct backend) starts one
# interpreter running this file: the zygote. It imports the harness and the
# common standard-library modules once and never runs environment code (it
# never even receives any). For each worker, the host sends it a request over
# its control socket (fd 3, SOCK_SEQPACKET, private to the host and the
# zygote) with the worker's own socket attached (SCM_RIGHTS). The zygote
# forks; the child -- always forked from the pristine zygote, never from
# another worker -- drops the control socket, applies the per-module layers
# (`_isolate`: a private /tmp, its own Landlock domain, not dumpable, a
# seccomp filter denying process creation, exec, mounts and namespaces) and
# only then serves requests for one module over its socket (fds 3 and 4).
#
# Worker protocol: frames of a 4-byte little-endian length and UTF-8 JSON,
# requests read from fd 3, replies written to fd 4. Nothing else is a channel:
# fds 0/1/2 are /dev/null and sys.stdout/sys.stderr are capped in-memory
# buffers whose contents travel inside replies.
#
# This file is trusted; the module a worker loads is not. A module that
# tampers with this harness (or builtins, json, random, ...) changes only its
# own process, which the host kills when it misbehaves; the zygote and every
# other worker keep their own pristine copies.

import os
import sys


def _boot():
    # fds 0-2 -> /dev/null, except stderr, which stays the host's start-up
    # log until the zygote is ready; close everything but the control socket.
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1):
        if null != fd:
            os.dup2(null, fd)
    if null > 2:
        os.close(null)
    os.closerange(4, 1 << 16)


_boot()

import binascii  # noqa: E402
import ctypes  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import linecache  # noqa: E402
import marshal  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import struct  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import types  # noqa: E402

# Standard-library modules environments commonly import: imported once in
# the zygote, so a worker's module load does not repeat it (workers get
# copy-on-write pages). A module may change its copy; no one else sees it.
# The host may ask for fewer (those its modules import): every page of the
# zygote makes each fork and each worker's exit dearer.
_PRELOAD = (
    "bisect", "collections", "copy", "dataclasses", "datetime", "decimal", "enum",
    "fractions", "functools", "hashlib", "heapq", "itertools", "operator", "re",
    "statistics", "string", "textwrap", "typing", "unicodedata",
)

_LIBC = ctypes.CDLL(None, use_errno=True)
# Resolved once here: a worker calling them allocates nothing new (its pages
# stay shared with the zygote's).
for _fn in ("prctl", "syscall", "unshare", "mount", "capset", "malloc_trim"):
    getattr(_LIBC, _fn)
_R, _W = 3, 4
_HDR = struct.Struct("<I")
_MAX_FRAME = 1 << 30
_TB_CAP = 8192
_MSG_CAP = 2048
_ALLOWED_KEYS = ("prompt", "data", "reference")


# ---------------------------------------------------------------- framing

def _read_exact(n):
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(_R, min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def _recv():
    (n,) = _HDR.unpack(_read_exact(4))
    if n > _MAX_FRAME:
        raise EOFError
    return json.loads(_read_exact(n))


def _send(payload):
    data = _HDR.pack(len(payload)) + payload
    view = memoryview(data)
    while view:
        k = os.write(_W, view)
        view = view[k:]


# ---------------------------------------------------------------- capture

class _Capture:
    """A text stream keeping at most `cap` characters; the rest is counted."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, cap):
        self.cap = cap
        self.parts = []
        self.kept = 0
        self.dropped = 0

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not %s" % type(s).__name__)
        room = self.cap - self.kept
        if room > 0:
            piece = s[:room]
            self.parts.append(piece)
            self.kept += len(piece)
            self.dropped += len(s) - len(piece)
        else:
            self.dropped += len(s)
        return len(s)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def fileno(self):
        raise OSError("captured stream has no file descriptor")

    def take(self):
        text = "".join(self.parts)
        if self.dropped:
            text += "\n[... %d more characters dropped]" % self.dropped
        self.parts, self.kept, self.dropped = [], 0, 0
        return text.encode("utf-8", "replace").decode("utf-8")


# ---------------------------------------------------------------- errors

class _Bad(Exception):
    """The environment returned a value of the wrong shape."""


def _clean(s, cap):
    s = str(s).encode("utf-8", "replace").decode("utf-8")
    if len(s) > cap:
        s = "[... %d characters cut]\n" % (len(s) - cap) + s[-cap:]
    return s


def _kind(e):
    if isinstance(e, MemoryError):
        return "memory"
    if isinstance(e, (SystemExit, KeyboardInterrupt, GeneratorExit)):
        return "exit"
    if isinstance(e, _Bad):
        return "bad_return"
    if isinstance(e, PermissionError):
        return "forbidden"
    if isinstance(e, OSError) and e.errno in (1, 13, 30, 38):  # EPERM EACCES EROFS ENOSYS
        return "forbidden"
    if type(e).__name__ in ("gaierror", "herror"):
        return "forbidden"
    return "exception"


def _error(e, func, skip=1):
    kind = _kind(e)
    tb = e.__traceback__
    for _ in range(skip):
        if tb is not None:
            tb = tb.tb_next
    try:
        text = "".join(traceback.format_exception(type(e), e, tb))
    except BaseException:  # a hostile __str__ must not take the harness down
        text = "%s (traceback unavailable)\n" % type(e).__name__
    try:
        message = str(e)
    except BaseException:
        message = "<unprintable %s>" % type(e).__name__
    if isinstance(e, SystemExit):
        message = "sys.exit(%r) called" % (e.code,)
    return {
        "kind": kind,
        "func": func,
        "type": _clean(type(e).__name__, 200),
        "message": _clean(message, _MSG_CAP),
        "traceback": _clean(text, _TB_CAP) if kind != "bad_return" else "",
    }


def _err_frag(e, func, skip=1):
    return json.dumps({"error": _error(e, func, skip)})


# ---------------------------------------------------------------- values

def _check_json(x, path, depth=0):
    if depth > 64:
        raise _Bad("%s is nested more than 64 levels deep" % path)
    t = type(x)
    if x is None or t is bool or t is str:
        return
    if t is int:
        if not -(1 << 63) <= x < (1 << 64):
            raise _Bad("%s: integer %d does not fit in 64 bits (store it as a string)" % (path, x))
        return
    if t is float:
        if not math.isfinite(x):
            raise _Bad("%s: %r is not a finite number" % (path, x))
        return
    if t is list or t is tuple:
        for i, v in enumerate(x):
            _check_json(v, "%s[%d]" % (path, i), depth + 1)
        return
    if t is dict:
        for k, v in x.items():
            if type(k) is not str:
                raise _Bad("%s: dict key %r is a %s; keys must be str"
                           % (path, k, type(k).__name__))
            _check_json(v, "%s[%r]" % (path, k), depth + 1)
        return
    raise _Bad("%s: a value of type %s is not JSON data "
               "(use dict, list, str, int, float, bool, None)" % (path, t.__name__))


def _reward_frag(r):
    t = type(r)
    if t is bool:
        return "1.0" if r else "0.0"
    if isinstance(r, (int, float)) and not isinstance(r, bool):
        try:
            f = float(r)
        except OverflowError:
            raise _Bad("verify() returned %d, not a reward in [0, 1]" % r) from None
        if not math.isfinite(f):
            raise _Bad("verify() returned %r, not a finite reward in [0, 1]" % f)
        return float.__repr__(f)
    raise _Bad("verify() must return a float or bool reward in [0, 1], got %s %s"
               % (t.__name__, _clean(repr(r), 200)))


def _copy(x):
    t = type(x)
    if t is dict:
        return {k: _copy(v) for k, v in x.items()}
    if t is list:
        return [_copy(v) for v in x]
    return x


# ---------------------------------------------------------------- state

class _State:
    mod = None
    out = None
    err = None
    flush_s = 0.01
    max_item = 1 << 22


def _reply(rid, frags, end, extra=None):
    head = '{"id":%d,"end":%s' % (rid, "true" if end else "false")
    if end:
        usage = _rusage()
        tail = {"out": _State.out.take(), "err": _State.err.take(), "cpu": usage}
        if extra:
            tail.update(extra)
        head += "," + json.dumps(tail, ensure_ascii=True)[1:-1]
    body = (head + ',"items":[').encode("ascii") + b",".join(frags) + b"]}"
    _send(body)


def _rusage():
    # This process's CPU seconds (user + system, as RUSAGE_SELF) without
    # building a struct for every reply.
    return time.process_time()


def _run_items(rid, items, one, flush_each=False):
    """Run `one(item) -> bytes` over items, flushing every flush_s seconds
    (after every item with flush_each)."""
    frags = []
    last = time.monotonic()
    flush_s = -1.0 if flush_each else _State.flush_s
    for item in items:
        frags.append(one(item))
        now = time.monotonic()
        if now - last >= flush_s:
            _reply(rid, frags, False)
            frags = []
            last = now
    _reply(rid, frags, True)


# ---------------------------------------------------------------- operations

def _instance_for(prompt, data_json, difficulty, seed):
    return {"prompt": prompt, "data": json.loads(data_json), "difficulty": difficulty, "seed": seed}


def _call_solve(inst):
    try:
        sol = _State.mod.solve(inst)
    except BaseException as e:
        return None, _error(e, "solve")
    if type(sol) is not str:
        return None, {"kind": "bad_return", "func": "solve", "type": type(sol).__name__,
                      "message": "solve() must return the answer text (str), got %s %s"
                      % (type(sol).__name__, _clean(repr(sol), 200)), "traceback": ""}
    return sol, None


def _gen_one(item, want_solution):
    rngseed, seed, difficulty = item
    mod = _State.mod
    rng = random.Random(rngseed)
    random.seed(rngseed)
    try:
        res = mod.generate(rng, difficulty)
    except BaseException as e:
        return _err_frag(e, "generate").encode("ascii")
    try:
        if type(res) is not dict:
            raise _Bad("generate() must return a dict with keys prompt, data and optionally "
                       "reference; got %s" % type(res).__name__)
        extra = [k for k in res if k not in _ALLOWED_KEYS]
        if extra:
            raise _Bad("generate() returned unknown key(s) %s; allowed: prompt, data, reference"
                       % ", ".join(repr(k) for k in extra))
        prompt = res.get("prompt")
        if type(prompt) is not str or not prompt.strip():
            raise _Bad("generate()['prompt'] must be a non-empty str, got %s"
                       % type(prompt).__name__)
        if "data" not in res:
            raise _Bad("generate() must return a 'data' entry (JSON data for the verifier)")
        data = res["data"]
        _check_json(data, "data")
        reference = res.get("reference")
        if reference is not None and type(reference) is not str:
            raise _Bad("generate()['reference'] must be a str (the answer text), got %s"
                       % type(reference).__name__)
        prompt = prompt.rstrip()
        data_json = json.dumps(data, ensure_ascii=False, allow_nan=False, sort_keys=True)
    except BaseException as e:
        return _err_frag(e, "generate").encode("ascii")
    has_solve = callable(getattr(mod, "solve", None))
    solution = None
    if reference is None or want_solution:
        if not has_solve:
            if reference is None:
                return _err_frag(_Bad("generate() returned no 'reference' and the module "
                                      "defines no solve(instance)"), "generate").encode("ascii")
        else:
            solution, err = _call_solve(_instance_for(prompt, data_json, difficulty, seed))
            if err is not None:
                return json.dumps({"error": err}).encode("ascii")
            if reference is None:
                reference = solution
    try:
        frag = '{"prompt":%s,"data":%s,"reference":%s,"solution":%s}' % (
            json.dumps(prompt, ensure_ascii=False), data_json,
            json.dumps(reference, ensure_ascii=False), json.dumps(solution, ensure_ascii=False))
        out = frag.encode("utf-8")
    except UnicodeEncodeError:
        return _err_frag(_Bad("generate() returned text with unpaired surrogate characters"),
                         "generate").encode("ascii")
    if len(out) > _State.max_item:
        return _err_frag(_Bad("the generated instance is %d bytes of JSON, over the %d-byte limit"
                              % (len(out), _State.max_item)), "generate").encode("ascii")
    return out


def _op_generate(req):
    want = bool(req.get("solve"))
    _run_items(req["id"], req["items"], lambda item: _gen_one(item, want), req.get("flush_each"))


def _op_verify(req):
    instances = req["instances"]
    uses = [0] * len(instances)
    for idx, _ in req["items"]:
        uses[idx] += 1
    verify = _State.mod.verify

    def one(item):
        idx, answer = item
        inst = instances[idx]
        if uses[idx] > 1:
            # Shared by several items: each call gets its own copy, so a
            # verifier that mutates its instance cannot affect the others.
            inst = _copy(inst)
        try:
            return _reward_frag(verify(inst, answer)).encode("ascii")
        except BaseException as e:
            return _err_frag(e, "verify").encode("ascii")

    _run_items(req["id"], req["items"], one, req.get("flush_each"))


def _op_solve(req):
    def one(inst):
        sol, err = _call_solve(inst)
        if err is not None:
            return json.dumps({"error": err}).encode("ascii")
        try:
            return json.dumps(sol, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return _err_frag(_Bad("solve() returned text with unpaired surrogate characters"),
                             "solve").encode("ascii")

    _run_items(req["id"], req["instances"], one, req.get("flush_each"))


# ---------------------------------------------------------------- loading

def _code(init):
    """The module's code object and how it was obtained: "hit" (the cached
    code the host sent), "rejected" (the cached code was unusable, so the
    source was compiled) or "compiled" (nothing was sent)."""
    source, filename = init["source"], init["filename"]
    how = "compiled"
    if init.get("code") is not None:
        how = "rejected"
        try:
            code = marshal.loads(binascii.a2b_base64(init["code"]))
            if type(code) is types.CodeType and code.co_filename == filename:
                return code, "hit"
        except Exception:
            pass
    return compile(source, filename, "exec", dont_inherit=True), how


def _load(code, source, filename):
    # A fixed name: a module called e.g. random.py must not shadow the stdlib.
    name = "resyn_env"
    lines = source.splitlines(True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    mod = types.ModuleType(name)
    mod.__file__ = filename
    sys.modules[name] = mod
    exec(code, mod.__dict__)
    problems = []
    meta = {}
    for key in ("NAME", "CATEGORY", "DESCRIPTION"):
        v = getattr(mod, key, None)
        if type(v) is not str or not v.strip():
            problems.append("%s must be a non-empty str (got %s)" % (key, type(v).__name__))
        else:
            meta[key.lower()] = _clean(v.strip(), 1 << 16)
    version = getattr(mod, "VERSION", 1)
    if type(version) is not int or not 1 <= version < (1 << 32):
        problems.append("VERSION must be an int from 1 to 2**32-1 (got %r)" % (version,))
    meta["version"] = version
    for fn, arity in (("generate", 2), ("verify", 2)):
        if not callable(getattr(mod, fn, None)):
            problems.append("the module defines no %s() function (%d arguments)" % (fn, arity))
    solve = getattr(mod, "solve", None)
    if solve is not None and not callable(solve):
        problems.append("solve is defined but not callable")
    meta["has_solve"] = callable(solve)
    if problems:
        raise _Bad("; ".join(problems))
    _State.mod = mod
    return meta


# ---------------------------------------------------------------- hardening

def _errno():
    return ctypes.get_errno()


class _FProg(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


def _filter(hexprog):
    """A seccomp program, ready to install (the buffer kept alive with it)."""
    prog = bytes.fromhex(hexprog)
    buf = ctypes.create_string_buffer(prog, len(prog))
    fprog = _FProg(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
    return buf, fprog, ctypes.byref(fprog)


def _seccomp(prepared):
    """Install a prepared seccomp filter on this process (no_new_privs is
    already set by the sandbox). Filters stack: the strictest verdict of all
    wins."""
    # PR_SET_SECCOMP = 22, SECCOMP_MODE_FILTER = 2
    if _LIBC.prctl(22, 2, prepared[2], 0, 0) != 0:
        return "failed: errno %d" % _errno()
    return "installed"


def _write_proc(path, text):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode("ascii"))
    finally:
        os.close(fd)


def _private_tmp(size):
    """A tmpfs of its own at /tmp (bubblewrap backend): a new user namespace
    (mapping only this uid) owning a new mount namespace, in which a fresh
    size-capped tmpfs covers the zygote's. No other worker's files are
    visible or reachable, and each worker's /tmp has its own size cap."""
    uid, gid = os.getuid(), os.getgid()
    # CLONE_NEWUSER | CLONE_NEWNS
    if _LIBC.unshare(0x10000000 | 0x00020000) != 0:
        return "failed: unshare errno %d" % _errno()
    try:
        _write_proc("/proc/self/setgroups", "deny")
        _write_proc("/proc/self/uid_map", "%d %d 1" % (uid, uid))
        _write_proc("/proc/self/gid_map", "%d %d 1" % (gid, gid))
    except OSError as e:
        return "failed: id maps errno %d" % e.errno
    opts = ("size=%d,mode=0700" % size).encode("ascii")
    # MS_NOSUID | MS_NODEV
    if _LIBC.mount(b"tmpfs", b"/tmp", b"tmpfs", 2 | 4, opts) != 0:
        return "failed: mount errno %d" % _errno()
    return "private tmpfs at /tmp"


# Argument objects made once: in a forked worker, every ctypes object made
# touches (and so copies) pages of the zygote's ctypes machinery.
_NO_CAPS = (_CapHeader(0x20080522, 0), (ctypes.c_uint32 * 6)())
_NO_CAPS = (ctypes.byref(_NO_CAPS[0]), _NO_CAPS[1], _NO_CAPS)


def _drop_caps():
    """No capabilities (a new user namespace grants a full set in it)."""
    if _LIBC.capset(_NO_CAPS[0], _NO_CAPS[1]) != 0:
        return "failed: capset errno %d" % _errno()
    return "dropped"


_LL_CREATE, _LL_ADD_RULE, _LL_RESTRICT = 444, 445, 446  # same on x86_64 and aarch64
_READ_FILE, _READ_DIR = 1 << 2, 1 << 3
_FILE_RIGHTS = (1 << 0) | (1 << 1) | _READ_FILE | (1 << 14)  # execute, write, read, truncate


def _landlock_plan(reads):
    """What every worker's Landlock ruleset holds, worked out once in the
    zygote: the ABI, the handled rights (attribute buffer) and the fixed
    rules (path, rights), `reads` given for the direct backend. None when
    the kernel has no Landlock."""
    abi = _LIBC.syscall(_LL_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        return {"abi": abi, "errno": _errno()}
    write = sum(1 << b for b in (1, 4, 5, 6, 7, 8, 9, 10, 11, 12))  # write, remove, make_*
    if abi >= 2:
        write |= 1 << 13  # refer
    if abi >= 3:
        write |= 1 << 14  # truncate
    read = (_READ_FILE | _READ_DIR) if reads is not None else 0
    fs = write | read
    net = 0b11 if abi >= 4 else 0  # bind_tcp, connect_tcp
    scoped = 0b11 if abi >= 6 else 0  # abstract unix sockets, signals
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    rules = [("/dev/null", (1 << 1) | (_READ_FILE if read else 0))]
    for p in reads or ():
        rules.append((p, read if os.path.isdir(p) else read & _FILE_RIGHTS))
    parts = ["fs writes only in the private directory"]
    if read:
        parts.append("reads only system paths and the private directory")
    if net:
        parts.append("no TCP bind/connect")
    if scoped:
        parts.append("signals and abstract sockets scoped")
    return {
        "abi": abi, "fs": fs, "rules": rules,
        "attr": ctypes.create_string_buffer(struct.pack("<QQQ", fs, net, scoped), 24),
        # The call arguments, made here once (see _NO_CAPS).
        "size": ctypes.c_size_t(size), "zero": ctypes.c_uint32(0), "beneath": ctypes.c_int(1),
        "rule": ctypes.create_string_buffer(12),
        "status": "enforced: ABI %d, %s" % (abi, ", ".join(parts)),
    }


def _landlock(scratch, plan):
    """Landlock, a domain of this worker's own (see `_landlock_plan`): no
    writes outside `scratch` (and /dev/null); for the direct backend no
    reads outside the system paths and `scratch`; no TCP bind/connect (ABI
    >= 4); no signals or abstract unix sockets beyond this domain (ABI >=
    6), so neither another worker nor the zygote can be signalled. Returns
    a status string."""
    if plan["abi"] < 1:
        return "unavailable: errno %d" % plan["errno"]
    zero, rule = plan["zero"], plan["rule"]
    fd = _LIBC.syscall(_LL_CREATE, plan["attr"], plan["size"], zero)
    if fd < 0:
        return "failed: create_ruleset errno %d" % _errno()
    try:
        for path, access in [(scratch, plan["fs"])] + plan["rules"]:
            try:
                pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError as e:
                if path == scratch:
                    return "failed: cannot open the private directory: errno %d" % e.errno
                continue
            try:
                struct.pack_into("<Qi", rule, 0, access, pfd)
                if _LIBC.syscall(_LL_ADD_RULE, fd, plan["beneath"], rule, zero) != 0:
                    return "failed: add_rule(%s) errno %d" % (path, _errno())
            finally:
                os.close(pfd)
        if _LIBC.syscall(_LL_RESTRICT, fd, zero) != 0:
            return "failed: restrict_self errno %d" % _errno()
    finally:
        os.close(fd)
    return plan["status"]


def _isolate(spec, scratch):
    """The per-module layers, applied in the forked worker before it reads
    its first request. Returns {layer: status}. With `spec["strict"]` (a
    zygote shared by many modules), a layer that fails ends the worker
    instead: it never serves with less isolation than the probe observed."""
    out = {}

    def step(name, ok, status):
        out[name] = status
        if not ok and spec.get("strict"):
            _send(json.dumps({"id": 0, "end": True, "hello": False, "items": [],
                              "error": "%s: %s" % (name, status)}).encode("ascii"))
            os._exit(70)

    if spec.get("tmp_bytes"):
        st = _private_tmp(spec["tmp_bytes"])
        step("private_tmp", not st.startswith("failed"), st)
        st = _drop_caps()
        step("capabilities", st == "dropped", st)
    os.chdir(scratch)
    os.environ["HOME"] = os.environ["TMPDIR"] = scratch
    if spec.get("landlock"):
        st = _landlock(scratch, spec["_landlock"])
        step("landlock", st.startswith("enforced"), st)
    # PR_SET_DUMPABLE = 4: others get no ptrace, /proc/<pid>/mem or environ.
    ok = _LIBC.prctl(4, 0, 0, 0, 0) == 0
    step("dumpable", ok, "not dumpable" if ok else "failed: errno %d" % _errno())
    st = _seccomp(spec["_module_filter"])
    step("module_filter", st == "installed", st)
    return out


# ---------------------------------------------------------------- probe

def _probe(hidden, scratch, shared, nonce):
    """Facts about this sandbox, observed from inside (before any module loads)."""
    facts = {"env": sorted(os.environ)}
    try:
        import resource
        facts["rlimits"] = {
            name: list(resource.getrlimit(getattr(resource, "RLIMIT_" + name)))
            for name in ("AS", "CPU", "FSIZE", "NOFILE", "CORE", "NPROC")
        }
    except Exception as e:
        facts["rlimits_error"] = repr(e)

    def read(path):
        try:
            with open(path) as f:
                return f.read()
        except Exception as e:
            return "!" + type(e).__name__

    facts["uid_map"] = read("/proc/self/uid_map").strip()
    facts["pid"] = os.getpid()
    try:
        facts["procs"] = sum(1 for p in os.listdir("/proc") if p.isdigit())
    except Exception:
        facts["procs"] = -1
    facts["net_dev"] = [
        line.split(":")[0].strip() for line in read("/proc/net/dev").splitlines()[2:]
    ]
    status = {}
    for line in read("/proc/self/status").splitlines():
        k, _, v = line.partition(":")
        if k in ("NoNewPrivs", "Seccomp", "CapEff", "CapBnd"):
            status[k] = v.strip()
    facts["status"] = status
    try:
        with open("/.resyn-probe", "w") as f:
            f.write("x")
        os.unlink("/.resyn-probe")
        facts["root_writable"] = True
    except OSError:
        facts["root_writable"] = False
    sc = {"path": scratch, "cwd": os.getcwd(), "HOME": os.environ.get("HOME"),
          "TMPDIR": os.environ.get("TMPDIR")}
    try:
        probe = os.path.join(scratch, ".resyn-probe")
        with open(probe, "w") as f:
            f.write("x")
        os.unlink(probe)
        sc["writable"] = True
    except OSError:
        sc["writable"] = False
    facts["scratch"] = sc
    # Left in place: the host looks whether they arrived, then removes them.
    writes = {}
    for d in shared:
        try:
            fd = os.open(os.path.join(d, nonce), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            writes[d] = "created"
        except OSError as e:
            writes[d] = "errno %d" % e.errno
    facts["shared_writes"] = writes
    facts["visible"] = [p for p in hidden if os.path.lexists(p)]
    facts["fds"] = sorted(int(f) for f in os.listdir("/proc/self/fd") if f.isdigit())
    try:
        os.execv("/nonexistent/resyn-probe", ["probe"])
    except OSError as e:
        facts["exec"] = "errno %d" % e.errno
    try:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        facts["fork"] = "allowed"
    except OSError as e:
        facts["fork"] = "errno %d" % e.errno
    for fam, label in ((socket.AF_INET, "inet"), (socket.AF_UNIX, "unix")):
        try:
            socket.socket(fam, socket.SOCK_STREAM).close()
            facts["socket_" + label] = "allowed"
        except OSError as e:
            facts["socket_" + label] = "errno %d" % e.errno
    return facts


def _attempt(action, *args):
    try:
        action(*args)
        return "allowed"
    except OSError as e:
        return "errno %d" % e.errno


def _probe_neighbours(siblings, nonce):
    """What this worker can do to the zygote and to another worker's files
    (paths the host prepared: another worker's directory, a file in it, the
    zygote's own /tmp)."""
    zygote = os.getppid()

    def read(p):
        if os.path.isdir(p):
            os.listdir(p)
        else:
            with open(p, "rb") as f:
                f.read(1)

    def write(p):
        target = os.path.join(p, nonce) if os.path.isdir(p) else p
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)

    def mem():
        with open("/proc/%d/mem" % zygote, "rb") as f:
            f.read(1)

    return {
        "signal_zygote": _attempt(lambda: os.kill(zygote, 0)),
        "zygote_mem": _attempt(mem),
        # PR_GET_DUMPABLE = 3
        "dumpable": _LIBC.prctl(3, 0, 0, 0, 0),
        "siblings": {p: {"visible": os.path.lexists(p), "read": _attempt(read, p),
                         "write": _attempt(write, p)} for p in siblings},
    }


# ---------------------------------------------------------------- worker

def _serve(layers, zygote):
    """A worker's life: hello, the init request (load the module, or probe),
    then requests until the host closes the socket."""
    sys.stdout = sys.__stdout__ = _State.out
    sys.stderr = sys.__stderr__ = _State.err
    _send(b'{"id":0,"end":true,"hello":true,"items":[]}')
    try:
        init = _recv()
    except EOFError:
        return
    rid = init["id"]
    _State.out.cap = _State.err.cap = int(init.get("out_cap", 4096))
    _State.flush_s = int(init.get("flush_ms", 10)) / 1000.0
    _State.max_item = int(init.get("max_item", 1 << 22))
    extra = {"ok": True, "python": sys.version.split()[0], "layers": layers}
    if init.get("probe") is not None:
        facts = _probe(init["probe"], os.getcwd(), init.get("shared", []),
                       init.get("nonce", ".resyn-probe"))
        facts.update(_probe_neighbours(init.get("siblings", []), init.get("nonce", ".resyn-probe")))
        facts["exec_filter"] = zygote.get("exec_filter", "not reported")
        facts["layers"] = layers
        facts["landlock"] = layers.get("landlock", "not requested")
        extra["probe"] = facts
    if init.get("source") is not None:
        try:
            code, how = _code(init)
            if how == "compiled" and init.get("want_code"):
                # For the host's code cache; sent before any of the module's
                # code runs, so the module cannot choose what is kept.
                _send(b'{"id":%d,"end":false,"items":[],"code":"%s"}'
                      % (rid, binascii.b2a_base64(marshal.dumps(code), newline=False)))
            if how != "compiled":
                extra["code_cache"] = how
            extra["meta"] = _load(code, init["source"], init["filename"])
            if how != "hit":
                # Hand the compiler's scratch memory back: hundreds of
                # workers stay resident.
                _LIBC.malloc_trim(0)
        except BaseException as e:
            err = _error(e, "load", skip=2)
            if isinstance(e, _Bad):
                err["kind"] = "api"
            elif isinstance(e, SyntaxError):
                err["kind"] = "syntax"
            elif isinstance(e, ImportError):
                err["kind"] = "import"
            failed = {"ok": False, "error": err}
            if "code_cache" in extra:
                failed["code_cache"] = extra["code_cache"]
            _reply(rid, [], True, failed)
            return
    _reply(rid, [], True, extra)
    ops = {"generate": _op_generate, "verify": _op_verify, "solve": _op_solve}
    while True:
        try:
            req = _recv()
        except EOFError:
            return
        ops[req["op"]](req)


def _worker(ctl, chan, spec, scratch, zygote):
    """In the forked child: become a worker. Never returns."""
    code = 0
    started = [False]
    try:
        # Die with the zygote (and check it did not die before this call).
        _LIBC.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != zygote["pid"]:
            os._exit(1)
        # The control socket is the zygote's alone: detach it without
        # closing (fd 3 becomes the worker's socket right away).
        ctl.detach()
        os.dup2(chan, 3)
        os.dup2(chan, 4)
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 2)
        os.close(null)
        os.closerange(5, 1 << 16)
        layers = _isolate(spec, scratch)
        started[0] = True
        _serve(layers, zygote)
    except BaseException as e:
        code = 1
        if not started[0]:
            # Before the hello: tell the host why this worker cannot start.
            try:
                _send(json.dumps({"id": 0, "end": True, "hello": False, "items": [],
                                  "error": _clean("".join(traceback.format_exception(e)), _TB_CAP)
                                  }).encode("ascii"))
            except BaseException:
                pass
    finally:
        os._exit(code)


# ---------------------------------------------------------------- zygote

def _wait_status(st):
    if os.WIFSIGNALED(st):
        return {"signal": os.WTERMSIG(st)}
    return {"exit": os.WEXITSTATUS(st) if os.WIFEXITED(st) else -1}


# A spawn request, the one made for every worker, is binary: b"S", the
# worker's id (u64 LE), strict (u8), then its private directory. Parsing JSON
# here would touch pages of the json module, and every page the zygote
# touches after a fork is copied again (its children share them).
_SPAWN = struct.Struct("<QB")


def _spawn(ctl, msg, fds, spec, info, children):
    """Fork a worker for a spawn request (see _SPAWN); the reply, as JSON bytes."""
    try:
        if len(fds) != 1:
            raise ValueError("spawn carries %d descriptors" % len(fds))
        if len(msg) < 1 + _SPAWN.size:
            raise ValueError("spawn request of %d bytes" % len(msg))
        cid, strict = _SPAWN.unpack_from(msg, 1)
        scratch = os.fsdecode(msg[1 + _SPAWN.size:]) or "/tmp"
        pid = os.fork()
        if pid == 0:
            _worker(ctl, fds[0], dict(spec, strict=bool(strict)), scratch, info)
        children[cid] = pid
        return b'{"pid":%d,"cpu":%r}' % (pid, _rusage())
    except Exception as e:
        return json.dumps({"error": "%s: %s" % (type(e).__name__, e), "cpu": _rusage()}).encode()
    finally:
        for fd in fds:
            os.close(fd)


def _zygote():
    """Serve the host's control requests: spawn (fork a worker; binary, see
    _SPAWN), poll (has it exited?), kill (SIGKILL and reap). Single-threaded,
    never blocks but in `recv`; runs no environment code."""
    sys.path[:] = [p for p in sys.path if p and os.path.isabs(p)]
    ctl = socket.socket(fileno=3)
    ctl.send(b'{"hello":true}')
    msg = ctl.recv(1 << 16)
    if not msg:
        return
    init = json.loads(msg)
    spec = init["child"]
    # Everything a worker's layers need that can be prepared once is
    # prepared here (workers share these pages, unchanged).
    spec["_module_filter"] = _filter(spec["module_filter"])
    spec["_landlock"] = _landlock_plan(spec.get("reads"))
    info = {"pid": os.getpid(), "exec_filter": _seccomp(_filter(init["exec_filter"]))}
    # The host may name fewer (what its modules import); never others.
    wanted = init.get("preload")
    for name in _PRELOAD if wanted is None else [n for n in _PRELOAD if n in wanted]:
        try:
            __import__(name)
        except ImportError:
            pass
    if init.get("marker"):
        with open(init["marker"], "w") as f:
            f.write("the zygote's own file; no worker may see it")
    # Start-up is over: stderr goes quiet (the host reads it only at start).
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 2)
    os.close(null)
    # Every worker's captured streams, made here once (see _serve).
    _State.out, _State.err = _Capture(4096), _Capture(4096)
    gc.collect()
    # Long-lived objects leave the collector's view: workers' collections do
    # not touch (and so do not copy) the zygote's pages.
    gc.freeze()
    ctl.send(json.dumps(dict(info, ok=True, python=sys.version.split()[0],
                             cpu=_rusage())).encode("ascii"))
    children, exited = {}, {}
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(ctl, 1 << 16, 2)
        except OSError:
            msg, fds = b"", []
        if not msg:
            # The host is done: end every worker and reap it, so its CPU time
            # is accounted to the host like any child's. All are killed
            # before any is reaped, so they exit side by side.
            for pid in children.values():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            for pid in children.values():
                try:
                    os.waitpid(pid, 0)
                except OSError:
                    pass
            return
        if msg[:1] == b"S":
            ctl.send(_spawn(ctl, msg, fds, spec, info, children))
            continue
        try:
            req = json.loads(msg)
            op, cid = req["op"], req["cid"]
            if op == "poll":
                reply = {"status": exited.get(cid)}
                pid = children.get(cid)
                if pid is not None:
                    done, st = os.waitpid(pid, os.WNOHANG)
                    if done:
                        del children[cid]
                        exited[cid] = reply["status"] = _wait_status(st)
            elif op == "kill":
                pid = children.pop(cid, None)
                status = exited.pop(cid, None)
                if pid is not None:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    status = _wait_status(os.waitpid(pid, 0)[1])
                reply = {"status": status}
            else:
                raise ValueError("unknown op %r" % (op,))
        except Exception as e:
            reply = {"error": "%s: %s" % (type(e).__name__, e)}
        finally:
            for fd in fds:
                os.close(fd)
        reply["cpu"] = _rusage()
        ctl.send(json.dumps(reply).encode("ascii"))


_zygote()
