"""Cryptarithm: recover the digit hidden behind each letter of a column addition."""

import random
import re

NAME = "cryptarithm"
CATEGORY = "math"
DESCRIPTION = (
    "Alphametic addition (like SEND + MORE = MONEY): each letter stands for a different digit, "
    "leading letters are not zero, and the sum must hold; find every letter's digit. Puzzles "
    "are encodings of random additions; a column-wise solver counts solutions and letter values "
    "are revealed as hints until exactly one assignment remains (puzzles with 9 or 10 letters "
    "start with one or two hints), so the answer is unique. "
    "Difficulty raises the addends from two 2-digit numbers to three 6-digit numbers, which "
    "also raises the number of distinct letters."
)
VERSION = 1

# (addends, shortest addend, longest addend)
_LEVELS = [
    (2, 2, 2),
    (2, 2, 3),
    (2, 3, 3),
    (2, 3, 4),
    (2, 4, 4),
    (2, 4, 5),
    (3, 3, 4),
    (3, 4, 5),
    (3, 5, 5),
    (3, 5, 6),
]
_LETTERS = "ABCDEFGHJKLMNPRSTUWXY"
_MAX_ANSWER_CHARS = 300


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _solutions(words, result, fixed, limit):
    """Up to `limit` assignments {letter: digit} solving the puzzle, extending `fixed`."""
    width = len(result)
    leading = {w[0] for w in words + [result] if len(w) > 1}
    columns = []
    for col in range(width):
        addend_letters = [w[-1 - col] for w in words if len(w) > col]
        columns.append((addend_letters, result[-1 - col]))
    assignment = dict(fixed)
    used = set(fixed.values())
    found = []

    def assign_addends(col, k, carry):
        if len(found) >= limit:
            return
        letters, target = columns[col]
        if k < len(letters):
            letter = letters[k]
            if letter in assignment:
                assign_addends(col, k + 1, carry)
                return
            for digit in range(10):
                if digit in used or (digit == 0 and letter in leading):
                    continue
                assignment[letter] = digit
                used.add(digit)
                assign_addends(col, k + 1, carry)
                used.discard(digit)
                del assignment[letter]
            return
        total = carry + sum(assignment[x] for x in letters)
        digit, carry = total % 10, total // 10
        if target in assignment:
            if assignment[target] != digit:
                return
            column_done(col, carry)
        elif digit not in used and not (digit == 0 and target in leading):
            assignment[target] = digit
            used.add(digit)
            column_done(col, carry)
            used.discard(digit)
            del assignment[target]

    def column_done(col, carry):
        if col + 1 == width:
            if carry == 0:
                found.append(dict(assignment))
        else:
            assign_addends(col + 1, 0, carry)

    assign_addends(0, 0, 0)
    return found


def generate(rng: random.Random, difficulty: int) -> dict:
    count, shortest, longest = _LEVELS[_level(difficulty)]
    while True:
        numbers = [
            rng.randint(10 ** (n - 1), 10**n - 1)
            for n in (rng.randint(shortest, longest) for _ in range(count))
        ]
        total = sum(numbers)
        digits = sorted(set("".join(map(str, numbers + [total]))))
        if len(digits) >= 3:
            break
    letters = rng.sample(_LETTERS, len(digits))
    code = dict(zip(digits, letters))
    words = ["".join(code[ch] for ch in str(n)) for n in numbers]
    result = "".join(code[ch] for ch in str(total))
    truth = {code[d]: int(d) for d in digits}
    # With 9 or 10 letters an exhaustive uniqueness check is slow; start with a hint or two.
    hints = {x: truth[x] for x in rng.sample(sorted(truth), max(0, len(truth) - 8))}
    while True:
        found = _solutions(words, result, hints, 2)
        if len(found) == 1:
            break
        differing = sorted(x for x in truth if found[0][x] != found[1][x])
        pick = rng.choice(differing)
        hints[pick] = truth[pick]

    width = len(result) + 2
    lines = [words[0].rjust(width)] + [("+ " + w).rjust(width) for w in words[1:]]
    lines += ["-" * width, result.rjust(width)]
    hint_text = ""
    if hints:
        hint_text = (
            "You are also told that "
            + ", ".join(f"{x} = {hints[x]}" for x in sorted(hints))
            + ".\n\n"
        )
    prompt = (
        "In the addition below every letter stands for a digit. Different letters stand for "
        "different digits, the same letter always stands for the same digit, and no number "
        "starts with the digit 0.\n\n"
        + "\n".join(lines)
        + "\n\n"
        + hint_text
        + "Find the digit of every letter.\n\n"
        "Answer format: every letter that appears, written as LETTER=DIGIT, separated by "
        "commas, on one line (any order). Write nothing else."
    )
    data = {"words": words, "result": result, "hints": hints}
    reference = ", ".join(f"{x}={truth[x]}" for x in sorted(truth))
    return {"prompt": prompt, "data": data, "reference": reference}


_PAIR = re.compile(r"\s*([A-Za-z])\s*=\s*(\d)\s*")


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        data = instance["data"]
        words, result = data["words"], data["result"]
        value = {}
        for piece in re.split(r"[,;\n]", answer.strip()):
            m = _PAIR.fullmatch(piece)
            if not m or m.group(1).upper() in value:
                return 0.0
            value[m.group(1).upper()] = int(m.group(2))
        letters = set("".join(words) + result)
        if set(value) != letters or len(set(value.values())) != len(value):
            return 0.0
        if any(value[x] != d for x, d in data["hints"].items()):
            return 0.0
        if any(len(w) > 1 and value[w[0]] == 0 for w in words + [result]):
            return 0.0

        def number(word):
            out = 0
            for ch in word:
                out = out * 10 + value[ch]
            return out

        return 1.0 if sum(number(w) for w in words) == number(result) else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    data = instance["data"]
    (found,) = _solutions(data["words"], data["result"], data["hints"], 2)
    return ", ".join(f"{x}={found[x]}" for x in sorted(found))
