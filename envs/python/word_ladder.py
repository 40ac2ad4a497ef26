"""Word ladder: change one letter at a time to turn one word into another."""

import random

NAME = "word_ladder"
CATEGORY = "algorithmic"
DESCRIPTION = (
    "Word ladder: turn a start word into a target word by changing exactly one letter at a "
    "time, every intermediate word coming from a given word list, in the fewest possible steps. "
    "The list shown holds every word on a near-shortest ladder plus unrelated distractors; the "
    "verifier checks every step against that list and requires the BFS-optimal length, so any "
    "shortest ladder is accepted. The four-letter dictionary (about 1,150 common words) is "
    "embedded in the module. Difficulty raises the ladder length from 2 to 9 steps and the "
    "number of detour and distractor words offered."
)
VERSION = 1
MULTIPLE_SOLUTIONS = True

# (shortest ladder length, detour slack for words shown, random distractors)
_LEVELS = [
    (2, 1, 8),
    (3, 1, 10),
    (3, 2, 12),
    (4, 2, 14),
    (5, 2, 16),
    (5, 3, 18),
    (6, 3, 20),
    (7, 3, 22),
    (8, 3, 24),
    (9, 3, 26),
]
_MAX_ANSWER_CHARS = 500

_WORD_LIST = """
able ache acid aged aide airs ally also arch area arms army arts aunt auto avid away axes
babe baby back bade bail bait bake bald bale ball balm band bane bang bank bans bare bark
barn bars base bash bass bath bats bays bead beak beam bean bear beat beds beef been beer
bees beet bell belt bend bent best bets bias bide bike bile bill bind bird bite bits blew
blot blow blue blur boar boat body boil bold bolt bomb bond bone book boom boot bore born
boss both bout bowl bows brag bran bred brew brim buck buds bulb bulk bull bump bums bunk
buns buoy burn bush bust busy buys buzz cafe cage cake calf call calm came camp cane cans
cape caps card care cart case cash cask cast cats cave cell cent chap chat chef chew chin
chip chop cite city clad clam clan clap claw clay clip clod clog clot club clue coal coat
code coil coin cold cole colt comb come cone cook cool cope copy cord core cork corn cost
cosy cots cove cows crab crew crib crop crow cube cuff cult curb cure curl cute dale dame
damp dams dare dark darn dart dash data date dawn days daze dead deaf deal dean dear debt
deck deed deem deep deer dent deny desk dial dice died dies diet dime dine ding dint dips
dire dirt disc dish dive dock does dole doll dome done doom door dose dots dove down doze
drag draw drew drip drop drum dual duck dude duel dues duke dull dumb dump dune dung dusk
dust duty each earl earn ease east easy eats edge envy epic even ever evil exam exit eyes
face fact fade fail fair fake fall fame fare farm fast fate fawn fear feat feed feel fees
feet fell felt fend fern fest file fill film find fine fire firm fish fist fits five flag
flak flap flat flaw flea fled flee flew flip flit flog flop flow foal foam foes fold folk
fond font food fool foot ford fore fork form fort foul four fowl fuel full fume fund fuse
fuss gain gait gale gall game gang gape gate gave gaze gear gems gift gild gill gilt girl
gist give glad glee glow glue goal goat gods goes gold golf gone gong good gown grab gram
gray grew grey grid grim grin grip grit grow gulf gull gust guts hail hair hale half hall
halt hand hang hard hare harm harp hash hate haul have hawk haze hazy head heal heap hear
heat heed heel held hell helm help hemp herb herd here hero hers hide high hike hill hilt
hind hint hire hive hoax hold hole home hood hoof hook hoop hope horn hose host hour howl
huge hull hump hung hunt hurl hurt hush idea idle idly inch into iron isle itch jail jars
jaws jazz jeer jest jobs jogs join joke jolt jump junk jury just keel keen keep kept kick
kill kiln kind king kiss kite knee knew knit knob knot know lace lack lads lady laid lake
lamb lame lamp land lane lard lark lash last late laud lawn laws lazy lead leaf leak lean
leap left lend lens lent less lest lick lied lies life lift like lily limb lime limp line
link lint lion lips list live load loaf loan lock loft lone long look loom loop lord lore
lose loss lost loud love luck lull lump lung lure lurk lush lust made maid mail main make
male mall malt mane many mare mark mart mash mask mass mast mate maze meal mean meat meek
meet melt memo mend menu mere mesh mess mice mild mile milk mill mime mind mine mint miss
mist mite moan moat mock mode mold mole molt monk mood moon moor moot more moss most moth
move much mule muse must mute nail name nape navy near neat neck need nest news next nice
nine node none noon norm nose note noun oath obey odds oils okay omen once ones only onto
ooze open oral oven over owed owes owls owns pace pack pact page paid pail pain pair pale
palm pane pant park part pass past path pave pawn peak peal pear peat peck peel peer pelt
pens pest pets pick pier pike pile pill pine pink pins pint pipe pith pity plan play plea
plod plot plow ploy plug plum plus poem poet pole poll pond pony pool poor pope pops pore
pork port pose post pour pray prey prod prop pull pulp pump punk pure push race rack raft
rage raid rail rain rake ramp rang rank rant rare rash rate rave rays read real reap rear
reed reef reel rein rely rend rent rest rice rich ride rift rile rims rind ring rink riot
ripe rise risk rite road roam roar robe rock rode role roll roof rook room root rope rose
rosy rote rout rove rubs ruby rude rule rump rune rung runs ruse rush rust sack safe sage
said sail sake sale salt same sand sane sang sank save scan scar seal seam seat sect seed
seek seem seen seep self sell send sent shed shin ship shoe shop shot show shut sick side
sift sigh sign silk sill silt sing sink site size skid skim skin skip slab slam slap slat
sled slew slid slim slip slit slob slot slow slug slum smog snap snip snob snow soak soap
soar sock soda sofa soft soil sold sole some song soon soot sore sort soul soup sour sown
span spar spin spit spot spur stab stag star stay stem step stew stir stop stub stun such
suit sulk sums sung sunk sure surf swam swan swap sway swim tack tact tail take tale talk
tall tame tank tape taps tart task team tear teem tell tend tent term test text than that
thaw them then they thin this thud thug tick tide tidy tied tier ties tile till tilt time
tint tiny tips tire toad toes toil told toll tomb tone tool tops tore torn toss tour town
toys tram trap tray tree trim trio trip trod trot true tube tuck tuft tune turf turn tusk
twig twin type ugly undo unit upon urge used user uses vain vale vane vary vase vast veal
veil vein vent verb very vest veto vice view vile vine visa void vole vote vows wade wage
wail wait wake walk wall wand want ward warm warn warp wart wary wash wasp wave wavy waxy
ways weak wean wear weed week weep weld well went wept were west what when whim whip wide
wife wild will wilt wily wind wine wing wink wipe wire wise wish with wits woke wolf womb
wood wool word wore work worm worn wove wrap wren writ yard yarn year yell yoke yolk your
zeal zero zest zinc zone zoom
"""
_WORDS = sorted(set(_WORD_LIST.split()))


def _buckets(words):
    """Map each wildcard pattern (a letter replaced by '_') to the words matching it."""
    table = {}
    for word in words:
        for i in range(len(word)):
            table.setdefault(word[:i] + "_" + word[i + 1 :], []).append(word)
    return table


_BUCKETS = _buckets(_WORDS)


def _neighbours(word, buckets):
    out = []
    for i in range(len(word)):
        for other in buckets.get(word[:i] + "_" + word[i + 1 :], ()):
            if other != word:
                out.append(other)
    return out


def _distances(start, buckets):
    dist = {start: 0}
    queue = [start]
    for word in queue:  # the list grows while it is scanned: breadth-first order
        for other in _neighbours(word, buckets):
            if other not in dist:
                dist[other] = dist[word] + 1
                queue.append(other)
    return dist


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def generate(rng: random.Random, difficulty: int) -> dict:
    length, slack, distractors = _LEVELS[_level(difficulty)]
    while True:
        start = rng.choice(_WORDS)
        from_start = _distances(start, _BUCKETS)
        candidates = sorted(w for w, d in from_start.items() if d == length)
        if candidates:
            break
    end = rng.choice(candidates)
    from_end = _distances(end, _BUCKETS)
    shown = {
        w
        for w, d in from_start.items()
        if d + from_end.get(w, length + slack + 1) <= length + slack
    }
    pool = [w for w in _WORDS if w not in shown]
    shown.update(rng.sample(pool, distractors))
    words = sorted(shown)

    ladder = [start]  # a shortest ladder, following decreasing distance to the end
    while ladder[-1] != end:
        step = sorted(
            w
            for w in _neighbours(ladder[-1], _BUCKETS)
            if from_end.get(w) == from_end[ladder[-1]] - 1
        )
        ladder.append(rng.choice(step))

    prompt = (
        f"Turn the word {start.upper()} into the word {end.upper()} by changing exactly one "
        f"letter at a time (letters keep their positions; no adding, removing or reordering). "
        f"Every word in the chain, including the intermediate ones, must be taken from the "
        f"list below. Use as few steps as possible.\n\n"
        f"Allowed words: {', '.join(w.upper() for w in words)}\n\n"
        f"Answer format: the whole chain on one line, from {start.upper()} to {end.upper()} "
        f"inclusive, words separated by spaces. Write nothing else."
    )
    data = {"start": start, "end": end, "words": words, "length": length}
    return {"prompt": prompt, "data": data, "reference": " ".join(w.upper() for w in ladder)}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        data = instance["data"]
        chain = [w.lower() for w in answer.replace(",", " ").replace("->", " ").split()]
        if (
            len(chain) != data["length"] + 1
            or chain[0] != data["start"]
            or chain[-1] != data["end"]
        ):
            return 0.0
        allowed = set(data["words"])
        if any(w not in allowed for w in chain):
            return 0.0
        for a, b in zip(chain, chain[1:]):
            if sum(x != y for x, y in zip(a, b)) != 1:
                return 0.0
        return 1.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    data = instance["data"]
    buckets = _buckets(data["words"])
    from_end = _distances(data["end"], buckets)
    ladder = [data["start"]]
    while ladder[-1] != data["end"]:
        ladder.append(
            min(
                w
                for w in _neighbours(ladder[-1], buckets)
                if from_end.get(w) == from_end[ladder[-1]] - 1
            )
        )
    return " ".join(w.upper() for w in ladder)
