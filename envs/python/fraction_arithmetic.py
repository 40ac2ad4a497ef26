"""Exact arithmetic with fractions: evaluate an expression and reduce the result."""

import math
import random
import re
from fractions import Fraction

NAME = "fraction_arithmetic"
CATEGORY = "math"
DESCRIPTION = (
    "Evaluate an arithmetic expression over fractions exactly and give the result in lowest "
    "terms. Expressions are random trees evaluated with exact rational arithmetic, so the "
    "answer is unique; the verifier requires a reduced fraction with a positive denominator "
    "(an integer may be written without denominator). Difficulty raises the operands from 2 to "
    "7, the denominators from at most 6 to at most 30, and adds multiplication, division and "
    "nested parentheses from difficulty 3."
)
VERSION = 1

# (operands, largest denominator, operators)
_LEVELS = [
    (2, 6, "+-"),
    (3, 8, "+-"),
    (3, 10, "+-*"),
    (4, 12, "+-*"),
    (4, 12, "+-*/"),
    (5, 15, "+-*/"),
    (5, 20, "+-*/"),
    (6, 20, "+-*/"),
    (6, 25, "+-*/"),
    (7, 30, "+-*/"),
]
_MAX_ANSWER_CHARS = 100
_ANSWER = re.compile(r"([+-]?\d{1,30})(?:\s*/\s*(\d{1,30}))?")


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _leaf(rng, largest):
    q = rng.randint(2, largest)
    p = rng.randint(1, 2 * q)
    return ["num", p, q]


def _tree(rng, leaves, largest, ops):
    if leaves == 1:
        return _leaf(rng, largest)
    left = rng.randint(1, leaves - 1)
    return [
        rng.choice(ops),
        _tree(rng, left, largest, ops),
        _tree(rng, leaves - left, largest, ops),
    ]


def _value(node):
    if node[0] == "num":
        return Fraction(node[1], node[2])
    a, b = _value(node[1]), _value(node[2])
    if node[0] == "+":
        return a + b
    if node[0] == "-":
        return a - b
    if node[0] == "*":
        return a * b
    return a / b  # ZeroDivisionError is handled by the generator


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


def _render(node, parent_op=None, right_side=False):
    if node[0] == "num":
        text = f"{node[1]}/{node[2]}"
        return f"({text})" if parent_op in ("*", "/") else text
    op = node[0]
    symbol = {"*": "×", "/": "÷"}.get(op, op)
    text = f"{_render(node[1], op)} {symbol} {_render(node[2], op, True)}"
    if parent_op is not None:
        weaker = _PRECEDENCE[op] < _PRECEDENCE[parent_op]
        same_right = right_side and _PRECEDENCE[op] == _PRECEDENCE[parent_op]
        if weaker or same_right:
            text = f"({text})"
    return text


def _format(value):
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


def generate(rng: random.Random, difficulty: int) -> dict:
    leaves, largest, ops = _LEVELS[_level(difficulty)]
    while True:
        tree = _tree(rng, leaves, largest, ops)
        try:
            value = _value(tree)
        except ZeroDivisionError:
            continue
        if value.denominator <= 10**6 and abs(value.numerator) <= 10**7:
            break
    expression = _render(tree)
    prompt = (
        f"Compute the exact value of the following expression, where each a/b is a fraction, "
        f"× is multiplication and ÷ is division:\n\n{expression}\n\n"
        f"Answer format: the result as a fraction p/q in lowest terms with q > 0 (a negative "
        f"result has its minus sign on p), or as a plain integer if the result is a whole "
        f"number. Write nothing else."
    )
    data = {"expression": tree, "numerator": value.numerator, "denominator": value.denominator}
    return {"prompt": prompt, "data": data, "reference": _format(value)}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        m = _ANSWER.fullmatch(answer.strip())
        if not m:
            return 0.0
        p, q = int(m.group(1)), int(m.group(2)) if m.group(2) else 1
        if q == 0 or math.gcd(p, q) != 1:  # the fraction must be in lowest terms
            return 0.0
        expected = Fraction(instance["data"]["numerator"], instance["data"]["denominator"])
        return 1.0 if Fraction(p, q) == expected else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    return _format(_value(instance["data"]["expression"]))
