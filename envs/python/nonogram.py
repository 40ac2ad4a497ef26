"""Nonogram: shade grid cells so that the runs in every row and column match the clues."""

import random

NAME = "nonogram"
CATEGORY = "constraint_satisfaction"
DESCRIPTION = (
    "Nonogram (paint by numbers): given the lengths of the runs of filled cells in every row and "
    "column, in order, produce a grid of filled and empty cells matching all clues. Clues are "
    "read off a random planted picture; any grid that matches every clue is accepted. Difficulty "
    "grows the grid from 3 x 3 (difficulty 1) to 10 x 10 (difficulty 10)."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

_SHAPE = [(3, 3), (4, 4), (5, 5), (5, 6), (6, 6), (7, 7), (7, 8), (8, 8), (9, 9), (10, 10)]
_MAX_ANSWER_CHARS = 2000


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _runs(cells):
    runs, count = [], 0
    for filled in cells:
        if filled:
            count += 1
        elif count:
            runs.append(count)
            count = 0
    if count:
        runs.append(count)
    return runs


def generate(rng: random.Random, difficulty: int) -> dict:
    rows, cols = _SHAPE[_level(difficulty)]
    density = rng.uniform(0.45, 0.65)
    grid = [[rng.random() < density for _ in range(cols)] for _ in range(rows)]
    row_clues = [_runs(row) for row in grid]
    col_clues = [_runs([grid[i][j] for i in range(rows)]) for j in range(cols)]

    def show(clue):
        return " ".join(map(str, clue)) if clue else "0"

    row_text = "\n".join(f"Row {i + 1}: {show(c)}" for i, c in enumerate(row_clues))
    col_text = "\n".join(f"Column {j + 1}: {show(c)}" for j, c in enumerate(col_clues))
    prompt = (
        f"Solve this nonogram on a grid of {rows} rows and {cols} columns. Each clue lists, in "
        f"order, the lengths of the blocks of consecutive filled cells in that row (left to "
        f"right) or column (top to bottom); blocks are separated by at least one empty cell, and "
        f"a clue of 0 means the line is empty.\n\n"
        f"Row clues (rows numbered from the top):\n{row_text}\n\n"
        f"Column clues (columns numbered from the left):\n{col_text}\n\n"
        f"Answer format: {rows} lines, one per row from top to bottom, each exactly {cols} "
        f"characters long, using '#' for a filled cell and '.' for an empty cell. Write nothing "
        f"else."
    )
    reference = "\n".join("".join("#" if v else "." for v in row) for row in grid)
    data = {"row_clues": row_clues, "col_clues": col_clues}
    return {"prompt": prompt, "data": data, "reference": reference}


def _parse(answer, rows, cols):
    lines = [line.replace(" ", "") for line in answer.strip().splitlines() if line.strip()]
    if len(lines) != rows:
        return None
    if any(len(line) != cols or set(line) - {"#", "."} for line in lines):
        return None
    return [[ch == "#" for ch in line] for line in lines]


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        row_clues = instance["data"]["row_clues"]
        col_clues = instance["data"]["col_clues"]
        grid = _parse(answer, len(row_clues), len(col_clues))
        if grid is None:
            return 0.0
        if any(_runs(grid[i]) != row_clues[i] for i in range(len(row_clues))):
            return 0.0
        for j in range(len(col_clues)):
            if _runs([row[j] for row in grid]) != col_clues[j]:
                return 0.0
        return 1.0
    except Exception:
        return 0.0


def _line_options(clue, length):
    """All fillings (tuples of bools) of a line of `length` cells matching `clue`."""
    if not clue:
        return [(False,) * length]
    out = []
    first, rest = clue[0], clue[1:]
    need_rest = sum(rest) + len(rest)
    for start in range(length - need_rest - first + 1):
        head = (False,) * start + (True,) * first
        if rest:
            for tail in _line_options(rest, length - len(head) - 1):
                out.append(head + (False,) + tail)
        else:
            out.append(head + (False,) * (length - len(head)))
    return out


def solve(instance: dict) -> str:
    """Line-candidate propagation with backtracking on the most constrained row."""
    row_clues = instance["data"]["row_clues"]
    col_clues = instance["data"]["col_clues"]
    rows, cols = len(row_clues), len(col_clues)
    row_opts = [_line_options(c, cols) for c in row_clues]
    col_opts = [_line_options(c, rows) for c in col_clues]

    def propagate(row_opts, col_opts):
        changed = True
        while changed:
            changed = False
            for i in range(rows):
                for j in range(cols):
                    can_r = {o[j] for o in row_opts[i]}
                    can_c = {o[i] for o in col_opts[j]}
                    both = can_r & can_c
                    if not both:
                        return False
                    if both != can_r:
                        row_opts[i] = [o for o in row_opts[i] if o[j] in both]
                        changed = True
                    if both != can_c:
                        col_opts[j] = [o for o in col_opts[j] if o[i] in both]
                        changed = True
        return True

    def search(row_opts, col_opts):
        if not propagate(row_opts, col_opts):
            return None
        open_rows = [i for i in range(rows) if len(row_opts[i]) > 1]
        if not open_rows:
            return [opts[0] for opts in row_opts]
        i = min(open_rows, key=lambda k: len(row_opts[k]))
        for option in row_opts[i]:
            trial_rows = [list(o) for o in row_opts]
            trial_rows[i] = [option]
            found = search(trial_rows, [list(o) for o in col_opts])
            if found is not None:
                return found
        return None

    grid = search(row_opts, col_opts)
    return "\n".join("".join("#" if v else "." for v in row) for row in grid)
