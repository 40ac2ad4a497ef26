"""Fold a cube from a net, roll it around, and report which faces end up where."""

import random

NAME = "cube_net_rolling"
CATEGORY = "spatial"
DESCRIPTION = (
    "Mental folding and rotation: a cube net of six lettered squares is folded up around a "
    "chosen base square (which stays on the table, north at the top of the drawing), then the "
    "cube is tipped over its bottom edges in a sequence of compass directions; report the "
    "letters on the top, north and east faces. The net is a random valid hexomino net checked "
    "by rolling a cube over it, and the answer is computed by simulating the rolls, so it is "
    "unique. Difficulty raises the number of rolls from 1 to 12 and, from difficulty 4, picks "
    "the base square at random instead of the most central one."
)
VERSION = 1

_ROLLS = [1, 2, 3, 4, 5, 6, 8, 9, 11, 12]
_MOVES = {"north": (-1, 0), "south": (1, 0), "east": (0, 1), "west": (0, -1)}
_OPPOSITE = {"north": "south", "south": "north", "east": "west", "west": "east"}
_MAX_ANSWER_CHARS = 100


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _roll(orient, direction):
    """Tip the cube over its bottom edge on the given side. orient maps position -> face."""
    o = dict(orient)
    if direction == "north":
        o["D"], o["N"], o["U"], o["S"] = orient["N"], orient["U"], orient["S"], orient["D"]
    elif direction == "south":
        o["D"], o["S"], o["U"], o["N"] = orient["S"], orient["U"], orient["N"], orient["D"]
    elif direction == "east":
        o["D"], o["E"], o["U"], o["W"] = orient["E"], orient["U"], orient["W"], orient["D"]
    else:
        o["D"], o["W"], o["U"], o["E"] = orient["W"], orient["U"], orient["E"], orient["D"]
    return o


def _fold(cells, base):
    """Roll a cube over the net from `base`; returns {cell: face id} or None if not a net."""
    cell_set = {tuple(c) for c in cells}
    stamp = {}

    def visit(cell, orient):
        stamp[cell] = orient["D"]
        for name in sorted(_MOVES):
            dr, dc = _MOVES[name]
            nxt = (cell[0] + dr, cell[1] + dc)
            if nxt in cell_set and nxt not in stamp:
                visit(nxt, _roll(orient, name))

    visit(tuple(base), {"U": 0, "D": 1, "N": 2, "S": 3, "E": 4, "W": 5})
    if len(set(stamp.values())) != 6:
        return None
    return stamp


def _random_net(rng):
    while True:
        cells = {(0, 0)}
        while len(cells) < 6:
            frontier = sorted(
                {(r + dr, c + dc) for r, c in cells for dr, dc in _MOVES.values()} - cells
            )
            cells.add(rng.choice(frontier))
        top = min(r for r, _ in cells)
        left = min(c for _, c in cells)
        cells = sorted((r - top, c - left) for r, c in cells)
        if _fold(cells, cells[0]) is not None:
            return cells


def _answer(data):
    cells = [tuple(c) for c in data["cells"]]
    stamp = _fold(cells, data["base"])
    label = {stamp[cell]: data["letters"][k] for k, cell in enumerate(cells)}
    orient = {"U": 0, "D": 1, "N": 2, "S": 3, "E": 4, "W": 5}
    for direction in data["rolls"]:
        orient = _roll(orient, direction)
    return [label[orient[p]] for p in ("U", "N", "E")]


def generate(rng: random.Random, difficulty: int) -> dict:
    level = _level(difficulty)
    cells = _random_net(rng)
    letters = rng.sample("ABCDEFGHJKLMNPQRSTUVWXYZ", 6)
    if level < 3:
        degree = [sum((r + dr, c + dc) in cells for dr, dc in _MOVES.values()) for r, c in cells]
        base_index = rng.choice([k for k in range(6) if degree[k] == max(degree)])
    else:
        base_index = rng.randrange(6)
    rolls = [rng.choice(sorted(_MOVES)) for _ in range(_ROLLS[level])]
    data = {
        "cells": [list(c) for c in cells],
        "letters": letters,
        "base": list(cells[base_index]),
        "rolls": rolls,
    }

    height = max(r for r, _ in cells) + 1
    width = max(c for _, c in cells) + 1
    drawing = [["."] * width for _ in range(height)]
    for k, (r, c) in enumerate(cells):
        drawing[r][c] = letters[k]
    net = "\n".join(" ".join(row) for row in drawing)
    base_letter = letters[base_index]
    prompt = (
        f"The drawing below is a net of a cube made of six squares labelled with letters "
        f"('.' is empty space). It lies flat on a table, with north at the top of the drawing "
        f"and east to the right.\n\n{net}\n\n"
        f"Square {base_letter} stays flat on the table, and all other squares are folded up "
        f"along their shared edges to form a closed cube resting on {base_letter}. Each square "
        f"becomes the face of the cube in the position it ends up in; for example, a square "
        f"directly north of {base_letter} in the drawing becomes the north face.\n\n"
        f"Then the cube is rolled {len(rolls)} time{'s' if len(rolls) > 1 else ''}, in this "
        f"order: {', '.join(rolls)}. Rolling in a direction means tipping the cube over its "
        f"bottom edge on that side, so the face on that side becomes the bottom face (rolling "
        f"north: the north face goes to the bottom and the top face goes to the north).\n\n"
        f"Which letters are on the top face, the north face and the east face at the end?\n\n"
        f"Answer format: three letters separated by spaces, in the order top, north, east. "
        f"Write nothing else."
    )
    return {"prompt": prompt, "data": data, "reference": " ".join(_answer(data))}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        tokens = answer.replace(",", " ").upper().split()
        return 1.0 if tokens == _answer(instance["data"]) else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    return " ".join(_answer(instance["data"]))
