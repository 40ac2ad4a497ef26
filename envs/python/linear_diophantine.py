"""Integer solutions of a linear equation a*x + b*y = c inside given bounds."""

import random

NAME = "linear_diophantine"
CATEGORY = "math"
DESCRIPTION = (
    "Linear Diophantine equation with bounds: find integers x and y with a*x + b*y = c, "
    "x in [x_min, x_max] and y in [y_min, y_max]. A solution is planted inside the boxes, "
    "which are narrow compared with the values, so a general solution from the extended "
    "Euclidean algorithm has to be shifted into range; any solution in the bounds is "
    "accepted. Difficulty raises the coefficients from below 10 to 5000 (negative ones from "
    "difficulty 4) and the magnitude of x and y from 40 to 10^5."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

# (largest |coefficient|, negative coefficients allowed, largest |x|, |y|, box width)
_LEVELS = [
    (9, False, 40, 6),
    (15, False, 60, 10),
    (30, False, 100, 20),
    (60, True, 150, 30),
    (100, True, 300, 50),
    (200, True, 1000, 60),
    (400, True, 3000, 80),
    (800, True, 10**4, 100),
    (2000, True, 3 * 10**4, 120),
    (5000, True, 10**5, 150),
]
_MAX_ANSWER_CHARS = 100


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def generate(rng: random.Random, difficulty: int) -> dict:
    level = _level(difficulty)
    top, negative, scale, width = _LEVELS[level]

    def coefficient():
        value = rng.randint(2, top)
        return -value if negative and rng.random() < 0.4 else value

    a, b = coefficient(), coefficient()
    low = -scale if negative else 0
    x0, y0 = rng.randint(low, scale), rng.randint(low, scale)
    c = a * x0 + b * y0
    x_min = x0 - rng.randint(0, width)
    y_min = y0 - rng.randint(0, width)
    data = {
        "a": a,
        "b": b,
        "c": c,
        "x_min": x_min,
        "x_max": x_min + width,
        "y_min": y_min,
        "y_max": y_min + width,
    }
    sign = "+" if b >= 0 else "-"
    prompt = (
        f"Find integers x and y such that\n\n"
        f"{a}*x {sign} {abs(b)}*y = {c}\n\n"
        f"with {x_min} <= x <= {x_min + width} and {y_min} <= y <= {y_min + width}.\n\n"
        f"Answer format: the two integers x and y, in that order, separated by a space. Write "
        f"nothing else."
    )
    return {"prompt": prompt, "data": data, "reference": f"{x0} {y0}"}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        d = instance["data"]
        tokens = answer.replace(",", " ").split()
        if len(tokens) != 2 or not all(t.lstrip("+-").isdigit() and len(t) < 20 for t in tokens):
            return 0.0
        x, y = int(tokens[0]), int(tokens[1])
        if not (d["x_min"] <= x <= d["x_max"] and d["y_min"] <= y <= d["y_max"]):
            return 0.0
        return 1.0 if d["a"] * x + d["b"] * y == d["c"] else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    d = instance["data"]
    for x in range(d["x_min"], d["x_max"] + 1):
        rest = d["c"] - d["a"] * x
        if rest % d["b"] == 0 and d["y_min"] <= rest // d["b"] <= d["y_max"]:
            return f"{x} {rest // d['b']}"
    return ""
