"""Liar island (knights and knaves): knights always tell the truth, knaves always lie.
Puzzles are generated with exactly one consistent assignment."""

NAME = "liar_island"
CATEGORY = "logic"
DESCRIPTION = (
    "Each islander is a knight (always truthful) or a knave (always lies); from their "
    "statements about each other, determine who is what. Every puzzle has exactly one "
    "solution. Difficulty scales the islanders (3 at difficulty 1 to 8 at difficulty "
    "10) and the statement forms (plain claims, 'same type', 'at least one', 'exactly')."
)
VERSION = 1

_PEOPLE = ["Ada", "Ben", "Cal", "Dee", "Eli", "Fay", "Gus", "Hal"]


def _truth(stmt, world):
    kind = stmt[0]
    if kind == "is":  # ("is", who, knight?)
        return world[stmt[1]] == stmt[2]
    if kind == "same":  # ("same", a, b)
        return world[stmt[1]] == world[stmt[2]]
    if kind == "atleast":  # ("atleast", [a, b]) at least one is a knave
        return any(not world[p] for p in stmt[1])
    if kind == "count":  # ("count", k) exactly k knights among everyone
        return sum(world) == stmt[1]
    raise ValueError(kind)


def _consistent(n, statements):
    worlds = []
    for mask in range(1 << n):
        world = [bool(mask >> i & 1) for i in range(n)]
        if all(_truth(s, world) == world[speaker] for speaker, s in statements):
            worlds.append(world)
            if len(worlds) > 1:
                break
    return worlds


def _describe(s, names):
    kind = s[0]
    if kind == "is":
        return "%s is a %s." % (names[s[1]], "knight" if s[2] else "knave")
    if kind == "same":
        return "%s and %s are the same type." % (names[s[1]], names[s[2]])
    if kind == "atleast":
        return "At least one of %s is a knave." % " and ".join(names[p] for p in s[1])
    return "Exactly %d of us are knights." % s[1]


def generate(rng, difficulty):
    n = min(8, 3 + (difficulty - 1) * 5 // 9)
    names = _PEOPLE[:n]
    kinds = (
        ["is", "is", "same"]
        + (["atleast"] if difficulty >= 4 else [])
        + (["count"] if difficulty >= 7 else [])
    )
    while True:
        statements = []
        for speaker in range(n):
            kind = rng.choice(kinds)
            others = [p for p in range(n) if p != speaker]
            if kind == "is":
                s = ("is", rng.choice(others), rng.random() < 0.5)
            elif kind == "same":
                a, b = rng.sample(range(n), 2)
                s = ("same", a, b)
            elif kind == "atleast":
                s = ("atleast", sorted(rng.sample(others, 2)))
            else:
                s = ("count", rng.randint(0, n))
            statements.append((speaker, s))
        worlds = _consistent(n, statements)
        if len(worlds) == 1:
            break
    lines = "\n".join('%s says: "%s"' % (names[sp], _describe(s, names)) for sp, s in statements)
    prompt = (
        "On an island every inhabitant is either a knight, who always tells the truth, or "
        f"a knave, who always lies. You meet {n} inhabitants: {', '.join(names)}.\n\n"
        f"{lines}\n\nWho is a knight and who is a knave?\n\n"
        "Answer format: every inhabitant once, as Name=knight or Name=knave, separated by "
        "commas, e.g. Ada=knight, Ben=knave"
    )
    world = worlds[0]
    answer = ", ".join("%s=%s" % (names[i], "knight" if world[i] else "knave") for i in range(n))
    data = {"names": names, "statements": [[sp, list(s)] for sp, s in statements]}
    return {"prompt": prompt, "data": data, "reference": answer}


def _statements(data):
    out = []
    for sp, s in data["statements"]:
        s = tuple(s)
        if s[0] == "atleast":
            s = ("atleast", list(s[1]))
        out.append((sp, s))
    return out


def verify(instance, answer):
    data = instance["data"]
    names = data["names"]
    parts = [p.strip() for p in answer.strip().split(",")]
    if len(parts) != len(names):
        return 0.0
    roles = {}
    for p in parts:
        name, sep, role = p.partition("=")
        name, role = name.strip(), role.strip().lower()
        if not sep or name not in names or name in roles or role not in ("knight", "knave"):
            return 0.0
        roles[name] = role == "knight"
    world = [roles[nm] for nm in names]
    ok = all(_truth(s, world) == world[sp] for sp, s in _statements(data))
    return 1.0 if ok else 0.0


def solve(instance):
    data = instance["data"]
    names = data["names"]
    (world,) = _consistent(len(names), _statements(data))
    return ", ".join(
        "%s=%s" % (names[i], "knight" if world[i] else "knave") for i in range(len(names))
    )
