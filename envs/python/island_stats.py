"""Count the islands of a map and measure the largest one."""

import random

NAME = "island_stats"
CATEGORY = "spatial"
DESCRIPTION = (
    "Flood fill on a character map: count the islands (groups of land cells connected through "
    "shared edges, not corners) and give the size of the largest island. The answer is the "
    "unique pair computed by breadth-first search. Difficulty grows the map from 4 x 5 to "
    "16 x 22 cells; land density varies per instance, and diagonal contacts, which do not "
    "connect, become common."
)
VERSION = 1

_SHAPE = [
    (4, 5),
    (5, 6),
    (6, 8),
    (7, 10),
    (8, 12),
    (10, 13),
    (11, 15),
    (12, 17),
    (14, 19),
    (16, 22),
]
_MAX_ANSWER_CHARS = 100


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _islands(grid):
    rows, cols = len(grid), len(grid[0])
    seen = [[False] * cols for _ in range(rows)]
    sizes = []
    for i in range(rows):
        for j in range(cols):
            if grid[i][j] == "#" and not seen[i][j]:
                seen[i][j] = True
                stack, size = [(i, j)], 0
                while stack:
                    a, b = stack.pop()
                    size += 1
                    for c, d in ((a + 1, b), (a - 1, b), (a, b + 1), (a, b - 1)):
                        if 0 <= c < rows and 0 <= d < cols and grid[c][d] == "#" and not seen[c][d]:
                            seen[c][d] = True
                            stack.append((c, d))
                sizes.append(size)
    return sizes


def generate(rng: random.Random, difficulty: int) -> dict:
    rows, cols = _SHAPE[_level(difficulty)]
    while True:
        density = rng.uniform(0.3, 0.5)
        grid = [
            "".join("#" if rng.random() < density else "." for _ in range(cols))
            for _ in range(rows)
        ]
        sizes = _islands(grid)
        if sizes:
            break
    prompt = (
        f"Below is a map with {rows} rows and {cols} columns, where '#' is land and '.' is water. "
        f"An island is a group of land cells connected horizontally or vertically (cells that "
        f"touch only at a corner are not connected).\n\n"
        + "\n".join(grid)
        + "\n\nHow many islands are there, and how many cells does the largest island have?\n\n"
        "Answer format: two integers separated by a space: first the number of islands, then "
        "the size of the largest island. Write nothing else."
    )
    data = {"grid": grid, "count": len(sizes), "largest": max(sizes)}
    return {"prompt": prompt, "data": data, "reference": f"{len(sizes)} {max(sizes)}"}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        tokens = answer.replace(",", " ").split()
        if len(tokens) != 2 or not all(t.isdigit() for t in tokens):
            return 0.0
        data = instance["data"]
        return 1.0 if [int(t) for t in tokens] == [data["count"], data["largest"]] else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    sizes = _islands(instance["data"]["grid"])
    return f"{len(sizes)} {max(sizes)}"
