"""Convert an integer written in one base into another base."""

import random

NAME = "base_conversion"
CATEGORY = "math"
DESCRIPTION = (
    "Positional notation: rewrite a non-negative integer given in base b1 in base b2 (bases 2 "
    "to 36, digits 0-9 then A-Z). The answer is unique (no leading zeros; letter case "
    "ignored). Difficulty raises the value from below 64 to about 10^12 and moves from "
    "decimal-to-binary conversions to conversions between two unusual bases, which need an "
    "intermediate value."
)
VERSION = 1

# (largest value, source bases, target bases)
_LEVELS = [
    (63, [10], [2]),
    (255, [10], [2, 8, 16]),
    (1000, [2, 8, 16], [10]),
    (5000, [10], [3, 5, 7, 16]),
    (20000, [3, 5, 7, 12], [10]),
    (10**5, [2, 8, 16], [3, 5, 9, 12]),
    (10**6, [3, 6, 7, 11, 13], [4, 5, 9, 16, 20]),
    (10**8, [5, 7, 11, 13, 17], [3, 6, 12, 19, 23]),
    (10**10, [6, 9, 14, 19, 23], [7, 11, 13, 29, 31]),
    (10**12, [7, 13, 17, 21, 27], [3, 11, 19, 25, 33, 36]),
]
_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_MAX_ANSWER_CHARS = 200


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _to_base(value, base):
    if value == 0:
        return "0"
    out = []
    while value:
        value, digit = divmod(value, base)
        out.append(_DIGITS[digit])
    return "".join(reversed(out))


def generate(rng: random.Random, difficulty: int) -> dict:
    largest, sources, targets = _LEVELS[_level(difficulty)]
    while True:
        source, target = rng.choice(sources), rng.choice(targets)
        if source != target:
            break
    value = rng.randint(max(2, largest // 20), largest)
    given, expected = _to_base(value, source), _to_base(value, target)
    prompt = (
        f"The number {given} is written in base {source}. Write the same number in base "
        f"{target}. Digits larger than 9 are written with letters: A = 10, B = 11, and so on up "
        f"to Z = 35.\n\n"
        f"Answer format: the base-{target} digits only, most significant first, without leading "
        f"zeros, a base prefix or a subscript. Write nothing else."
    )
    data = {"source_base": source, "target_base": target, "given": given, "answer": expected}
    return {"prompt": prompt, "data": data, "reference": expected}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        return 1.0 if answer.strip().upper() == instance["data"]["answer"] else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    data = instance["data"]
    value = 0
    for ch in data["given"]:
        value = value * data["source_base"] + _DIGITS.index(ch)
    return _to_base(value, data["target_base"])
