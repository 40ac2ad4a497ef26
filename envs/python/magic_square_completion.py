"""Magic square completion: place the missing numbers so every line has the magic sum."""

import random

NAME = "magic_square_completion"
CATEGORY = "constraint_satisfaction"
DESCRIPTION = (
    "Complete a normal magic square of side n: the grid must contain each of 1..n^2 exactly once "
    "and every row, column and both main diagonals must add up to n(n^2+1)/2. The puzzle is a "
    "random magic square (Lo Shu symmetries for n = 3; random orthogonal diagonal Latin squares "
    "over GF(4) or Z5 for n = 4, 5) with cells blanked, so a completion exists; any valid "
    "completion that keeps the given numbers is accepted. Difficulty raises the side from 3 to 5 "
    "and the number of blank cells from 3 to 14."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

_LEVELS = [(3, 3), (3, 5), (4, 5), (4, 7), (4, 9), (4, 10), (5, 10), (5, 12), (5, 13), (5, 14)]
_LO_SHU = [[2, 7, 6], [9, 5, 1], [4, 3, 8]]
_GF4_MUL = [[0, 0, 0, 0], [0, 1, 2, 3], [0, 2, 3, 1], [0, 3, 1, 2]]
_MAX_ANSWER_CHARS = 2000


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _coefficients(rng, n):
    """Coefficients (a1, b1, a2, b2) of two orthogonal diagonal Latin squares."""
    while True:
        a1, b1, a2, b2 = (rng.randrange(1, n) for _ in range(4))
        if n == 4:
            ok = a1 != b1 and a2 != b2 and (_GF4_MUL[a1][b2] ^ _GF4_MUL[a2][b1]) != 0
        else:
            ok = all(x % n for x in (a1 + b1, a1 - b1, a2 + b2, a2 - b2, a1 * b2 - a2 * b1))
        if ok:
            return a1, b1, a2, b2


def _random_magic_square(rng, n):
    if n == 3:
        square = [row[:] for row in _LO_SHU]
    else:
        a1, b1, a2, b2 = _coefficients(rng, n)
        perm_a = list(range(n))
        perm_b = list(range(n))
        rng.shuffle(perm_a)
        rng.shuffle(perm_b)
        square = []
        for i in range(n):
            row = []
            for j in range(n):
                if n == 4:
                    u = _GF4_MUL[a1][i] ^ _GF4_MUL[b1][j]
                    v = _GF4_MUL[a2][i] ^ _GF4_MUL[b2][j]
                else:
                    u = (a1 * i + b1 * j) % n
                    v = (a2 * i + b2 * j) % n
                row.append(n * perm_a[u] + perm_b[v] + 1)
            square.append(row)
    for _ in range(rng.randrange(4)):  # random rotation ...
        square = [list(row) for row in zip(*square[::-1])]
    if rng.random() < 0.5:  # ... and reflection
        square = [row[::-1] for row in square]
    return square


def generate(rng: random.Random, difficulty: int) -> dict:
    n, blanks = _LEVELS[_level(difficulty)]
    square = _random_magic_square(rng, n)
    puzzle = [row[:] for row in square]
    for cell in rng.sample(range(n * n), blanks):
        puzzle[cell // n][cell % n] = 0
    magic = n * (n * n + 1) // 2
    width = len(str(n * n))
    board = "\n".join(" ".join((str(v) if v else ".").rjust(width) for v in row) for row in puzzle)
    prompt = (
        f"Complete this {n} x {n} magic square. When finished, the grid must contain every whole "
        f"number from 1 to {n * n} exactly once, and each row, each column and both main "
        f"diagonals must add up to {magic}. The numbers already placed must stay where they are; "
        f"'.' marks an empty cell.\n\n"
        f"{board}\n\n"
        f"Answer format: the completed square as {n} lines, one per row from top to bottom, each "
        f"line holding the {n} numbers of that row separated by single spaces. Write nothing else."
    )
    reference = "\n".join(" ".join(map(str, row)) for row in square)
    return {"prompt": prompt, "data": {"puzzle": puzzle}, "reference": reference}


def _parse(answer, n):
    lines = [line for line in answer.strip().splitlines() if line.strip()]
    if len(lines) != n:
        return None
    grid = []
    for line in lines:
        tokens = line.replace(",", " ").split()
        if len(tokens) != n or not all(t.isdigit() and len(t) <= 3 for t in tokens):
            return None
        grid.append([int(t) for t in tokens])
    return grid


def _lines(n):
    out = [[(i, j) for j in range(n)] for i in range(n)]
    out += [[(i, j) for i in range(n)] for j in range(n)]
    out.append([(i, i) for i in range(n)])
    out.append([(i, n - 1 - i) for i in range(n)])
    return out


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        puzzle = instance["data"]["puzzle"]
        n = len(puzzle)
        grid = _parse(answer, n)
        if grid is None:
            return 0.0
        if sorted(v for row in grid for v in row) != list(range(1, n * n + 1)):
            return 0.0
        if any(puzzle[i][j] and puzzle[i][j] != grid[i][j] for i in range(n) for j in range(n)):
            return 0.0
        magic = n * (n * n + 1) // 2
        if any(sum(grid[i][j] for i, j in line) != magic for line in _lines(n)):
            return 0.0
        return 1.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    """Backtracking on the blank cell with the fewest feasible values. A value is feasible
    when, for every line through the cell, the rest of the line can still reach the magic sum
    with distinct unused numbers (checked with the smallest/largest-sum bounds)."""
    grid = [row[:] for row in instance["data"]["puzzle"]]
    n = len(grid)
    magic = n * (n * n + 1) // 2
    lines = _lines(n)
    through = {
        (i, j): [line for line in lines if (i, j) in line] for i in range(n) for j in range(n)
    }
    free = sorted(set(range(1, n * n + 1)) - {v for row in grid for v in row})

    def feasible(cell, v):
        rest = [u for u in free if u != v]
        for line in through[cell]:
            blanks = sum(1 for i, j in line if not grid[i][j]) - 1
            need = magic - v - sum(grid[i][j] for i, j in line)
            if blanks == 0:
                if need:
                    return False
            elif not sum(rest[:blanks]) <= need <= sum(rest[-blanks:]):
                return False
        return True

    def search():
        best = None
        for i in range(n):
            for j in range(n):
                if not grid[i][j]:
                    options = [v for v in free if feasible((i, j), v)]
                    if best is None or len(options) < len(best[1]):
                        best = ((i, j), options)
                        if not options:
                            return False
        if best is None:
            return True
        (i, j), options = best
        for v in options:
            grid[i][j] = v
            free.remove(v)
            if search():
                return True
            free.append(v)
            free.sort()
            grid[i][j] = 0
        return False

    search()
    return "\n".join(" ".join(map(str, row)) for row in grid)
