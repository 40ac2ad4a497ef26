"""Load generator for `resyn serve` (keep-alive HTTP/1.1 clients in separate processes).

    python bench/rewards_load.py --addr 127.0.0.1:8000 --instances inst.jsonl --mode id \
        --batch 1024 --clients 2 --secs 10

Modes: id (the server loaded the same --instances file), ground_truth, openrlhf. Every
response is the instance's reference, so each item runs the verifier to a full verdict.
Prints JSON: verifications/s and request latency percentiles.
"""

import argparse
import http.client
import json
import multiprocessing as mp
import time


def gt(i):
    return json.dumps({"reward_mode": "verifier", **{k: i[k] for k in
                       ("id", "env", "env_version", "seed", "difficulty", "data")}})


def bodies(a, insts):
    out = []
    for b in range(8):
        pick = [insts[(b * a.batch + k) % len(insts)] for k in range(a.batch)]
        if a.mode == "id":
            body = {"items": [{"id": i["id"], "response": i["reference"]} for i in pick]}
        elif a.mode == "ground_truth":
            body = {"items": [{"ground_truth": gt(i), "response": i["reference"]} for i in pick]}
        else:
            pr = [f"<|im_start|>user\n{i['prompt']}<|im_end|>\n<|im_start|>assistant\n"
                  for i in pick]
            body = {"query": [p + i["reference"] + "<|im_end|>" for p, i in zip(pr, pick)],
                    "prompts": pr, "labels": [gt(i) for i in pick]}
        out.append(json.dumps(body).encode())
    return out


def client(args):
    a, bs, deadline, k = args
    host, port = a.addr.split(":")
    c = http.client.HTTPConnection(host, int(port))
    path = "/openrlhf" if a.mode == "openrlhf" else "/verify"
    lat = []
    while time.time() < deadline:
        t = time.perf_counter()
        c.request("POST", path, bs[k % len(bs)], {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        assert r.status == 200, r.status
        lat.append(time.perf_counter() - t)
        k += 1
    return lat


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--addr", default="127.0.0.1:8000")
    p.add_argument("--instances", required=True)
    p.add_argument("--mode", default="id", choices=["id", "ground_truth", "openrlhf"])
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--clients", type=int, default=2)
    p.add_argument("--secs", type=float, default=10)
    a = p.parse_args()
    insts = [json.loads(line) for line in open(a.instances) if line.strip()]
    bs = bodies(a, insts)
    client((a, bs, time.time() + 0.5, 0))  # warm-up
    t0 = time.time()
    with mp.Pool(a.clients) as pool:
        lats = pool.map(client, [(a, bs, t0 + a.secs, k) for k in range(a.clients)])
    wall = time.time() - t0
    lat = sorted(x for client_lat in lats for x in client_lat)

    def pct(q):
        return round(lat[round((len(lat) - 1) * q)] * 1e3, 2)

    print(json.dumps({"mode": a.mode, "batch": a.batch, "clients": a.clients, "requests": len(lat),
                      "verifications_per_sec": round(len(lat) * a.batch / wall),
                      "latency_ms": {"p50": pct(0.5), "p99": pct(0.99), "max": pct(1.0)}}))


if __name__ == "__main__":
    main()
