"""Generalised wolf-goat-cabbage: ferry everything across without leaving enemies alone."""

import random

NAME = "river_crossing"
CATEGORY = "logic"
DESCRIPTION = (
    "River crossing planning (a generalised wolf, goat and cabbage puzzle): a farmer ferries "
    "items across a river in a boat that holds the farmer and a limited number of items; some "
    "pairs may never be left on a bank without the farmer. Produce a plan with at most the "
    "optimal number of crossings, found by breadth-first search over all states; the verifier "
    "replays the plan, so any optimal plan is accepted. Instances are random conflict graphs, "
    "kept only when solvable and not trivial. Difficulty raises the items from 3 to 7 and the "
    "conflicts from 1 to 5, and requires optimal plans of 5 to 11 crossings."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

# (items, boat capacity in items, conflicting pairs, minimum optimal crossings)
_LEVELS = [
    (3, 1, 1, 5),
    (3, 1, 2, 7),
    (4, 1, 1, 7),
    (4, 2, 4, 5),
    (4, 1, 2, 9),
    (5, 2, 4, 7),
    (5, 1, 2, 11),
    (6, 2, 4, 9),
    (7, 2, 5, 9),
    (7, 2, 5, 11),
]
_ITEMS = [
    "wolf",
    "goat",
    "cabbage",
    "fox",
    "hen",
    "grain",
    "dog",
    "cat",
    "mouse",
    "cheese",
    "snake",
    "frog",
    "hawk",
    "rabbit",
    "carrot",
]
_MAX_ANSWER_CHARS = 2000


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _safe(bank, conflicts):
    return not any(a in bank and b in bank for a, b in conflicts)


def _plan(items, capacity, conflicts):
    """Shortest plan as a list of carried-item lists (breadth-first search over bit-mask
    states: items on the left bank, farmer on the left?), or None if impossible."""
    index = {item: k for k, item in enumerate(items)}
    pair_masks = [(1 << index[a]) | (1 << index[b]) for a, b in conflicts]
    full = (1 << len(items)) - 1
    loads = [m for m in range(full + 1) if bin(m).count("1") <= capacity]

    def safe(mask):
        return all(mask & pm != pm for pm in pair_masks)

    start = (full, True)
    parent = {start: None}
    queue = [start]
    for state in queue:
        left, farmer_left = state
        if left == 0 and not farmer_left:
            plan = []
            while parent[state] is not None:
                state, load = parent[state]
                plan.append([items[k] for k in range(len(items)) if load >> k & 1])
            return plan[::-1]
        here = left if farmer_left else full & ~left
        for load in loads:
            if load & here != load:
                continue
            new_left = left & ~load if farmer_left else left | load
            unattended = new_left if farmer_left else full & ~new_left
            nxt = (new_left, not farmer_left)
            if nxt not in parent and safe(unattended):
                parent[nxt] = (state, load)
                queue.append(nxt)
    return None


def _render(plan):
    return "\n".join(", ".join(c) if c else "alone" for c in plan)


def generate(rng: random.Random, difficulty: int) -> dict:
    count, capacity, conflict_count, minimum = _LEVELS[_level(difficulty)]
    while True:
        items = sorted(rng.sample(_ITEMS, count))
        pairs = [(a, b) for i, a in enumerate(items) for b in items[i + 1 :]]
        conflicts = sorted(rng.sample(pairs, min(conflict_count, len(pairs))))
        plan = _plan(items, capacity, conflicts)
        if plan is not None and len(plan) >= minimum:
            break
    rules = "\n".join(
        f"- the {a} and the {b} may not be left together without the farmer" for a, b in conflicts
    )
    boat = "one item" if capacity == 1 else f"up to {capacity} items"
    prompt = (
        f"A farmer must bring these {count} items across a river: {', '.join(items)}. The boat "
        f"carries the farmer and at most {boat}; only the farmer can row, so the farmer is in "
        f"the boat on every crossing. Whenever the farmer is not on a bank, the items left on "
        f"that bank must not include any of these pairs:\n{rules}\n"
        f"(Items in the boat with the farmer, and items on the bank where the boat lands, are "
        f"with the farmer.)\n\n"
        f"Everything starts on the left bank. Get the farmer and all items to the right bank "
        f"using at most {len(plan)} crossings.\n\n"
        f"Answer format: one line per crossing, in order; the crossings alternate left-to-right, "
        f"right-to-left, and so on. Each line lists the items carried on that crossing, "
        f"separated by commas, or the word alone if the farmer crosses with no item. Write "
        f"nothing else."
    )
    data = {
        "items": items,
        "capacity": capacity,
        "conflicts": [list(p) for p in conflicts],
        "max_crossings": len(plan),
    }
    return {"prompt": prompt, "data": data, "reference": _render(plan)}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        data = instance["data"]
        conflicts = [tuple(p) for p in data["conflicts"]]
        lines = [line.strip() for line in answer.strip().splitlines() if line.strip()]
        if not lines or len(lines) > data["max_crossings"]:
            return 0.0
        near, far, farmer_near = set(data["items"]), set(), True
        for line in lines:
            if line.lower() == "alone":
                carried = []
            else:
                carried = [x.strip().lower() for x in line.split(",")]
                if len(set(carried)) != len(carried):
                    return 0.0
            if len(carried) > data["capacity"]:
                return 0.0
            here, there = (near, far) if farmer_near else (far, near)
            if any(x not in here for x in carried):
                return 0.0
            here.difference_update(carried)
            there.update(carried)
            farmer_near = not farmer_near
            if not _safe(here, conflicts):  # `here` is now the unattended bank
                return 0.0
        return 1.0 if not near and not farmer_near else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    data = instance["data"]
    return _render(_plan(data["items"], data["capacity"], [tuple(p) for p in data["conflicts"]]))
