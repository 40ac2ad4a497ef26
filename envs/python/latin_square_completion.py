"""Latin square completion: fill the blanks of a partial Latin square."""

import random

NAME = "latin_square_completion"
CATEGORY = "constraint_satisfaction"
DESCRIPTION = (
    "Complete a partially filled n x n Latin square: every row and every column must contain "
    "each number 1..n exactly once, and the given cells must be kept. Puzzles are cut from a "
    "random Latin square (a random isotope of the cyclic square), so a completion always exists; "
    "any valid completion is accepted, not only the planted one. Difficulty raises the side from "
    "3 (difficulty 1) to 8 (difficulty 10) and the share of blank cells from 30% to 65%."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

_SIDE = [3, 4, 4, 5, 5, 6, 6, 7, 7, 8]
_BLANK_SHARE = [0.30, 0.35, 0.40, 0.45, 0.50, 0.50, 0.55, 0.60, 0.60, 0.65]
_MAX_ANSWER_CHARS = 2000


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _random_latin_square(rng, n):
    rows = list(range(n))
    cols = list(range(n))
    symbols = list(range(1, n + 1))
    rng.shuffle(rows)
    rng.shuffle(cols)
    rng.shuffle(symbols)
    return [[symbols[(rows[i] + cols[j]) % n] for j in range(n)] for i in range(n)]


def _render(grid):
    return "\n".join(" ".join(str(v) if v else "." for v in row) for row in grid)


def generate(rng: random.Random, difficulty: int) -> dict:
    level = _level(difficulty)
    n = _SIDE[level]
    solution = _random_latin_square(rng, n)
    blanks = max(2, round(_BLANK_SHARE[level] * n * n))
    puzzle = [row[:] for row in solution]
    for cell in rng.sample(range(n * n), blanks):
        puzzle[cell // n][cell % n] = 0
    prompt = (
        f"Fill in the blank cells (shown as '.') of this {n} x {n} grid so that every row and "
        f"every column contains each of the numbers 1 to {n} exactly once. Numbers already in "
        f"the grid must stay where they are.\n\n"
        f"{_render(puzzle)}\n\n"
        f"Answer format: the completed grid as {n} lines, one per row from top to bottom, each "
        f"line holding the {n} numbers of that row separated by single spaces. Write nothing else."
    )
    reference = "\n".join(" ".join(map(str, row)) for row in solution)
    return {"prompt": prompt, "data": {"puzzle": puzzle}, "reference": reference}


def _parse_grid(answer, n):
    """Parse n lines of n numbers; None unless the text is exactly such a grid."""
    lines = [line for line in answer.strip().splitlines() if line.strip()]
    if len(lines) != n:
        return None
    grid = []
    for line in lines:
        tokens = line.replace(",", " ").split()
        if len(tokens) == 1 and n <= 9 and len(tokens[0]) == n:
            tokens = list(tokens[0])  # tolerate "31425" for a row when n <= 9
        if len(tokens) != n or not all(t.isdigit() and len(t) <= 2 for t in tokens):
            return None
        grid.append([int(t) for t in tokens])
    return grid


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        puzzle = instance["data"]["puzzle"]
        n = len(puzzle)
        grid = _parse_grid(answer, n)
        if grid is None:
            return 0.0
        full = set(range(1, n + 1))
        for i in range(n):
            if set(grid[i]) != full or {grid[r][i] for r in range(n)} != full:
                return 0.0
            for j in range(n):
                if puzzle[i][j] and puzzle[i][j] != grid[i][j]:
                    return 0.0
        return 1.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    """Backtracking with the most-constrained-cell heuristic."""
    grid = [row[:] for row in instance["data"]["puzzle"]]
    n = len(grid)
    row_used = [{v for v in row if v} for row in grid]
    col_used = [{grid[i][j] for i in range(n) if grid[i][j]} for j in range(n)]
    full = set(range(1, n + 1))

    def search():
        best = None
        for i in range(n):
            for j in range(n):
                if not grid[i][j]:
                    options = full - row_used[i] - col_used[j]
                    if best is None or len(options) < len(best[2]):
                        best = (i, j, options)
        if best is None:
            return True
        i, j, options = best
        for v in sorted(options):
            grid[i][j] = v
            row_used[i].add(v)
            col_used[j].add(v)
            if search():
                return True
            grid[i][j] = 0
            row_used[i].discard(v)
            col_used[j].discard(v)
        return False

    search()
    return "\n".join(" ".join(map(str, row)) for row in grid)
