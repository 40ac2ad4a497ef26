"""Trace a laser beam through a grid of diagonal mirrors and report where it leaves."""

import random

NAME = "laser_mirrors"
CATEGORY = "spatial"
DESCRIPTION = (
    "Trace a laser beam through a grid of two-sided diagonal mirrors ('/' and '\\') from a given "
    "entry point on the border and report the side and row/column where it leaves. Beams in "
    "such grids always exit, and the exit is computed by simulation, so the answer is unique. "
    "Difficulty grows the grid from 3 x 3 to 12 x 12, the mirror density from 20% to 35% and the "
    "minimum number of reflections on the chosen beam from 1 to 12."
)
VERSION = 1

_SIDE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
_DENSITY = [0.20, 0.22, 0.24, 0.26, 0.28, 0.30, 0.31, 0.32, 0.34, 0.35]
_MIN_BOUNCES = [1, 2, 3, 4, 5, 6, 7, 8, 10, 12]
_SIDES = ("top", "bottom", "left", "right")
_MAX_ANSWER_CHARS = 100


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _entry_state(size, side, index):
    """Starting cell and direction for a beam entering through `side` at 1-based `index`."""
    k = index - 1
    return {
        "top": ((0, k), (1, 0)),
        "bottom": ((size - 1, k), (-1, 0)),
        "left": ((k, 0), (0, 1)),
        "right": ((k, size - 1), (0, -1)),
    }[side]


def _trace(grid, side, index):
    """Return (exit side, exit index, number of reflections)."""
    size = len(grid)
    (r, c), (dr, dc) = _entry_state(size, side, index)
    bounces = 0
    while 0 <= r < size and 0 <= c < size:
        cell = grid[r][c]
        if cell == "/":
            dr, dc = -dc, -dr
            bounces += 1
        elif cell == "\\":
            dr, dc = dc, dr
            bounces += 1
        r, c = r + dr, c + dc
    if r < 0:
        return "top", c + 1, bounces
    if r >= size:
        return "bottom", c + 1, bounces
    if c < 0:
        return "left", r + 1, bounces
    return "right", r + 1, bounces


def generate(rng: random.Random, difficulty: int) -> dict:
    level = _level(difficulty)
    size = _SIDE[level]
    while True:
        grid = [
            "".join(
                rng.choice("/\\") if rng.random() < _DENSITY[level] else "." for _ in range(size)
            )
            for _ in range(size)
        ]
        entries = [(side, k) for side in _SIDES for k in range(1, size + 1)]
        good = [e for e in entries if _trace(grid, *e)[2] >= _MIN_BOUNCES[level]]
        if good:
            break
    side, index = rng.choice(good)
    exit_side, exit_index, _ = _trace(grid, side, index)
    heading = {
        "top": "south (downwards)",
        "bottom": "north (upwards)",
        "left": "east (to the right)",
        "right": "west (to the left)",
    }[side]
    line_kind = "column" if side in ("top", "bottom") else "row"
    prompt = (
        f"A {size} x {size} box contains two-sided mirrors placed diagonally in some cells: "
        f"'/' runs from the bottom-left to the top-right corner of its cell and '\\' from the "
        f"top-left to the bottom-right corner; '.' is an empty cell. Rows are numbered 1 to "
        f"{size} from top to bottom and columns 1 to {size} from left to right.\n\n"
        + "\n".join(" ".join(row) for row in grid)
        + f"\n\nA laser beam enters the box through the {side} edge at {line_kind} {index}, "
        f"travelling {heading}. Each mirror turns the beam by 90 degrees ('/' turns an eastward "
        f"beam north and a southward beam west; '\\' turns an eastward beam south and a "
        f"northward beam west); empty cells let it pass straight through. Where does the beam "
        f"leave the box?\n\n"
        f"Answer format: the edge (top, bottom, left or right) followed by the column number "
        f"(for top or bottom) or the row number (for left or right), separated by a space. "
        f"Write nothing else."
    )
    data = {"grid": grid, "side": side, "index": index, "exit": [exit_side, exit_index]}
    return {"prompt": prompt, "data": data, "reference": f"{exit_side} {exit_index}"}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        tokens = answer.replace(",", " ").lower().split()
        if len(tokens) != 2 or tokens[0] not in _SIDES or not tokens[1].isdigit():
            return 0.0
        return 1.0 if [tokens[0], int(tokens[1])] == instance["data"]["exit"] else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    data = instance["data"]
    exit_side, exit_index, _ = _trace(data["grid"], data["side"], data["index"])
    return f"{exit_side} {exit_index}"
