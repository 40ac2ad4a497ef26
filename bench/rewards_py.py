"""compute_score throughput from Python (after `pip install .`).

    python bench/rewards_py.py [--n 20000]

Prints JSON: single calls per second (verl's per-sample contract, one thread) and batched
verifications per second (verl's BatchRewardManager / TRL contract), on native environments,
every response a correct reference (so each call runs the verifier to a full verdict).
"""

import argparse
import json
import time

import resyn

ENVS = ["sudoku", "maze", "tower_of_hanoi", "knapsack", "cnf_sat", "basic_arithmetic"]


def ground_truth(i):
    return json.dumps({"reward_mode": "verifier", **{k: i[k] for k in
                       ("id", "env", "env_version", "seed", "difficulty", "data")}})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=20000)
    a = p.parse_args()
    metas = {m["id"]: m for m in resyn.envs()}
    insts = []
    for k in range(1000):
        env = ENVS[k % len(ENVS)]
        m = metas[env]
        d = m["min_difficulty"] + k % (m["max_difficulty"] - m["min_difficulty"] + 1)
        insts.append(resyn.generate(env, k, d))
    gts = [ground_truth(i) for i in insts]
    sols = [i["reference"] for i in insts]
    n = a.n
    t = time.perf_counter()
    for k in range(n):
        resyn.compute_score(data_source="resyn", solution_str=sols[k % 1000],
                            ground_truth=gts[k % 1000])
    single = n / (time.perf_counter() - t)
    bg, bs = gts * (n // 1000), sols * (n // 1000)
    t = time.perf_counter()
    scores = resyn.compute_score(data_sources=None, solution_strs=bs, ground_truths=bg,
                                 extra_infos=None)
    batch = len(bs) / (time.perf_counter() - t)
    assert scores == [1.0] * len(bs)
    print(json.dumps({"envs": ENVS, "single_calls_per_sec": round(single), "batch_size": len(bs),
                      "batched_verifications_per_sec": round(batch)}))


if __name__ == "__main__":
    main()
