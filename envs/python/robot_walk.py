"""Robot walk: follow turn-and-move commands on an unbounded grid and report
where the robot ends up."""

NAME = "robot_walk"
CATEGORY = "spatial"
DESCRIPTION = (
    "A robot starts at (0, 0) facing north on an unbounded grid and executes a list "
    "of commands (turn left/right, turn around, move forward k cells); give its final "
    "coordinates. Difficulty scales the number of commands (4 at difficulty 1 to 40 "
    "at difficulty 10) and the step sizes."
)
VERSION = 1

# North, east, south, west as (dx, dy); y grows northwards.
_DIRS = [(0, 1), (1, 0), (0, -1), (-1, 0)]
_NAMES = ["north", "east", "south", "west"]


def _run(commands):
    x = y = 0
    facing = 0
    for cmd in commands:
        if cmd == "left":
            facing = (facing - 1) % 4
        elif cmd == "right":
            facing = (facing + 1) % 4
        elif cmd == "around":
            facing = (facing + 2) % 4
        else:
            k = int(cmd.split()[1])
            dx, dy = _DIRS[facing]
            x, y = x + dx * k, y + dy * k
    return x, y


def generate(rng, difficulty):
    count = 4 * difficulty
    max_step = 3 + 2 * difficulty
    commands = []
    for _ in range(count):
        r = rng.random()
        if r < 0.25:
            commands.append("left")
        elif r < 0.5:
            commands.append("right")
        elif r < 0.55:
            commands.append("around")
        else:
            commands.append("forward %d" % rng.randint(1, max_step))
    text = {
        "left": "turn left 90 degrees",
        "right": "turn right 90 degrees",
        "around": "turn around (180 degrees)",
    }
    def describe(c):
        if c in text:
            return text[c]
        k = int(c.split()[1])
        return "move forward %d cell%s" % (k, "" if k == 1 else "s")

    listing = "\n".join("%d. %s" % (i + 1, describe(c)) for i, c in enumerate(commands))
    prompt = (
        "A robot stands at (0, 0) on an unbounded grid, facing north. East is +x and "
        "north is +y. It executes these commands in order:\n\n"
        f"{listing}\n\nWhere does it end up?\n\n"
        "Answer format: the final coordinates as two integers separated by a comma, e.g. -3,7"
    )
    x, y = _run(commands)
    return {"prompt": prompt, "data": {"commands": commands}, "reference": "%d,%d" % (x, y)}


def _parse(answer):
    parts = answer.strip().replace(" ", "").split(",")
    if len(parts) != 2:
        return None
    out = []
    for p in parts:
        digits = p[1:] if p.startswith("-") else p
        if not digits.isdigit() or len(digits) > 9:
            return None
        out.append(int(p))
    return tuple(out)


def verify(instance, answer):
    got = _parse(answer)
    if got is None:
        return 0.0
    return 1.0 if got == _run(instance["data"]["commands"]) else 0.0


def solve(instance):
    return "%d,%d" % _run(instance["data"]["commands"])
