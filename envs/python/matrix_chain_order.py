"""Matrix chain ordering: parenthesize a product to minimise scalar multiplications."""

import random
import re

NAME = "matrix_chain_order"
CATEGORY = "algorithmic"
DESCRIPTION = (
    "Matrix chain multiplication: given the dimensions of a chain of matrices (named by random "
    "distinct letters), write a full parenthesization of the product whose evaluation needs the "
    "minimum number of scalar multiplications (multiplying p x q by q x r costs p*q*r). The "
    "verifier parses the expression, checks that it multiplies the chain in order with one "
    "multiplication per pair of parentheses, and compares its cost with the dynamic-programming "
    "optimum; any optimal parenthesization is accepted. Difficulty grows the chain from 4 to 10 "
    "matrices and the dimension range from 2..10 to 2..40."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

_LEVELS = [
    (4, 10),
    (4, 15),
    (5, 15),
    (5, 20),
    (6, 20),
    (6, 25),
    (7, 30),
    (8, 30),
    (9, 35),
    (10, 40),
]
_MAX_ANSWER_CHARS = 1000
_TOKEN = re.compile(r"\s*([A-Z]|\(|\)|\*)")
_LETTERS = "ABCDEFGHJKLMNPQRSTU"  # V..Z are reserved for the format example


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _optimal(dims):
    n = len(dims) - 1
    cost = [[0] * (n + 1) for _ in range(n + 1)]
    split = [[0] * (n + 1) for _ in range(n + 1)]
    for length in range(2, n + 1):
        for i in range(1, n - length + 2):
            j = i + length - 1
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i - 1] * dims[k] * dims[j]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return cost, split


def _render(split, i, j, names):
    if i == j:
        return names[i - 1]
    k = split[i][j]
    return f"({_render(split, i, k, names)} {_render(split, k + 1, j, names)})"


def generate(rng: random.Random, difficulty: int) -> dict:
    n, top = _LEVELS[_level(difficulty)]
    dims = [rng.randint(2, top) for _ in range(n + 1)]
    names = rng.sample(_LETTERS, n)
    cost, split = _optimal(dims)
    listing = "\n".join(f"{names[i - 1]}: {dims[i - 1]} x {dims[i]}" for i in range(1, n + 1))
    example = "((V W) ((X Y) Z))" if n != 5 else "(W ((X Y) Z))"
    example_n = 5 if n != 5 else 4
    prompt = (
        f"The matrix product {' '.join(names)} has to be computed, in this order. The matrices "
        f"have these dimensions (rows x columns):\n{listing}\n\n"
        f"Multiplying a p x q matrix by a q x r matrix costs p*q*r scalar multiplications. "
        f"Choose the order of the multiplications (the parenthesization) so that the total "
        f"cost is as small as possible. The matrices must stay in their original order.\n\n"
        f"Answer format: the fully parenthesized product on one line, with every "
        f"multiplication of two factors enclosed in its own pair of parentheses and each "
        f"matrix written as its letter (for example, one way to write a product of "
        f"{example_n} matrices V, W, X, Y, Z is {example}). Write nothing else."
    )
    data = {"names": names, "dims": dims, "optimum": cost[1][n]}
    return {"prompt": prompt, "data": data, "reference": _render(split, 1, n, names)}


def _tokenize(text):
    """Tokens A<k>, '(' and ')' ('*' between factors is ignored); None on anything else."""
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            return None
        if m.group(1) != "*":
            tokens.append(m.group(1))
        pos = m.end()
    return tokens


def _cost(tokens, dims, names):
    """Cost of the expression, or None if it is not a valid product of the chain in order."""
    n = len(dims) - 1
    pos = 0

    def factor():
        nonlocal pos
        if pos >= len(tokens):
            return None
        token = tokens[pos]
        if token in names:
            pos += 1
            k = names.index(token) + 1
            return (k, k, 0)
        if token != "(":
            return None
        pos += 1
        left = factor()
        right = factor() if left else None
        if right is None or pos >= len(tokens) or tokens[pos] != ")":
            return None
        pos += 1
        return combine(left, right)

    def combine(left, right):
        if right[0] != left[1] + 1:
            return None
        extra = dims[left[0] - 1] * dims[left[1]] * dims[right[1]]
        return (left[0], right[1], left[2] + right[2] + extra)

    parts = []
    while pos < len(tokens) and len(parts) < 3:
        part = factor()
        if part is None:
            return None
        parts.append(part)
    if pos != len(tokens):
        return None
    if len(parts) == 2:  # tolerate omitted outermost parentheses
        parts = [combine(*parts)]
    if len(parts) != 1 or parts[0] is None or parts[0][:2] != (1, n):
        return None
    return parts[0][2]


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        dims, names = instance["data"]["dims"], instance["data"]["names"]
        tokens = _tokenize(answer.upper())
        if not tokens:
            return 0.0
        cost = _cost(tokens, dims, names)
        return 1.0 if cost is not None and cost == instance["data"]["optimum"] else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    dims = instance["data"]["dims"]
    _, split = _optimal(dims)
    return _render(split, 1, len(dims) - 1, instance["data"]["names"])
