"""Bin packing: put weighted items into a fixed number of bins without exceeding capacity."""

import random

NAME = "bin_packing"
CATEGORY = "constraint_satisfaction"
DESCRIPTION = (
    "Bin packing with a fixed number of bins: assign every item to one of k bins of equal "
    "capacity (named by random letters) so that no bin is overloaded. Instances are planted by "
    "cutting each bin's capacity (minus a small slack) into item weights, so a packing exists; "
    "any valid assignment is accepted. Difficulty raises the bins from 2 to 6, the items per "
    "bin from 2 to 6 and the capacity from about 15 to about 120, and removes the slack so that "
    "the packing must be perfect."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

# (bins, items per bin (lo, hi), capacity (lo, hi), max slack per bin as a share of capacity)
_LEVELS = [
    (2, (2, 2), (10, 20), 0.20),
    (2, (2, 3), (12, 25), 0.15),
    (3, (2, 3), (15, 30), 0.15),
    (3, (3, 4), (20, 40), 0.10),
    (4, (3, 4), (25, 50), 0.10),
    (4, (3, 5), (30, 60), 0.05),
    (5, (3, 5), (40, 80), 0.05),
    (5, (4, 5), (50, 100), 0.02),
    (6, (4, 5), (60, 120), 0.0),
    (6, (4, 6), (80, 150), 0.0),
]
_LABELS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_MAX_ANSWER_CHARS = 1000


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def generate(rng: random.Random, difficulty: int) -> dict:
    bins, (lo, hi), (cap_lo, cap_hi), slack_share = _LEVELS[_level(difficulty)]
    capacity = rng.randint(cap_lo, cap_hi)
    items = []  # (weight, planted bin)
    for b in range(bins):
        fill = capacity - rng.randint(0, int(slack_share * capacity))
        pieces = min(rng.randint(lo, hi), fill)
        cuts = sorted(rng.sample(range(1, fill), pieces - 1))
        bounds = [0] + cuts + [fill]
        items += [(bounds[k + 1] - bounds[k], b + 1) for k in range(pieces)]
    rng.shuffle(items)
    labels = sorted(rng.sample(_LABELS, bins))
    weights = [w for w, _ in items]
    listing = ", ".join(f"item {i + 1}: {w}" for i, w in enumerate(weights))
    prompt = (
        f"Pack {len(weights)} items into {bins} bins. Every bin has capacity {capacity}: the total "
        f"weight of the items in one bin may not exceed {capacity}. Every item must go into "
        f"exactly one bin. The bins are named {', '.join(labels[:-1])} and {labels[-1]}.\n\n"
        f"Item weights: {listing}.\n\n"
        f"Answer format: a single line of {len(weights)} bin names separated by spaces, where "
        f"the i-th name is the bin of item i, in item order. Write nothing else."
    )
    reference = " ".join(labels[b - 1] for _, b in items)
    data = {"weights": weights, "labels": labels, "capacity": capacity}
    return {"prompt": prompt, "data": data, "reference": reference}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        data = instance["data"]
        tokens = answer.replace(",", " ").upper().split()
        if len(tokens) != len(data["weights"]):
            return 0.0
        loads = {label: 0 for label in data["labels"]}
        for weight, token in zip(data["weights"], tokens):
            if token not in loads:
                return 0.0
            loads[token] += weight
        return 1.0 if max(loads.values()) <= data["capacity"] else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    """Bin completion: fill one bin at a time, always with the heaviest unplaced item, and
    prune when the capacity already wasted exceeds the total slack of the instance."""
    data = instance["data"]
    weights, capacity = data["weights"], data["capacity"]
    bins = len(data["labels"])
    assignment = [0] * len(weights)

    def subsets(items, low, high, start=0):
        """Index lists into `items` (sorted heavy first) whose total lies in [low, high]."""
        if low <= 0:
            yield []
        seen = set()
        for k in range(start, len(items)):
            w = weights[items[k]]
            if w > high or w in seen:
                continue
            if suffix[items[k]] < low:  # even all remaining items are too light
                break
            seen.add(w)  # equal weights give equivalent subsets
            for rest in subsets(items, low - w, high - w, k + 1):
                yield [k] + rest

    def fill(b, items, slack):
        if not items:
            return True
        if b > bins:
            return False
        first, rest = items[0], items[1:]
        room = capacity - weights[first]
        total = 0
        for item in reversed(rest):  # suffix sums of the remaining items
            total += weights[item]
            suffix[item] = total
        options = list(subsets(rest, room - slack, room))
        options.sort(key=lambda s: -sum(weights[rest[k]] for k in s))
        for chosen in options:
            waste = room - sum(weights[rest[k]] for k in chosen)
            for k in chosen:
                assignment[rest[k]] = b
            assignment[first] = b
            taken = set(chosen)
            left = [item for k, item in enumerate(rest) if k not in taken]
            if fill(b + 1, left, slack - waste):
                return True
        return False

    suffix = [0] * len(weights)
    order = sorted(range(len(weights)), key=lambda i: -weights[i])
    fill(1, order, bins * capacity - sum(weights))
    return " ".join(data["labels"][b - 1] for b in assignment)
