"""Futoshiki: a Latin square with inequality constraints between neighbouring cells."""

import random

NAME = "futoshiki"
CATEGORY = "constraint_satisfaction"
DESCRIPTION = (
    "Futoshiki: fill an n x n grid so that each row and column contains 1..n exactly once, "
    "keeping the given numbers and satisfying every listed inequality between orthogonally "
    "adjacent cells. Constraints are read off a random Latin square, so a solution always exists; "
    "any grid that satisfies all constraints is accepted. Difficulty raises the side from 4 to 7, "
    "lowers the share of given numbers from 35% to 5% and makes inequalities the main source of "
    "information."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

_SIDE = [4, 4, 4, 5, 5, 5, 6, 6, 7, 7]
_GIVEN_SHARE = [0.35, 0.30, 0.25, 0.25, 0.20, 0.15, 0.15, 0.10, 0.10, 0.05]
_INEQUALITY_SHARE = [0.30, 0.35, 0.40, 0.40, 0.45, 0.45, 0.50, 0.50, 0.55, 0.55]
_MAX_ANSWER_CHARS = 2000


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _random_latin_square(rng, n):
    rows, cols, symbols = list(range(n)), list(range(n)), list(range(1, n + 1))
    rng.shuffle(rows)
    rng.shuffle(cols)
    rng.shuffle(symbols)
    return [[symbols[(rows[i] + cols[j]) % n] for j in range(n)] for i in range(n)]


def _cell(r, c):
    return f"r{r + 1}c{c + 1}"


def generate(rng: random.Random, difficulty: int) -> dict:
    level = _level(difficulty)
    n = _SIDE[level]
    solution = _random_latin_square(rng, n)

    givens = [[0] * n for _ in range(n)]
    for cell in rng.sample(range(n * n), max(1, round(_GIVEN_SHARE[level] * n * n))):
        givens[cell // n][cell % n] = solution[cell // n][cell % n]

    pairs = [((r, c), (r, c + 1)) for r in range(n) for c in range(n - 1)]
    pairs += [((r, c), (r + 1, c)) for r in range(n - 1) for c in range(n)]
    chosen = sorted(rng.sample(range(len(pairs)), round(_INEQUALITY_SHARE[level] * len(pairs))))
    less, lines = [], []
    for k in chosen:
        (r1, c1), (r2, c2) = pairs[k]
        a, b = solution[r1][c1], solution[r2][c2]
        sign = "<" if a < b else ">"
        lines.append(f"{_cell(r1, c1)} {sign} {_cell(r2, c2)}")
        less.append([[r1, c1], [r2, c2]] if a < b else [[r2, c2], [r1, c1]])

    board = "\n".join(" ".join(str(v) if v else "." for v in row) for row in givens)
    prompt = (
        f"Solve this {n} x {n} Futoshiki puzzle. Fill every cell with a number from 1 to {n} so "
        f"that each row and each column contains every number exactly once. Given numbers must "
        f"be kept, and every inequality below must hold. Cells are named rXcY (row X from the "
        f"top, column Y from the left, both starting at 1).\n\n"
        f"Grid ('.' = empty):\n{board}\n\n"
        f"Inequalities:\n" + "\n".join(lines) + "\n\n"
        f"Answer format: the completed grid as {n} lines, one per row from top to bottom, each "
        f"line holding the {n} numbers of that row separated by single spaces. Write nothing else."
    )
    reference = "\n".join(" ".join(map(str, row)) for row in solution)
    data = {"n": n, "givens": givens, "less": less}
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
            for j in range(n):
                if data["givens"][i][j] and data["givens"][i][j] != grid[i][j]:
                    return 0.0
        for (r1, c1), (r2, c2) in data["less"]:
            if grid[r1][c1] >= grid[r2][c2]:
                return 0.0
        return 1.0
    except Exception:
        return 0.0


def _propagate(domains, less, units):
    """Shrink candidate sets in place; False when some cell has no candidate left."""
    changed = True
    while changed:
        changed = False
        for a, b in less:  # value(a) < value(b)
            da, db = domains[a], domains[b]
            if not da or not db:
                return False
            keep_a = {v for v in da if v < max(db)}
            keep_b = {v for v in db if v > min(da)}
            if keep_a != da or keep_b != db:
                domains[a], domains[b] = keep_a, keep_b
                changed = True
        for unit in units:
            for cell in unit:
                if len(domains[cell]) == 1:
                    v = next(iter(domains[cell]))
                    for other in unit:
                        if other != cell and v in domains[other]:
                            domains[other] = domains[other] - {v}
                            changed = True
            for v in range(1, len(unit) + 1):
                places = [cell for cell in unit if v in domains[cell]]
                if not places:
                    return False
                if len(places) == 1 and len(domains[places[0]]) > 1:
                    domains[places[0]] = {v}
                    changed = True
    return all(domains.values())


def solve(instance: dict) -> str:
    """Constraint propagation (inequality bounds, naked and hidden singles) plus backtracking."""
    data = instance["data"]
    n = data["n"]
    cells = [(i, j) for i in range(n) for j in range(n)]
    units = [[(i, j) for j in range(n)] for i in range(n)]
    units += [[(i, j) for i in range(n)] for j in range(n)]
    less = [((r1, c1), (r2, c2)) for (r1, c1), (r2, c2) in data["less"]]
    domains = {
        (i, j): {data["givens"][i][j]} if data["givens"][i][j] else set(range(1, n + 1))
        for i, j in cells
    }

    def search(domains):
        if not _propagate(domains, less, units):
            return None
        open_cells = [c for c in cells if len(domains[c]) > 1]
        if not open_cells:
            return domains
        cell = min(open_cells, key=lambda c: len(domains[c]))
        for v in sorted(domains[cell]):
            trial = dict(domains)
            trial[cell] = {v}
            found = search(trial)
            if found is not None:
                return found
        return None

    final = search(domains)
    return "\n".join(" ".join(str(next(iter(final[(i, j)]))) for j in range(n)) for i in range(n))
