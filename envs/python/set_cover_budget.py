"""Set cover with a budget: choose at most k of the given sets whose union is the universe."""

import random

NAME = "set_cover_budget"
CATEGORY = "constraint_satisfaction"
DESCRIPTION = (
    "Set cover under a budget: from a family of subsets of {1..U} named by random letters, "
    "choose at most k sets whose union is all of {1..U}. A cover of exactly k sets is planted "
    "(a random partition of the universe, lightly overlapped) among decoy sets of similar size, "
    "so a solution exists; any cover within the budget is accepted. Difficulty raises the "
    "universe from 6 to 40 elements, the budget from 2 to 7 and the number of sets from 4 to "
    "22."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

# (universe size, budget, total number of sets)
_LEVELS = [
    (6, 2, 4),
    (8, 2, 6),
    (10, 3, 7),
    (14, 3, 9),
    (18, 4, 11),
    (22, 4, 13),
    (26, 5, 15),
    (30, 5, 17),
    (35, 6, 19),
    (40, 7, 22),
]
_LABELS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_MAX_ANSWER_CHARS = 500


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _covers(sets, chosen, universe):
    covered = set()
    for c in chosen:
        covered.update(sets[c])
    return len(covered) == universe


def generate(rng: random.Random, difficulty: int) -> dict:
    universe, budget, total = _LEVELS[_level(difficulty)]
    elements = list(range(1, universe + 1))
    rng.shuffle(elements)
    cuts = sorted(rng.sample(range(1, universe), budget - 1))
    bounds = [0] + cuts + [universe]
    planted = [set(elements[bounds[i] : bounds[i + 1]]) for i in range(budget)]
    for part in planted:  # a little overlap so the planted sets do not look like a partition
        if rng.random() < 0.5:
            part.add(rng.randint(1, universe))
    mean = universe / budget
    decoys = []
    while len(decoys) < total - budget:
        size = max(2, min(universe - 1, round(mean * rng.uniform(0.9, 1.6))))
        decoy = set(rng.sample(range(1, universe + 1), size))
        if decoy not in planted and decoy not in decoys:
            decoys.append(decoy)
    family = [(sorted(s), True) for s in planted] + [(sorted(s), False) for s in decoys]
    rng.shuffle(family)
    sets = [s for s, _ in family]
    labels = sorted(rng.sample(_LABELS, len(sets)))
    chosen = [labels[i] for i, (_, is_planted) in enumerate(family) if is_planted]
    listing = "\n".join(f"{labels[i]} = {{{', '.join(map(str, s))}}}" for i, s in enumerate(sets))
    prompt = (
        f"Choose at most {budget} of the sets below so that together they contain every whole "
        f"number from 1 to {universe} (each number must belong to at least one chosen set).\n\n"
        f"{listing}\n\n"
        f"Answer format: the letters naming the chosen sets, on one line, separated by "
        f"spaces, each set at most once. Write nothing else."
    )
    reference = " ".join(chosen)
    data = {"universe": universe, "budget": budget, "labels": labels, "sets": sets}
    return {"prompt": prompt, "data": data, "reference": reference}


def _parse(answer, labels):
    tokens = answer.replace(",", " ").upper().split()
    chosen = []
    for token in tokens:
        if token not in labels or labels.index(token) in chosen:
            return None
        chosen.append(labels.index(token))
    return chosen


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        data = instance["data"]
        chosen = _parse(answer, data["labels"])
        if not chosen or len(chosen) > data["budget"]:
            return 0.0
        return 1.0 if _covers(data["sets"], chosen, data["universe"]) else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    """Branch on the uncovered element that the fewest sets contain."""
    data = instance["data"]
    sets = [set(s) for s in data["sets"]]
    universe = set(range(1, data["universe"] + 1))

    def search(chosen, covered):
        missing = universe - covered
        if not missing:
            return chosen
        if len(chosen) == data["budget"]:
            return None
        element = min(missing, key=lambda e: (sum(e in s for s in sets), e))
        for i, s in enumerate(sets):
            if element in s:
                found = search(chosen + [i], covered | s)
                if found is not None:
                    return found
        return None

    return " ".join(data["labels"][i] for i in sorted(search([], set())))
