"""Sliding tile puzzle: restore the board within a move budget."""

import random

NAME = "sliding_puzzle"
CATEGORY = "spatial"
DESCRIPTION = (
    "Sliding tile puzzle (8-, 11- and 15-puzzle): list the tiles to slide into the empty cell, "
    "one per move, so that the board reaches a given goal arrangement within a move budget. "
    "The goal is a random arrangement, and the start board is scrambled from it by a random "
    "walk of the empty cell without immediate reversals; "
    "the budget is the walk length, so the reversed walk is a solution. Any sequence of legal "
    "moves that reaches the goal within the budget is accepted (the bundled solver finds a "
    "shortest solution by bidirectional search). Difficulty raises the board "
    "from 3 x 3 to 4 x 4 and the scramble (and budget) from 3 to 26 moves."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

_LEVELS = [
    (3, 3, 3),
    (3, 3, 5),
    (3, 3, 7),
    (3, 3, 9),
    (3, 3, 12),
    (3, 4, 14),
    (4, 4, 16),
    (4, 4, 19),
    (4, 4, 22),
    (4, 4, 26),
]
_MAX_ANSWER_CHARS = 1000


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _render(board):
    width = len(str(len(board) * len(board[0]) - 1))
    return "\n".join("  ".join((str(v) if v else "_").rjust(width) for v in row) for row in board)


def generate(rng: random.Random, difficulty: int) -> dict:
    rows, cols, length = _LEVELS[_level(difficulty)]
    while True:
        tiles = list(range(rows * cols))
        rng.shuffle(tiles)
        goal = [tiles[r * cols : (r + 1) * cols] for r in range(rows)]
        board = [row[:] for row in goal]
        blank = next((r, c) for r in range(rows) for c in range(cols) if goal[r][c] == 0)
        trail = [blank]
        previous = None
        for _ in range(length):
            options = []
            for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                cell = (blank[0] + dr, blank[1] + dc)
                if 0 <= cell[0] < rows and 0 <= cell[1] < cols and cell != previous:
                    options.append(cell)
            cell = rng.choice(options)
            board[blank[0]][blank[1]] = board[cell[0]][cell[1]]
            board[cell[0]][cell[1]] = 0
            previous, blank = blank, cell
            trail.append(blank)
        if board != goal:
            break
    # Undo the walk: the tile sitting where the blank was one step earlier slides back.
    replay = [row[:] for row in board]
    solution = []
    for k in range(len(trail) - 1, 0, -1):
        (br, bc), (tr, tc) = trail[k], trail[k - 1]
        tile = replay[tr][tc]
        solution.append(tile)
        replay[br][bc], replay[tr][tc] = tile, 0
    prompt = (
        f"Solve this sliding tile puzzle. The board has {rows} rows and {cols} columns, tiles "
        f"numbered 1 to {rows * cols - 1} and one empty cell, shown as _. A move slides a tile "
        f"that is directly above, below, left or right of the empty cell into it.\n\n"
        f"Current board:\n{_render(board)}\n\n"
        f"Goal board:\n{_render(goal)}\n\n"
        f"Reach the goal board using at most {length} moves.\n\n"
        f"Answer format: the numbers of the tiles you slide, in order, separated by spaces, on "
        f"one line (one number per move). Write nothing else."
    )
    data = {"board": board, "goal": goal, "max_moves": length}
    return {"prompt": prompt, "data": data, "reference": " ".join(map(str, solution))}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        data = instance["data"]
        board = [row[:] for row in data["board"]]
        rows, cols = len(board), len(board[0])
        tokens = answer.replace(",", " ").split()
        if not tokens or len(tokens) > data["max_moves"] or not all(t.isdigit() for t in tokens):
            return 0.0
        where = {board[r][c]: (r, c) for r in range(rows) for c in range(cols)}
        for token in tokens:
            tile = int(token)
            if tile == 0 or tile not in where:
                return 0.0
            (tr, tc), (br, bc) = where[tile], where[0]
            if abs(tr - br) + abs(tc - bc) != 1:
                return 0.0
            where[tile], where[0] = (br, bc), (tr, tc)
        goal = data["goal"]
        return 1.0 if all(goal[r][c] == v for v, (r, c) in where.items()) else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    """Bidirectional breadth-first search between the board and the goal; it returns a
    shortest solution, which never exceeds the budget (the scramble length). A state is an
    int: 5 bits per cell (tile number) plus the blank's index above them."""
    data = instance["data"]
    rows, cols = len(data["board"]), len(data["board"][0])
    size = rows * cols
    shift = 5 * size

    def encode(board):
        cells = [v for row in board for v in row]
        value = cells.index(0) << shift
        for k, v in enumerate(cells):
            value |= v << (5 * k)
        return value

    start, goal = encode(data["board"]), encode(data["goal"])
    if start == goal:
        return ""
    neighbours = []
    for cell in range(size):
        r, c = divmod(cell, cols)
        neighbours.append(
            [
                (r + dr) * cols + c + dc
                for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1))
                if 0 <= r + dr < rows and 0 <= c + dc < cols
            ]
        )
    low_mask = (1 << shift) - 1

    def expand(state):
        blank = state >> shift
        board = state & low_mask
        for cell in neighbours[blank]:
            tile = (board >> (5 * cell)) & 31
            moved = board ^ (tile << (5 * cell)) ^ (tile << (5 * blank))
            yield moved | (cell << shift), tile

    # parents map a state to (previous state, tile slid between them)
    forward, backward = {start: None}, {goal: None}
    front, back = [start], [goal]
    meet = None
    while meet is None:
        grow_forward = len(front) <= len(back)
        frontier, seen, other = (
            (front, forward, backward) if grow_forward else (back, backward, forward)
        )
        nxt = []
        for state in frontier:
            for child, tile in expand(state):
                if child not in seen:
                    seen[child] = (state, tile)
                    nxt.append(child)
                    if child in other:
                        meet = child
                        break
            if meet is not None:
                break
        if grow_forward:
            front = nxt
        else:
            back = nxt
    moves = []
    state = meet
    while forward[state] is not None:
        state, tile = forward[state]
        moves.append(tile)
    moves.reverse()
    state = meet
    while backward[state] is not None:  # sliding the same tile back retraces the step
        state, tile = backward[state]
        moves.append(tile)
    return " ".join(map(str, moves))
