"""Paper-scale Python workload (issue 14): hundreds of sandboxed environments in every batch.

    python3 bench/sandbox_scale.py --resyn target/release/resyn [--before OLD_RESYN] \
        [--python-before PY --python-after PY] [--envs 400] [--rounds 3] [--skip serve,...]

The workload is built here, in a temporary directory: renamed copies of every module of
envs/python (``NAME`` rewritten, ``_c<k>`` appended) until there are ``--envs`` of them, the
first 40 of those as the small directory, and one module alone. Every figure is measured for
each binary given (``--before`` first, then ``--resyn``), side by side in one run, and the
ratios that the goals are about (400 environments against 40, a batch mixing 400 against the
same count from one) are printed with them. Batches are measured three ways: ``mixed`` (every
environment), ``single`` (the same count from one environment, the issue's baseline) and
``distinct`` (the same count from one copy of each envs/python module: the same mix of
verifiers and generators as ``mixed`` over 10x fewer modules, so ``mixed`` over ``distinct``
is the cost of more modules alone, while ``mixed`` over ``single`` also holds how much more
the other modules' code costs than that one's). Times are wall clock and CPU seconds of the
whole process tree (the command plus its sandbox: a cgroup's cpuacct when one can be made,
else ``RUSAGE_CHILDREN``); each is the median of ``--rounds`` runs, interleaved.

Steps (``--skip`` takes a comma-separated list of these names):
  list      ``resyn envs --env-dir DIR --json``, 40 vs ``--envs`` modules
  verify    ``resyn verify`` of 20 reference responses per environment, shuffled (mixed,
            distinct, single)
  each      with verify, serve and score: the same count from one environment, for each
            envs/python module in turn (``each``: averaged over the modules; the issue's
            baseline for a typical environment rather than for ``single``'s cheap one)
  floor     the floor of a process per module (bench/process_floor.py, with this Python and
            no sandbox): for the verify cases (mixed, distinct, single, each), a child forked
            per environment from an interpreter that imports what the zygote imports, which
            loads the module's compiled code and verifies its items. Any design giving each
            module a pristine process costs at least this; with ``verify``, the floor of
            ``mixed`` is also compared with what resyn's ``each`` costs
  dataset   ``resyn dataset build`` of 40 instances per environment (mixed, distinct, single)
  serve     ``resyn serve``: batches of ``--batch`` items (default 8000: 20 per environment),
            2 clients; one item per request over 8 keep-alive clients; the server's CPU per
            verification; the first request to an environment not yet started (pool warm);
            memory (RSS, PSS, USS) of the sandbox with every module resident; per-environment
            series in /metrics. Cases mixed, distinct, single, and mixed with
            ``--sandbox-workers 100`` (memory bounded, modules evicted and restarted)
  score     ``resyn.compute_score`` batch (verl's batch reward manager) of the same items
            (mixed, distinct, single; the first call starts the workers, the next two find them
            warm), with ``--python-before``/``--python-after`` (interpreters whose ``resyn``
            package is the before/after build)
Prints one JSON object per measurement, then the ratios.
"""

import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME_RE = re.compile(r'^NAME = "([a-z0-9_]+)"$', re.M)


def build_workload(work, n):
    """D<n>: n renamed copies of envs/python modules; D40: the first 40; D1: one module."""
    src = os.path.join(ROOT, "envs", "python")
    mods = sorted(f for f in os.listdir(src) if f.endswith(".py") and not f.startswith("_"))
    big = os.path.join(work, "envs_%d" % n)
    os.makedirs(big)
    made = []
    k = 0
    while len(made) < n:
        for f in mods:
            if len(made) == n:
                break
            text = open(os.path.join(src, f)).read()
            name = NAME_RE.search(text).group(1)
            new = "%s_c%d" % (name, k)
            stem = "%s_c%d.py" % (f[:-3], k)
            with open(os.path.join(big, stem), "w") as out:
                out.write(NAME_RE.sub('NAME = "%s"' % new, text, count=1))
            made.append((stem, new))
        k += 1
    made.sort()
    small = os.path.join(work, "envs_40")
    one = os.path.join(work, "envs_1")
    os.makedirs(small)
    os.makedirs(one)
    for stem, _ in made[:40]:
        shutil.copy(os.path.join(big, stem), small)
    shutil.copy(os.path.join(big, made[0][0]), one)
    return big, small, one, [name for _, name in made]


CG_ROOT = "/sys/fs/cgroup/cpuacct"


class Cgroup:
    """A cpuacct cgroup (v1) of its own: CPU time of a whole process tree, including processes
    killed before their parent could reap them (a sandbox's workers). Without one (no
    cgroup v1 cpuacct, or no permission), CPU time comes from RUSAGE_CHILDREN, which misses
    killed processes."""

    def __init__(self, tag):
        self.path = None
        if os.access(CG_ROOT, os.W_OK):
            self.path = os.path.join(CG_ROOT, "resyn-scale-%d-%s" % (os.getpid(), tag))
            os.mkdir(self.path)

    def enter(self):
        """preexec_fn: move the child into the cgroup."""
        if self.path:
            with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))

    def usage(self):
        """CPU seconds used so far by the processes of the cgroup."""
        with open(os.path.join(self.path, "cpuacct.usage")) as f:
            return int(f.read()) / 1e9

    def close(self):
        if not self.path:
            return
        for _ in range(100):
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.05)


CPU_SOURCE = "cgroup cpuacct" if os.access(CG_ROOT, os.W_OK) else "RUSAGE_CHILDREN"


def run(cmd, env=None):
    """Run a command (its output dropped, its errors shown if it fails); (wall s, CPU s of
    its whole process tree)."""
    cg = Cgroup("run")
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                              preexec_fn=cg.enter)
        wall = time.perf_counter() - t
        if done.returncode != 0:
            sys.stderr.buffer.write(done.stderr)
            done.check_returncode()
        if cg.path:
            cpu = cg.usage()
        else:
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu
    finally:
        cg.close()


def medians(samples):
    return {"wall_s": round(statistics.median(s[0] for s in samples), 3),
            "cpu_s": round(statistics.median(s[1] for s in samples), 3)}


RECORDS = []


def emit(record):
    print(json.dumps(record), flush=True)
    RECORDS.append(record)
    return record


def summary(n):
    """Ratios the goals are about, per binary."""
    by = {(r.get("step"), r.get("case")): r for r in RECORDS}
    fm = by.get(("floor", "mixed"))
    if fm:
        out = {"summary": "floor"}
        for base in ("single", "distinct", "each"):
            fb = by.get(("floor", base))
            if fb:
                out["floor_mixed_over_%s" % base] = {
                    k: round(fm[k] / fb[k], 2) for k in ("wall_s", "cpu_s")}
        # The bound on the verify goal: the floor of the mixed batch alone (no sandbox, no
        # host) against the whole `resyn verify` of one environment.
        for label in ("before", "after"):
            each = by.get(("verify", label + "/each"))
            if each:
                out["floor_mixed_over_%s_verify_each" % label] = {
                    k: round(fm[k] / each[k], 2) for k in ("wall_s", "cpu_s")}
        print(json.dumps(out), flush=True)
    for label in ("before", "after"):
        # Called only within this iteration, so late binding is harmless; the default says
        # so to ruff (B023).
        def ratio(step, a, b, key, label=label):
            ra, rb = by.get((step, "%s/%s" % (label, a))), by.get((step, "%s/%s" % (label, b)))
            if ra and rb and rb.get(key):
                return round(ra[key] / rb[key], 2)
            return None
        out = {"summary": label,
               "list_%d_over_40" % n: {
                   k: ratio("list", str(n), "40", k) for k in ("wall_s", "cpu_s")}}
        for step in ("verify", "dataset"):
            for base in ("single", "distinct") + (("each",) if step == "verify" else ()):
                out["%s_mixed_over_%s" % (step, base)] = {
                    k: ratio(step, "mixed", base, k) for k in ("wall_s", "cpu_s")}
        sm = by.get(("serve", label + "/mixed"))
        for base in ("single", "distinct", "each"):
            sb = by.get(("serve", "%s/%s" % (label, base)))
            if sm and sb:
                key = [k for k in sm if k.startswith("batch") and k.endswith("clients2")][0]
                out["serve_batch_%s_over_mixed_rate" % base] = round(
                    sb[key]["verifications_per_sec"] / max(1, sm[key]["verifications_per_sec"]), 2)
                out["serve_batch_mixed_over_%s_cpu" % base] = round(
                    sm[key]["server_cpu_us_per_verification"]
                    / sb[key]["server_cpu_us_per_verification"], 2) if sb[key].get(
                        "server_cpu_us_per_verification") else None
        qm = by.get(("score", label + "/mixed"))
        for base in ("single", "distinct", "each"):
            qb = by.get(("score", "%s/%s" % (label, base)))
            if qm and qb:
                for call in ("first", "warm"):
                    out["score_%s_mixed_over_%s" % (call, base)] = {
                        k: round(qm[call][k] / qb[call][k], 2) for k in ("wall_s", "cpu_s")}
        if any(v for v in out.values() if v not in (label,)):
            print(json.dumps(out), flush=True)


def interleaved(rounds, cases):
    """Run each case `rounds` times, round-robin; {name: medians}."""
    got = {name: [] for name, _ in cases}
    for _ in range(rounds):
        for name, fn in cases:
            got[name].append(fn())
    return {name: medians(s) for name, s in got.items()}


def distinct_ids(ids):
    """One copy of each envs/python module (the ``_c0`` ones)."""
    return [i for i in ids if i.endswith("_c0")]


def instances(bin_, work, big, ids, per_env):
    """Instances of every environment (per_env each, difficulties 1-5), of one copy of each
    module and of one environment, the same count each; reference responses, shuffled."""
    out = {}
    dist = distinct_ids(ids)
    for label, chosen, count in (("mixed", ids, per_env // 5),
                                 ("distinct", dist, -(-per_env * len(ids) // (5 * len(dist)))),
                                 ("single", [ids[0]], per_env * len(ids) // 5)):
        path = os.path.join(work, "inst_%s.jsonl" % label)
        if not os.path.exists(path):
            subprocess.run([bin_, "generate", *chosen, "--env-dir", big, "--count", str(count),
                            "--difficulty", "1-5", "--seed", "0", "-o", path], check=True)
        rows = [json.loads(line) for line in open(path)]
        random.Random(7).shuffle(rows)
        # The same count in every case (distinct rounds up per module).
        rows = rows[:per_env * len(ids)]
        with open(path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
        resp = os.path.join(work, "resp_%s.jsonl" % label)
        with open(resp, "w") as f:
            f.writelines(json.dumps({"id": r["id"], "response": r["reference"]}) + "\n"
                         for r in rows)
        out[label] = (path, resp, rows)
    return out


def each_instances(bin_, work, big, ids, n):
    """For each envs/python module (its ``_c0`` copy): ``n`` instances of it alone
    (difficulties 1-5) and their reference responses. {env: (instances, responses)}."""
    out = {}
    for eid in distinct_ids(ids):
        path = os.path.join(work, "each_%s.jsonl" % eid)
        resp = os.path.join(work, "each_resp_%s.jsonl" % eid)
        subprocess.run([bin_, "generate", eid, "--env-dir", big, "--count", str(-(-n // 5)),
                        "--difficulty", "1-5", "--seed", "0", "-o", path], check=True)
        rows = [json.loads(line) for line in open(path)][:n]
        random.Random(7).shuffle(rows)
        with open(path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
        with open(resp, "w") as f:
            f.writelines(json.dumps({"id": r["id"], "response": r["reference"]}) + "\n"
                         for r in rows)
        out[eid] = (path, resp)
    return out


def serve_each(bin_, label, big, each, args):
    """``resyn serve`` batches from one environment at a time, for each envs/python module:
    the time per verification averaged over the modules (as a rate) and the mean server CPU
    per verification."""
    rates, cpus = [], []
    for inst, _ in each.values():
        rows = [json.loads(line) for line in open(inst)]
        got = serve(bin_, label, big, inst, rows, args, light=True)
        key = "batch%d_clients2" % args.batch
        rates.append(got[key]["verifications_per_sec"])
        if got[key].get("server_cpu_us_per_verification"):
            cpus.append(got[key]["server_cpu_us_per_verification"])
    return {"step": "serve", "case": "%s/each" % label, "environments": len(rates),
            "batch%d_clients2" % args.batch: {
                "verifications_per_sec": round(len(rates) / sum(1 / r for r in rates)),
                "server_cpu_us_per_verification": round(statistics.mean(cpus), 1)
                if cpus else None,
                "slowest_per_sec": min(rates)}}


def score_each(py, label, env, big, each):
    """``compute_score`` of the same items from one environment at a time, for each
    envs/python module: wall and CPU of the first and warm calls, averaged."""
    runs = []
    for inst, _ in each.values():
        cg = Cgroup("score")
        penv = dict(env, RESYN_ENV_DIRS=big, RESYN_BENCH_CGROUP=cg.path or "")
        try:
            out = subprocess.run([py, "-c", SCORE, inst], check=True, env=penv,
                                 capture_output=True, text=True, preexec_fn=cg.enter).stdout
        finally:
            cg.close()
        runs.append(json.loads(out))
    return {"step": "score", "case": "%s/each" % label, "environments": len(runs),
            **{call: {k: round(statistics.mean(r[call][k] for r in runs), 3)
                      for k in ("wall_s", "cpu_s")} for call in ("first", "warm", "warm2")}}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def post(addr, body, timeout=600):
    req = urllib.request.Request("http://%s/verify" % addr, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def descendants(pid):
    kids = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            stat = open("/proc/%s/stat" % p).read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(p))
    out, stack = [], list(kids.get(pid, []))
    while stack:
        p = stack.pop()
        out.append(p)
        stack.extend(kids.get(p, []))
    return out


def tree_memory(pid):
    """RSS, PSS, USS (MiB) summed over the sandbox processes under `pid`."""
    tot = {"processes": 0, "rss": 0, "pss": 0, "uss": 0}
    for p in descendants(pid):
        try:
            text = open("/proc/%d/smaps_rollup" % p).read()
        except OSError:
            continue
        tot["processes"] += 1
        for line in text.splitlines():
            parts = line.split()
            if len(parts) < 2:
                continue
            kb = int(parts[1]) if parts[1].isdigit() else 0
            if parts[0] == "Rss:":
                tot["rss"] += kb
            elif parts[0] == "Pss:":
                tot["pss"] += kb
            elif parts[0] in ("Private_Clean:", "Private_Dirty:"):
                tot["uss"] += kb
    return {k: (round(v / 1024, 1) if k != "processes" else v) for k, v in tot.items()}


def serve(bin_, label, env_dir, inst_path, rows, args, extra_args=(), light=False):
    """Start a server; measure batches, single requests, first requests, memory (with
    ``light``: batches only, for ``--secs``/2 seconds)."""
    port = free_port()
    addr = "127.0.0.1:%d" % port
    cg = Cgroup("serve")
    proc = subprocess.Popen([bin_, "serve", "--addr", addr, "--env-dir", env_dir,
                             "--instances", inst_path, *extra_args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=cg.enter)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen("http://%s/health" % addr, timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        res = {"bin": label}
        envs = sorted({r["env"] for r in rows})
        # The older pool starts an interpreter per environment and batch: give it
        # less to do (the figures are rates and percentiles either way).
        old = label == "before"
        # Warm: start the sandbox and some workers, leaving the environments of the
        # first-request figure unstarted.
        n_first = 0 if light else min(10 if old else args.first_calls, len(envs) // 2)
        first_envs = set(envs[len(envs) // 2:][:n_first])
        warm = [r for r in rows if r["env"] not in first_envs]
        t = time.perf_counter()
        for k in range(0, min(len(warm), 512 if old else 2048), 256):
            post(addr, {"items": [{"id": r["id"], "response": r["reference"]}
                                  for r in warm[k:k + 256]]})
        res["warm_s"] = round(time.perf_counter() - t, 2)
        if first_envs:
            lat = []
            for e in sorted(first_envs):
                r = next(r for r in rows if r["env"] == e)
                t = time.perf_counter()
                post(addr, {"items": [{"id": r["id"], "response": r["reference"]}]})
                lat.append((time.perf_counter() - t) * 1e3)
            lat.sort()
            res["first_request_ms"] = {"n": len(lat), "p50": round(lat[len(lat) // 2], 1),
                                       "p90": round(lat[int(len(lat) * 0.9)], 1)}
            if not old:
                # Every module resident now, for the memory figure.
                for k in range(0, len(rows), 2000):
                    post(addr, {"items": [{"id": r["id"], "response": r["reference"]}
                                          for r in rows[k:k + 2000]]})
        if not light:
            res["resident_workers"] = sum(
                1 for p in descendants(proc.pid)
                if open("/proc/%d/comm" % p).read().startswith("python"))
            res["memory_mib"] = tree_memory(proc.pid)
        secs = max(2.0, args.secs / 2) if light else args.secs
        for batch, clients in ((args.batch, 2),) + (() if light else ((1, 8),)):
            c0 = cg.usage() if cg.path else None
            out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "rewards_load.py"),
                                  "--addr", addr, "--instances", inst_path, "--mode", "id",
                                  "--batch", str(batch), "--clients", str(clients),
                                  "--secs", str(secs)],
                                 check=True, capture_output=True, text=True).stdout
            got = json.loads(out)
            if c0 is not None:
                # The server's CPU (its sandbox included) per verification, over the load
                # test and its warm-up request.
                done = got["requests"] * batch + batch
                got["server_cpu_us_per_verification"] = round((cg.usage() - c0) / done * 1e6, 1)
            res["batch%d_clients%d" % (batch, clients)] = got
        metrics = urllib.request.urlopen("http://%s/metrics" % addr, timeout=10).read().decode()
        res["metrics_env_series"] = sum(1 for line in metrics.splitlines()
                                        if line.startswith("resyn_env_"))
        return res
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        cg.close()


SCORE = r"""
import json, os, sys, time, resource
import resyn
CG = os.environ.get("RESYN_BENCH_CGROUP")
def cpu():
    if CG:
        return int(open(os.path.join(CG, "cpuacct.usage")).read()) / 1e9
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime
rows = [json.loads(l) for l in open(sys.argv[1])]
def gt(i):
    return json.dumps({"reward_mode": "verifier", **{k: i[k] for k in
                       ("id", "env", "env_version", "seed", "difficulty", "data")}})
gts = [gt(r) for r in rows]
sols = [r["reference"] for r in rows]
srcs = ["resyn/" + r["env"] for r in rows]
out = {}
for name in ("first", "warm", "warm2"):
    c0 = cpu()
    t = time.perf_counter()
    scores = resyn.compute_score(data_sources=srcs, solution_strs=sols, ground_truths=gts,
                                 extra_infos=[None] * len(rows))
    wall = time.perf_counter() - t
    c1 = cpu()
    assert all(s == 1.0 for s in scores), [s for s in scores if s != 1.0][:3]
    out[name] = {"wall_s": round(wall, 3), "cpu_s": round(c1 - c0, 3),
                 "per_s": round(len(rows) / wall)}
print(json.dumps(out))
"""


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--resyn", required=True, help="the resyn binary to measure (after)")
    p.add_argument("--before", help="a resyn binary to measure side by side (before)")
    p.add_argument("--python-before", help="python whose resyn package is the before build")
    p.add_argument("--python-after", help="python whose resyn package is the after build")
    p.add_argument("--envs", type=int, default=400)
    p.add_argument("--per-env", type=int, default=20, help="verifications per environment")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--secs", type=float, default=10, help="seconds per serve load test")
    p.add_argument("--batch", type=int, default=8000,
                   help="items per request in the batched serve load test")
    p.add_argument("--first-calls", type=int, default=60)
    p.add_argument("--bounded", type=int, default=100,
                   help="--sandbox-workers of the serve case that bounds memory")
    p.add_argument("--skip", default="")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = p.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    bins = [("before", args.before)] if args.before else []
    bins.append(("after", args.resyn))
    work = tempfile.mkdtemp(prefix="resyn-scale-")
    try:
        emit({"host": "%d cores" % os.cpu_count(), "cpu_time": CPU_SOURCE,
              "load": open("/proc/loadavg").read().split()[:3]})
        big, small, _, ids = build_workload(work, args.envs)
        env = dict(os.environ, RESYN_STORE="", RESYN_ENV_DIRS="")
        if "list" not in skip:
            cases = []
            for label, b in bins:
                for d, tag in ((small, "40"), (big, str(args.envs))):
                    cases.append(("%s/%s" % (label, tag),
                                  lambda b=b, d=d: run([b, "envs", "--env-dir", d, "--json"], env)))
            for name, m in interleaved(args.rounds, cases).items():
                emit({"step": "list", "case": name, **m})
        data = instances(args.resyn, work, big, ids, args.per_env)
        each_cache = {}

        def each_data():
            if not each_cache:
                each_cache.update(each_instances(args.resyn, work, big, ids,
                                                 len(data["mixed"][2])))
            return each_cache
        if "verify" not in skip:
            cases = []
            for label, b in bins:
                for tag in ("mixed", "distinct", "single"):
                    d = big  # as in the issue: the same 400 modules are listed for each
                    inst, resp, _ = data[tag]
                    out = os.path.join(work, "scores.jsonl")
                    cases.append(("%s/%s" % (label, tag),
                                  lambda b=b, d=d, inst=inst, resp=resp, out=out:
                                  run([b, "verify", "--env-dir", d, "--instances", inst,
                                       "--responses", resp, "-o", out], env)))
            for name, m in interleaved(args.rounds, cases).items():
                emit({"step": "verify", "case": name, "items": len(data["mixed"][2]), **m})
            if "each" not in skip:
                each = each_data()
                cases = []
                for label, b in bins:
                    for eid, (inst, resp) in each.items():
                        out = os.path.join(work, "scores.jsonl")
                        cases.append(("%s/each/%s" % (label, eid),
                                      lambda b=b, inst=inst, resp=resp, out=out:
                                      run([b, "verify", "--env-dir", big, "--instances", inst,
                                           "--responses", resp, "-o", out], env)))
                got = interleaved(args.rounds, cases)
                for label, _ in bins:
                    runs = [m for name, m in got.items() if name.startswith(label + "/each/")]
                    worst = max(runs, key=lambda m: m["cpu_s"])
                    emit({"step": "verify", "case": "%s/each" % label,
                          "items": len(data["mixed"][2]), "environments": len(runs),
                          "wall_s": round(statistics.mean(m["wall_s"] for m in runs), 3),
                          "cpu_s": round(statistics.mean(m["cpu_s"] for m in runs), 3),
                          "max_cpu_s": worst["cpu_s"]})
        if "floor" not in skip:
            floor = os.path.join(ROOT, "bench", "process_floor.py")

            def floor_run(inst):
                out = subprocess.run([sys.executable, "-S", floor, big, inst], check=True,
                                     capture_output=True, text=True).stdout
                got = json.loads(out)
                if got["failed"]:
                    sys.exit("process_floor: %d children failed on %s" % (got["failed"], inst))
                return got["wall_s"], got["cpu_s"]
            cases = [(tag, lambda inst=data[tag][0]: floor_run(inst))
                     for tag in ("mixed", "distinct", "single")]
            for name, m in interleaved(args.rounds, cases).items():
                emit({"step": "floor", "case": name, "items": len(data["mixed"][2]), **m})
            if "each" not in skip:
                got = interleaved(args.rounds, [(eid, lambda inst=inst: floor_run(inst))
                                                for eid, (inst, _) in each_data().items()])
                emit({"step": "floor", "case": "each", "items": len(data["mixed"][2]),
                      "environments": len(got),
                      **{k: round(statistics.mean(m[k] for m in got.values()), 3)
                         for k in ("wall_s", "cpu_s")}})
        if "dataset" not in skip:
            cases = []
            n = 40 * len(ids)
            for label, b in bins:
                for tag, sel in (("mixed", ids), ("distinct", distinct_ids(ids)),
                                 ("single", [ids[0]])):
                    d = big
                    cfg = os.path.join(work, "ds_%s.toml" % tag)
                    with open(cfg, "w") as f:
                        f.write("total_instances = %d\nrefill_rounds = 0\n[select]\nids = %s\n"
                                "[difficulty]\nmin = 1\nmax = 10\n[output]\ndir = %s\n"
                                "formats = [\"jsonl\"]\n"
                                % (n, json.dumps(sel), json.dumps(os.path.join(work, "ds_" + tag))))
                    cases.append(("%s/%s" % (label, tag), lambda b=b, d=d, cfg=cfg:
                                  run([b, "dataset", "build", cfg, "--env-dir", d], env)))
            for name, m in interleaved(max(1, args.rounds - 1), cases).items():
                emit({"step": "dataset", "case": name, "instances": n, **m})
        if "serve" not in skip:
            for label, b in bins:
                for tag, extra in (("mixed", ()), ("distinct", ()), ("single", ()),
                                   ("bounded", ("--sandbox-workers", str(args.bounded)))):
                    inst, _, rows = data["mixed" if tag == "bounded" else tag]
                    emit({"step": "serve", "case": "%s/%s" % (label, tag),
                          "args": list(extra), **serve(b, label, big, inst, rows, args, extra)})
                if "each" not in skip:
                    emit(serve_each(b, label, big, each_data(), args))
        if "score" not in skip:
            for label, py in (("before", args.python_before), ("after", args.python_after)):
                if not py:
                    continue
                for tag in ("mixed", "distinct", "single"):
                    inst = data[tag][0]
                    cg = Cgroup("score")
                    penv = dict(env, RESYN_ENV_DIRS=big, RESYN_BENCH_CGROUP=cg.path or "")
                    try:
                        out = subprocess.run([py, "-c", SCORE, inst], check=True, env=penv,
                                             capture_output=True, text=True,
                                             preexec_fn=cg.enter).stdout
                    finally:
                        cg.close()
                    emit({"step": "score", "case": "%s/%s" % (label, tag), **json.loads(out)})
                if "each" not in skip:
                    emit(score_each(py, label, env, big, each_data()))
        emit({"load_after": open("/proc/loadavg").read().split()[:3]})
        summary(args.envs)
    finally:
        if args.keep:
            print("kept %s" % work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
