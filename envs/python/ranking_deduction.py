"""Deduce a complete height ranking from comparative and positional clues."""

import itertools
import random

NAME = "ranking_deduction"
CATEGORY = "logic"
DESCRIPTION = (
    "Ordering deduction: from statements such as 'A is taller than B', 'exactly two people are "
    "between A and B in height', 'A and B are next to each other in the ranking' or 'A is "
    "neither the tallest nor the shortest', deduce the full order from tallest to shortest. "
    "Clues are drawn from a hidden ranking until it is the only consistent permutation "
    "(checked by enumeration); from difficulty 5 redundant clues are removed so every clue "
    "matters. Difficulty raises the people from 3 to 7 and shifts the clues from direct "
    "comparisons to indirect ones (gaps, adjacency, betweenness)."
)
VERSION = 1

_PEOPLE = [3, 4, 4, 5, 5, 6, 6, 7, 7, 7]
_NAMES = [
    "Ava",
    "Ben",
    "Cara",
    "Dan",
    "Eve",
    "Finn",
    "Gia",
    "Hugo",
    "Iris",
    "Jack",
    "Kira",
    "Liam",
    "Mona",
    "Noah",
    "Olga",
    "Paul",
    "Rosa",
    "Sam",
    "Tara",
    "Vic",
]
_ORDINALS = [
    "tallest",
    "second tallest",
    "third tallest",
    "fourth tallest",
    "fifth tallest",
    "sixth tallest",
    "seventh tallest",
]
_MAX_ANSWER_CHARS = 300


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _holds(clue, pos):
    """pos[i] is person i's rank (0 = tallest)."""
    kind, args = clue[0], clue[1:]
    if kind == "taller":
        return pos[args[0]] < pos[args[1]]
    if kind == "gap":
        return pos[args[1]] - pos[args[0]] == args[2]
    if kind == "adjacent":
        return abs(pos[args[0]] - pos[args[1]]) == 1
    if kind == "apart":
        return abs(pos[args[0]] - pos[args[1]]) > 1
    if kind == "rank":
        return pos[args[0]] == args[1]
    if kind == "middle":
        return 0 < pos[args[0]] < len(pos) - 1
    if kind == "between":
        a, b, c = (pos[x] for x in args)
        return min(b, c) < a < max(b, c)
    raise ValueError(kind)


def _random_clue(rng, pos, level):
    n = len(pos)
    weights = {
        "taller": max(1, 10 - level),
        "rank": 2 if level < 4 else 0,
        "gap": level,
        "adjacent": level,
        "apart": level // 2,
        "middle": 1 + level // 3,
        "between": level,
    }
    kinds = sorted(weights)
    kind = rng.choices(kinds, weights=[weights[k] for k in kinds])[0]
    a, b, c = rng.sample(range(n), 3) if n >= 3 else (0, 1, 1)
    if pos[a] > pos[b]:
        a, b = b, a  # now a is taller than b
    if kind == "taller":
        return ["taller", a, b]
    if kind == "gap":
        return ["gap", a, b, pos[b] - pos[a]]
    if kind == "adjacent" and abs(pos[a] - pos[b]) == 1:
        return ["adjacent", a, b]
    if kind == "apart" and abs(pos[a] - pos[b]) > 1:
        return ["apart", a, b]
    if kind == "rank":
        return ["rank", a, pos[a]]
    if kind == "middle" and 0 < pos[a] < n - 1:
        return ["middle", a]
    if kind == "between":
        trio = sorted((a, b, c), key=lambda x: pos[x])
        return ["between", trio[1], trio[0], trio[2]]
    return ["taller", a, b]


def _text(clue, names):
    kind, args = clue[0], clue[1:]
    if kind == "taller":
        return f"{names[args[0]]} is taller than {names[args[1]]}."
    if kind == "gap":
        k = args[2] - 1
        if k == 0:
            return (
                f"{names[args[0]]} is taller than {names[args[1]]}, and nobody's height is "
                f"between theirs."
            )
        people = "person is" if k == 1 else "people are"
        return (
            f"{names[args[0]]} is taller than {names[args[1]]}, and exactly {k} {people} "
            f"shorter than {names[args[0]]} but taller than {names[args[1]]}."
        )
    if kind == "adjacent":
        a, b = args
        return f"{names[a]} and {names[b]} are next to each other in the height ranking."
    if kind == "apart":
        a, b = args
        return f"{names[a]} and {names[b]} are not next to each other in the height ranking."
    if kind == "rank":
        return f"{names[args[0]]} is the {_ORDINALS[args[1]]}."
    if kind == "middle":
        return f"{names[args[0]]} is neither the tallest nor the shortest."
    a, b, c = args
    if b > c:
        b, c = c, b
    return f"{names[a]} is taller than one of {names[b]} and {names[c]} and shorter than the other."


def _mask(clue, perms):
    """Bit mask (one byte per permutation, 0 or 1) of the permutations satisfying `clue`.
    Same semantics as _holds, written out per kind because it runs over every permutation."""
    kind, args = clue[0], clue[1:]
    if kind == "taller":
        a, b = args
        bits = [p[a] < p[b] for p in perms]
    elif kind == "gap":
        a, b, k = args
        bits = [p[b] - p[a] == k for p in perms]
    elif kind == "adjacent":
        a, b = args
        bits = [p[a] - p[b] in (1, -1) for p in perms]
    elif kind == "apart":
        a, b = args
        bits = [p[a] - p[b] not in (1, -1) for p in perms]
    elif kind == "rank":
        a, r = args
        bits = [p[a] == r for p in perms]
    elif kind == "middle":
        (a,) = args
        last = len(perms[0]) - 1
        bits = [0 < p[a] < last for p in perms]
    else:
        a, b, c = args
        bits = [p[b] < p[a] < p[c] or p[c] < p[a] < p[b] for p in perms]
    return int.from_bytes(bytes(bits), "big")


def _count(mask):
    return bin(mask).count("1")


def generate(rng: random.Random, difficulty: int) -> dict:
    level = _level(difficulty)
    n = _PEOPLE[level]
    names = rng.sample(_NAMES, n)
    order = list(range(n))
    rng.shuffle(order)  # order[r] = person with rank r
    pos = [0] * n
    for r, person in enumerate(order):
        pos[person] = r
    perms = list(itertools.permutations(range(n)))  # candidate rank vectors
    everything = int.from_bytes(bytes([1] * len(perms)), "big")
    clues, masks, alive = [], [], perms
    while len(alive) > 1:
        clue = _random_clue(rng, pos, level)
        remaining = [p for p in alive if _holds(clue, p)]
        if len(remaining) < len(alive):  # only informative clues are kept
            clues.append(clue)
            masks.append(_mask(clue, perms))
            alive = remaining
    if level >= 4:  # drop clues that the others already imply
        k = 0
        while k < len(clues):
            rest = everything
            for j, mask in enumerate(masks):
                if j != k:
                    rest &= mask
            if _count(rest) == 1:
                del clues[k], masks[k]
            else:
                k += 1
    rng.shuffle(clues)
    statements = "\n".join(f"- {_text(c, names)}" for c in clues)
    prompt = (
        f"{n} friends, {', '.join(names[:-1])} and {names[-1]}, all have different heights. "
        f"The following statements are all true:\n\n{statements}\n\n"
        f"List the friends from tallest to shortest.\n\n"
        f"Answer format: the {n} names in order from tallest to shortest, separated by spaces, "
        f"on one line. Write nothing else."
    )
    data = {"names": names, "clues": clues, "order": [names[p] for p in order]}
    return {"prompt": prompt, "data": data, "reference": " ".join(names[p] for p in order)}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        tokens = [t.lower() for t in answer.replace(",", " ").replace(">", " ").split()]
        return 1.0 if tokens == [x.lower() for x in instance["data"]["order"]] else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    data = instance["data"]
    n = len(data["names"])
    (pos,) = [
        p for p in itertools.permutations(range(n)) if all(_holds(c, p) for c in data["clues"])
    ]
    return " ".join(data["names"][p] for p in sorted(range(n), key=lambda p: pos[p]))
