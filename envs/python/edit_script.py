"""Minimum edit script: transform one string into another with the fewest edits."""

import random

NAME = "edit_script"
CATEGORY = "algorithmic"
DESCRIPTION = (
    "Write a shortest edit script (insertions, deletions, substitutions of single characters, "
    "applied one after another with 1-based positions) that turns a source string into a "
    "target string. The verifier replays the script and requires the target to come out with "
    "exactly the Levenshtein distance number of operations; any optimal script is accepted. "
    "The target is a random mutation of the source. Difficulty grows the source from 4 to 18 "
    "characters and the number of planted mutations from 1 to 9."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

_LEVELS = [(4, 1), (5, 2), (6, 2), (8, 3), (9, 4), (11, 5), (12, 6), (14, 7), (16, 8), (18, 9)]
_LETTERS = "abcdefghijklmnopqrstuvwxy"  # z is reserved for the format example
_MAX_ANSWER_CHARS = 2000


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _table(a, b):
    dist = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        dist[i][0] = i
    for j in range(len(b) + 1):
        dist[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            dist[i][j] = min(
                dist[i - 1][j] + 1,
                dist[i][j - 1] + 1,
                dist[i - 1][j - 1] + (a[i - 1] != b[j - 1]),
            )
    return dist


def _script(a, b):
    """An optimal script. Edits are emitted right to left so earlier positions stay valid."""
    dist = _table(a, b)
    ops, i, j = [], len(a), len(b)
    while i or j:
        if i and j and a[i - 1] == b[j - 1] and dist[i][j] == dist[i - 1][j - 1]:
            i, j = i - 1, j - 1
        elif i and j and dist[i][j] == dist[i - 1][j - 1] + 1:
            ops.append(f"SUB {i} {b[j - 1]}")
            i, j = i - 1, j - 1
        elif i and dist[i][j] == dist[i - 1][j] + 1:
            ops.append(f"DEL {i}")
            i -= 1
        else:
            ops.append(f"INS {i + 1} {b[j - 1]}")
            j -= 1
    return ops


def generate(rng: random.Random, difficulty: int) -> dict:
    length, mutations = _LEVELS[_level(difficulty)]
    alphabet = rng.sample(_LETTERS, 6)  # a fresh six-letter alphabet per instance
    source = "".join(rng.choice(alphabet) for _ in range(length))
    while True:
        target = list(source)
        for _ in range(mutations):
            kind = rng.choice(("ins", "del", "sub")) if target else "ins"
            if kind == "ins":
                target.insert(rng.randint(0, len(target)), rng.choice(alphabet))
            elif kind == "del":
                del target[rng.randrange(len(target))]
            else:
                target[rng.randrange(len(target))] = rng.choice(alphabet)
        target = "".join(target)
        if target != source and target:
            break
    distance = _table(source, target)[-1][-1]
    prompt = (
        f"Transform the source string into the target string using as few single-character "
        f"edits as possible.\n\n"
        f"Source: {source}\nTarget: {target}\n\n"
        f"The edits are applied one after another, each to the string produced by the previous "
        f"ones; positions are 1-based and refer to the current string:\n"
        f"- INS p c: insert character c so that it becomes the character at position p "
        f"(p may be one more than the current length, to append);\n"
        f"- DEL p: delete the character at position p;\n"
        f"- SUB p c: replace the character at position p by c.\n\n"
        f"Answer format: one edit per line, in the order they are applied, written exactly as "
        f"above (for example: INS 2 z). Use the minimum possible number of edits. Write nothing "
        f"else."
    )
    data = {"source": source, "target": target, "distance": distance}
    return {"prompt": prompt, "data": data, "reference": "\n".join(_script(source, target))}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        data = instance["data"]
        lines = [line.split() for line in answer.strip().splitlines() if line.strip()]
        if len(lines) != data["distance"]:
            return 0.0
        current = list(data["source"])
        for parts in lines:
            op = parts[0].upper()
            if len(parts) < 2 or not parts[1].isdigit():
                return 0.0
            pos = int(parts[1])
            if op == "DEL" and len(parts) == 2 and 1 <= pos <= len(current):
                del current[pos - 1]
            elif (
                op == "SUB" and len(parts) == 3 and len(parts[2]) == 1 and 1 <= pos <= len(current)
            ):
                current[pos - 1] = parts[2]
            elif (
                op == "INS"
                and len(parts) == 3
                and len(parts[2]) == 1
                and 1 <= pos <= len(current) + 1
            ):
                current.insert(pos - 1, parts[2])
            else:
                return 0.0
        return 1.0 if "".join(current) == data["target"] else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    return "\n".join(_script(instance["data"]["source"], instance["data"]["target"]))
