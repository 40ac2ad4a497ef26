"""Linear congruence: the smallest non-negative x with a*x = b (mod m),
where gcd(a, m) = 1 so the solution is unique modulo m."""

import math

NAME = "linear_congruence"
CATEGORY = "math"
DESCRIPTION = (
    "Solve a*x = b (mod m) for the smallest non-negative integer x, with gcd(a, m) = 1. "
    "Difficulty scales the modulus from two digits (difficulty 1) to about twelve "
    "digits (difficulty 10)."
)
VERSION = 1


def generate(rng, difficulty):
    lo, hi = 10 ** difficulty, 10 ** (difficulty + 2) if difficulty < 10 else 10 ** 12
    lo = max(lo, 11)
    m = rng.randint(lo, hi)
    while True:
        a = rng.randint(2, m - 1)
        if math.gcd(a, m) == 1:
            break
    x = rng.randint(0, m - 1)
    b = a * x % m
    prompt = (
        f"Find the smallest non-negative integer x such that {a} * x is congruent to "
        f"{b} modulo {m}.\n\nAnswer format: a single non-negative integer."
    )
    return {"prompt": prompt, "data": {"a": a, "b": b, "m": m}, "reference": str(x)}


def verify(instance, answer):
    d = instance["data"]
    text = answer.strip()
    if not text.isdigit() or len(text) > 20:
        return 0.0
    x = int(text)
    return 1.0 if x < d["m"] and d["a"] * x % d["m"] == d["b"] else 0.0


def solve(instance):
    d = instance["data"]
    return str(d["b"] * pow(d["a"], -1, d["m"]) % d["m"])
