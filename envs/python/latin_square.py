"""Latin square completion: fill a partially given n x n grid so that every
row and every column contains each of 1..n exactly once. Puzzles are
generated with a unique completion (checked by an exhaustive solver)."""

NAME = "latin_square"
CATEGORY = "constraint_satisfaction"
DESCRIPTION = (
    "Complete a partially filled n x n Latin square (each row and column holds 1..n "
    "exactly once); the completion is unique. Difficulty sets the size (n = 3 at "
    "difficulty 1 up to 6 at difficulty 10) and how many cells are blank."
)
VERSION = 1


def _size(difficulty):
    return 3 + (difficulty - 1) // 3  # 1-3 -> 3, 4-6 -> 4, 7-9 -> 5, 10 -> 6


def _count_solutions(grid, n, limit=2):
    """Number of completions of grid (0 = blank), stopping at `limit`."""
    rows = [set(r) - {0} for r in grid]
    cols = [set(grid[r][c] for r in range(n)) - {0} for c in range(n)]
    blanks = [(r, c) for r in range(n) for c in range(n) if grid[r][c] == 0]
    found = 0

    def search(i):
        nonlocal found
        if found >= limit:
            return
        if i == len(blanks):
            found += 1
            return
        r, c = blanks[i]
        for v in range(1, n + 1):
            if v not in rows[r] and v not in cols[c]:
                rows[r].add(v)
                cols[c].add(v)
                search(i + 1)
                rows[r].discard(v)
                cols[c].discard(v)

    search(0)
    return found


def _solve_grid(grid, n):
    rows = [set(r) - {0} for r in grid]
    cols = [set(grid[r][c] for r in range(n)) - {0} for c in range(n)]
    blanks = [(r, c) for r in range(n) for c in range(n) if grid[r][c] == 0]
    out = [row[:] for row in grid]

    def search(i):
        if i == len(blanks):
            return True
        r, c = blanks[i]
        for v in range(1, n + 1):
            if v not in rows[r] and v not in cols[c]:
                rows[r].add(v)
                cols[c].add(v)
                out[r][c] = v
                if search(i + 1):
                    return True
                rows[r].discard(v)
                cols[c].discard(v)
        out[r][c] = 0
        return False

    return out if search(0) else None


def generate(rng, difficulty):
    n = _size(difficulty)
    # A random Latin square: shuffle rows, columns and symbols of the cyclic one.
    base = [[(r + c) % n + 1 for c in range(n)] for r in range(n)]
    rows, cols, syms = list(range(n)), list(range(n)), list(range(1, n + 1))
    rng.shuffle(rows)
    rng.shuffle(cols)
    rng.shuffle(syms)
    solution = [[syms[base[rows[r]][cols[c]] - 1] for c in range(n)] for r in range(n)]
    # Blank cells while the completion stays unique, up to a difficulty-dependent share.
    target = int(n * n * (0.35 + 0.04 * difficulty))
    puzzle = [row[:] for row in solution]
    cells = [(r, c) for r in range(n) for c in range(n)]
    rng.shuffle(cells)
    blanks = 0
    for r, c in cells:
        if blanks >= target:
            break
        keep = puzzle[r][c]
        puzzle[r][c] = 0
        if _count_solutions(puzzle, n) == 1:
            blanks += 1
        else:
            puzzle[r][c] = keep
    shown = "\n".join(" ".join(str(v) if v else "." for v in row) for row in puzzle)
    prompt = (
        f"Complete this {n}x{n} Latin square: every row and every column must contain "
        f"each number from 1 to {n} exactly once. Dots are blank cells; given numbers "
        f"must stay.\n\n{shown}\n\n"
        f"Answer format: the completed grid, {n} lines of {n} numbers separated by single spaces."
    )
    answer = "\n".join(" ".join(str(v) for v in row) for row in solution)
    return {"prompt": prompt, "data": {"n": n, "puzzle": puzzle}, "reference": answer}


def _parse(answer, n):
    lines = [line.strip() for line in answer.strip().splitlines() if line.strip()]
    if len(lines) != n:
        return None
    grid = []
    for line in lines:
        parts = line.split()
        if len(parts) != n or not all(p.isdigit() and len(p) <= 2 for p in parts):
            return None
        grid.append([int(p) for p in parts])
    return grid


def verify(instance, answer):
    data = instance["data"]
    n, puzzle = data["n"], data["puzzle"]
    grid = _parse(answer, n)
    if grid is None:
        return 0.0
    full = set(range(1, n + 1))
    for r in range(n):
        if set(grid[r]) != full:
            return 0.0
        for c in range(n):
            if puzzle[r][c] and grid[r][c] != puzzle[r][c]:
                return 0.0
    for c in range(n):
        if {grid[r][c] for r in range(n)} != full:
            return 0.0
    return 1.0


def solve(instance):
    data = instance["data"]
    grid = _solve_grid(data["puzzle"], data["n"])
    return "\n".join(" ".join(str(v) for v in row) for row in grid)
