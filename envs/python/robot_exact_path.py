"""Guide a robot to a target in exactly k moves without visiting any cell twice."""

import random
import re

NAME = "robot_exact_path"
CATEGORY = "spatial"
DESCRIPTION = (
    "Path planning with an exact length: move a robot on a walled grid from S to T in exactly k "
    "single-cell moves (up, down, left, right), never entering a wall, leaving the grid or "
    "visiting a cell twice. A self-avoiding walk of length k is planted before the walls are "
    "placed, so a solution exists; k is longer than the shortest route from difficulty 3 on, so "
    "a detour must be planned. Any valid path is accepted. Difficulty grows the grid from 6 x 6 "
    "to 9 x 9 and k from 6 to 28. The route is written as the list of visited cells, S "
    "included, which ties an answer to its own grid."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

# (rows, cols, steps, wall density)
_LEVELS = [
    (6, 6, 6, 0.20),
    (6, 6, 8, 0.20),
    (6, 7, 10, 0.20),
    (6, 7, 12, 0.22),
    (7, 7, 13, 0.22),
    (7, 7, 15, 0.22),
    (7, 8, 17, 0.25),
    (8, 8, 20, 0.25),
    (8, 9, 24, 0.25),
    (9, 9, 28, 0.25),
]
_DELTA = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}
_MAX_ANSWER_CHARS = 500


_CELL = re.compile(r"\(?(\d{1,2}),(\d{1,2})\)?")


def _cells(route):
    return " ".join(f"{r + 1},{c + 1}" for r, c in route)


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _walk(rng, rows, cols, steps):
    """A random self-avoiding walk with `steps` moves (list of cells), found by DFS."""
    start = (rng.randrange(rows), rng.randrange(cols))
    path, seen, budget = [start], {start}, [4000]

    def extend():
        if len(path) == steps + 1:
            return True
        budget[0] -= 1
        if budget[0] < 0:
            return False
        r, c = path[-1]
        moves = sorted(_DELTA.values())
        rng.shuffle(moves)
        for dr, dc in moves:
            nxt = (r + dr, c + dc)
            if 0 <= nxt[0] < rows and 0 <= nxt[1] < cols and nxt not in seen:
                path.append(nxt)
                seen.add(nxt)
                if extend():
                    return True
                path.pop()
                seen.discard(nxt)
        return False

    return path if extend() else None


def _shortest(grid, start, target):
    rows, cols = len(grid), len(grid[0])
    dist = {start: 0}
    queue = [start]
    for r, c in queue:
        for dr, dc in _DELTA.values():
            nxt = (r + dr, c + dc)
            if (
                0 <= nxt[0] < rows
                and 0 <= nxt[1] < cols
                and grid[nxt[0]][nxt[1]] != "#"
                and nxt not in dist
            ):
                dist[nxt] = dist[(r, c)] + 1
                queue.append(nxt)
    return dist.get(target)


def generate(rng: random.Random, difficulty: int) -> dict:
    level = _level(difficulty)
    rows, cols, steps, density = _LEVELS[level]
    while True:
        path = _walk(rng, rows, cols, steps)
        if path is None:
            continue
        # random mirror images and direction: walks are spread evenly over the board
        flip_rows, flip_cols = rng.random() < 0.5, rng.random() < 0.5
        path = [
            (rows - 1 - r if flip_rows else r, cols - 1 - c if flip_cols else c) for r, c in path
        ]
        if rng.random() < 0.5:
            path.reverse()
        on_path = set(path)
        grid = [
            ["#" if (r, c) not in on_path and rng.random() < density else "." for c in range(cols)]
            for r in range(rows)
        ]
        (sr, sc), (tr, tc) = path[0], path[-1]
        grid[sr][sc], grid[tr][tc] = "S", "T"
        grid = ["".join(row) for row in grid]
        if level < 2 or _shortest(grid, path[0], path[-1]) < steps:
            break
    prompt = (
        f"A robot stands on the cell marked S of this grid ({rows} rows, {cols} columns). "
        f"'#' cells are walls and '.' cells are free; T is the target.\n\n"
        + "\n".join(grid)
        + f"\n\nFind a route that takes the robot from S to T in exactly {steps} moves. Each move "
        f"goes one cell up, down, left or right. The robot may not enter a wall, "
        f"leave the grid, or visit any cell more than once (S included); it must be on T after "
        f"the last move.\n\n"
        f"Answer format: the cells of the route in order, from S to T inclusive ({steps + 1} "
        f"cells), each written as row,column with rows numbered 1 to {rows} from the top and "
        f"columns 1 to {cols} from the left, separated by spaces (a route starting in the "
        f"top-left corner and moving right would begin: 1,1 1,2). Write nothing else."
    )
    data = {"grid": grid, "start": list(path[0]), "target": list(path[-1]), "steps": steps}
    return {"prompt": prompt, "data": data, "reference": _cells(path)}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        data = instance["data"]
        grid = data["grid"]
        tokens = answer.split()
        if len(tokens) != data["steps"] + 1:
            return 0.0
        route = []
        for token in tokens:
            m = _CELL.fullmatch(token)
            if not m:
                return 0.0
            route.append((int(m.group(1)) - 1, int(m.group(2)) - 1))
        if list(route[0]) != data["start"] or list(route[-1]) != data["target"]:
            return 0.0
        if len(set(route)) != len(route):
            return 0.0
        for (r0, c0), (r, c) in zip(route, route[1:]):
            if abs(r - r0) + abs(c - c0) != 1:
                return 0.0
            if not (0 <= r < len(grid) and 0 <= c < len(grid[0])) or grid[r][c] == "#":
                return 0.0
        return 1.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    """Depth-first search over self-avoiding paths, pruned by distance, parity and a flood
    fill of the cells still available."""
    data = instance["data"]
    grid, steps = data["grid"], data["steps"]
    rows, cols = len(grid), len(grid[0])
    target = tuple(data["target"])
    start = tuple(data["start"])
    seen = {start}
    moves = []

    def reachable(cell, left):
        """The target must stay reachable through unvisited cells, and enough such cells
        must remain for the moves still to be made."""
        region, queue = {cell}, [cell]
        for r, c in queue:
            for dr, dc in _DELTA.values():
                nxt = (r + dr, c + dc)
                if (
                    0 <= nxt[0] < rows
                    and 0 <= nxt[1] < cols
                    and grid[nxt[0]][nxt[1]] != "#"
                    and nxt not in seen
                    and nxt not in region
                ):
                    region.add(nxt)
                    queue.append(nxt)
        return target in region and len(region) > left

    def search(cell):
        left = steps - len(moves)
        gap = abs(cell[0] - target[0]) + abs(cell[1] - target[1])
        if gap > left or (left - gap) % 2:
            return False
        if left == 0:
            return cell == target
        if not reachable(cell, left):
            return False
        for name in "UDLR":
            dr, dc = _DELTA[name]
            nxt = (cell[0] + dr, cell[1] + dc)
            if (
                0 <= nxt[0] < rows
                and 0 <= nxt[1] < cols
                and grid[nxt[0]][nxt[1]] != "#"
                and nxt not in seen
            ):
                if nxt == target and left > 1:
                    continue
                seen.add(nxt)
                moves.append(name)
                if search(nxt):
                    return True
                moves.pop()
                seen.discard(nxt)
        return False

    search(start)
    route = [start]
    for name in moves:
        route.append((route[-1][0] + _DELTA[name][0], route[-1][1] + _DELTA[name][1]))
    return _cells(route)
