"""Longest strictly increasing subsequence of a sequence of integers."""

import bisect
import random

NAME = "longest_increasing_subsequence"
CATEGORY = "algorithmic"
DESCRIPTION = (
    "Find a longest strictly increasing subsequence of a list of integers and write out its "
    "values. The verifier checks that the answer is a subsequence (in order, not necessarily "
    "contiguous), strictly increasing and of the optimal length computed by patience sorting; "
    "any optimal subsequence is accepted. Difficulty grows the list from 6 to 48 numbers and the "
    "value range with it, which also multiplies the near-optimal decoys."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

_LENGTH = [6, 8, 10, 13, 16, 20, 25, 31, 39, 48]
_MAX_ANSWER_CHARS = 1000


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _longest(seq):
    """One longest strictly increasing subsequence, in O(n log n)."""
    tails, tail_index, parent = [], [], [None] * len(seq)
    for i, x in enumerate(seq):
        k = bisect.bisect_left(tails, x)
        if k == len(tails):
            tails.append(x)
            tail_index.append(i)
        else:
            tails[k] = x
            tail_index[k] = i
        parent[i] = tail_index[k - 1] if k else None
    out, i = [], tail_index[-1] if tail_index else None
    while i is not None:
        out.append(seq[i])
        i = parent[i]
    return out[::-1]


def generate(rng: random.Random, difficulty: int) -> dict:
    n = _LENGTH[_level(difficulty)]
    seq = [rng.randint(1, 3 * n) for _ in range(n)]
    best = _longest(seq)
    prompt = (
        f"Find a longest strictly increasing subsequence of the following sequence of {n} "
        f"integers. A subsequence keeps the original order but may skip elements; strictly "
        f"increasing means every element is larger than the one before it.\n\n"
        f"{', '.join(map(str, seq))}\n\n"
        f"Answer format: the values of your subsequence in order, separated by spaces, on one "
        f"line (for the sequence 4, 1, 3, 2, 5 one correct answer would be: 1 3 5). Write "
        f"nothing else."
    )
    data = {"sequence": seq, "length": len(best)}
    return {"prompt": prompt, "data": data, "reference": " ".join(map(str, best))}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        data = instance["data"]
        tokens = answer.replace(",", " ").split()
        if len(tokens) != data["length"]:
            return 0.0
        if not all(t.lstrip("-").isdigit() and len(t) <= 12 for t in tokens):
            return 0.0
        values = [int(t) for t in tokens]
        if any(a >= b for a, b in zip(values, values[1:])):
            return 0.0
        k = 0  # greedy subsequence test
        for x in data["sequence"]:
            if k < len(values) and x == values[k]:
                k += 1
        return 1.0 if k == len(values) else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    return " ".join(map(str, _longest(instance["data"]["sequence"])))
