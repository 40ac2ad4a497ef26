"""Coin change: pay an exact amount with the fewest coins from an unusual coin system."""

import random

NAME = "coin_change_min"
CATEGORY = "algorithmic"
DESCRIPTION = (
    "Pay an exact amount with the minimum number of coins, with unlimited coins of each given "
    "denomination, and list the coins used. The verifier checks denominations, the total and "
    "that the count equals the optimum found by dynamic programming; any optimal multiset is "
    "accepted. From difficulty 4 on, coin systems are chosen so that the greedy strategy "
    "(largest coin first) is not optimal. Difficulty raises the number of denominations from 3 "
    "to 6, the largest coin from 10 to 75 and the amount from about 10 to about 400."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

# (number of denominations, largest possible coin, amount range)
_LEVELS = [
    (3, 10, (8, 20)),
    (3, 12, (15, 30)),
    (4, 15, (20, 45)),
    (4, 20, (30, 70)),
    (4, 25, (50, 100)),
    (5, 30, (70, 140)),
    (5, 40, (100, 200)),
    (5, 50, (150, 260)),
    (6, 60, (200, 330)),
    (6, 75, (250, 400)),
]
_MAX_ANSWER_CHARS = 2000


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _optimal(coins, target):
    """Minimum coin counts and one optimal multiset, or (None, None) if unreachable."""
    inf = target + 1
    best = [0] + [inf] * target
    last = [0] * (target + 1)
    for amount in range(1, target + 1):
        for c in coins:
            if c <= amount and best[amount - c] + 1 < best[amount]:
                best[amount] = best[amount - c] + 1
                last[amount] = c
    if best[target] >= inf:
        return None, None
    used, amount = [], target
    while amount:
        used.append(last[amount])
        amount -= last[amount]
    return best[target], sorted(used, reverse=True)


def _greedy_count(coins, target):
    count = 0
    for c in sorted(coins, reverse=True):
        count += target // c
        target %= c
    return count if target == 0 else None


def generate(rng: random.Random, difficulty: int) -> dict:
    level = _level(difficulty)
    count, largest, (lo, hi) = _LEVELS[level]
    attempt = 0
    while True:
        attempt += 1
        if level < 3:
            coins = sorted([1] + rng.sample(range(2, largest + 1), count - 1))
        else:
            coins = sorted(rng.sample(range(2, largest + 1), count))
        target = rng.randint(lo, hi)
        optimum, used = _optimal(coins, target)
        if optimum is None:
            continue
        greedy = _greedy_count(coins, target)
        if level >= 3 and greedy == optimum and attempt < 150:
            continue  # prefer instances where greedy fails
        break
    prompt = (
        f"You have an unlimited supply of coins with these values: {', '.join(map(str, coins))}. "
        f"Pay exactly {target} using as few coins as possible.\n\n"
        f"Answer format: the values of all coins you use, separated by spaces, on one line, "
        f"repeating a value once per coin (for example, paying 11 with two 4s and one 3 is "
        f"written: 4 4 3). The order does not matter. "
        f"Write nothing else."
    )
    data = {"coins": coins, "target": target, "optimum": optimum}
    return {"prompt": prompt, "data": data, "reference": " ".join(map(str, used))}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        data = instance["data"]
        tokens = answer.replace(",", " ").split()
        if len(tokens) != data["optimum"] or not all(t.isdigit() and len(t) <= 6 for t in tokens):
            return 0.0
        values = [int(t) for t in tokens]
        if any(v not in data["coins"] for v in values):
            return 0.0
        return 1.0 if sum(values) == data["target"] else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    _, used = _optimal(instance["data"]["coins"], instance["data"]["target"])
    return " ".join(map(str, used))
