#!/usr/bin/env python3
"""Validation of the bundled seed corpus in envs/python.

Runs every environment module through the offline checks that resyn's
synthesis pipeline applies to LLM-written environments (and more):

* static: the file parses, imports only whitelisted standard-library modules,
  never calls module-level ``random.*`` functions, defines NAME (== file stem,
  snake_case, unique), CATEGORY (one of the five), DESCRIPTION, optional
  VERSION, generate, verify, optional solve, optional MULTIPLE_SOLUTIONS;
* for difficulties 1..10 and SEEDS seeds each: generate twice with
  ``random.Random(seed)`` gives identical JSON; the instance has the right
  types; data round-trips through JSON; the prompt ends with an
  "Answer format:" paragraph, mentions no answer tags and does not contain a
  reference longer than 6 characters verbatim; verify(reference) == 1 (also
  with surrounding whitespace); solve(instance) verifies to 1; verify never
  mutates the instance and returns a float/bool in {0, 1};
* wrong-answer probes score 0: empty, garbage, the prompt, the reference cut
  in half, the reference twice, another instance's reference, two references
  in one block (both orders), one-character / one-token mutations of the
  reference. Unique-answer environments must reject all of them (a probe equal
  to the reference is skipped). Environments with MULTIPLE_SOLUTIONS = True are
  cross-checked against an independent validity checker written in this file
  from the task statement alone: on every probe, verify and the independent
  checker must agree;
* at least 80 % distinct prompts over the seeds at every difficulty;
* generate at difficulty 10 under 50 ms, verify under 1 ms (medians, with the
  90th percentile allowed 4x; verify timed as the best of three calls), verify on a
  100 KB garbage answer under 5 ms;
* determinism across processes with different PYTHONHASHSEED values.

Usable as a script (exit status 1 on any failure, one precise line per
failure) and, when pytest is installed, as a pytest module (one test per
environment file).
"""

from __future__ import annotations

import ast
import copy
import hashlib
import importlib.util
import json
import math
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV_DIR = ROOT / "envs" / "python"
ENV_FILES = sorted(p for p in ENV_DIR.glob("*.py") if not p.name.startswith("_"))

CATEGORIES = {"constraint_satisfaction", "algorithmic", "spatial", "logic", "math"}
ALLOWED_IMPORTS = {
    "random",
    "math",
    "re",
    "itertools",
    "functools",
    "collections",
    "fractions",
    "heapq",
    "string",
    "bisect",
    "json",
    "typing",
    "operator",
    "statistics",
    "__future__",
}
SEEDS = int(os.environ.get("CORPUS_SEEDS", "20"))
DIFFICULTIES = range(1, 11)
MIN_DISTINCT = 0.8
GEN_BUDGET_S = 0.050
VERIFY_BUDGET_S = 0.001
LEAK_MIN_LEN = 7
MAX_PROMPT_CHARS = 12000


# ---------------------------------------------------------------------------
# Loading and static checks
# ---------------------------------------------------------------------------


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location(f"corpus_env_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def static_checks(path: Path) -> list[str]:
    errors = []
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [(node.module or "").split(".")[0]]
        else:
            names = []
        for name in names:
            if name not in ALLOWED_IMPORTS:
                errors.append(f"line {node.lineno}: import of {name!r} is not allowed")
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "random"
            and node.attr != "Random"
        ):
            errors.append(f"line {node.lineno}: random.{node.attr} uses the global RNG")
        if isinstance(node, ast.Name) and node.id in {"hash", "id", "eval", "exec", "open"}:
            errors.append(f"line {node.lineno}: use of {node.id}()")
    return errors


def api_checks(path: Path, mod) -> list[str]:
    errors = []
    name = getattr(mod, "NAME", None)
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        errors.append(f"NAME {name!r} is not a snake_case string")
    elif name != path.stem:
        errors.append(f"NAME {name!r} differs from the file name {path.stem!r}")
    if getattr(mod, "CATEGORY", None) not in CATEGORIES:
        errors.append(
            f"CATEGORY {getattr(mod, 'CATEGORY', None)!r} is not one of {sorted(CATEGORIES)}"
        )
    desc = getattr(mod, "DESCRIPTION", None)
    if not isinstance(desc, str) or len(desc) < 80 or "difficulty" not in desc.lower():
        errors.append("DESCRIPTION must be a paragraph that explains how difficulty scales")
    version = getattr(mod, "VERSION", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        errors.append(f"VERSION {version!r} is not a positive int")
    for fn in ("generate", "verify"):
        if not callable(getattr(mod, fn, None)):
            errors.append(f"{fn} is not defined")
    if hasattr(mod, "solve") and not callable(mod.solve):
        errors.append("solve is not callable")
    multi = getattr(mod, "MULTIPLE_SOLUTIONS", False)
    if not isinstance(multi, bool):
        errors.append("MULTIPLE_SOLUTIONS must be a bool")
    if multi and name not in ALT_CHECKERS:
        errors.append("MULTIPLE_SOLUTIONS is set but the test has no independent checker for it")
    return errors


# ---------------------------------------------------------------------------
# Independent validity checkers for multi-solution environments. Written from
# the task statements, sharing no code with the environments.
# ---------------------------------------------------------------------------


def _ints(text):
    toks = text.replace(",", " ").split()
    if not toks or not all(re.fullmatch(r"[+-]?\d+", t) for t in toks):
        return None
    return [int(t) for t in toks]


def _digit_rows(answer, n):
    rows = [ln for ln in answer.strip().splitlines() if ln.strip()]
    if len(rows) != n:
        return None
    out = []
    for ln in rows:
        toks = ln.replace(",", " ").split()
        if len(toks) == 1 and len(toks[0]) == n and n <= 9:
            toks = list(toks[0])
        if len(toks) != n or not all(t.isdigit() for t in toks):
            return None
        out.append([int(t) for t in toks])
    return out


def _latin_ok(grid, n):
    full = set(range(1, n + 1))
    return all(set(r) == full for r in grid) and all(
        {grid[i][j] for i in range(n)} == full for j in range(n)
    )


def alt_kenken_cages(inst, answer):
    d = inst["data"]
    n = d["n"]
    g = _digit_rows(answer, n)
    if g is None or not _latin_ok(g, n):
        return False
    for cage in d["cages"]:
        vals = [g[r][c] for r, c in cage["cells"]]
        got = sum(vals) if cage["op"] == "+" else math.prod(vals)
        if got != cage["target"]:
            return False
    return True


def alt_futoshiki(inst, answer):
    d = inst["data"]
    n = d["n"]
    g = _digit_rows(answer, n)
    if g is None or not _latin_ok(g, n):
        return False
    for i in range(n):
        for j in range(n):
            if d["givens"][i][j] and d["givens"][i][j] != g[i][j]:
                return False
    for (r1, c1), (r2, c2) in d["less"]:  # cell 1 < cell 2
        if not g[r1][c1] < g[r2][c2]:
            return False
    return True


def alt_nonogram(inst, answer):
    d = inst["data"]
    rows = [ln.replace(" ", "") for ln in answer.strip().splitlines() if ln.strip()]
    R, C = len(d["row_clues"]), len(d["col_clues"])
    if len(rows) != R or any(len(r) != C or set(r) - set("#.") for r in rows):
        return False

    def runs(cells):
        return [len(m) for m in re.findall(r"#+", "".join(cells))]

    return all(runs(rows[i]) == d["row_clues"][i] for i in range(R)) and all(
        runs([rows[i][j] for i in range(R)]) == d["col_clues"][j] for j in range(C)
    )


def alt_magic_square_completion(inst, answer):
    p = inst["data"]["puzzle"]
    n = len(p)
    rows = [ln for ln in answer.strip().splitlines() if ln.strip()]
    if len(rows) != n:
        return False
    g = []
    for ln in rows:
        v = _ints(ln)
        if v is None or len(v) != n:
            return False
        g.append(v)
    if sorted(x for r in g for x in r) != list(range(1, n * n + 1)):
        return False
    if any(p[i][j] and p[i][j] != g[i][j] for i in range(n) for j in range(n)):
        return False
    m = n * (n * n + 1) // 2
    lines = g + [list(c) for c in zip(*g)]
    lines.append([g[i][i] for i in range(n)])
    lines.append([g[i][n - 1 - i] for i in range(n)])
    return all(sum(ln) == m for ln in lines)


def alt_bin_packing(inst, answer):
    d = inst["data"]
    names = answer.replace(",", " ").upper().split()
    if len(names) != len(d["weights"]) or any(n not in d["labels"] for n in names):
        return False
    loads = {}
    for w, n in zip(d["weights"], names):
        loads[n] = loads.get(n, 0) + w
    return max(loads.values()) <= d["capacity"]


def alt_set_cover_budget(inst, answer):
    d = inst["data"]
    chosen = answer.replace(",", " ").upper().split()
    if not chosen or len(set(chosen)) != len(chosen) or len(chosen) > d["budget"]:
        return False
    if any(c not in d["labels"] for c in chosen):
        return False
    covered = set()
    for c in chosen:
        covered |= set(d["sets"][d["labels"].index(c)])
    return covered == set(range(1, d["universe"] + 1))


def alt_lights_out(inst, answer):
    start = inst["data"]["grid"]
    R, C = len(start), len(start[0])
    rows = [ln.replace(" ", "") for ln in answer.strip().splitlines() if ln.strip()]
    if len(rows) != R or any(len(r) != C or set(r) - set("01") for r in rows):
        return False
    for i in range(R):
        for j in range(C):
            val = start[i][j]
            for di, dj in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)):
                a, b = i + di, j + dj
                if 0 <= a < R and 0 <= b < C and rows[a][b] == "1":
                    val ^= 1
            if val:
                return False
    return True


def alt_longest_increasing_subsequence(inst, answer):
    seq = inst["data"]["sequence"]
    v = _ints(answer)
    if v is None:
        return False
    # optimal length by O(n^2) DP
    best = [1] * len(seq)
    for i in range(len(seq)):
        for j in range(i):
            if seq[j] < seq[i]:
                best[i] = max(best[i], best[j] + 1)
    if len(v) != max(best) or any(a >= b for a, b in zip(v, v[1:])):
        return False
    it = iter(seq)
    return all(any(x == y for y in it) for x in v)


def alt_edit_script(inst, answer):
    a, b = inst["data"]["source"], inst["data"]["target"]
    # Levenshtein distance
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    dist = prev[-1]
    lines = [ln.split() for ln in answer.strip().splitlines() if ln.strip()]
    if len(lines) != dist:
        return False
    s = list(a)
    for parts in lines:
        op = parts[0].upper() if parts else ""
        try:
            pos = int(parts[1])
        except (IndexError, ValueError):
            return False
        if op == "DEL" and len(parts) == 2 and 1 <= pos <= len(s):
            del s[pos - 1]
        elif op == "SUB" and len(parts) == 3 and 1 <= pos <= len(s) and len(parts[2]) == 1:
            s[pos - 1] = parts[2]
        elif op == "INS" and len(parts) == 3 and 1 <= pos <= len(s) + 1 and len(parts[2]) == 1:
            s.insert(pos - 1, parts[2])
        else:
            return False
    return "".join(s) == b


def alt_coin_change_min(inst, answer):
    coins, target = inst["data"]["coins"], inst["data"]["target"]
    v = _ints(answer)
    if v is None or any(c not in coins for c in v) or sum(v) != target:
        return False
    inf = float("inf")
    best = [0] + [inf] * target
    for t in range(1, target + 1):
        best[t] = min((best[t - c] + 1 for c in coins if c <= t), default=inf)
    return len(v) == best[target]


def alt_matrix_chain_order(inst, answer):
    dims, names = inst["data"]["dims"], inst["data"]["names"]
    n = len(dims) - 1
    toks = [t for t in re.findall(r"\S", answer.upper()) if t != "*"]
    pos = 0

    def parse():
        nonlocal pos
        if pos < len(toks) and toks[pos] in names:
            k = names.index(toks[pos]) + 1
            pos += 1
            return (k, k, 0)
        if pos < len(toks) and toks[pos] == "(":
            pos += 1
            left = parse()
            right = parse()
            if left is None or right is None or pos >= len(toks) or toks[pos] != ")":
                return None
            pos += 1
            if right[0] != left[1] + 1:
                return None
            cost = left[2] + right[2] + dims[left[0] - 1] * dims[left[1]] * dims[right[1]]
            return (left[0], right[1], cost)
        return None

    items = []
    while pos < len(toks):
        item = parse()
        if item is None:
            return False
        items.append(item)
    if len(items) == 2 and items[1][0] == items[0][1] + 1:
        l, r = items
        items = [(l[0], r[1], l[2] + r[2] + dims[l[0] - 1] * dims[l[1]] * dims[r[1]])]
    if len(items) != 1 or items[0][:2] != (1, n):
        return False
    m = [[0] * (n + 1) for _ in range(n + 1)]
    for length in range(2, n + 1):
        for i in range(1, n - length + 2):
            j = i + length - 1
            m[i][j] = min(
                m[i][k] + m[k + 1][j] + dims[i - 1] * dims[k] * dims[j] for k in range(i, j)
            )
    return items[0][2] == m[1][n]


def alt_min_swaps_sort(inst, answer):
    perm = list(inst["data"]["perm"])
    n = len(perm)
    pairs = re.findall(r"\S+", answer.replace(",", " ").replace(";", " "))
    if len(pairs) % 2 or not all(p.isdigit() for p in pairs):
        return False
    seen, cycles = [False] * n, 0
    for i in range(n):
        if not seen[i]:
            cycles += 1
            j = i
            while not seen[j]:
                seen[j] = True
                j = sorted(perm).index(perm[j])
    if len(pairs) // 2 != n - cycles:
        return False
    for k in range(0, len(pairs), 2):
        i, j = int(pairs[k]) - 1, int(pairs[k + 1]) - 1
        if not (0 <= i < n and 0 <= j < n) or i == j:
            return False
        perm[i], perm[j] = perm[j], perm[i]
    return perm == sorted(perm)


def alt_word_ladder(inst, answer):
    d = inst["data"]
    words = set(d["words"])
    seq = [w.lower() for w in answer.replace(",", " ").replace("->", " ").split()]
    if not seq or seq[0] != d["start"] or seq[-1] != d["end"] or any(w not in words for w in seq):
        return False
    if any(
        sum(x != y for x, y in zip(a, b)) != 1 or len(a) != len(b) for a, b in zip(seq, seq[1:])
    ):
        return False
    # BFS for the shortest length, neighbours found through wildcard patterns
    patterns = {}
    for w in words:
        for i in range(len(w)):
            patterns.setdefault(w[:i] + "*" + w[i + 1 :], []).append(w)
    dist = {d["start"]: 0}
    frontier = [d["start"]]
    while frontier:
        nxt = []
        for w in frontier:
            for i in range(len(w)):
                for u in patterns[w[:i] + "*" + w[i + 1 :]]:
                    if u not in dist:
                        dist[u] = dist[w] + 1
                        nxt.append(u)
        frontier = nxt
    return len(seq) - 1 == dist.get(d["end"])


def alt_robot_exact_path(inst, answer):
    d = inst["data"]
    grid = d["grid"]
    cells = []
    for tok in answer.split():
        m = re.fullmatch(r"\(?(\d+),(\d+)\)?", tok)
        if not m:
            return False
        cells.append((int(m.group(1)) - 1, int(m.group(2)) - 1))
    if (
        len(cells) != d["steps"] + 1
        or list(cells[0]) != d["start"]
        or list(cells[-1]) != d["target"]
    ):
        return False
    if len(set(cells)) != len(cells):
        return False
    for (a, b), (r, c) in zip(cells, cells[1:]):
        if abs(a - r) + abs(b - c) != 1:
            return False
        if not (0 <= r < len(grid) and 0 <= c < len(grid[0])) or grid[r][c] == "#":
            return False
    return True


def alt_sliding_puzzle(inst, answer):
    d = inst["data"]
    board = [row[:] for row in d["board"]]
    R, C = len(board), len(board[0])
    v = _ints(answer)
    if v is None or len(v) > d["max_moves"]:
        return False
    for t in v:
        br, bc = next((i, j) for i in range(R) for j in range(C) if board[i][j] == 0)
        found = [(i, j) for i in range(R) for j in range(C) if board[i][j] == t and t != 0]
        if not found or abs(found[0][0] - br) + abs(found[0][1] - bc) != 1:
            return False
        i, j = found[0]
        board[br][bc], board[i][j] = t, 0
    return board == d["goal"]


def alt_nim_winning_move(inst, answer):
    d = inst["data"]
    parts = [p.replace(" ", "") for p in answer.strip().split(",")]
    if len(parts) != len(d["labels"]):
        return False
    piles = []
    for label, part in zip(d["labels"], parts):
        m = re.fullmatch(r"([A-Za-z])=(\d+)", part)
        if not m or m.group(1).upper() != label:
            return False
        piles.append(int(m.group(2)))
    diff = [b - a for a, b in zip(piles, d["piles"])]
    limit = d["max_take"] or max(d["piles"])
    if sum(1 for x in diff if x) != 1 or not 1 <= sum(diff) <= limit:
        return False
    x = 0
    for s in piles:
        x ^= s % (limit + 1) if d["max_take"] else s
    return x == 0


def alt_river_crossing(inst, answer):
    d = inst["data"]
    items, cap = d["items"], d["capacity"]
    bad = [set(p) for p in d["conflicts"]]
    lines = [ln.strip() for ln in answer.strip().splitlines() if ln.strip()]
    if len(lines) > d["max_crossings"]:
        return False
    near, far, farmer_near = set(items), set(), True
    for ln in lines:
        carried = [] if ln.lower() == "alone" else [w.strip().lower() for w in ln.split(",")]
        if len(carried) > cap or len(set(carried)) != len(carried):
            return False
        here = near if farmer_near else far
        there = far if farmer_near else near
        if any(c not in here for c in carried):
            return False
        for c in carried:
            here.remove(c)
            there.add(c)
        farmer_near = not farmer_near
        left = near if not farmer_near else far
        if any(p <= left for p in bad):
            return False
    return not near and not farmer_near


def alt_linear_diophantine(inst, answer):
    d = inst["data"]
    v = _ints(answer)
    if v is None or len(v) != 2:
        return False
    x, y = v
    return (
        d["a"] * x + d["b"] * y == d["c"]
        and d["x_min"] <= x <= d["x_max"]
        and d["y_min"] <= y <= d["y_max"]
    )


ALT_CHECKERS = {
    name[len("alt_") :]: fn for name, fn in globals().items() if name.startswith("alt_")
}


# ---------------------------------------------------------------------------
# Probes
# ---------------------------------------------------------------------------


def mutations(ref: str, rng: random.Random) -> list[tuple[str, str]]:
    out = []
    digit_pos = [i for i, ch in enumerate(ref) if ch.isdigit()]
    for i in rng.sample(digit_pos, min(4, len(digit_pos))):
        new = rng.choice([d for d in "0123456789" if d != ref[i]])
        out.append((f"digit@{i}", ref[:i] + new + ref[i + 1 :]))
    alpha_pos = [i for i, ch in enumerate(ref) if ch.isascii() and ch.isalpha()]
    for i in rng.sample(alpha_pos, min(3, len(alpha_pos))):
        pool = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c != ref[i].upper()]
        new = rng.choice(pool)
        new = new if ref[i].isupper() else new.lower()
        out.append((f"letter@{i}", ref[:i] + new + ref[i + 1 :]))
    tokens = list(re.finditer(r"\S+", ref))
    content = [m for m in tokens if re.search(r"[0-9A-Za-z]", m.group())]
    if len(tokens) > 1 and content:
        m = rng.choice(content)
        out.append((f"drop_token@{m.start()}", (ref[: m.start()] + ref[m.end() :]).strip()))
    lines = [ln for ln in ref.splitlines() if ln.strip()]
    if len(lines) > 1:
        k = rng.randrange(len(lines))
        out.append((f"drop_line{k}", "\n".join(lines[:k] + lines[k + 1 :])))
    return [(n, s) for n, s in out if s.strip() != ref.strip()]


def as_reward(value):
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"verify returned {type(value).__name__}")


def digest_generation(path: Path) -> str:
    mod = load_module(path)
    h = hashlib.sha256()
    for d in (1, 5, 10):
        for seed in range(3):
            inst = mod.generate(random.Random(seed), d)
            h.update(json.dumps(inst, sort_keys=True).encode())
    return h.hexdigest()


# ---------------------------------------------------------------------------
# The check of one module
# ---------------------------------------------------------------------------


def check_env(path: Path) -> list[str]:
    fails: list[str] = []
    where = path.name

    def fail(msg):
        fails.append(f"{where}: {msg}")

    for e in static_checks(path):
        fail(e)
    try:
        mod = load_module(path)
    except Exception as exc:  # noqa: BLE001
        fail(f"import failed: {exc!r}")
        return fails
    for e in api_checks(path, mod):
        fail(e)
    if fails:
        return fails

    multi = getattr(mod, "MULTIPLE_SOLUTIONS", False)
    alt = ALT_CHECKERS.get(mod.NAME)
    solve = getattr(mod, "solve", None)

    def call_verify(inst, answer):
        before = json.dumps(inst, sort_keys=True)
        value = as_reward(mod.verify(inst, answer))
        if json.dumps(inst, sort_keys=True) != before:
            raise AssertionError("verify mutated the instance")
        if math.isnan(value) or value not in (0.0, 1.0):
            raise AssertionError(f"verify returned non-binary reward {value!r}")
        return value

    for d in DIFFICULTIES:
        instances = []
        gen_times = []
        for seed in range(SEEDS):
            ctx = f"difficulty={d} seed={seed}"
            try:
                t0 = time.perf_counter()
                out = mod.generate(random.Random(seed), d)
                gen_times.append(time.perf_counter() - t0)
                again = mod.generate(random.Random(seed), d)
            except Exception as exc:  # noqa: BLE001
                fail(f"{ctx}: generate raised {exc!r}")
                continue
            if not isinstance(out, dict) or set(out) != {"prompt", "data", "reference"}:
                fail(f"{ctx}: generate must return a dict with prompt, data, reference")
                continue
            try:
                text = json.dumps(out, sort_keys=True)
            except (TypeError, ValueError) as exc:
                fail(f"{ctx}: output is not JSON-serializable: {exc}")
                continue
            if text != json.dumps(again, sort_keys=True):
                fail(f"{ctx}: generate is not deterministic for a fixed seed")
            prompt, ref, data = out["prompt"], out["reference"], out["data"]
            if (
                not isinstance(prompt, str)
                or not isinstance(ref, str)
                or not isinstance(data, dict)
            ):
                fail(f"{ctx}: wrong field types")
                continue
            if json.loads(json.dumps(data)) != data:
                fail(f"{ctx}: data does not round-trip through JSON (tuples or non-string keys?)")
            paragraphs = [p for p in re.split(r"\n\s*\n", prompt.strip()) if p.strip()]
            if not paragraphs or not paragraphs[-1].startswith("Answer format:"):
                fail(f"{ctx}: prompt does not end with an 'Answer format:' paragraph")
            if "<answer>" in prompt.lower() or "</answer>" in prompt.lower():
                fail(f"{ctx}: prompt mentions the answer tags")
            if len(prompt) > MAX_PROMPT_CHARS:
                fail(f"{ctx}: prompt has {len(prompt)} characters")
            if len(ref.strip()) >= LEAK_MIN_LEN and ref.strip() in prompt:
                fail(f"{ctx}: prompt contains the reference answer verbatim")
            inst = {
                "prompt": prompt,
                "data": json.loads(json.dumps(data)),
                "difficulty": d,
                "seed": seed,
            }
            instances.append(inst | {"_ref": ref})

        if len(instances) != SEEDS:
            continue
        distinct = len({i["prompt"] for i in instances}) / SEEDS
        if distinct < MIN_DISTINCT:
            fail(f"difficulty={d}: only {distinct:.0%} distinct prompts over {SEEDS} seeds")
        if d == 10:
            gen_times.sort()
            med, p90 = gen_times[len(gen_times) // 2], gen_times[int(0.9 * (len(gen_times) - 1))]
            if med > GEN_BUDGET_S or p90 > 4 * GEN_BUDGET_S:
                fail(
                    f"difficulty=10: generate median {med*1e3:.1f} ms, 90th percentile "
                    f"{p90*1e3:.1f} ms (budget {GEN_BUDGET_S*1e3:.0f} ms)"
                )

        verify_times = []
        for k, full in enumerate(instances):
            inst = {key: v for key, v in full.items() if key != "_ref"}
            ref = full["_ref"]
            ctx = f"difficulty={d} seed={inst['seed']}"
            rng = random.Random(1000 * d + k)

            def expect(probe_name, answer, want=None):
                """want None: unique task -> 0; multi task -> agree with alt."""
                try:
                    got = call_verify(inst, answer)
                except Exception as exc:  # noqa: BLE001
                    fail(f"{ctx}: probe {probe_name}: verify raised {exc!r}")
                    return
                if want is None:
                    if multi:
                        try:
                            want = 1.0 if alt(inst, answer) else 0.0
                        except Exception:  # noqa: BLE001
                            want = 0.0
                    else:
                        want = 0.0
                if got != want:
                    fail(
                        f"{ctx}: probe {probe_name}: verify gave {got}, expected {want}; "
                        f"answer={answer[:160]!r}"
                    )

            try:
                timings = []
                for _ in range(3):  # best of three: the host may be busy
                    t0 = time.perf_counter()
                    ok = call_verify(inst, ref)
                    timings.append(time.perf_counter() - t0)
                verify_times.append(min(timings))
            except Exception as exc:  # noqa: BLE001
                fail(f"{ctx}: verify(reference) raised {exc!r}")
                continue
            if ok != 1.0:
                fail(f"{ctx}: verify(reference) = {ok}; reference={ref[:160]!r}")
                continue
            if multi and not alt(inst, ref):
                fail(f"{ctx}: the independent checker rejects the reference {ref[:160]!r}")
            expect("padded_reference", "  \n" + ref + " \n\n", 1.0)
            if solve is not None:
                try:
                    sol = solve(copy.deepcopy(inst))
                except Exception as exc:  # noqa: BLE001
                    fail(f"{ctx}: solve raised {exc!r}")
                    sol = None
                if sol is not None:
                    expect("solve", sol, 1.0)
            expect("empty", "", 0.0)
            expect("whitespace", " \n\t ", 0.0)
            expect("garbage", "garbage ###", 0.0)
            expect("garbage2", "zq#7 ¿? lorem 42 ]]", 0.0)
            expect("prompt_echo", inst["prompt"], 0.0)
            half = ref.strip()[: len(ref.strip()) // 2]
            expect("truncated_half", half)
            expect("reference_twice", ref + "\n" + ref, 0.0)
            for name, mutated in mutations(ref, rng):
                expect(f"mutation:{name}", mutated)
            others = [o["_ref"] for o in instances if o["_ref"].strip() != ref.strip()]
            for other in rng.sample(others, min(3, len(others))):
                expect("other_instance", other)
                expect("stuffing_ref_then_other", ref + "\n" + other, 0.0)
                expect("stuffing_other_then_ref", other + "\n" + ref, 0.0)

        if d == 10 and verify_times:
            verify_times.sort()
            med = verify_times[len(verify_times) // 2]
            p90 = verify_times[int(0.9 * (len(verify_times) - 1))]
            if med > VERIFY_BUDGET_S or p90 > 4 * VERIFY_BUDGET_S:
                fail(
                    f"difficulty=10: verify median {med*1e3:.2f} ms, "
                    f"90th percentile {p90*1e3:.2f} ms"
                )
            inst = {k: v for k, v in instances[0].items() if k != "_ref"}
            big_answer = ("1 2 A b # , . \n" * 8000)[:100_000]
            best = float("inf")
            for _ in range(3):  # best of three: the host may be busy
                t0 = time.perf_counter()
                try:
                    big = call_verify(inst, big_answer)
                except Exception as exc:  # noqa: BLE001
                    fail(f"difficulty=10: verify raised on a 100 KB answer: {exc!r}")
                    break
                best = min(best, time.perf_counter() - t0)
                if big != 0.0:
                    fail("difficulty=10: verify accepted a 100 KB garbage answer")
                    break
            if best != float("inf") and best > 0.005:
                fail(f"difficulty=10: verify took {best*1e3:.1f} ms on a 100 KB garbage answer")

    # determinism across processes (string hashing is randomized per process)
    expected = digest_generation(path)
    for hashseed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hashseed)
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]); import test_corpus as c; "
            "from pathlib import Path; print(c.digest_generation(Path(sys.argv[2])))"
        )
        res = subprocess.run(
            [sys.executable, "-c", code, str(Path(__file__).resolve().parent), str(path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        if res.returncode != 0 or res.stdout.strip() != expected:
            fail(
                f"generate output differs under PYTHONHASHSEED={hashseed} "
                f"(stderr: {res.stderr.strip()[-300:]})"
            )
    return fails


def check_corpus_level() -> list[str]:
    fails = []
    if len(ENV_FILES) < 30:
        fails.append(f"corpus: only {len(ENV_FILES)} environments (at least 30 required)")
    names, cats = {}, {}
    for p in ENV_FILES:
        try:
            mod = load_module(p)
        except Exception:  # noqa: BLE001
            continue
        names.setdefault(getattr(mod, "NAME", None), []).append(p.name)
        cats[getattr(mod, "CATEGORY", None)] = cats.get(getattr(mod, "CATEGORY", None), 0) + 1
    for name, files in names.items():
        if len(files) > 1:
            fails.append(f"corpus: NAME {name!r} is defined by {files}")
    for c in sorted(CATEGORIES):
        if cats.get(c, 0) < 5:
            fails.append(f"corpus: category {c} has only {cats.get(c, 0)} environments")
    readme = ENV_DIR / "README.md"
    if not readme.exists():
        fails.append("corpus: envs/python/README.md is missing")
    else:
        text = readme.read_text()
        for name in names:
            if name and f"`{name}`" not in text:
                fails.append(f"corpus: README.md does not list `{name}`")
    return fails


try:
    import pytest  # type: ignore
except ImportError:  # pragma: no cover - the script path is used instead
    pytest = None

if pytest is not None:

    @pytest.mark.parametrize("path", ENV_FILES, ids=[p.stem for p in ENV_FILES])
    def test_corpus(path):
        fails = check_env(path)
        assert not fails, "\n".join(fails)

    def test_corpus_level():
        fails = check_corpus_level()
        assert not fails, "\n".join(fails)


def main(argv: list[str]) -> int:
    selected = ENV_FILES
    if argv:
        wanted = {a.removesuffix(".py") for a in argv}
        selected = [p for p in ENV_FILES if p.stem in wanted]
        missing = wanted - {p.stem for p in selected}
        if missing:
            print(f"unknown environments: {sorted(missing)}")
            return 2
    all_fails = [] if argv else check_corpus_level()
    passed = failed = 0
    for path in selected:
        t0 = time.perf_counter()
        fails = check_env(path)
        status = "ok" if not fails else f"FAILED ({len(fails)})"
        print(f"{path.stem:34s} {status:12s} {time.perf_counter() - t0:6.1f} s", flush=True)
        for f in fails[:25]:
            print("    " + f)
        if len(fails) > 25:
            print(f"    ... and {len(fails) - 25} more")
        all_fails.extend(fails)
        passed += not fails
        failed += bool(fails)
    for f in all_fails:
        if f.startswith("corpus:"):
            print(f)
    print(f"test_corpus: {passed} passed, {failed} failed")
    return 1 if all_fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
