#!/usr/bin/env python3
"""Side-by-side throughput: resyn native environments vs Reasoning Gym.

Library to library, single thread, in one run on one machine:
- generation: instances produced per second (Reasoning Gym: `dataset[i]`,
  which builds the entry on access; resyn: `Environment::generate`);
- rates are per second of thread CPU time on both sides, so other load on
  the shared machine does not skew the ratio;
- scoring: known-correct answers scored per second (Reasoning Gym:
  `dataset.score_answer(answer, entry)` on the bare answer; resyn:
  `Environment::verify` on the reference response, which includes answer
  extraction);
- scoring from a response, like for like: Reasoning Gym's own
  `utils.extract_answer` (what its training examples call on a completion)
  followed by `score_answer`, on the same `<answer>` response resyn gets.
Each task pair is matched by name and by size (see TASKS). The machine is
shared and noisy, so the measurement is repeated in rounds (`--rounds`), each
measuring both libraries task by task, back to back; a task's ratio is the
median of its per-round ratios. Prints a markdown table with the median rates
and ratio per task, the geometric mean and the minimum, then the geometric
means of each round (the spread).

Run through bench/rg_compare.sh, which sets up the virtual environment.
"""

import argparse
import ast
import json
import math
import statistics
import subprocess
import sys
import time

import reasoning_gym
from reasoning_gym.utils import extract_answer

# (reasoning-gym task, its config overrides, resyn env, resyn difficulty, note)
# Difficulties are chosen so resyn's instance size matches Reasoning Gym's
# default configuration (see each environment's module docs).
TASKS = [
    ("mini_sudoku", {}, "sudoku", 3, "4x4, 10-12 blanks"),
    ("sudoku", {}, "sudoku", 7, "9x9, 39-45 blanks"),
    ("n_queens", {}, "n_queens", 5, "8x8 board"),
    ("graph_color", {}, "graph_coloring", 5, "10 vertices, 3 colors"),
    ("maze", {}, "maze", 3, "9x11 grid"),
    ("knights_knaves", {}, "knights_knaves", 1, "2 people"),
    ("zebra_puzzles", {}, "zebra_puzzle", 5, "4 houses x 4 attributes"),
    ("countdown", {}, "countdown", 6, "5 numbers, target 100-999"),
    ("basic_arithmetic", {}, "basic_arithmetic", 6, "5 terms"),
    ("tower_of_hanoi", {}, "tower_of_hanoi", 4, "5 disks"),
    ("shortest_path", {}, "shortest_path", 3, "8 nodes"),
    ("rotate_matrix", {}, "grid_transform", 3, "grid rotation"),
]


def correct_answer(name, entry):
    """The known-correct answer Reasoning Gym scores."""
    if name == "graph_color":
        coloring = entry["metadata"]["possible_answer"]
        if isinstance(coloring, str):
            coloring = ast.literal_eval(coloring)
        return json.dumps({str(k): v for k, v in coloring.items()})
    return entry["answer"]


def rate(budget, fn):
    """Calls per CPU-second (thread CPU time, like the Rust side: the machine
    is shared, and CPU time does not count time spent waiting for a core)."""
    n, ok, batch, start = 0, 0, 1, time.thread_time()
    while True:
        for _ in range(batch):
            ok += fn(n) is not False
            n += 1
        spent = time.thread_time() - start
        if spent >= budget:
            return ok / spent
        batch = min(batch * 2, 4096)


def rg_rates(name, config, budget):
    ds = reasoning_gym.create_dataset(name, size=100_000, seed=42, **config)
    def generate(i):
        # Some Reasoning Gym generators give up on some indices (e.g. maze's
        # "Could not find suitable path cell"); that time counts, the
        # instance does not.
        try:
            ds[i]
        except RuntimeError:
            return False

    gen = rate(budget, generate)
    pool = []
    for i in range(50_000, 60_000):
        if len(pool) == 64:
            break
        try:
            pool.append(ds[i])
        except RuntimeError:
            pass
    answers = [correct_answer(name, e) for e in pool]
    scores = [ds.score_answer(a, e) for a, e in zip(answers, pool)]
    assert min(scores) == 1.0, f"{name}: reference answers do not score 1.0: {scores}"
    score = rate(budget, lambda i: ds.score_answer(answers[i % 64], pool[i % 64]))
    # The response shape of resyn's references (`wrap_answer`).
    responses = [f"<answer>\n{a}\n</answer>" for a in answers]
    full = [ds.score_answer(extract_answer(r), e) for r, e in zip(responses, pool)]
    assert min(full) == 1.0, f"{name}: extracted reference answers do not score 1.0: {full}"
    score_full = rate(
        budget, lambda i: ds.score_answer(extract_answer(responses[i % 64]), pool[i % 64])
    )
    return gen, score, score_full


def resyn_rates(binary, specs, budget):
    out = subprocess.run(
        [binary, str(budget), *specs], check=True, capture_output=True, text=True
    ).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {(r["env"], r["difficulty"]): r for r in rows}


def fmt(x):
    return f"{x:,.0f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--throughput-bin", required=True, help="resyn throughput example binary")
    ap.add_argument("--seconds", type=float, default=1.0, help="time budget per measurement")
    ap.add_argument("--rounds", type=int, default=3, help="repetitions; medians are reported")
    args = ap.parse_args()

    def geo(xs):
        return math.exp(sum(math.log(x) for x in xs) / len(xs))

    # samples[task] = one dict of rates and ratios per round.
    samples = {t[0]: [] for t in TASKS}
    round_geo = []
    for k in range(args.rounds):
        gens, scores, fulls = [], [], []
        for name, config, env, d, _ in TASKS:
            # Both libraries back to back, so a burst of load on the shared
            # machine hits one task's pair rather than one library.
            r = resyn_rates(args.throughput_bin, [f"{env}:{d}"], args.seconds)[(env, d)]
            rg_gen, rg_score, rg_full = rg_rates(name, config, args.seconds)
            x = {
                "rg_gen": rg_gen, "gen": r["generate_per_s"], "rg_score": rg_score,
                "verify": r["verify_per_s"], "rg_full": rg_full,
            }
            x["g"], x["s"] = x["gen"] / rg_gen, x["verify"] / rg_score
            x["f"] = x["verify"] / rg_full
            samples[name].append(x)
            gens.append(x["g"])
            scores.append(x["s"])
            fulls.append(x["f"])
            print(f"round {k + 1}/{args.rounds}: measured {name}", file=sys.stderr)
        round_geo.append((geo(gens), geo(scores), geo(fulls)))

    def med(name, key):
        return statistics.median(x[key] for x in samples[name])

    rows, gen_ratios, score_ratios, full_ratios = [], [], [], []
    for name, _, env, d, note in TASKS:
        g, s, f = med(name, "g"), med(name, "s"), med(name, "f")
        gen_ratios.append(g)
        score_ratios.append(s)
        full_ratios.append(f)
        rows.append(
            f"| {name} | {env} d{d} ({note}) | {fmt(med(name, 'rg_gen'))} | "
            f"{fmt(med(name, 'gen'))} | **{g:,.1f}x** | {fmt(med(name, 'rg_score'))} | "
            f"{fmt(med(name, 'verify'))} | **{s:,.1f}x** | {fmt(med(name, 'rg_full'))} | "
            f"**{f:,.1f}x** |"
        )

    print("| Reasoning Gym task | resyn env | RG gen/s | resyn gen/s | gen ratio "
          "| RG score/s (bare answer) | resyn verify/s | score ratio "
          "| RG extract+score/s | ratio from a response |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print(
        f"| **geometric mean** | | | | **{geo(gen_ratios):,.1f}x** | | | "
        f"**{geo(score_ratios):,.1f}x** | | **{geo(full_ratios):,.1f}x** |"
    )
    print(
        f"| minimum | | | | {min(gen_ratios):,.1f}x | | | {min(score_ratios):,.1f}x | | "
        f"{min(full_ratios):,.1f}x |"
    )
    print()
    print("Geometric means of each round (generation / score, bare answer / from a response):")
    for k, (g, s, f) in enumerate(round_geo):
        print(f"- round {k + 1}: {g:,.1f}x / {s:,.1f}x / {f:,.1f}x")


if __name__ == "__main__":
    main()
