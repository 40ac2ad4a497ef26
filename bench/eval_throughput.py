#!/usr/bin/env python3
"""Evaluator throughput and concurrency against the local test server.

Runs `resyn eval run` (release build) against resyn-llm's `test_server`
example in a separate process, so the evaluator's own CPU time is measured
apart from the server's:

1. Instant answers: requests per second and the evaluator's CPU time
   (user + sys, from getrusage of the child) per request, for a synthetic
   GSM8K file (cheap scoring: measures the client, cache and runner) and for
   every resyn environment (includes instance generation and verification).
2. Injected latency: the server's max-in-flight gauge and the achieved rate
   against the ideal `concurrency / latency`, to show the configured
   concurrency is kept in flight.

Usage: bench/eval_throughput.py [--target-dir DIR] [--quick]
Prints a Markdown table. Traffic goes only to 127.0.0.1; every run is
bounded in requests and time.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request


def start_server(bin_dir, latency_ms):
    proc = subprocess.Popen(
        [os.path.join(bin_dir, "examples", "test_server"),
         "--latency-ms", str(latency_ms), "--workers", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        sys.exit(f"test server did not start: {url!r}")
    return proc, url


def server_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def stats(url):
    base = url.rsplit("/v1", 1)[0]
    with urllib.request.urlopen(base + "/stats", timeout=5) as r:
        return json.load(r)


def run_eval(resyn, url, target_args, concurrency, workdir, label):
    out = os.path.join(workdir, f"{label}.json")
    cache = os.path.join(workdir, f"{label}.cache.jsonl")
    for p in (out, cache):
        if os.path.exists(p):
            os.remove(p)
    cmd = [resyn, "eval", "run", "--base-url", url, "--model", "bench", "--temperature", "0",
           "--concurrency", str(concurrency), "--retries", "0", "--timeout", "60",
           "-o", out, "--cache", cache, *target_args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=600)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(out) as f:
        report = json.load(f)
    assert report["complete"], "evaluation incomplete"
    return wall, cpu, report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", "target"))
    ap.add_argument("--quick", action="store_true", help="smaller runs")
    args = ap.parse_args()
    bin_dir = os.path.join(args.target_dir, "release")
    resyn = os.path.join(bin_dir, "resyn")
    for p in (resyn, os.path.join(bin_dir, "examples", "test_server")):
        if not os.path.exists(p):
            sys.exit(f"missing {p}: cargo build --release -p resyn-cli -p resyn-llm "
                     "--features resyn-llm/test-server --bin resyn --example test_server")
    workdir = tempfile.mkdtemp(prefix="resyn-eval-bench-")
    n_gsm = 5_000 if args.quick else 20_000
    per_level = 20 if args.quick else 100
    gsm = os.path.join(workdir, "gsm8k.jsonl")
    with open(gsm, "w") as f:
        for i in range(n_gsm):
            f.write(json.dumps({
                "question": f"Problem {i}: a farmer has {i} sheep and buys {i % 7} more. "
                            "How many sheep does he have now?",
                "answer": f"{i} + {i % 7} = {i + i % 7}\n#### {i + i % 7}",
            }) + "\n")
    rows = []
    try:
        # 1. Instant answers.
        server, url = start_server(bin_dir, 0)
        try:
            for label, target, conc in [
                ("gsm8k synthetic", ["--gsm8k", gsm], 64),
                ("all environments, d1-10",
                 ["--env", "all", "-d", "1-10", "--per-level", str(per_level)], 64),
            ]:
                s_cpu0 = server_cpu(server.pid)
                wall, cpu, rep = run_eval(resyn, url, target, conc, workdir, label.split()[0])
                s_cpu = server_cpu(server.pid) - s_cpu0
                n = rep["usage"]["new_calls"]
                rows.append({
                    "run": f"{label}, instant answers", "concurrency": conc, "requests": n,
                    "wall_s": wall, "req_per_s": n / rep["timings"]["fetch_s"],
                    "eval_cpu_us_per_req": cpu / n * 1e6,
                    "server_cpu_us_per_req": s_cpu / n * 1e6,
                    "fetch_s": rep["timings"]["fetch_s"], "score_s": rep["timings"]["score_s"],
                    "max_in_flight": stats(url)["max_in_flight"], "ideal_req_per_s": None,
                })
                # Re-score from the cache: no calls at all.
                wall2, cpu2, rep2 = run_eval_cached(resyn, url, target, conc, workdir,
                                                    label.split()[0])
                assert rep2["usage"]["new_calls"] == 0
                rows.append({
                    "run": f"{label}, rerun from cache", "concurrency": conc, "requests": 0,
                    "wall_s": wall2, "req_per_s": None, "eval_cpu_us_per_req": cpu2 / n * 1e6,
                    "server_cpu_us_per_req": None, "fetch_s": rep2["timings"]["fetch_s"],
                    "score_s": rep2["timings"]["score_s"], "max_in_flight": None,
                    "ideal_req_per_s": None,
                })
        finally:
            server.kill()
            server.wait()
        # 2. Injected latency.
        for latency_ms, conc, n in [(200, 32, 640), (100, 256, 5120)]:
            if args.quick:
                n //= 4
            server, url = start_server(bin_dir, latency_ms)
            try:
                sub = os.path.join(workdir, f"lat{latency_ms}.jsonl")
                with open(gsm) as src, open(sub, "w") as dst:
                    for _ in range(n):
                        dst.write(src.readline())
                wall, cpu, rep = run_eval(resyn, url, ["--gsm8k", sub], conc, workdir,
                                          f"lat{latency_ms}")
                st = stats(url)
                rows.append({
                    "run": f"{latency_ms} ms latency", "concurrency": conc, "requests": n,
                    "wall_s": wall, "req_per_s": n / rep["timings"]["fetch_s"],
                    "eval_cpu_us_per_req": cpu / n * 1e6, "server_cpu_us_per_req": None,
                    "fetch_s": rep["timings"]["fetch_s"], "score_s": rep["timings"]["score_s"],
                    "max_in_flight": st["max_in_flight"],
                    "ideal_req_per_s": conc / (latency_ms / 1000),
                    # Little's law: mean requests in flight = rate x latency.
                    "mean_in_flight": n / rep["timings"]["fetch_s"] * latency_ms / 1000,
                })
            finally:
                server.kill()
                server.wait()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    def fmt(x, f):
        return "-" if x is None else format(x, f)

    print("| run | concurrency | requests | wall s | req/s (fetch phase) | ideal req/s "
          "| evaluator CPU µs/req | server CPU µs/req | max in flight (server gauge) "
          "| mean in flight (rate × latency) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['run']} | {r['concurrency']} | {r['requests']} | {r['wall_s']:.2f} | "
              f"{fmt(r['req_per_s'], '.0f')} | {fmt(r['ideal_req_per_s'], '.0f')} | "
              f"{fmt(r['eval_cpu_us_per_req'], '.0f')} | "
              f"{fmt(r['server_cpu_us_per_req'], '.0f')} | "
              f"{fmt(r['max_in_flight'], 'd')} | {fmt(r.get('mean_in_flight'), '.1f')} |")
    print()
    print("```json")
    print(json.dumps(rows, indent=1))
    print("```")


def run_eval_cached(resyn, url, target_args, concurrency, workdir, label):
    """Rerun with the cache from run_eval: measures re-scoring alone."""
    out = os.path.join(workdir, f"{label}.json")
    cache = os.path.join(workdir, f"{label}.cache.jsonl")
    cmd = [resyn, "eval", "run", "--base-url", url, "--model", "bench", "--temperature", "0",
           "--concurrency", str(concurrency), "--retries", "0", "--timeout", "60",
           "-o", out, "--cache", cache, *target_args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=600)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(out) as f:
        return wall, cpu, json.load(f)


if __name__ == "__main__":
    main()
