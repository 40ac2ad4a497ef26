"""Follow chains of family relations (mother's brother's wife, ...) through a family tree."""

import random

NAME = "kinship_lookup"
CATEGORY = "logic"
DESCRIPTION = (
    "Relational reasoning over a family tree: given the married couples and their children, "
    "resolve queries such as \"Who is Nora's mother's brother's wife?\". Each query is built by "
    "walking the tree with the relations father, mother, son, daughter, brother, sister, "
    "husband and wife, taking only steps that lead to exactly one person and never revisiting "
    "a person, so every answer is unique. Difficulty grows the tree from 2 to 4 generations "
    "(up to about 40 people), the chains from 1-2 to 5-6 relations and the number of queries "
    "from 2 to 3."
)
VERSION = 1

# (founding couples, generations, shortest chain, longest chain, queries)
_LEVELS = [
    (1, 2, 1, 2, 2),
    (1, 3, 1, 2, 2),
    (1, 3, 2, 3, 2),
    (2, 3, 2, 3, 2),
    (2, 3, 3, 4, 2),
    (2, 3, 3, 4, 3),
    (2, 4, 3, 5, 3),
    (2, 4, 4, 5, 3),
    (2, 4, 4, 6, 3),
    (2, 4, 5, 6, 3),
]
_MALE = [
    "Aaron",
    "Bruno",
    "Carl",
    "Dmitri",
    "Elias",
    "Felix",
    "George",
    "Henry",
    "Isaac",
    "James",
    "Karl",
    "Louis",
    "Martin",
    "Nathan",
    "Oliver",
    "Peter",
    "Quentin",
    "Ralph",
    "Simon",
    "Thomas",
    "Victor",
    "Walter",
    "Xavier",
    "Yusuf",
    "Zane",
    "Arthur",
    "Boris",
    "Caleb",
    "Derek",
    "Edgar",
    "Frank",
    "Gavin",
]
_FEMALE = [
    "Alice",
    "Beatrice",
    "Clara",
    "Diana",
    "Elena",
    "Fiona",
    "Grace",
    "Helen",
    "Irene",
    "Julia",
    "Karen",
    "Laura",
    "Maria",
    "Nora",
    "Olivia",
    "Paula",
    "Rita",
    "Sofia",
    "Tina",
    "Ursula",
    "Vera",
    "Wendy",
    "Yara",
    "Zoe",
    "Agnes",
    "Bella",
    "Celia",
    "Daisy",
    "Edith",
    "Flora",
    "Gemma",
    "Hazel",
]
_RELATIONS = ["father", "mother", "son", "daughter", "brother", "sister", "husband", "wife"]
_MAX_ANSWER_CHARS = 300


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _build_family(rng, founders, generations):
    """Returns (gender by name, couples) with couples = [husband, wife, [children]]."""
    males, females = _MALE[:], _FEMALE[:]
    rng.shuffle(males)
    rng.shuffle(females)
    gender = {}

    def person(sex):
        pool = males if sex == "m" else females
        name = pool.pop()
        gender[name] = sex
        return name

    couples = [[person("m"), person("f"), []] for _ in range(founders)]
    current = list(couples)
    for _ in range(generations - 1):
        nxt = []
        for couple in current:
            for _ in range(rng.randint(1, 3)):
                sex = rng.choice("mf")
                if not (males if sex == "m" else females):
                    continue
                child = person(sex)
                couple[2].append(child)
                spouse_sex = "f" if sex == "m" else "m"
                if rng.random() < 0.7 and (females if sex == "m" else males):
                    spouse = person(spouse_sex)
                    new = [child, spouse, []] if sex == "m" else [spouse, child, []]
                    couples.append(new)
                    nxt.append(new)
        current = nxt
    return gender, couples


def _relatives(name, relation, gender, couples):
    out = []
    for husband, wife, children in couples:
        if relation in ("father", "mother") and name in children:
            out.append(husband if relation == "father" else wife)
        elif relation in ("son", "daughter") and name in (husband, wife):
            out += [c for c in children if gender[c] == ("m" if relation == "son" else "f")]
        elif relation in ("brother", "sister") and name in children:
            out += [
                c
                for c in children
                if c != name and gender[c] == ("m" if relation == "brother" else "f")
            ]
        elif relation == "husband" and name == wife:
            out.append(husband)
        elif relation == "wife" and name == husband:
            out.append(wife)
    return out


def _resolve(start, chain, gender, couples):
    """The unique person reached, or None if some step is not unique."""
    current = start
    for relation in chain:
        found = _relatives(current, relation, gender, couples)
        if len(found) != 1:
            return None
        current = found[0]
    return current


def _query(rng, gender, couples, length, used):
    people = sorted(gender)
    for _ in range(200):
        start = rng.choice(people)
        chain, visited, current = [], [start], start
        while len(chain) < length:
            steps = []
            for relation in _RELATIONS:
                found = _relatives(current, relation, gender, couples)
                if len(found) == 1 and found[0] not in visited:
                    steps.append((relation, found[0]))
            if not steps:
                break
            relation, current = rng.choice(steps)
            chain.append(relation)
            visited.append(current)
        if len(chain) == length and (start, tuple(chain)) not in used:
            return start, chain, current
    return None


def _phrase(start, chain):
    return start + "".join(f"'s {relation}" for relation in chain)


def generate(rng: random.Random, difficulty: int) -> dict:
    founders, generations, shortest, longest, count = _LEVELS[_level(difficulty)]
    while True:
        gender, couples = _build_family(rng, founders, generations)
        queries, used = [], set()
        for _ in range(count):
            found = _query(rng, gender, couples, rng.randint(shortest, longest), used)
            if found is None:
                break
            used.add((found[0], tuple(found[1])))
            queries.append(found)
        if len(queries) == count:
            break

    def tag(name):
        return f"{name} ({'male' if gender[name] == 'm' else 'female'})"

    lines = []
    for husband, wife, children in couples:
        line = f"{tag(husband)} and {tag(wife)} are married."
        if children:
            line += " Their children: " + ", ".join(tag(c) for c in children) + "."
        else:
            line += " They have no children."
        lines.append(line)
    questions = "\n".join(
        f"{k + 1}. Who is {_phrase(s, chain)}?" for k, (s, chain, _) in enumerate(queries)
    )
    prompt = (
        "Here is everything about a family: every married couple with all of their children. "
        "People not listed as someone's child have no parents in this family. Brothers and "
        "sisters are children of the same couple.\n\n"
        + "\n".join(lines)
        + f"\n\nAnswer these questions:\n{questions}\n\n"
        f"Answer format: the {count} names, in the order of the questions, separated by commas, "
        f"on one line. Write nothing else."
    )
    data = {
        "gender": gender,
        "couples": couples,
        "queries": [[s, chain] for s, chain, _ in queries],
        "answers": [a for _, _, a in queries],
    }
    return {"prompt": prompt, "data": data, "reference": ", ".join(a for _, _, a in queries)}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        given = [x.strip().lower() for x in answer.strip().split(",")]
        expected = [x.lower() for x in instance["data"]["answers"]]
        return 1.0 if given == expected else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    data = instance["data"]
    return ", ".join(
        _resolve(s, chain, data["gender"], data["couples"]) for s, chain in data["queries"]
    )
