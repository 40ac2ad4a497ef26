"""Find a winning move in Nim or in Nim with a cap on how many objects may be taken."""

import random

NAME = "nim_winning_move"
CATEGORY = "logic"
DESCRIPTION = (
    "Combinatorial game reasoning: in a Nim position (normal play: whoever takes the last "
    "object wins), name a move that wins with perfect play. From difficulty 7 a move may take "
    "at most m objects, so the Sprague-Grundy value of a pile is its size mod (m + 1). "
    "Positions are drawn until they are winning for the player to move; the verifier accepts "
    "any legal move to a position of Grundy value 0, i.e. every winning move. Difficulty "
    "raises the piles from 2 to 6 and their sizes up to 31, and introduces the cap."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

# (piles, largest pile, capped variant?)
_LEVELS = [(2, 12, False), (3, 7, False), (3, 10, False), (4, 12, False), (4, 15, False),
           (5, 20, False), (3, 15, True), (4, 20, True), (5, 25, True), (6, 31, True)]
_MAX_ANSWER_CHARS = 100


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _grundy(piles, cap):
    value = 0
    for size in piles:
        value ^= size % (cap + 1) if cap else size
    return value


def _winning_moves(piles, cap):
    moves = []
    for i, size in enumerate(piles):
        for take in range(1, (min(size, cap) if cap else size) + 1):
            after = piles[:i] + [size - take] + piles[i + 1:]
            if _grundy(after, cap) == 0:
                moves.append((i + 1, take))
    return moves


def generate(rng: random.Random, difficulty: int) -> dict:
    count, largest, capped = _LEVELS[_level(difficulty)]
    while True:
        piles = [rng.randint(1, largest) for _ in range(count)]
        cap = rng.randint(2, 6) if capped else 0
        if _grundy(piles, cap):
            break
    moves = _winning_moves(piles, cap)
    listing = ", ".join(f"pile {i + 1}: {s}" for i, s in enumerate(piles))
    rule = (f"In one move a player takes between 1 and {cap} objects (inclusive) from a single "
            f"pile." if cap else "In one move a player takes any positive number of objects "
            "from a single pile (possibly the whole pile).")
    prompt = (
        f"Two players play a game with {count} piles of objects ({listing}). They move in "
        f"turn. {rule} The player who takes the last object wins. It is your move, and you "
        f"want to win no matter how your opponent plays.\n\n"
        f"Give a move that guarantees a win with correct play afterwards.\n\n"
        f"Answer format: two integers separated by a space: the pile number (1 to {count}) "
        f"and the number of objects to take from it. Write nothing else."
    )
    data = {"piles": piles, "max_take": cap}
    i, take = moves[0]
    return {"prompt": prompt, "data": data, "reference": f"{i} {take}"}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        data = instance["data"]
        tokens = answer.replace(",", " ").split()
        if len(tokens) != 2 or not all(t.isdigit() for t in tokens):
            return 0.0
        pile, take = int(tokens[0]), int(tokens[1])
        piles, cap = list(data["piles"]), data["max_take"]
        if not 1 <= pile <= len(piles) or not 1 <= take <= piles[pile - 1]:
            return 0.0
        if cap and take > cap:
            return 0.0
        piles[pile - 1] -= take
        return 1.0 if _grundy(piles, cap) == 0 else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    pile, take = _winning_moves(list(instance["data"]["piles"]), instance["data"]["max_take"])[0]
    return f"{pile} {take}"
