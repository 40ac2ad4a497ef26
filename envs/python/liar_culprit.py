"""Who did it? Find the culprits and the liars from statements and a count of true ones."""

import itertools
import random

NAME = "liar_culprit"
CATEGORY = "logic"
DESCRIPTION = (
    "Case analysis puzzle: suspects each make one statement about who is guilty, and the "
    "puzzle says how many statements are true; determine the guilty suspect(s) and which "
    "suspects lied. Statements are generated until exactly one guilty set of the stated size "
    "yields the stated number of true statements (checked by enumeration), so the answer is "
    "unique; asking for the liars as well makes guessing useless. Difficulty raises the "
    "suspects from 3 to 8, uses two culprits from difficulty 7, and adds compound statements "
    "(either/or, neither/nor, exactly one of, one of three)."
)
VERSION = 1

# (suspects, culprits)
_LEVELS = [(3, 1), (4, 1), (4, 1), (5, 1), (5, 1), (6, 1), (6, 2), (7, 2), (7, 2), (8, 2)]
_NAMES = [
    "Alice",
    "Boris",
    "Chen",
    "Dora",
    "Emil",
    "Fatima",
    "Gus",
    "Hana",
    "Ivan",
    "Jada",
    "Kofi",
    "Lena",
    "Marco",
    "Nadia",
    "Oscar",
    "Priya",
]
_MAX_ANSWER_CHARS = 300


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _true(statement, guilty):
    kind, people = statement[0], statement[1:]
    inside = [p in guilty for p in people]
    if kind == "guilty":
        return inside[0]
    if kind == "innocent":
        return not inside[0]
    if kind == "either":
        return any(inside)
    if kind == "neither":
        return not any(inside)
    if kind == "exactly_one":
        return sum(inside) == 1
    if kind == "one_of_three":
        return any(inside)
    raise ValueError(kind)


def _random_statement(rng, speaker, n, level):
    kinds = ["guilty", "innocent"]
    if level >= 2:
        kinds += ["either", "neither"]
    if level >= 5:
        kinds += ["exactly_one", "one_of_three"]
    kind = rng.choice(kinds)
    if kind in ("guilty", "innocent"):
        return [kind, rng.randrange(n)]
    if kind == "one_of_three":
        return [kind] + sorted(rng.sample(range(n), 3))
    return [kind] + sorted(rng.sample(range(n), 2))


def _text(statement, speaker, names):
    kind, people = statement[0], statement[1:]

    def who(p):
        return "I" if p == speaker else names[p]

    if kind == "guilty":
        return f"{who(people[0])} {'am' if people[0] == speaker else 'is'} guilty."
    if kind == "innocent":
        return f"{who(people[0])} {'am' if people[0] == speaker else 'is'} innocent."
    if kind == "neither":
        return f"Neither {who(people[0])} nor {who(people[1])} is guilty."

    def whom(p):
        return "me" if p == speaker else names[p]

    a, b = (whom(p) for p in people[:2])
    if kind == "either":
        return f"At least one of {a} and {b} is guilty."
    if kind == "exactly_one":
        return f"Exactly one of {a} and {b} is guilty."
    return f"At least one of {a}, {b} and {whom(people[2])} is guilty."


def _answer(names, guilty, liars):
    guilty_text = ", ".join(names[p] for p in sorted(guilty))
    liars_text = ", ".join(names[p] for p in sorted(liars)) or "none"
    return f"guilty: {guilty_text}\nliars: {liars_text}"


def generate(rng: random.Random, difficulty: int) -> dict:
    n, culprits = _LEVELS[_level(difficulty)]
    names = sorted(rng.sample(_NAMES, n))
    guilty = sorted(rng.sample(range(n), culprits))
    options = list(itertools.combinations(range(n), culprits))
    while True:
        statements = [_random_statement(rng, s, n, _level(difficulty)) for s in range(n)]
        true_count = sum(_true(st, guilty) for st in statements)
        matching = [g for g in options if sum(_true(st, g) for st in statements) == true_count]
        if len(matching) == 1:
            break
    liars = [s for s in range(n) if not _true(statements[s], guilty)]
    said = "\n".join(f'{names[s]}: "{_text(statements[s], s, names)}"' for s in range(n))
    culprit_text = (
        "exactly one of them is guilty" if culprits == 1 else "exactly two of them are guilty"
    )
    statements_true = "statement is" if true_count == 1 else "statements are"
    prompt = (
        f"A crime was committed and there are {n} suspects: {', '.join(names)}. It is known "
        f"that {culprit_text}. Each suspect made one statement:\n\n{said}\n\n"
        f"Exactly {true_count} of these {n} {statements_true} true; the others are false. "
        f"Who is guilty, and which suspects made false statements?\n\n"
        f"Answer format: two lines. The first line is 'guilty: ' followed by the guilty "
        f"suspect{'s' if culprits > 1 else ''} (names separated by commas); the second line is "
        f"'liars: ' followed by the names of all suspects whose statement is false, separated by "
        f"commas, or 'none'. Write nothing else."
    )
    data = {
        "names": names,
        "statements": statements,
        "culprits": culprits,
        "true_count": true_count,
        "guilty": guilty,
        "liars": liars,
    }
    return {"prompt": prompt, "data": data, "reference": _answer(names, guilty, liars)}


def _names_field(line, label, names):
    """Parse 'label: A, B' into a sorted index list; None if malformed."""
    head, sep, tail = line.partition(":")
    if not sep or head.strip().lower() != label:
        return None
    items = [x.strip().lower() for x in tail.split(",")]
    if items == ["none"]:
        return []
    lookup = {name.lower(): k for k, name in enumerate(names)}
    if any(x not in lookup for x in items) or len(set(items)) != len(items):
        return None
    return sorted(lookup[x] for x in items)


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        data = instance["data"]
        lines = [line for line in answer.strip().splitlines() if line.strip()]
        if len(lines) != 2:
            return 0.0
        guilty = _names_field(lines[0], "guilty", data["names"])
        liars = _names_field(lines[1], "liars", data["names"])
        return 1.0 if guilty == data["guilty"] and liars == data["liars"] else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    data = instance["data"]
    n, statements = len(data["names"]), data["statements"]
    for guilty in itertools.combinations(range(n), data["culprits"]):
        if sum(_true(st, guilty) for st in statements) == data["true_count"]:
            liars = [s for s in range(n) if not _true(statements[s], guilty)]
            return _answer(data["names"], guilty, liars)
    return ""
