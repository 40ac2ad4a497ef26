"""The floor of a process per module: what verifying a batch costs when every module gets a
process of its own, without any sandbox.

    python3 bench/process_floor.py ENV_DIR INSTANCES.jsonl [--procs 2]

Run by bench/sandbox_scale.py (step ``floor``) with the interpreter the sandbox uses, on the
same instances as ``resyn verify``. It is a lower bound for any design that, like resyn's,
gives each module a pristine process forked from a prepared interpreter (so that no module
can change another's rewards): one plain interpreter imports what the harness's zygote
imports (its ``_PRELOAD`` list and its own modules) and holds every module's compiled code
(as resyn's code cache does); then, for each environment of the batch, it forks a child
that unmarshals the code, executes it and verifies that environment's reference answers,
and exits (an environment with many items is split over ``--procs`` children, 128 items at
least each, as resyn spreads it over its workers). ``--procs`` children run at a time.
There is no sandbox, no isolation layer, no protocol and no host process: everything resyn
adds on top of this is left out. Like resyn's zygote, the forking interpreter imports only
those of the ``_PRELOAD`` modules that the batch's modules import.

Prints one JSON object: items, environments, processes, children that ``failed`` (a
verifier returned less than 1.0 for a reference, or raised: 0 unless something is wrong),
and the wall and CPU seconds (this process and its children) of the forking and verifying
alone, after the set-up (reading the instances, importing, compiling).
"""

import argparse
import ast
import gc
import json
import marshal
import os
import re
import resource
import shutil
import sys
import tempfile
import time
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HARNESS = os.path.join(ROOT, "crates", "resyn-sandbox", "src", "harness.py")
# The harness's own imports (besides the _PRELOAD list).
HARNESS_IMPORTS = ("binascii", "ctypes", "gc", "json", "linecache", "marshal", "math",
                   "random", "signal", "socket", "struct", "time", "traceback", "types")
NAME_RE = re.compile(r'^NAME = "([a-z0-9_]+)"$', re.M)
ANSWER_RE = re.compile(r"<answer>(.*)</answer>", re.S)


def preload_list():
    """The harness's _PRELOAD tuple, read from its source (not imported: importing the
    harness starts a zygote)."""
    tree = ast.parse(open(HARNESS).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_PRELOAD":
            return ast.literal_eval(node.value)
    raise SystemExit("no _PRELOAD in %s" % HARNESS)


def child(job):
    """In the forked child: read the module's code and its items (as a worker receives
    them), load the module and verify the items; the exit code says whether every
    reference scored 1.0."""
    ok = True
    try:
        with open(job + ".code", "rb") as f:
            blob = f.read()
        with open(job + ".json", "rb") as f:
            filename, items = json.loads(f.read())
        mod = types.ModuleType("resyn_env")
        mod.__file__ = filename
        sys.modules["resyn_env"] = mod
        exec(marshal.loads(blob), mod.__dict__)
        for inst, answer in items:
            if mod.verify(inst, answer) != 1.0:
                ok = False
    except BaseException:
        ok = False
    os._exit(0 if ok else 1)


def prepare(env_dir, instances, procs):
    """Write each child's code and items to files (as a worker receives them) in a new
    directory; returns it. An environment with many items is split over children as resyn
    spreads it over its workers (128 items at least each)."""
    files = {}
    for f in sorted(os.listdir(env_dir)):
        if f.endswith(".py") and not f.startswith("_"):
            path = os.path.join(env_dir, f)
            m = NAME_RE.search(open(path).read())
            if m:
                files[m.group(1)] = path
    by_env = {}
    for line in open(instances):
        row = json.loads(line)
        m = ANSWER_RE.search(row["reference"])
        answer = (m.group(1) if m else row["reference"]).strip()
        inst = {"prompt": row["prompt"], "data": row["data"], "difficulty": row["difficulty"],
                "seed": row["seed"]}
        by_env.setdefault(row["env"], []).append((inst, answer))
    work = tempfile.mkdtemp(prefix="resyn-floor-")
    jobs = 0
    for env, items in by_env.items():
        blob = marshal.dumps(compile(open(files[env]).read(), files[env], "exec",
                                     dont_inherit=True))
        n = max(1, min(procs, -(-len(items) // 128)))
        size = -(-len(items) // n)
        for k in range(0, len(items), size):
            job = os.path.join(work, "%06d" % jobs)
            with open(job + ".code", "wb") as f:
                f.write(blob)
            with open(job + ".json", "w") as f:
                json.dump([files[env], items[k:k + size]], f)
            jobs += 1
    preload = preload_list()
    wanted = set()
    for env in by_env:
        for node in ast.walk(ast.parse(open(files[env]).read())):
            if isinstance(node, ast.Import):
                wanted.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                wanted.add(node.module.split(".")[0])
    with open(os.path.join(work, "counts.json"), "w") as f:
        json.dump({"items": sum(len(v) for v in by_env.values()), "environments": len(by_env),
                   "preload": [m for m in preload if m in wanted]}, f)
    return work


def run(work, procs):
    """The forking process: imports what a zygote imports and nothing of the set-up."""
    counts = json.load(open(os.path.join(work, "counts.json")))
    for name in HARNESS_IMPORTS + tuple(counts.pop("preload")):
        __import__(name)
    jobs = sorted(os.path.join(work, f[:-5]) for f in os.listdir(work) if f.endswith(".code"))
    gc.collect()
    gc.freeze()
    rss = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 10
    wall0, cpu0 = time.perf_counter(), time.process_time()
    running, failed = 0, 0
    for job in jobs:
        if running == procs:
            _, st = os.wait()
            running -= 1
            failed += st != 0
        if os.fork() == 0:
            child(job)
        running += 1
    while running:
        _, st = os.wait()
        running -= 1
        failed += st != 0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - cpu0 + kids.ru_utime + kids.ru_stime
    wall = time.perf_counter() - wall0
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(dict(counts, processes=len(jobs), failed=failed,
                          forking_process_rss_kib=rss, wall_s=round(wall, 3),
                          cpu_s=round(cpu, 3))))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("env_dir", nargs="?")
    p.add_argument("instances", nargs="?")
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--run", metavar="DIR", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.run:
        run(args.run, args.procs)
        return
    if not (args.env_dir and args.instances):
        p.error("ENV_DIR and INSTANCES are required")
    work = prepare(args.env_dir, args.instances, args.procs)
    # A fresh interpreter forks: one that read the instances and compiled the modules has
    # a bigger heap, and a bigger heap makes every fork dearer.
    os.execv(sys.executable, [sys.executable, "-S", os.path.abspath(__file__),
                              "--run", work, "--procs", str(args.procs)])


if __name__ == "__main__":
    main()
