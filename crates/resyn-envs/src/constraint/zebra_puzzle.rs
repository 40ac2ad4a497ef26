//! `zebra_puzzle`: an Einstein-style logic grid puzzle. N houses in a row,
//! M attributes (name, house color, pet, ...), each value held by exactly one
//! house; clues determine the unique assignment, which must be given in full.
//!
//! Difficulty d gives houses x attributes:
//!
//! | d       | 1   | 2   | 3   | 4   | 5   | 6   | 7   | 8   | 9   | 10  |
//! |---------|-----|-----|-----|-----|-----|-----|-----|-----|-----|-----|
//! | N x M   | 2x2 | 3x2 | 3x3 | 4x3 | 4x4 | 5x4 | 5x5 | 6x5 | 6x6 | 7x6 |
//!
//! reasoning-gym's `zebra_puzzles` (4 people x 4 characteristics by
//! default) corresponds to difficulty 5.
//!
//! Clue kinds: a value is in house h / is not in house h; two values belong
//! to the same person / to different people; one person lives somewhere to
//! the left (or right) of another, directly left (or right) of another, or
//! next to another.
//!
//! Generation plants a random solution and runs an exact solver (domain
//! propagation over the house of every value, all-different per attribute
//! with hidden singles, then backtracking on the smallest domain, stopping at
//! 2 solutions). While the clues admit a solution other than the planted one,
//! random clues true of the planted solution are drawn until one rules that
//! alternative out, and it is added. Finally clues are dropped in random
//! order whenever the rest still has a unique solution, so the clue set is
//! minimal. Tests cross-check uniqueness and minimality against brute-force
//! enumeration of all (N!)^M assignments at small sizes.
//!
//! The answer is the full grid: one line per house in order, `House k:`
//! followed by the house's values in the listed attribute order, separated by
//! commas. The verifier parses every value (case-insensitive,
//! whitespace-tolerant; all values are distinct words) and compares the grid
//! with the unique solution, so any other grid, a missing or extra value or
//! line, or a second candidate grid scores 0.

use resyn_core::{Category, ReasonCode, Rng, Verdict};
use serde::{Deserialize, Serialize};

use crate::util::parse;
use crate::{Generated, Task, TaskInfo};

pub(crate) struct ZebraPuzzle;

#[derive(Serialize, Deserialize)]
pub(crate) struct Data {
    /// Attribute names, in answer order.
    attrs: Vec<String>,
    /// The values of each attribute.
    values: Vec<Vec<String>>,
    /// `solution[house][attr]` = index into `values[attr]`.
    solution: Vec<Vec<usize>>,
}

/// [`Data`] as the check reads it: strings borrowed from the stored JSON.
#[derive(Deserialize)]
pub(crate) struct View<'a> {
    #[serde(borrow)]
    attrs: Vec<&'a str>,
    #[serde(borrow)]
    values: Vec<Vec<&'a str>>,
    solution: Vec<Vec<usize>>,
}

/// An attribute category: answer-order name, entity phrase, values.
struct AttrKind {
    name: &'static str,
    /// Noun phrase with `{}` for the value.
    phrase: &'static str,
    values: [&'static str; 10],
}

/// Names come first in every puzzle; other categories are drawn at random.
/// All values are distinct single words across categories.
const CATEGORIES: [AttrKind; 8] = [
    AttrKind {
        name: "Name",
        phrase: "{}",
        values: [
            "Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry", "Irene", "Jack",
        ],
    },
    AttrKind {
        name: "House color",
        phrase: "the person in the {} house",
        values: [
            "red", "green", "blue", "yellow", "white", "purple", "black", "orange", "pink", "gray",
        ],
    },
    AttrKind {
        name: "Pet",
        phrase: "the person who owns the {}",
        values: [
            "cat", "dog", "bird", "fish", "horse", "rabbit", "turtle", "hamster", "parrot", "snake",
        ],
    },
    AttrKind {
        name: "Drink",
        phrase: "the person who drinks {}",
        values: [
            "tea", "coffee", "milk", "water", "juice", "soda", "cocoa", "lemonade", "cider",
            "smoothie",
        ],
    },
    AttrKind {
        name: "Hobby",
        phrase: "the person who enjoys {}",
        values: [
            "tennis", "soccer", "golf", "hockey", "cycling", "rowing", "swimming", "chess",
            "painting", "hiking",
        ],
    },
    AttrKind {
        name: "Fruit",
        phrase: "the person whose favorite fruit is {}",
        values: [
            "apple", "banana", "cherry", "grape", "mango", "pear", "plum", "kiwi", "peach", "melon",
        ],
    },
    AttrKind {
        name: "Job",
        phrase: "the {}",
        values: [
            "doctor", "teacher", "baker", "pilot", "farmer", "chef", "lawyer", "nurse", "artist",
            "engineer",
        ],
    },
    AttrKind {
        name: "Flower",
        phrase: "the person whose favorite flower is the {}",
        values: [
            "rose", "tulip", "lily", "daisy", "orchid", "iris", "lotus", "violet", "peony", "poppy",
        ],
    },
];

const MAX_HOUSES: usize = 7;
const MAX_ATTRS: usize = 6;

/// `(houses, attributes)`.
fn params(difficulty: u8) -> (usize, usize) {
    match difficulty {
        0 | 1 => (2, 2),
        2 => (3, 2),
        3 => (3, 3),
        4 => (4, 3),
        5 => (4, 4),
        6 => (5, 4),
        7 => (5, 5),
        8 => (6, 5),
        9 => (6, 6),
        _ => (7, 6),
    }
}

impl Task for ZebraPuzzle {
    type Data = Data;
    type View<'a> = View<'a>;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: "zebra_puzzle",
            version: 1,
            category: Category::ConstraintSatisfaction,
            description: "Einstein/zebra logic grid puzzle with a unique solution (minimal clue \
                set: positions, same/different person, left/right, directly left/right, next \
                to, negations); give the full assignment. Difficulty 1-10: houses x attributes \
                2x2, 3x2, 3x3, 4x3, 4x4, 5x4, 5x5, 6x5, 6x6, 7x6.",
        }
    }

    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Data> {
        let (n, m) = params(difficulty);
        // Attribute 0 is always the name; the others are random categories.
        let mut cats = vec![0usize];
        let mut rest = rng.sample_indices(CATEGORIES.len() - 1, m - 1);
        rest.sort_unstable();
        cats.extend(rest.into_iter().map(|c| c + 1));
        let values: Vec<Vec<String>> = cats
            .iter()
            .map(|&c| {
                let mut idx = rng.sample_indices(CATEGORIES[c].values.len(), n);
                idx.sort_unstable();
                idx.into_iter()
                    .map(|i| CATEGORIES[c].values[i].to_string())
                    .collect()
            })
            .collect();
        let puzzle = generate_puzzle(rng, n, m);
        let ent = |e: Ent| {
            let c = &CATEGORIES[cats[usize::from(e.a)]];
            c.phrase
                .replace("{}", &values[usize::from(e.a)][usize::from(e.v)])
        };
        let clue_lines: Vec<String> = puzzle
            .clues
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{}. {}", i + 1, render_clue(*c, &ent, rng)))
            .collect();
        let attr_lines: Vec<String> = cats
            .iter()
            .zip(&values)
            .map(|(&c, vals)| format!("- {}: {}", CATEGORIES[c].name, vals.join(", ")))
            .collect();
        let attrs: Vec<String> = cats
            .iter()
            .map(|&c| CATEGORIES[c].name.to_string())
            .collect();
        let solution: Vec<Vec<usize>> = (0..n)
            .map(|h| {
                (0..m)
                    .map(|a| puzzle.pos[a].iter().position(|&p| p == h).unwrap_or(0))
                    .collect()
            })
            .collect();
        let example: Vec<String> = attrs
            .iter()
            .map(|a| format!("<{}>", a.to_lowercase()))
            .collect();
        let prompt = format!(
            "Solve this logic puzzle. There are {n} houses in a row, numbered 1 to {n} from left \
             to right. Each house is occupied by a different person. Each person has exactly \
             one value of each of the following {m} attributes, and no two people share a \
             value:\n{}\n\nClues:\n{}\n\n\"Left\" and \"right\" refer to the house numbers (house \
             1 is the leftmost). \"Directly left of\" means in the house immediately to the \
             left; \"next to\" means in an adjacent house. The clues determine exactly one \
             solution.\n\nAnswer format: {n} lines, one per house from house 1 to house {n}, \
             each written as `House k: ` followed by the values of the person in house k in the \
             attribute order {} separated by commas, that is `House k: {}`, and nothing \
             else.",
            attr_lines.join("\n"),
            clue_lines.join("\n"),
            attrs.join(", "),
            example.join(", "),
        );
        let answer = solution
            .iter()
            .enumerate()
            .map(|(h, row)| {
                let vals: Vec<&str> = row
                    .iter()
                    .enumerate()
                    .map(|(a, &v)| values[a][v].as_str())
                    .collect();
                format!("House {}: {}", h + 1, vals.join(", "))
            })
            .collect::<Vec<_>>()
            .join("\n");
        Generated {
            prompt,
            answer,
            data: Data {
                attrs,
                values,
                solution,
            },
        }
    }

    fn check(&self, data: &View<'_>, answer: &str) -> Verdict {
        let (n, m) = (data.solution.len(), data.attrs.len());
        if data.values.len() != m
            || data.values.iter().any(|v| v.len() != n)
            || data
                .solution
                .iter()
                .any(|row| row.len() != m || row.iter().any(|&v| v >= n))
        {
            return Verdict::zero(ReasonCode::InvalidInstance, "bad zebra_puzzle data");
        }
        let grid = match parse_grid(data, answer) {
            Ok(g) => g,
            Err(e) => return Verdict::parse_error(e),
        };
        for (h, (got, want)) in grid.chunks(m.max(1)).zip(&data.solution).enumerate() {
            for a in 0..m {
                if got[a] != want[a] {
                    return Verdict::wrong(format!(
                        "house {}: wrong {}",
                        h + 1,
                        data.attrs[a].to_lowercase()
                    ));
                }
            }
        }
        Verdict::correct()
    }
}

/// Parse the answer lines into value indices, row-major by house then
/// attribute. A wrong line count is reported in preference to any error
/// inside a line (the remaining lines are counted only when one fails).
fn parse_grid(data: &View<'_>, answer: &str) -> Result<Vec<usize>, String> {
    let (n, m) = (data.solution.len(), data.attrs.len());
    let mut grid = Vec::with_capacity(n * m);
    parse::exact_lines(answer, n, "lines", |h, line| {
        parse_house(data, h, line, &mut grid)
    })?;
    Ok(grid)
}

/// Parse the line of house `h` (0-based), appending its value indices.
fn parse_house(data: &View<'_>, h: usize, line: &str, grid: &mut Vec<usize>) -> Result<(), String> {
    let m = data.attrs.len();
    let colon = line
        .bytes()
        .position(|b| b == b':')
        .ok_or_else(|| format!("line {} does not start with `House {}:`", h + 1, h + 1))?;
    let (head, rest) = (&line[..colon], &line[colon + 1..]);
    if !is_house_label(head, h + 1) {
        return Err(format!(
            "line {} starts with `{}`, expected `House {}:`",
            h + 1,
            parse::clip(head),
            h + 1
        ));
    }
    // Items = commas + 1 (a byte count, cheaper than a first split).
    let got = rest.bytes().filter(|&b| b == b',').count() + 1;
    if got != m {
        return Err(format!(
            "house {}: expected {m} comma-separated values, got {got}",
            h + 1,
        ));
    }
    for (a, item) in parse::split_byte(rest, b',').enumerate() {
        // A single word (the usual case) is its own canonical form.
        let word = item.trim();
        let single = !word.contains(char::is_whitespace);
        let index = data.values[a]
            .iter()
            .position(|v| {
                if single {
                    v.eq_ignore_ascii_case(word)
                } else {
                    parse::canonical_eq_ignore_case(item, v)
                }
            })
            .ok_or_else(|| {
                format!(
                    "house {}: `{}` is not a {} value",
                    h + 1,
                    parse::clip(&parse::canonical(item)),
                    data.attrs[a].to_lowercase()
                )
            })?;
        grid.push(index);
    }
    Ok(())
}

/// Whether `head` is `house {h}` up to ASCII case and whitespace, i.e.
/// `parse::canonical(head) == format!("house {h}")`.
fn is_house_label(head: &str, h: usize) -> bool {
    let mut words = head.split_whitespace();
    matches!(
        (words.next(), words.next(), words.next()),
        (Some(w), Some(num), None)
            if w.eq_ignore_ascii_case("house")
                // Digits only (`+1` and `01` are not `1`); h >= 1 has no leading zero.
                && num.bytes().all(|b| b.is_ascii_digit())
                && !num.starts_with('0')
                && num.parse() == Ok(h)
    )
}

/// A value of an attribute: `(attribute, value index)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Ent {
    a: u8,
    v: u8,
}

/// A clue; symmetric kinds keep their entities in sorted order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Clue {
    /// The entity is in house `h`.
    At(Ent, u8),
    /// The entity is not in house `h`.
    NotAt(Ent, u8),
    /// Same house.
    Same(Ent, Ent),
    /// Different houses.
    NotSame(Ent, Ent),
    /// The first is somewhere left of the second.
    LeftOf(Ent, Ent),
    /// The first is directly left of the second.
    ImmLeft(Ent, Ent),
    /// Adjacent houses.
    NextTo(Ent, Ent),
}

impl Clue {
    /// The one or two entities the clue mentions.
    fn entities(self) -> (Ent, Option<Ent>) {
        match self {
            Clue::At(e, _) | Clue::NotAt(e, _) => (e, None),
            Clue::Same(x, y)
            | Clue::NotSame(x, y)
            | Clue::LeftOf(x, y)
            | Clue::ImmLeft(x, y)
            | Clue::NextTo(x, y) => (x, Some(y)),
        }
    }

    /// Whether the clue holds when entity `e` is in house `pos(e)`.
    fn holds(self, pos: impl Fn(Ent) -> usize) -> bool {
        match self {
            Clue::At(e, h) => pos(e) == usize::from(h),
            Clue::NotAt(e, h) => pos(e) != usize::from(h),
            Clue::Same(x, y) => pos(x) == pos(y),
            Clue::NotSame(x, y) => pos(x) != pos(y),
            Clue::LeftOf(x, y) => pos(x) < pos(y),
            Clue::ImmLeft(x, y) => pos(x) + 1 == pos(y),
            Clue::NextTo(x, y) => pos(x).abs_diff(pos(y)) == 1,
        }
    }
}

fn sorted(x: Ent, y: Ent) -> (Ent, Ent) {
    if x <= y { (x, y) } else { (y, x) }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn render_clue(c: Clue, ent: &impl Fn(Ent) -> String, rng: &mut Rng) -> String {
    let s = match c {
        Clue::At(e, h) => format!("{} lives in house {}.", ent(e), h + 1),
        Clue::NotAt(e, h) => format!("{} does not live in house {}.", ent(e), h + 1),
        Clue::Same(x, y) => {
            let (x, y) = if rng.chance(1, 2) { (x, y) } else { (y, x) };
            format!("{} is {}.", ent(x), ent(y))
        }
        Clue::NotSame(x, y) => {
            let (x, y) = if rng.chance(1, 2) { (x, y) } else { (y, x) };
            format!("{} is not {}.", ent(x), ent(y))
        }
        Clue::LeftOf(x, y) => {
            if rng.chance(1, 2) {
                format!("{} lives somewhere to the left of {}.", ent(x), ent(y))
            } else {
                format!("{} lives somewhere to the right of {}.", ent(y), ent(x))
            }
        }
        Clue::ImmLeft(x, y) => {
            if rng.chance(1, 2) {
                format!("{} lives directly left of {}.", ent(x), ent(y))
            } else {
                format!("{} lives directly right of {}.", ent(y), ent(x))
            }
        }
        Clue::NextTo(x, y) => {
            let (x, y) = if rng.chance(1, 2) { (x, y) } else { (y, x) };
            format!("{} and {} live next to each other.", ent(x), ent(y))
        }
    };
    capitalize(&s)
}

/// A generated puzzle: `pos[attr][value]` = house, and the clues.
struct Puzzle {
    pos: Vec<Vec<usize>>,
    clues: Vec<Clue>,
}

/// Domains: `dom[attr][value]` is the bitmask of possible houses.
#[derive(Clone, Copy, PartialEq, Eq)]
struct State {
    dom: [[u8; MAX_HOUSES]; MAX_ATTRS],
}

/// A clue set indexed for propagation: the clues mentioning entity `i` are
/// `watch[start[i]..start[i + 1]]` (indices into `clues`).
struct Model<'c> {
    clues: &'c [Clue],
    start: Vec<usize>,
    watch: Vec<usize>,
}

/// The exact solver for `n` houses and `m` attributes.
struct Solver {
    n: usize,
    m: usize,
    full: u8,
}

impl Solver {
    fn new(n: usize, m: usize) -> Self {
        Self {
            n,
            m,
            full: ((1u16 << n) - 1) as u8,
        }
    }

    fn initial(&self) -> State {
        let mut dom = [[0u8; MAX_HOUSES]; MAX_ATTRS];
        for row in dom.iter_mut().take(self.m) {
            for d in row.iter_mut().take(self.n) {
                *d = self.full;
            }
        }
        State { dom }
    }

    /// Narrow `st` by one clue; `None` on contradiction, else whether
    /// anything changed.
    fn apply(&self, st: &mut State, c: Clue) -> Option<bool> {
        let full = self.full;
        let get = |st: &State, e: Ent| st.dom[usize::from(e.a)][usize::from(e.v)];
        let (x, y, nx, ny) = match c {
            Clue::At(e, h) => {
                let d = get(st, e);
                return self.set(st, e, d & (1 << h), d);
            }
            Clue::NotAt(e, h) => {
                let d = get(st, e);
                return self.set(st, e, d & !(1 << h), d);
            }
            Clue::Same(x, y) => {
                let d = get(st, x) & get(st, y);
                (x, y, d, d)
            }
            Clue::NotSame(x, y) => {
                let (dx, dy) = (get(st, x), get(st, y));
                let nx = if dy.count_ones() == 1 { dx & !dy } else { dx };
                let ny = if dx.count_ones() == 1 { dy & !dx } else { dy };
                (x, y, nx, ny)
            }
            Clue::LeftOf(x, y) => {
                let (dx, dy) = (get(st, x), get(st, y));
                if dx == 0 || dy == 0 {
                    return None;
                }
                // x < max(dy) and y > min(dx).
                let max_y = 7 - dy.leading_zeros();
                let min_x = dx.trailing_zeros();
                let below = ((1u16 << max_y) - 1) as u8;
                let above = full & !(((1u16 << (min_x + 1)) - 1) as u8);
                (x, y, dx & below, dy & above)
            }
            Clue::ImmLeft(x, y) => {
                let (dx, dy) = (get(st, x), get(st, y));
                let nx = dx & (dy >> 1);
                let ny = dy & (nx << 1) & full;
                (x, y, nx, ny)
            }
            Clue::NextTo(x, y) => {
                let (dx, dy) = (get(st, x), get(st, y));
                let nx = dx & ((dy << 1) | (dy >> 1)) & full;
                let ny = dy & ((nx << 1) | (nx >> 1)) & full;
                (x, y, nx, ny)
            }
        };
        let (ox, oy) = (get(st, x), get(st, y));
        let cx = self.set(st, x, nx, ox)?;
        let cy = self.set(st, y, ny, oy)?;
        Some(cx || cy)
    }

    fn set(&self, st: &mut State, e: Ent, new: u8, old: u8) -> Option<bool> {
        if new == 0 {
            return None;
        }
        st.dom[usize::from(e.a)][usize::from(e.v)] = new;
        Some(new != old)
    }

    /// All-different for one attribute: singletons exclude their house from
    /// the other values; a house possible for only one value takes it.
    fn all_different(&self, st: &mut State, a: usize) -> Option<bool> {
        let row = &mut st.dom[a][..self.n];
        let mut changed = false;
        loop {
            // Houses offered by at least one value, by two or more, and
            // the houses already taken by a decided value.
            let (mut once, mut twice, mut taken) = (0u8, 0u8, 0u8);
            for &d in row.iter() {
                if d == 0 {
                    return None;
                }
                twice |= once & d;
                once |= d;
                if d & (d - 1) == 0 {
                    if taken & d != 0 {
                        return None;
                    }
                    taken |= d;
                }
            }
            if once != self.full {
                return None;
            }
            let only = once & !twice;
            let mut again = false;
            for d in row.iter_mut() {
                let mut nd = *d;
                if nd & (nd - 1) != 0 {
                    nd &= !taken;
                }
                let mine = *d & only;
                if mine != 0 {
                    if mine & (mine - 1) != 0 {
                        return None;
                    }
                    nd = mine;
                }
                if nd == 0 {
                    return None;
                }
                if nd != *d {
                    *d = nd;
                    again = true;
                }
            }
            if !again {
                return Some(changed);
            }
            changed = true;
        }
    }

    /// Index of an entity in `0..n * m` (at most 42, so bit sets fit a u64).
    fn idx(&self, e: Ent) -> usize {
        usize::from(e.a) * self.n + usize::from(e.v)
    }

    /// Every entity as a bit set.
    fn all_entities(&self) -> u64 {
        (1u64 << (self.n * self.m)) - 1
    }

    /// Index `clues` by the entities they mention.
    fn model<'c>(&self, clues: &'c [Clue]) -> Model<'c> {
        let mut count = vec![0usize; self.n * self.m + 1];
        for c in clues {
            let (x, y) = c.entities();
            count[self.idx(x) + 1] += 1;
            if let Some(y) = y {
                count[self.idx(y) + 1] += 1;
            }
        }
        for i in 1..count.len() {
            count[i] += count[i - 1];
        }
        let start = count.clone();
        let mut watch = vec![0usize; start[start.len() - 1]];
        for (ci, c) in clues.iter().enumerate() {
            let (x, y) = c.entities();
            for e in std::iter::once(x).chain(y) {
                let i = self.idx(e);
                watch[count[i]] = ci;
                count[i] += 1;
            }
        }
        Model {
            clues,
            start,
            watch,
        }
    }

    /// Propagate to a fixpoint after the domains of the entities in `dirty`
    /// changed (all entities for a fresh state); false on contradiction.
    fn propagate(&self, st: &mut State, model: &Model, mut dirty: u64) -> bool {
        let row_bits = (1u64 << self.n) - 1;
        let mut attrs: u8 = 0;
        for a in 0..self.m {
            if dirty >> (a * self.n) & row_bits != 0 {
                attrs |= 1 << a;
            }
        }
        let dom = |st: &State, e: Ent| st.dom[usize::from(e.a)][usize::from(e.v)];
        loop {
            while dirty != 0 {
                let i = dirty.trailing_zeros() as usize;
                dirty &= dirty - 1;
                for &ci in &model.watch[model.start[i]..model.start[i + 1]] {
                    let c = model.clues[ci];
                    let (x, y) = c.entities();
                    let (bx, by) = (dom(st, x), y.map(|y| dom(st, y)));
                    if self.apply(st, c).is_none() {
                        return false;
                    }
                    if dom(st, x) != bx {
                        dirty |= 1 << self.idx(x);
                        attrs |= 1 << x.a;
                    }
                    if let (Some(y), Some(by)) = (y, by)
                        && dom(st, y) != by
                    {
                        dirty |= 1 << self.idx(y);
                        attrs |= 1 << y.a;
                    }
                }
            }
            if attrs == 0 {
                return true;
            }
            for a in 0..self.m {
                if attrs & (1 << a) == 0 {
                    continue;
                }
                attrs &= !(1 << a);
                let before = st.dom[a];
                if self.all_different(st, a).is_none() {
                    return false;
                }
                for (v, (now, was)) in st.dom[a].iter().zip(before).take(self.n).enumerate() {
                    if *now != was {
                        dirty |= 1 << (a * self.n + v);
                    }
                }
            }
        }
    }

    /// Collect solutions of an already propagated state into `found`
    /// until it holds `limit` of them.
    fn search(&self, st: &State, model: &Model, limit: usize, found: &mut Vec<State>) {
        let mut best: Option<(usize, usize)> = None;
        let mut best_k = u32::MAX;
        for a in 0..self.m {
            for v in 0..self.n {
                let k = st.dom[a][v].count_ones();
                if k > 1 && k < best_k {
                    best_k = k;
                    best = Some((a, v));
                }
            }
        }
        let Some((a, v)) = best else {
            found.push(*st);
            return;
        };
        let mut d = st.dom[a][v];
        while d != 0 && found.len() < limit {
            let bit = d & d.wrapping_neg();
            d &= !bit;
            let mut next = *st;
            next.dom[a][v] = bit;
            if self.propagate(&mut next, model, 1 << (a * self.n + v)) {
                self.search(&next, model, limit, found);
            }
        }
    }

    /// Number of solutions of `clues`, counting at most `limit`.
    fn solutions(&self, clues: &[Clue], limit: usize) -> usize {
        let model = self.model(clues);
        let mut st = self.initial();
        if !self.propagate(&mut st, &model, self.all_entities()) {
            return 0;
        }
        if self.solved(&st) {
            return 1;
        }
        let mut found = Vec::new();
        self.search(&st, &model, limit, &mut found);
        found.len()
    }

    fn solved(&self, st: &State) -> bool {
        (0..self.m).all(|a| (0..self.n).all(|v| st.dom[a][v].count_ones() == 1))
    }
}

/// Relative weights of the clue kinds, in `Clue` declaration order.
const WEIGHTS: [u64; 7] = [1, 2, 3, 2, 2, 2, 2];

/// A random clue that holds for `pos` (`at[h][a]` = value in house h).
fn random_clue(rng: &mut Rng, n: usize, m: usize, pos: &[Vec<usize>], at: &[Vec<usize>]) -> Clue {
    let e = |a: usize, v: usize| Ent {
        a: a as u8,
        v: v as u8,
    };
    let in_house = |a: usize, h: usize| e(a, at[h][a]);
    let total: u64 = WEIGHTS.iter().sum();
    let mut r = rng.below(total);
    let mut kind = 0;
    while r >= WEIGHTS[kind] {
        r -= WEIGHTS[kind];
        kind += 1;
    }
    // Kinds that need two attributes fall back to a position clue when m == 1.
    match kind {
        1 => {
            let (a, v) = (rng.index(m), rng.index(n));
            let h = (pos[a][v] + 1 + rng.index(n - 1)) % n;
            Clue::NotAt(e(a, v), h as u8)
        }
        2 if m >= 2 => {
            let h = rng.index(n);
            let two = rng.sample_indices(m, 2);
            let (x, y) = sorted(in_house(two[0], h), in_house(two[1], h));
            Clue::Same(x, y)
        }
        3 if m >= 2 => {
            let hs = rng.sample_indices(n, 2);
            let two = rng.sample_indices(m, 2);
            let (x, y) = sorted(in_house(two[0], hs[0]), in_house(two[1], hs[1]));
            Clue::NotSame(x, y)
        }
        4 => {
            let mut hs = rng.sample_indices(n, 2);
            hs.sort_unstable();
            Clue::LeftOf(in_house(rng.index(m), hs[0]), in_house(rng.index(m), hs[1]))
        }
        5 => {
            let h = rng.index(n - 1);
            Clue::ImmLeft(in_house(rng.index(m), h), in_house(rng.index(m), h + 1))
        }
        6 => {
            let h = rng.index(n - 1);
            let (x, y) = sorted(in_house(rng.index(m), h), in_house(rng.index(m), h + 1));
            Clue::NextTo(x, y)
        }
        _ => {
            let (a, v) = (rng.index(m), rng.index(n));
            Clue::At(e(a, v), pos[a][v] as u8)
        }
    }
}

/// Plant a solution and choose a minimal clue set with a unique solution.
fn generate_puzzle(rng: &mut Rng, n: usize, m: usize) -> Puzzle {
    let pos: Vec<Vec<usize>> = (0..m).map(|_| rng.permutation(n)).collect();
    let mut at = vec![vec![0usize; m]; n];
    for (a, row) in pos.iter().enumerate() {
        for (v, &h) in row.iter().enumerate() {
            at[h][a] = v;
        }
    }
    let solver = Solver::new(n, m);
    let mut planted = solver.initial();
    for (a, row) in pos.iter().enumerate() {
        for (v, &h) in row.iter().enumerate() {
            planted.dom[a][v] = 1 << h;
        }
    }
    let mut clues: Vec<Clue> = Vec::new();
    let mut root = solver.initial();
    let mut found = Vec::new();
    let mut dirty = 0u64;
    // Until unique: find a solution other than the planted one and add a
    // random clue (true of the planted solution) that rules it out.
    loop {
        let model = solver.model(&clues);
        // `root` is a fixpoint of the earlier clues; propagate the new one.
        // Every clue holds for the planted solution, so this cannot fail.
        let consistent = solver.propagate(&mut root, &model, dirty);
        debug_assert!(consistent);
        if solver.solved(&root) {
            break;
        }
        found.clear();
        solver.search(&root, &model, 2, &mut found);
        let Some(alt) = found.iter().find(|s| **s != planted) else {
            break;
        };
        let alt_pos =
            |e: Ent| alt.dom[usize::from(e.a)][usize::from(e.v)].trailing_zeros() as usize;
        let mut draws = 0;
        let clue = loop {
            draws += 1;
            if draws > 100 {
                // Fallback that always works: fix a value the alternative
                // solution misplaces.
                let wrong: Vec<(usize, usize)> = (0..m)
                    .flat_map(|a| (0..n).map(move |v| (a, v)))
                    .filter(|&(a, v)| alt.dom[a][v] != planted.dom[a][v])
                    .collect();
                let &(a, v) = rng.choose(&wrong).unwrap_or(&(0, 0));
                break Clue::At(
                    Ent {
                        a: a as u8,
                        v: v as u8,
                    },
                    pos[a][v] as u8,
                );
            }
            let c = random_clue(rng, n, m, &pos, &at);
            // A clue the alternative violates is new (it satisfies all
            // earlier clues).
            if !c.holds(alt_pos) {
                break c;
            }
        };
        let (x, y) = clue.entities();
        dirty = std::iter::once(x)
            .chain(y)
            .fold(0, |d, e| d | 1 << solver.idx(e));
        clues.push(clue);
    }
    // Drop redundant clues in random order.
    let mut keep = vec![true; clues.len()];
    for i in rng.permutation(clues.len()) {
        keep[i] = false;
        let subset: Vec<Clue> = clues
            .iter()
            .zip(&keep)
            .filter(|&(_, &k)| k)
            .map(|(&c, _)| c)
            .collect();
        if solver.solutions(&subset, 2) != 1 {
            keep[i] = true;
        }
    }
    let mut clues: Vec<Clue> = clues
        .into_iter()
        .zip(keep)
        .filter(|&(_, k)| k)
        .map(|(c, _)| c)
        .collect();
    rng.shuffle(&mut clues);
    Puzzle { pos, clues }
}

#[cfg(test)]
mod tests {
    use super::*;
    use resyn_core::probes::reference_answer;
    use resyn_core::testing::Conformance;
    use resyn_core::{Environment, Instance};

    use crate::Native;

    fn lines(answer: &str) -> Vec<(String, Vec<String>)> {
        answer
            .lines()
            .map(|l| {
                let (h, r) = l.split_once(": ").unwrap();
                (h.to_string(), r.split(", ").map(str::to_string).collect())
            })
            .collect()
    }

    fn join(ls: &[(String, Vec<String>)]) -> String {
        ls.iter()
            .map(|(h, r)| format!("{h}: {}", r.join(", ")))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn mutations(answer: &str, rng: &mut Rng) -> Vec<String> {
        let g = lines(answer);
        let (n, m) = (g.len(), g[0].1.len());
        let mut out = Vec::new();
        let (h, a) = (rng.index(n), rng.index(m));
        let h2 = (h + 1 + rng.index(n - 1)) % n;
        // Swap one attribute between two houses (the solution is unique).
        let mut x = g.clone();
        let tmp = x[h].1[a].clone();
        x[h].1[a] = x[h2].1[a].clone();
        x[h2].1[a] = tmp;
        out.push(join(&x));
        // Swap two houses' whole rows (keeping the labels).
        let mut x = g.clone();
        let tmp = x[h].1.clone();
        x[h].1 = x[h2].1.clone();
        x[h2].1 = tmp;
        out.push(join(&x));
        // Swap two values within a row (attribute order matters).
        if m >= 2 {
            let mut x = g.clone();
            x[h].1.swap(0, 1);
            out.push(join(&x));
        }
        // Duplicate a value, drop a value, add a value, drop a line, relabel.
        let mut x = g.clone();
        x[h].1[a] = g[h2].1[a].clone();
        out.push(join(&x));
        let mut x = g.clone();
        x[h].1.pop();
        out.push(join(&x));
        let mut x = g.clone();
        x[h].1.push(g[h].1[0].clone());
        out.push(join(&x));
        let mut x = g.clone();
        x.remove(h);
        out.push(join(&x));
        let mut x = g.clone();
        x[h].0 = format!("House {}", h2 + 1);
        x[h2].0 = format!("House {}", h + 1);
        out.push(join(&x));
        let mut x = g;
        x[h].1[a] = "zebra".into();
        out.push(join(&x));
        out
    }

    #[test]
    fn conformance() {
        let env = Native::new(ZebraPuzzle);
        let r = Conformance::new(&env)
            .seeds(12)
            .wrong(|inst, rng| mutations(reference_answer(inst), rng))
            .run();
        assert!(r.rejected > 1500, "{r:?}");
    }

    /// All `(n!)^m` assignments satisfying `clues`, by brute force with the
    /// independent `Clue::holds` evaluation.
    fn brute_force(n: usize, m: usize, clues: &[Clue], limit: usize) -> Vec<Vec<Vec<usize>>> {
        fn perms(n: usize) -> Vec<Vec<usize>> {
            if n == 0 {
                return vec![vec![]];
            }
            let mut out = Vec::new();
            for p in perms(n - 1) {
                for i in 0..n {
                    let mut q = p.clone();
                    q.insert(i, n - 1);
                    out.push(q);
                }
            }
            out
        }
        let ps = perms(n);
        let total = ps.len().pow(m as u32);
        let mut found = Vec::new();
        for code in 0..total {
            let pos: Vec<&Vec<usize>> = (0..m)
                .map(|a| &ps[code / ps.len().pow(a as u32) % ps.len()])
                .collect();
            let f = |e: Ent| pos[usize::from(e.a)][usize::from(e.v)];
            if clues.iter().all(|c| c.holds(f)) {
                found.push(pos.into_iter().cloned().collect());
                if found.len() >= limit {
                    break;
                }
            }
        }
        found
    }

    #[test]
    fn unique_by_brute_force() {
        let mut rng = Rng::from_seed(17);
        for (n, m, reps) in [(2, 2, 30), (3, 2, 30), (3, 3, 30), (4, 3, 10), (4, 4, 2)] {
            for _ in 0..reps {
                let p = generate_puzzle(&mut rng, n, m);
                let sols = brute_force(n, m, &p.clues, 2);
                assert_eq!(sols.len(), 1, "{n}x{m}: {:?}", p.clues);
                assert_eq!(sols[0], p.pos);
                // Minimal: dropping any clue loses uniqueness.
                for i in 0..p.clues.len() {
                    let mut fewer = p.clues.clone();
                    fewer.remove(i);
                    assert_eq!(brute_force(n, m, &fewer, 2).len(), 2, "{n}x{m}");
                }
            }
        }
    }

    #[test]
    fn solver_counts_match_brute_force_on_random_clue_sets() {
        // Random true and false clues (so some sets are unsatisfiable):
        // the solver's count capped at 3 equals the brute-force count.
        let mut rng = Rng::from_seed(3);
        for (n, m) in [(2, 2), (3, 2), (3, 3), (4, 2)] {
            let solver = Solver::new(n, m);
            for _ in 0..150 {
                let pos: Vec<Vec<usize>> = (0..m).map(|_| rng.permutation(n)).collect();
                let mut at = vec![vec![0usize; m]; n];
                for (a, row) in pos.iter().enumerate() {
                    for (v, &h) in row.iter().enumerate() {
                        at[h][a] = v;
                    }
                }
                let k = rng.range(0, 6);
                let clues: Vec<Clue> = (0..k)
                    .map(|_| {
                        // Clues true of a fresh random solution each time.
                        let other: Vec<Vec<usize>> = (0..m).map(|_| rng.permutation(n)).collect();
                        let mut at2 = vec![vec![0usize; m]; n];
                        for (a, row) in other.iter().enumerate() {
                            for (v, &h) in row.iter().enumerate() {
                                at2[h][a] = v;
                            }
                        }
                        if rng.chance(1, 2) {
                            random_clue(&mut rng, n, m, &pos, &at)
                        } else {
                            random_clue(&mut rng, n, m, &other, &at2)
                        }
                    })
                    .collect();
                let want = brute_force(n, m, &clues, 3).len();
                assert_eq!(solver.solutions(&clues, 3), want, "{n}x{m} {clues:?}");
            }
        }
    }

    #[test]
    fn every_clue_holds_for_the_solution_large() {
        let mut rng = Rng::from_seed(8);
        for d in 6..=10u8 {
            let (n, m) = params(d);
            for _ in 0..5 {
                let p = generate_puzzle(&mut rng, n, m);
                let f = |e: Ent| p.pos[usize::from(e.a)][usize::from(e.v)];
                assert!(p.clues.iter().all(|c| c.holds(f)));
                let solver = Solver::new(n, m);
                assert_eq!(solver.solutions(&p.clues, 2), 1);
            }
        }
    }

    fn data_of(inst: &Instance) -> Data {
        serde_json::from_value(inst.data.clone()).unwrap()
    }

    #[test]
    fn vocabularies_are_disjoint_words() {
        let mut all = std::collections::BTreeSet::new();
        for c in &CATEGORIES {
            for v in c.values {
                assert!(v.chars().all(|ch| ch.is_ascii_alphabetic()));
                assert!(all.insert(v.to_lowercase()), "{v}");
            }
        }
        let env = Native::new(ZebraPuzzle);
        let data = data_of(&env.generate(1, 10).unwrap());
        assert_eq!(data.solution.len(), 7);
        assert_eq!(data.attrs.len(), 6);
    }

    #[test]
    fn accepts_format_variants() {
        let env = Native::new(ZebraPuzzle);
        let inst = env.generate(6, 7).unwrap();
        let ans = reference_answer(&inst);
        let variants = [
            ans.to_lowercase(),
            ans.to_uppercase(),
            ans.replace(", ", ","),
            ans.replace(": ", " :  "),
            format!("\n{}\n", ans.replace('\n', "\n\n")),
            ans.replace("House", "house"),
        ];
        for v in variants {
            let verdict = env.verify(&inst, &format!("<answer>{v}</answer>"));
            assert!(verdict.correct, "{v}: {verdict:?}");
        }
    }

    #[test]
    fn clue_text_and_timing() {
        let env = Native::new(ZebraPuzzle);
        let inst = env.generate(0, 5).unwrap();
        assert!(inst.prompt.contains("Clues:\n1. "));
        let start = std::time::Instant::now();
        for seed in 0..10 {
            env.generate(seed, 10).unwrap();
        }
        // Generous bound for unoptimized test builds on a loaded machine.
        assert!((start.elapsed() / 10).as_millis() < 50);
    }

    proptest::proptest! {
        #[test]
        fn check_is_total(s in "(?s).{0,300}", d in 1u8..=10) {
            let env = Native::new(ZebraPuzzle);
            let inst = env.generate(3, d).unwrap();
            let v = env.verify(&inst, &format!("<answer>{s}</answer>"));
            proptest::prop_assert!(!v.correct);
        }

        #[test]
        fn check_is_total_on_near_answers(s in "(House [0-3]: (Alice|Bob|Carol|red|tea)(, )?){0,6}\n?") {
            let env = Native::new(ZebraPuzzle);
            let inst = env.generate(3, 2).unwrap();
            let v = env.verify(&inst, &format!("<answer>{s}</answer>"));
            proptest::prop_assert!((0.0..=1.0).contains(&v.reward));
        }
    }
}
