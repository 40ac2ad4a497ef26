"""Area covered by a union of overlapping axis-aligned rectangles."""

import random

NAME = "rectangle_union_area"
CATEGORY = "spatial"
DESCRIPTION = (
    "Compute the total area covered by several overlapping axis-aligned rectangles on the "
    "plane (overlaps counted once). The answer is computed exactly by coordinate compression. "
    "Rectangles are drawn around shared centres so that overlaps, nested rectangles and "
    "multi-way intersections are frequent. Difficulty raises the number of rectangles from 2 "
    "to 9 and the coordinate range from 0..10 to 0..60."
)
VERSION = 1

_LEVELS = [(2, 10), (3, 12), (3, 16), (4, 20), (5, 25), (5, 30), (6, 36), (7, 42), (8, 50), (9, 60)]
_MAX_ANSWER_CHARS = 100


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _union_area(rects):
    xs = sorted({x for r in rects for x in (r[0], r[2])})
    ys = sorted({y for r in rects for y in (r[1], r[3])})
    area = 0
    for i in range(len(xs) - 1):
        for j in range(len(ys) - 1):
            x, y = xs[i], ys[j]
            if any(r[0] <= x < r[2] and r[1] <= y < r[3] for r in rects):
                area += (xs[i + 1] - x) * (ys[j + 1] - y)
    return area


def generate(rng: random.Random, difficulty: int) -> dict:
    count, top = _LEVELS[_level(difficulty)]
    centres = [
        (rng.randint(top // 4, 3 * top // 4), rng.randint(top // 4, 3 * top // 4))
        for _ in range(max(1, count // 3))
    ]
    rects = []
    while len(rects) < count:
        cx, cy = rng.choice(centres)
        w = rng.randint(2, max(2, top // 2))
        h = rng.randint(2, max(2, top // 2))
        x1 = min(max(0, cx - rng.randint(1, w - 1)), top - w)
        y1 = min(max(0, cy - rng.randint(1, h - 1)), top - h)
        rect = [x1, y1, x1 + w, y1 + h]
        if rect not in rects:
            rects.append(rect)
    area = _union_area(rects)
    listing = "\n".join(
        f"R{k + 1}: from ({a}, {b}) to ({c}, {d})" for k, (a, b, c, d) in enumerate(rects)
    )
    prompt = (
        f"Each of the following {count} rectangles has its sides parallel to the axes and is "
        f"given by two opposite corners (x1, y1) and (x2, y2), with x1 < x2 and y1 < y2:\n\n"
        f"{listing}\n\n"
        f"What is the total area of the region covered by at least one rectangle? Parts "
        f"where rectangles overlap are counted only once.\n\n"
        f"Answer format: a single integer. Write nothing else."
    )
    data = {"rects": rects, "area": area}
    return {"prompt": prompt, "data": data, "reference": str(area)}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        text = answer.strip()
        if not text.isdigit():
            return 0.0
        return 1.0 if int(text) == instance["data"]["area"] else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    return str(_union_area(instance["data"]["rects"]))
