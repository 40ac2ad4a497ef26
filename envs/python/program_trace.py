"""Trace a small Python program by hand and report the final values of its variables."""

import random
import re

NAME = "program_trace"
CATEGORY = "algorithmic"
DESCRIPTION = (
    "Execute a short, randomly generated straight-line Python program with integer variables, "
    "arithmetic (+, -, *, //, %), tuple swaps, if/else and counted for-loops, and report the "
    "final value of every variable. The generator runs its own interpreter (Python semantics: "
    "// and % round toward negative infinity) and rejects programs whose values grow beyond "
    "10^5, so the answer is unique. Difficulty raises the variables from 2 to 5, the statements "
    "from 3 to 16 and the nesting depth of ifs and loops from 0 to 3."
)
VERSION = 1

# (variables, statements, max nesting depth, max loop count)
_LEVELS = [
    (2, 3, 0, 0),
    (2, 4, 0, 0),
    (3, 5, 1, 0),
    (3, 6, 1, 3),
    (3, 7, 1, 3),
    (4, 8, 2, 3),
    (4, 10, 2, 4),
    (4, 12, 2, 4),
    (5, 14, 3, 4),
    (5, 16, 3, 5),
]
_VALUE_LIMIT = 10**5
_STEP_LIMIT = 5000
_RELATIONS = ["<", ">", "<=", ">=", "==", "!="]
_MAX_ANSWER_CHARS = 500


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


# Program representation (JSON-friendly nested lists):
#   ["assign", x, [op, a, b]]  x = a op b, op in + - * // %, a/b variable names or ints
#   ["swap", x, y]             x, y = y, x
#   ["if", [a, rel, b], body, else_body]
#   ["for", k, body]           for _ in range(k): body


def _operand(rng, names, allow_const=True):
    if allow_const and rng.random() < 0.35:
        return rng.randint(1, 9)
    return rng.choice(names)


def _statement(rng, names, depth, max_loop, budget):
    roll = rng.random()
    if depth > 0 and budget >= 3 and roll < 0.15:
        left = rng.choice(names)
        others = [x for x in names if x != left]
        cond = [left, rng.choice(_RELATIONS), _operand(rng, others)]
        inner = rng.randint(1, min(3, budget - 1))
        body = _block(rng, names, depth - 1, max_loop, inner)
        rest = budget - 1 - inner
        other = (
            _block(rng, names, depth - 1, max_loop, min(rest, rng.randint(0, 2))) if rest else []
        )
        return ["if", cond, body, other]
    if depth > 0 and max_loop and budget >= 2 and roll < 0.3:
        inner = rng.randint(1, min(3, budget - 1))
        return ["for", rng.randint(2, max_loop), _block(rng, names, depth - 1, max_loop, inner)]
    if 0.3 <= roll < 0.4 and len(names) > 1:
        x, y = rng.sample(names, 2)
        return ["swap", x, y]
    target = rng.choice(names)
    source = target if rng.random() < 0.5 else rng.choice(names)  # x = x + ... accumulates
    op = rng.choice(["+", "+", "-", "-", "*", "//", "%"])
    if op in ("//", "%"):
        return ["assign", target, [op, source, rng.randint(2, 9)]]
    if op == "*":
        return ["assign", target, [op, source, rng.randint(2, 4)]]
    return ["assign", target, [op, source, _operand(rng, names)]]


def _size(stmt):
    if stmt[0] == "if":
        return 1 + sum(map(_size, stmt[2])) + sum(map(_size, stmt[3]))
    if stmt[0] == "for":
        return 1 + sum(map(_size, stmt[2]))
    return 1


def _block(rng, names, depth, max_loop, budget):
    out = []
    while budget > 0:
        stmt = _statement(rng, names, depth, max_loop, budget)
        out.append(stmt)
        budget -= _size(stmt)
    return out


def _render(block, indent=0):
    pad = "    " * indent
    lines = []
    for stmt in block:
        if stmt[0] == "assign":
            op, a, b = stmt[2]
            lines.append(f"{pad}{stmt[1]} = {a} {op} {b}")
        elif stmt[0] == "swap":
            lines.append(f"{pad}{stmt[1]}, {stmt[2]} = {stmt[2]}, {stmt[1]}")
        elif stmt[0] == "if":
            a, rel, b = stmt[1]
            lines.append(f"{pad}if {a} {rel} {b}:")
            lines += _render(stmt[2], indent + 1)
            if stmt[3]:
                lines.append(f"{pad}else:")
                lines += _render(stmt[3], indent + 1)
        else:
            lines.append(f"{pad}for _ in range({stmt[1]}):")
            lines += _render(stmt[2], indent + 1)
    return lines


def _run(block, env, steps):
    """Execute in place; returns False when a value or the step count leaves the limits."""

    def value(x):
        return env[x] if isinstance(x, str) else x

    for stmt in block:
        steps[0] += 1
        if steps[0] > _STEP_LIMIT:
            return False
        kind = stmt[0]
        if kind == "assign":
            op, a, b = stmt[2]
            a, b = value(a), value(b)
            if op == "+":
                result = a + b
            elif op == "-":
                result = a - b
            elif op == "*":
                result = a * b
            elif op == "//":
                result = a // b
            else:
                result = a % b
            if abs(result) > _VALUE_LIMIT:
                return False
            env[stmt[1]] = result
        elif kind == "swap":
            env[stmt[1]], env[stmt[2]] = env[stmt[2]], env[stmt[1]]
        elif kind == "if":
            a, rel, b = stmt[1]
            a, b = value(a), value(b)
            holds = {
                "<": a < b,
                ">": a > b,
                "<=": a <= b,
                ">=": a >= b,
                "==": a == b,
                "!=": a != b,
            }[rel]
            if not _run(stmt[2] if holds else stmt[3], env, steps):
                return False
        else:
            for _ in range(stmt[1]):
                if not _run(stmt[2], env, steps):
                    return False
    return True


def _format(names, env):
    return ", ".join(f"{x}={env[x]}" for x in names)


def generate(rng: random.Random, difficulty: int) -> dict:
    count, statements, depth, max_loop = _LEVELS[_level(difficulty)]
    names = sorted(rng.sample("abcdefghkmnpqrstuvwxyz", count))
    while True:
        init = {x: rng.randint(-5, 20) for x in names}
        program = _block(rng, names, depth, max_loop, statements)
        env = dict(init)
        if _run(program, env, [0]) and env != init:
            break
    source = "\n".join([f"{x} = {init[x]}" for x in names] + _render(program))
    prompt = (
        f"Run the following Python program in your head. All variables hold integers; as in "
        f"Python, // is floor division and % gives a result with the sign of the divisor "
        f"(for example -7 // 2 == -4 and -7 % 3 == 2).\n\n"
        f"{source}\n\n"
        f"What is the value of each variable after the program finishes?\n\n"
        f"Answer format: every variable as name=value, in alphabetical order, separated by "
        f"commas, on one line (for variables x and y: x=<value>, y=<value>). Write nothing else."
    )
    data = {"names": names, "init": init, "program": program, "final": env}
    return {"prompt": prompt, "data": data, "reference": _format(names, env)}


_PAIR = re.compile(r"\s*([a-z])\s*=\s*(-?\d{1,7})\s*")


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        final = instance["data"]["final"]
        pieces = re.split(r"[,;\n]", answer.strip())
        got = {}
        for piece in pieces:
            m = _PAIR.fullmatch(piece)
            if not m or m.group(1) in got:
                return 0.0
            got[m.group(1)] = int(m.group(2))
        return 1.0 if got == final else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    data = instance["data"]
    env = dict(data["init"])
    _run(data["program"], env, [0])
    return _format(data["names"], env)
