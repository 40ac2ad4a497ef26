"""Count the integers in a range with a given digit sum (and, later, a given divisor)."""

import random
from functools import cache

NAME = "digit_sum_count"
CATEGORY = "math"
DESCRIPTION = (
    "Counting with digits: how many integers n with A <= n <= B have digit sum exactly S (and, "
    "from difficulty 6, are also divisible by k)? The count is computed exactly with a digit "
    "dynamic program, so the answer is unique. Difficulty raises B from about 100 to about "
    "10^12, which rules out listing the numbers, and adds the divisibility condition."
)
VERSION = 1

# (largest B, divisibility condition?)
_LEVELS = [
    (100, False),
    (500, False),
    (2000, False),
    (10**4, False),
    (10**5, False),
    (10**4, True),
    (10**6, True),
    (10**8, True),
    (10**10, True),
    (10**12, True),
]
_MAX_ANSWER_CHARS = 100


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _count_up_to(limit, target, k):
    """Numbers 0 <= n <= limit with digit sum `target` and n % k == 0 (digit DP, iterative)."""
    if limit < 0:
        return 0
    # states: (digit sum so far, remainder so far) -> count, for prefixes already below limit
    below = {}
    tight_sum, tight_rem = 0, 0
    for ch in str(limit):
        digit = int(ch)
        nxt = {}
        for (s, r), ways in below.items():
            for d in range(10):
                if s + d <= target:
                    key = (s + d, (r * 10 + d) % k)
                    nxt[key] = nxt.get(key, 0) + ways
        for d in range(digit):  # leave the tight prefix with a smaller digit
            if tight_sum + d <= target:
                key = (tight_sum + d, (tight_rem * 10 + d) % k)
                nxt[key] = nxt.get(key, 0) + 1
        below = nxt
        tight_sum, tight_rem = tight_sum + digit, (tight_rem * 10 + digit) % k
    total = below.get((target, 0), 0)
    if tight_sum == target and tight_rem == 0:
        total += 1
    return total


def generate(rng: random.Random, difficulty: int) -> dict:
    largest, divisible = _LEVELS[_level(difficulty)]
    while True:
        b = rng.randint(largest // 2, largest)
        a = rng.randint(1, b // 3)
        digits = len(str(b))
        s = rng.randint(2, max(3, 9 * digits * 2 // 3))
        k = rng.randint(3, 12) if divisible else 1
        count = _count_up_to(b, s, k) - _count_up_to(a - 1, s, k)
        if count > 0:
            break
    condition = f" and are divisible by {k}" if divisible else ""
    prompt = (
        f"How many integers n with {a} <= n <= {b} have a digit sum of exactly {s} "
        f"(in base 10){condition}?\n\n"
        f"Answer format: a single non-negative integer. Write nothing else."
    )
    data = {"a": a, "b": b, "s": s, "k": k, "count": count}
    return {"prompt": prompt, "data": data, "reference": str(count)}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        text = answer.strip()
        if not text.isdigit():
            return 0.0
        return 1.0 if int(text) == instance["data"]["count"] else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    """Recursive digit DP with memoisation (independent of the generator's iterative one)."""
    d = instance["data"]

    def upto(limit):
        digits = [int(ch) for ch in str(limit)]

        @cache
        def go(pos, total, rem, tight):
            if total > d["s"]:
                return 0
            if pos == len(digits):
                return int(total == d["s"] and rem == 0)
            top = digits[pos] if tight else 9
            return sum(
                go(pos + 1, total + x, (rem * 10 + x) % d["k"], tight and x == top)
                for x in range(top + 1)
            )

        return go(0, 0, 0, True)

    return str(upto(d["b"]) - (upto(d["a"] - 1) if d["a"] > 1 else int(d["s"] == 0)))
