#!/usr/bin/env python3
"""The bundled seed corpus in envs/python.

Whether a module is *valid* is resyn's one definition, the checks the synthesis pipeline
applies to LLM-written modules (crates/resyn-core/src/conformance.rs and the source checks of
crates/resyn-synth/src/validate): this file runs ``resyn validate --env-dir envs/python
--json`` and requires every module to be accepted. Beyond validity it holds what only a
hand-maintained corpus offers:

* corpus conventions: NAME equals the file stem; DESCRIPTION is a paragraph that explains how
  difficulty scales; every module has ``solve``; the prompt ends with an "Answer format:"
  paragraph and never mentions the answer tags (resyn appends its own instruction); at least
  30 modules, at least 5 per category, all listed in envs/python/README.md;
* independent cross-verification of the modules that declare ``MULTIPLE_SOLUTIONS = True``:
  a checker per module, written in this file from the task statement alone and sharing no code
  with it, must agree with ``verify`` on the reference, on ``solve``'s answer, and on wrong
  answers (one-character and one-token mutations, other instances' answers) for SEEDS seeds at
  every difficulty.

The modules are hand-written and trusted, so the conventions and the cross-verification import
them in this process. Usable as a script (exit status 1 on any failure) and as a pytest module.
The `resyn` binary is RESYN_BIN, else target/debug/resyn (`cargo build -p resyn-cli`).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import os
import random
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV_DIR = ROOT / "envs" / "python"
ENV_FILES = sorted(p for p in ENV_DIR.glob("*.py") if not p.name.startswith("_"))

CATEGORIES = {"constraint_satisfaction", "algorithmic", "spatial", "logic", "math"}
SEEDS = int(os.environ.get("CORPUS_SEEDS", "20"))
DIFFICULTIES = range(1, 11)


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location(f"corpus_env_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def resyn_bin() -> Path:
    for candidate in (os.environ.get("RESYN_BIN"), ROOT / "target" / "debug" / "resyn"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise FileNotFoundError(
        "resyn binary not found: run `cargo build -p resyn-cli` or set RESYN_BIN"
    )


# ---------------------------------------------------------------------------
# Validity: resyn's one definition
# ---------------------------------------------------------------------------


def validate_corpus() -> dict[str, dict]:
    """`resyn validate --json` over the corpus: its record per file name."""
    out = subprocess.run(
        [str(resyn_bin()), "validate", "--env-dir", str(ENV_DIR), "--json"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if out.returncode not in (0, 1):
        raise RuntimeError(f"resyn validate failed to run:\n{out.stderr}")
    records = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    return {r["file"]: r for r in records}


def validity_failure(record: dict | None) -> str | None:
    if record is None:
        return "resyn validate did not report on this file"
    if record["accepted"]:
        return None
    return f"rejected at {record['check']} ({record['reason']}): {record['detail']}"


# ---------------------------------------------------------------------------
# Corpus conventions
# ---------------------------------------------------------------------------


def convention_failures(path: Path, mod) -> list[str]:
    errors = []
    name = getattr(mod, "NAME", None)
    if name != path.stem:
        errors.append(f"NAME {name!r} differs from the file name {path.stem!r}")
    desc = getattr(mod, "DESCRIPTION", "")
    if not isinstance(desc, str) or len(desc) < 80 or "difficulty" not in desc.lower():
        errors.append("DESCRIPTION must be a paragraph that explains how difficulty scales")
    if not callable(getattr(mod, "solve", None)):
        errors.append("the corpus gives every module a solve()")
    multi = getattr(mod, "MULTIPLE_SOLUTIONS", False)
    if multi and name not in ALT_CHECKERS:
        errors.append("MULTIPLE_SOLUTIONS is set but this file has no independent checker for it")
    for d in (1, 5, 10):
        prompt = mod.generate(random.Random(d), d)["prompt"]
        paragraphs = [p for p in re.split(r"\n\s*\n", prompt.strip()) if p.strip()]
        if not paragraphs or not paragraphs[-1].startswith("Answer format:"):
            errors.append(
                f"difficulty={d}: the prompt does not end with an 'Answer format:' paragraph"
            )
        if "<answer>" in prompt.lower() or "</answer>" in prompt.lower():
            errors.append(f"difficulty={d}: the prompt mentions the answer tags")
    return errors


def corpus_failures() -> list[str]:
    fails = []
    if len(ENV_FILES) < 30:
        fails.append(f"corpus: only {len(ENV_FILES)} environments (at least 30 required)")
    cats: dict[str, int] = {}
    names = []
    for p in ENV_FILES:
        mod = load_module(p)
        names.append(mod.NAME)
        cats[mod.CATEGORY] = cats.get(mod.CATEGORY, 0) + 1
    for c in sorted(CATEGORIES):
        if cats.get(c, 0) < 5:
            fails.append(f"corpus: category {c} has only {cats.get(c, 0)} environments")
    readme = (ENV_DIR / "README.md").read_text()
    for name in names:
        if f"`{name}`" not in readme:
            fails.append(f"corpus: README.md does not list `{name}`")
    return fails


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
        left, right = items
        cost = left[2] + right[2] + dims[left[0] - 1] * dims[left[1]] * dims[right[1]]
        items = [(left[0], right[1], cost)]
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


def as_reward(value) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    raise TypeError(f"verify returned {type(value).__name__}")


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


def cross_verification_failures(mod) -> list[str]:
    """verify() and the independent checker agree on every answer tried."""
    alt = ALT_CHECKERS[mod.NAME]
    fails = []
    for d in DIFFICULTIES:
        instances = []
        for seed in range(SEEDS):
            out = mod.generate(random.Random(seed), d)
            inst = {"prompt": out["prompt"], "data": json.loads(json.dumps(out["data"])),
                    "difficulty": d, "seed": seed}
            instances.append((inst, out["reference"]))
        for k, (inst, ref) in enumerate(instances):
            rng = random.Random(1000 * d + k)
            answers = [("reference", ref)]
            sol = mod.solve(copy.deepcopy(inst))
            answers.append(("solve", sol))
            answers += [(f"mutation:{n}", a) for n, a in mutations(ref, rng)]
            others = [r for _, r in instances if r.strip() != ref.strip()]
            answers += [("other_instance", o) for o in rng.sample(others, min(3, len(others)))]
            for name, answer in answers:
                got = as_reward(mod.verify(copy.deepcopy(inst), answer))
                if name in ("reference", "solve"):
                    want = 1.0 if alt(inst, answer) else 0.0  # a checker error here is a bug
                else:
                    try:
                        want = 1.0 if alt(inst, answer) else 0.0
                    except Exception:  # noqa: BLE001 - a wrong answer may defeat its parser
                        want = 0.0
                if name in ("reference", "solve") and want != 1.0:
                    fails.append(f"difficulty={d} seed={inst['seed']}: the independent checker "
                                 f"rejects the {name} answer {answer[:160]!r}")
                elif got != want:
                    fails.append(f"difficulty={d} seed={inst['seed']}: {name}: verify gave {got}, "
                                 f"the independent checker {want}; answer={answer[:160]!r}")
    return fails


def check_env(path: Path, record: dict | None) -> list[str]:
    fails = []
    failure = validity_failure(record)
    if failure:
        fails.append(failure)
    mod = load_module(path)
    fails += convention_failures(path, mod)
    if getattr(mod, "MULTIPLE_SOLUTIONS", False) and mod.NAME in ALT_CHECKERS:
        fails += cross_verification_failures(mod)
    return [f"{path.name}: {f}" for f in fails]


try:
    import pytest  # type: ignore
except ImportError:  # pragma: no cover - the script path is used instead
    pytest = None

if pytest is not None:

    @pytest.fixture(scope="module")
    def validity():
        return validate_corpus()

    @pytest.mark.parametrize("path", ENV_FILES, ids=[p.stem for p in ENV_FILES])
    def test_corpus(path, validity):
        fails = check_env(path, validity.get(path.name))
        assert not fails, "\n".join(fails)

    def test_corpus_level():
        fails = corpus_failures()
        assert not fails, "\n".join(fails)


def main(argv: list[str]) -> int:
    selected = [p for p in ENV_FILES if not argv or p.stem in {a.removesuffix(".py") for a in argv}]
    records = validate_corpus()
    all_fails = [] if argv else corpus_failures()
    for path in selected:
        fails = check_env(path, records.get(path.name))
        print(f"{path.stem:34s} {'ok' if not fails else f'FAILED ({len(fails)})'}", flush=True)
        for f in fails[:25]:
            print("    " + f)
        all_fails += fails
    print(f"test_corpus: {len(all_fails)} failures")
    return 1 if all_fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
