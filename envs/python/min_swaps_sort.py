"""Sort a list with the minimum number of swaps of two arbitrary positions."""

import random

NAME = "min_swaps_sort"
CATEGORY = "algorithmic"
DESCRIPTION = (
    "Sort a list of distinct integers into increasing order using the minimum number of swaps, "
    "where a swap exchanges the entries at any two positions. The minimum equals the length "
    "minus the number of cycles of the underlying permutation. The verifier replays the swaps "
    "and requires a sorted result with exactly that many swaps; any optimal sequence is "
    "accepted. Difficulty grows the list from 4 to 16 entries and the value range with it."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

_LENGTH = [4, 5, 6, 7, 8, 9, 10, 12, 14, 16]
_MAX_ANSWER_CHARS = 1000


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _min_swaps(values):
    """An optimal swap sequence (1-based position pairs) that sorts `values`."""
    values = list(values)
    target = {v: i for i, v in enumerate(sorted(values))}
    swaps = []
    for i in range(len(values)):
        while target[values[i]] != i:  # send values[i] to its final place
            j = target[values[i]]
            values[i], values[j] = values[j], values[i]
            swaps.append((i + 1, j + 1))
    return swaps


def generate(rng: random.Random, difficulty: int) -> dict:
    n = _LENGTH[_level(difficulty)]
    while True:
        values = rng.sample(range(1, 5 * n), n)
        if values != sorted(values):
            break
    swaps = _min_swaps(values)
    prompt = (
        f"Sort this list into increasing order by swapping entries. One swap exchanges the "
        f"entries at two positions of your choice (they need not be adjacent). Use as few swaps "
        f"as possible. Positions are numbered from 1 (leftmost) to {n}, and each swap refers to "
        f"positions in the list as it is at that moment.\n\n"
        f"{' '.join(map(str, values))}\n\n"
        f"Answer format: one swap per line, in the order performed, each written as the two "
        f"positions separated by a space (a swap of the entries at positions p and q is "
        f"written: p q). Write nothing else."
    )
    data = {"perm": values, "optimum": len(swaps)}
    return {"prompt": prompt, "data": data, "reference": "\n".join(f"{i} {j}" for i, j in swaps)}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        data = instance["data"]
        values = list(data["perm"])
        n = len(values)
        lines = [
            line.replace(",", " ").split() for line in answer.strip().splitlines() if line.strip()
        ]
        if len(lines) != data["optimum"]:
            return 0.0
        for parts in lines:
            if len(parts) != 2 or not all(p.isdigit() and len(p) <= 3 for p in parts):
                return 0.0
            i, j = int(parts[0]) - 1, int(parts[1]) - 1
            if not (0 <= i < n and 0 <= j < n) or i == j:
                return 0.0
            values[i], values[j] = values[j], values[i]
        return 1.0 if values == sorted(values) else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    return "\n".join(f"{i} {j}" for i, j in _min_swaps(instance["data"]["perm"]))
