"""Lights Out: find a set of button presses that switches every light off."""

import random

NAME = "lights_out"
CATEGORY = "constraint_satisfaction"
DESCRIPTION = (
    "Lights Out: pressing a cell toggles it and its up to four orthogonal neighbours; given a "
    "grid of lit and unlit cells, choose which cells to press (each at most once, order "
    "irrelevant) so that all lights end up off. The start state is produced from a random "
    "press pattern, so a solution exists; any press pattern that works is accepted (several "
    "exist on boards whose toggle matrix is singular over GF(2)). Difficulty grows the board "
    "from 3 x 3 to 7 x 7 and the share of pressed cells in the planted pattern from 25% to 45%."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

_SHAPE = [(3, 3), (3, 3), (3, 4), (4, 4), (4, 4), (4, 5), (5, 5), (5, 6), (6, 6), (7, 7)]
_PRESS_SHARE = [0.25, 0.30, 0.30, 0.35, 0.35, 0.40, 0.40, 0.45, 0.45, 0.45]
_MAX_ANSWER_CHARS = 1000
_STEPS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _apply(grid, presses):
    rows, cols = len(grid), len(grid[0])
    out = [row[:] for row in grid]
    for i in range(rows):
        for j in range(cols):
            if presses[i][j]:
                for di, dj in _STEPS:
                    a, b = i + di, j + dj
                    if 0 <= a < rows and 0 <= b < cols:
                        out[a][b] ^= 1
    return out


def generate(rng: random.Random, difficulty: int) -> dict:
    level = _level(difficulty)
    rows, cols = _SHAPE[level]
    share = _PRESS_SHARE[level]
    dark = [[0] * cols for _ in range(rows)]
    while True:
        presses = [[1 if rng.random() < share else 0 for _ in range(cols)] for _ in range(rows)]
        grid = _apply(dark, presses)
        if any(any(row) for row in grid):
            break
    board = "\n".join("".join("#" if v else "." for v in row) for row in grid)
    prompt = (
        f"This is a Lights Out board with {rows} rows and {cols} columns; '#' is a light that is "
        f"on and '.' a light that is off. Pressing a cell toggles (on to off, off to on) that "
        f"cell and the cells directly above, below, left and right of it, where they exist. "
        f"Decide which cells to press, each at most once, so that afterwards every light is off. "
        f"The order of presses does not matter.\n\n"
        f"{board}\n\n"
        f"Answer format: {rows} lines of {cols} characters each, one line per row from top to "
        f"bottom, with '1' for a cell you press and '0' for a cell you do not press. Write "
        f"nothing else."
    )
    reference = "\n".join("".join(map(str, row)) for row in presses)
    return {"prompt": prompt, "data": {"grid": grid}, "reference": reference}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        grid = instance["data"]["grid"]
        rows, cols = len(grid), len(grid[0])
        lines = [line.replace(" ", "") for line in answer.strip().splitlines() if line.strip()]
        if len(lines) != rows or any(len(line) != cols or set(line) - {"0", "1"} for line in lines):
            return 0.0
        presses = [[int(ch) for ch in line] for line in lines]
        after = _apply(grid, presses)
        return 0.0 if any(any(row) for row in after) else 1.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    """Gaussian elimination over GF(2); rows of the system are bit masks."""
    grid = instance["data"]["grid"]
    rows, cols = len(grid), len(grid[0])
    n = rows * cols
    equations = []  # (mask of presses affecting the cell, cell state)
    for i in range(rows):
        for j in range(cols):
            mask = 0
            for di, dj in _STEPS:
                a, b = i + di, j + dj
                if 0 <= a < rows and 0 <= b < cols:
                    mask |= 1 << (a * cols + b)
            equations.append([mask, grid[i][j]])
    pivots = []
    row = 0
    for bit in range(n):
        pivot = next((r for r in range(row, n) if equations[r][0] >> bit & 1), None)
        if pivot is None:
            continue
        equations[row], equations[pivot] = equations[pivot], equations[row]
        for r in range(n):
            if r != row and equations[r][0] >> bit & 1:
                equations[r][0] ^= equations[row][0]
                equations[r][1] ^= equations[row][1]
        pivots.append(bit)
        row += 1
    solution = 0
    for r, bit in enumerate(pivots):  # free variables stay 0
        if equations[r][1]:
            solution |= 1 << bit
    return "\n".join(
        "".join(str(solution >> (i * cols + j) & 1) for j in range(cols)) for i in range(rows)
    )
