"""Find a winning move in Nim or in Nim with a cap on how many objects may be taken."""

import random
import re

NAME = "nim_winning_move"
CATEGORY = "logic"
DESCRIPTION = (
    "Combinatorial game reasoning: in a Nim position (normal play: whoever takes the last "
    "object wins), name a move that wins with perfect play. From difficulty 7 a move may take "
    "at most m objects, so the Sprague-Grundy value of a pile is its size mod (m + 1). Piles "
    "are named by random letters and the answer is the whole position after the move, so an "
    "answer copied from another instance almost never fits. Positions are drawn until they are "
    "winning for the player to move; the verifier accepts any legal move to a position of "
    "Grundy value 0, i.e. every winning move. Difficulty raises the piles from 2 to 6 and their "
    "sizes up to 31, and introduces the cap."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

# (piles, largest pile, capped variant?)
_LEVELS = [
    (2, 12, False),
    (3, 7, False),
    (3, 10, False),
    (4, 12, False),
    (4, 15, False),
    (5, 20, False),
    (3, 15, True),
    (4, 20, True),
    (5, 25, True),
    (6, 31, True),
]
_LABELS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_MAX_ANSWER_CHARS = 100


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _grundy(piles, cap):
    value = 0
    for size in piles:
        value ^= size % (cap + 1) if cap else size
    return value


def _winning_moves(piles, cap):
    """(pile index, amount) pairs that leave a position of Grundy value 0."""
    moves = []
    for i, size in enumerate(piles):
        for take in range(1, (min(size, cap) if cap else size) + 1):
            after = piles[:i] + [size - take] + piles[i + 1 :]
            if _grundy(after, cap) == 0:
                moves.append((i, take))
    return moves


def _position(labels, piles, pile, take):
    after = list(piles)
    after[pile] -= take
    return ", ".join(f"{label}={size}" for label, size in zip(labels, after))


_PAIR = re.compile(r"\s*([A-Za-z])\s*=\s*(\d{1,4})\s*")


def generate(rng: random.Random, difficulty: int) -> dict:
    count, largest, capped = _LEVELS[_level(difficulty)]
    while True:
        piles = [rng.randint(1, largest) for _ in range(count)]
        cap = rng.randint(2, 6) if capped else 0
        if _grundy(piles, cap):
            break
    moves = _winning_moves(piles, cap)
    labels = sorted(rng.sample(_LABELS, count))
    listing = ", ".join(f"pile {labels[i]}: {s}" for i, s in enumerate(piles))
    rule = (
        f"In one move a player takes between 1 and {cap} objects (inclusive) from a single "
        f"pile."
        if cap
        else "In one move a player takes any positive number of objects "
        "from a single pile (possibly the whole pile)."
    )
    prompt = (
        f"Two players play a game with {count} piles of objects ({listing}). They move in "
        f"turn. {rule} The player who takes the last object wins. It is your move, and you "
        f"want to win no matter how your opponent plays.\n\n"
        f"Give a move that guarantees a win with correct play afterwards.\n\n"
        f"Answer format: the position after your move, as every pile written LETTER=SIZE, "
        f"separated by commas, in the order listed above (for example I=4, O=0 for two piles I "
        f"and O). Write nothing else."
    )
    data = {"labels": labels, "piles": piles, "max_take": cap}
    return {"prompt": prompt, "data": data, "reference": _position(labels, piles, *moves[0])}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        data = instance["data"]
        labels, before, cap = data["labels"], data["piles"], data["max_take"]
        pieces = answer.strip().split(",")
        if len(pieces) != len(labels):
            return 0.0
        after = []
        for label, piece in zip(labels, pieces):
            m = _PAIR.fullmatch(piece)
            if not m or m.group(1).upper() != label:
                return 0.0
            after.append(int(m.group(2)))
        changed = [k for k in range(len(labels)) if after[k] != before[k]]
        if len(changed) != 1:
            return 0.0
        take = before[changed[0]] - after[changed[0]]
        if take < 1 or (cap and take > cap):
            return 0.0
        return 1.0 if _grundy(after, cap) == 0 else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    data = instance["data"]
    pile, take = _winning_moves(list(data["piles"]), data["max_take"])[0]
    return _position(data["labels"], data["piles"], pile, take)
