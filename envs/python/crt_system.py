"""Chinese remainder theorem: the smallest non-negative solution of a system of congruences."""

import math
import random

NAME = "crt_system"
CATEGORY = "math"
DESCRIPTION = (
    "Solve a system of simultaneous congruences x = r_i (mod m_i) and give the smallest "
    "non-negative solution. Systems are built from a hidden x, so they are always consistent; "
    "from difficulty 5 the moduli need not be pairwise coprime, so the solution is unique only "
    "modulo their least common multiple and the answer is the smallest one. Difficulty raises "
    "the number of congruences from 2 to 5 and the moduli from below 10 to below 60."
)
VERSION = 1

# (congruences, largest modulus, moduli pairwise coprime?)
_LEVELS = [
    (2, 7, True),
    (2, 11, True),
    (3, 11, True),
    (3, 17, True),
    (3, 23, False),
    (4, 23, False),
    (4, 31, False),
    (4, 41, False),
    (5, 47, False),
    (5, 59, False),
]
_MAX_ANSWER_CHARS = 100


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _lcm(values):
    out = 1
    for v in values:
        out = out * v // math.gcd(out, v)
    return out


def _solve_system(pairs):
    """Smallest non-negative x with x = r (mod m) for all (r, m), or None."""
    x, modulus = 0, 1
    for r, m in pairs:
        # find t with x + modulus * t = r (mod m)
        g = math.gcd(modulus, m)
        if (r - x) % g:
            return None
        step = m // g
        t = ((r - x) // g) * pow(modulus // g, -1, step) % step if step > 1 else 0
        x += modulus * t
        modulus = modulus * step
        x %= modulus
    return x


def generate(rng: random.Random, difficulty: int) -> dict:
    count, largest, coprime = _LEVELS[_level(difficulty)]
    while True:
        moduli = sorted(rng.sample(range(3, largest + 1), count))
        if coprime and any(
            math.gcd(a, b) > 1 for i, a in enumerate(moduli) for b in moduli[i + 1 :]
        ):
            continue
        if any(b % a == 0 for i, a in enumerate(moduli) for b in moduli[i + 1 :]):
            continue  # a modulus dividing another would make its congruence redundant
        break
    rng.shuffle(moduli)
    total = _lcm(moduli)
    x = rng.randrange(total)
    pairs = [[x % m, m] for m in moduli]
    answer = _solve_system(pairs)
    system = "\n".join(f"x ≡ {r} (mod {m})" for r, m in pairs)
    prompt = (
        f"Find the smallest non-negative integer x that satisfies all of these congruences:\n\n"
        f"{system}\n\n"
        f"Answer format: the integer x in decimal digits. Write nothing else."
    )
    data = {"congruences": pairs, "answer": answer}
    return {"prompt": prompt, "data": data, "reference": str(answer)}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        text = answer.strip()
        if not text.isdigit():
            return 0.0
        return 1.0 if int(text) == instance["data"]["answer"] else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    """Sieving: step through the solutions of the congruences seen so far."""
    x, step = 0, 1
    for r, m in instance["data"]["congruences"]:
        for _ in range(m):
            if x % m == r:
                break
            x += step
        step = _lcm([step, m])
    return str(x)
