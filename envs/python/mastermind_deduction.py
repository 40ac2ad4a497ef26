"""Mastermind deduction: find the only secret code consistent with the scored guesses."""

import itertools
import random
from operator import eq

NAME = "mastermind_deduction"
CATEGORY = "logic"
DESCRIPTION = (
    "Mastermind deduction: from a list of guesses, each scored with the number of exact matches "
    "(right letter, right position) and misplaced matches (right letter, wrong position), "
    "deduce the secret code. Guesses are added until exactly one code of the whole code space "
    "is consistent (checked by enumeration), so the answer is unique; the secret itself is "
    "never among the guesses. Difficulty grows the code space from 3 letters x 3 positions to "
    "6 letters x 5 positions and, at difficulties 6 and 10, uses less informative random "
    "guesses, which means more clues to combine."
)
VERSION = 1

# (number of letters, code length, guesses drawn from the still-consistent codes?)
_LEVELS = [
    (3, 3, True),
    (4, 3, True),
    (4, 4, True),
    (5, 4, True),
    (6, 4, True),
    (6, 4, False),
    (5, 5, True),
    (6, 5, True),
    (6, 5, True),
    (6, 5, False),
]
_LETTERS = "ABCDEF"
_MAX_ANSWER_CHARS = 100


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _score(code, guess):
    """(exact, misplaced) score of `guess` against `code` (tuples of letter indices)."""
    exact = sum(map(eq, code, guess))
    common = sum(min(code.count(x), guess.count(x)) for x in sorted(set(guess)))
    return exact, common - exact


def _consistent(codes, guess, score):
    """The codes that would give `guess` the same score (fast path for generation)."""
    exact, misplaced = score
    letters = sorted(set(guess))
    counts = [guess.count(x) for x in letters]
    out = []
    for code in codes:
        if (
            sum(map(eq, code, guess)) == exact
            and sum(min(code.count(x), n) for x, n in zip(letters, counts)) == exact + misplaced
        ):
            out.append(code)
    return out


def _text(code):
    return "".join(_LETTERS[x] for x in code)


def generate(rng: random.Random, difficulty: int) -> dict:
    letters, length, from_candidates = _LEVELS[_level(difficulty)]
    secret = tuple(rng.randrange(letters) for _ in range(length))
    candidates = list(itertools.product(range(letters), repeat=length))
    clues = []
    while len(candidates) > 1:
        if from_candidates:
            guess = rng.choice(candidates)
        else:
            guess = tuple(rng.randrange(letters) for _ in range(length))
        if guess == secret or any(guess == g for g, _ in clues):
            continue
        score = _score(secret, guess)
        remaining = _consistent(candidates, guess, score)
        if len(remaining) == len(candidates):
            continue  # an uninformative guess adds nothing
        candidates = remaining
        clues.append((guess, score))
    lines = "\n".join(f"{_text(g)}: {e} exact, {m} misplaced" for g, (e, m) in clues)
    prompt = (
        f"A secret code consists of {length} letters, each one of {', '.join(_LETTERS[:letters])} "
        f"(letters may repeat). Each guess below was scored with two numbers: 'exact' counts "
        f"positions where the guess has the same letter as the code; 'misplaced' counts letters "
        f"that occur in both but at different positions, i.e. the sum over all letters of the "
        f"smaller of its number of occurrences in the guess and in the code, minus the exact "
        f"count.\n\n{lines}\n\n"
        f"Exactly one code is consistent with all these scores. What is the secret code?\n\n"
        f"Answer format: the {length} letters of the code, in order from the first position "
        f"to the last, as one word with no spaces. Write nothing else."
    )
    data = {
        "letters": letters,
        "clues": [[_text(g), list(s)] for g, s in clues],
        "secret": _text(secret),
    }
    return {"prompt": prompt, "data": data, "reference": _text(secret)}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        code = "".join(answer.replace(",", " ").split()).upper()
        return 1.0 if code == instance["data"]["secret"] else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    """Enumerate the code space and keep the code consistent with every clue."""
    data = instance["data"]
    letters = data["letters"]
    clues = [(tuple(_LETTERS.index(ch) for ch in g), tuple(s)) for g, s in data["clues"]]
    length = len(clues[0][0])
    for code in itertools.product(range(letters), repeat=length):
        if all(_score(code, g) == s for g, s in clues):
            return _text(code)
    return ""
