"""KenKen-style cages: a Latin square whose cages must reach a target sum or product."""

import itertools
import random

NAME = "kenken_cages"
CATEGORY = "constraint_satisfaction"
DESCRIPTION = (
    "Cage arithmetic on a Latin square (KenKen style): fill an n x n grid with 1..n so that every "
    "row and column holds each number once and the numbers in each outlined cage combine to the "
    "cage's target (sum, or from difficulty 6 also product; single-cell cages give the value). "
    "Cages are cut from a random Latin square, so a solution exists; any grid meeting all "
    "constraints is accepted. Difficulty raises the side from 4 to 7 and the largest cage from "
    "2 to 4 cells, so that single-cell cages (givens) become rarer."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

# (side, largest cage, products allowed)
_LEVELS = [
    (4, 2, False),
    (4, 3, False),
    (5, 3, False),
    (5, 3, False),
    (5, 4, False),
    (6, 3, True),
    (6, 4, True),
    (6, 4, True),
    (7, 4, True),
    (7, 4, True),
]
_NAMES = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_MAX_ANSWER_CHARS = 2000


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _random_latin_square(rng, n):
    rows, cols, symbols = list(range(n)), list(range(n)), list(range(1, n + 1))
    rng.shuffle(rows)
    rng.shuffle(cols)
    rng.shuffle(symbols)
    return [[symbols[(rows[i] + cols[j]) % n] for j in range(n)] for i in range(n)]


def _cages(rng, n, largest):
    owner = [[-1] * n for _ in range(n)]
    cells = [(i, j) for i in range(n) for j in range(n)]
    rng.shuffle(cells)
    cages = []
    for cell in cells:
        if owner[cell[0]][cell[1]] != -1:
            continue
        size = rng.randint(2, largest) if rng.random() < 0.9 else 1
        cage = [cell]
        owner[cell[0]][cell[1]] = len(cages)
        while len(cage) < size:
            options = sorted(
                {
                    (r + dr, c + dc)
                    for r, c in cage
                    for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1))
                    if 0 <= r + dr < n and 0 <= c + dc < n and owner[r + dr][c + dc] == -1
                }
            )
            if not options:
                break
            nxt = rng.choice(options)
            owner[nxt[0]][nxt[1]] = len(cages)
            cage.append(nxt)
        cages.append(sorted(cage))
    return cages


def _combine(op, values):
    if op == "+":
        return sum(values)
    out = 1
    for v in values:
        out *= v
    return out


def generate(rng: random.Random, difficulty: int) -> dict:
    n, largest, products = _LEVELS[_level(difficulty)]
    solution = _random_latin_square(rng, n)
    cages = []
    for cells in _cages(rng, n, largest):
        values = [solution[r][c] for r, c in cells]
        op = "*" if products and len(cells) > 1 and rng.random() < 0.4 else "+"
        cages.append({"cells": [list(c) for c in cells], "op": op, "target": _combine(op, values)})
    cages.sort(key=lambda cage: cage["cells"][0])
    owner = {}
    for k, cage in enumerate(cages):
        for r, c in cage["cells"]:
            owner[(r, c)] = _NAMES[k]
    board = "\n".join(" ".join(owner[(r, c)] for c in range(n)) for r in range(n))
    rules = []
    for k, cage in enumerate(cages):
        if len(cage["cells"]) == 1:
            rules.append(f"{_NAMES[k]}: the single cell is {cage['target']}")
        else:
            kind = "sum" if cage["op"] == "+" else "product"
            rules.append(f"{_NAMES[k]}: {kind} {cage['target']}")
    prompt = (
        f"Fill a {n} x {n} grid with the numbers 1 to {n} so that every row and every column "
        f"contains each number exactly once. The grid is divided into cages; the map below "
        f"shows which cage each cell belongs to (cells with the same letter form one cage, "
        f"letters are case-sensitive). The numbers in a cage must have the sum or product "
        f"given for it; numbers may repeat inside a cage if they are in different rows and "
        f"columns.\n\n{board}\n\n" + "\n".join(rules) + "\n\n"
        f"Answer format: the completed grid as {n} lines, one per row from top to bottom, each "
        f"line holding the {n} numbers of that row separated by single spaces. Write nothing else."
    )
    data = {"n": n, "cages": cages}
    reference = "\n".join(" ".join(map(str, row)) for row in solution)
    return {"prompt": prompt, "data": data, "reference": reference}


def _parse_grid(answer, n):
    lines = [line for line in answer.strip().splitlines() if line.strip()]
    if len(lines) != n:
        return None
    grid = []
    for line in lines:
        tokens = line.replace(",", " ").split()
        if len(tokens) == 1 and len(tokens[0]) == n:
            tokens = list(tokens[0])
        if len(tokens) != n or not all(t.isdigit() and len(t) <= 2 for t in tokens):
            return None
        grid.append([int(t) for t in tokens])
    return grid


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        data = instance["data"]
        n = data["n"]
        grid = _parse_grid(answer, n)
        if grid is None:
            return 0.0
        full = set(range(1, n + 1))
        for i in range(n):
            if set(grid[i]) != full or {grid[r][i] for r in range(n)} != full:
                return 0.0
        for cage in data["cages"]:
            if _combine(cage["op"], [grid[r][c] for r, c in cage["cells"]]) != cage["target"]:
                return 0.0
        return 1.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    """Backtracking on the most constrained choice (the empty cell with the fewest candidates,
    or the row/column value with the fewest places); a candidate must be new to its row and
    column and keep its cage able to reach the target."""
    data = instance["data"]
    n = data["n"]
    grid = [[0] * n for _ in range(n)]
    cage_of = {}
    for cage in data["cages"]:
        for r, c in cage["cells"]:
            cage_of[(r, c)] = cage

    def cage_ok(cage):
        values = [grid[r][c] for r, c in cage["cells"] if grid[r][c]]
        left = len(cage["cells"]) - len(values)
        if cage["op"] == "+":
            total = sum(values)
            return total + left <= cage["target"] <= total + left * n
        product = _combine("*", values)
        if cage["target"] % product:
            return False
        return left > 0 or product == cage["target"]

    # Root filtering: a value stays possible for a cell only if some filling of its cage
    # (cells sharing a row or column differ) reaches the target with it.
    allowed = {}
    for cage in data["cages"]:
        cells = [tuple(c) for c in cage["cells"]]
        support = [set() for _ in cells]
        for values in itertools.product(range(1, n + 1), repeat=len(cells)):
            if _combine(cage["op"], values) != cage["target"]:
                continue
            if any(
                values[a] == values[b]
                and (cells[a][0] == cells[b][0] or cells[a][1] == cells[b][1])
                for a in range(len(cells))
                for b in range(a)
            ):
                continue
            for k, v in enumerate(values):
                support[k].add(v)
        for cell, values in zip(cells, support):
            allowed[cell] = sorted(values)

    def candidates(i, j):
        out = []
        for v in allowed[(i, j)]:
            if v in grid[i] or any(grid[r][j] == v for r in range(n)):
                continue
            grid[i][j] = v
            if cage_ok(cage_of[(i, j)]):
                out.append(v)
            grid[i][j] = 0
        return out

    def search():
        cands = {(i, j): candidates(i, j) for i in range(n) for j in range(n) if not grid[i][j]}
        if not cands:
            return True
        best = None  # alternatives (cell, value), fewest first: a cell's values or a value's places
        for cell, options in cands.items():
            if best is None or len(options) < len(best):
                best = [(cell, v) for v in options]
        for k in range(n):
            for v in range(1, n + 1):
                if v not in grid[k]:
                    places = [((k, j), v) for j in range(n) if v in cands.get((k, j), ())]
                    if len(places) < len(best):
                        best = places
                if all(grid[r][k] != v for r in range(n)):
                    places = [((r, k), v) for r in range(n) if v in cands.get((r, k), ())]
                    if len(places) < len(best):
                        best = places
        for (i, j), v in best:
            grid[i][j] = v
            if search():
                return True
            grid[i][j] = 0
        return False

    search()
    return "\n".join(" ".join(map(str, row)) for row in grid)
