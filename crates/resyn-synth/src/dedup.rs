//! Stage 7: near-duplicate detection and decontamination.
//!
//! - Descriptions: MinHash signatures ([`MinHash`], 64 hashes) over word
//!   3-shingles of the normalized `DESCRIPTION`; two environments whose
//!   estimated Jaccard similarity reaches [`DedupConfig::description_threshold`]
//!   are near duplicates.
//! - Templates: names seed the RNG, so a copy renamed generates different
//!   instances; what stays the same is the prompt *template*. Prompts of the
//!   validation instances are normalized (digits → `#`, whitespace
//!   collapsed) and MinHashed over word 5-shingles; similarity at or above
//!   [`DedupConfig::behaviour_threshold`] is a template duplicate.
//! - Behaviour, wording aside: a paraphrase of a task shares neither its
//!   description nor its template, but it asks the same thing, so the other
//!   environment's verifier accepts its reference answers on its own
//!   instances. Environments whose answers look alike ([`Shape`]: the data
//!   keys or the shapes of the answers, digits and words abstracted) are run
//!   that way, in both directions (see `pipeline::unique`): the known
//!   verifier on the candidate's instances, and the candidate's verifier on
//!   the known environment's instances, which catches a candidate that only
//!   checks the same task more leniently (any layout where the known one
//!   wants one exact form). Data fields holding the answer itself are
//!   removed first ([`without_answer_fields`]), so two verifiers that merely
//!   compare with a stored answer do not make unrelated tasks duplicates.
//!   A fingerprint stored before shapes were recorded has an empty (unknown)
//!   shape; its environment's shape is taken from generated instances.
//! - Decontamination: word n-grams ([`DedupConfig::ngram`], default 13, the
//!   customary size) of generated prompts are looked up in the n-grams of
//!   user-supplied benchmark files; any shared n-gram rejects the environment.
//!   Both sides are normalized first — case, punctuation, and every number
//!   replaced by `#` — so a benchmark template copied with its numbers
//!   changed still matches. An n-gram must hold at least half words (not
//!   numbers): two lists of numbers are not a copy.

use std::collections::{BTreeSet, HashSet};

use resyn_core::Instance;
use resyn_core::probes::reference_answer;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DedupConfig {
    /// Description similarity that makes a near duplicate.
    pub description_threshold: f64,
    /// Prompt-template similarity that makes a behavioural duplicate.
    pub behaviour_threshold: f64,
    /// Word n-gram size for decontamination.
    pub ngram: usize,
    /// Share of one environment's reference answers the other's verifier
    /// must accept (on the first one's instances), in either direction
    /// between a candidate and a known environment, to make the candidate a
    /// behavioural duplicate.
    pub verifier_acceptance: f64,
}

impl Default for DedupConfig {
    fn default() -> Self {
        Self {
            description_threshold: 0.7,
            behaviour_threshold: 0.9,
            ngram: 13,
            verifier_acceptance: 0.9,
        }
    }
}

const HASHES: usize = 64;

/// A MinHash signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinHash(pub Vec<u64>);

fn h64(salt: u64, s: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(salt.to_le_bytes());
    h.update(s.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_le_bytes(b)
}

/// Lower-cased words (alphanumeric runs).
pub fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric() && c != '#')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Word `k`-shingles of a text (the whole text when shorter).
pub fn shingles(s: &str, k: usize) -> HashSet<String> {
    let w = words(s);
    if w.len() <= k {
        return std::iter::once(w.join(" ")).collect();
    }
    w.windows(k).map(|x| x.join(" ")).collect()
}

impl MinHash {
    /// The signature of a shingle set. Each of the 64 hash functions is
    /// SHA-256 keyed with its index, reduced to 64 bits: slow-ish but
    /// stable across platforms and versions (signatures are stored).
    pub fn of(shingles: &HashSet<String>) -> Self {
        let base: Vec<u64> = shingles.iter().map(|s| h64(u64::MAX, s)).collect();
        let sig = (0..HASHES as u64)
            .map(|k| {
                // Derive hash k from one base hash by an odd-multiplier mix.
                let a = (k.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1;
                let b = k.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
                base.iter()
                    .map(|&x| mix(x.wrapping_mul(a).wrapping_add(b)))
                    .min()
                    .unwrap_or(u64::MAX)
            })
            .collect();
        Self(sig)
    }

    /// Estimated Jaccard similarity.
    pub fn similarity(&self, other: &MinHash) -> f64 {
        if self.0.len() != other.0.len() || self.0.is_empty() {
            return 0.0;
        }
        let same = self.0.iter().zip(&other.0).filter(|(a, b)| a == b).count();
        #[allow(clippy::cast_precision_loss)]
        let s = same as f64 / self.0.len() as f64;
        s
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A prompt with every run of digits replaced by one `#` and whitespace
/// collapsed: what stays when only the random numbers change.
pub fn template(prompt: &str) -> String {
    let mut t = String::with_capacity(prompt.len());
    let mut in_digits = false;
    for c in prompt.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                t.push('#');
            }
            in_digits = true;
        } else {
            in_digits = false;
            t.push(c);
        }
    }
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What identifies an environment for duplicate detection (stored with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// MinHash of the description's word 3-shingles.
    pub description: MinHash,
    /// MinHash of the prompt templates' word 5-shingles.
    pub behaviour: MinHash,
    /// What its answers look like (empty for environments stored before
    /// it was recorded: dedup takes theirs from instances it generates).
    #[serde(default)]
    pub shape: Shape,
}

impl Fingerprint {
    /// Fingerprint of a description and some prompts.
    pub fn new<'a>(description: &str, prompts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut sh = HashSet::new();
        for p in prompts {
            sh.extend(shingles(&template(p), 5));
        }
        Self {
            description: MinHash::of(&shingles(description, 3)),
            behaviour: MinHash::of(&sh),
            shape: Shape::default(),
        }
    }

    /// With the answer shape of `instances`.
    #[must_use]
    pub fn with_shape<'a>(mut self, instances: impl IntoIterator<Item = &'a Instance>) -> Self {
        self.shape = Shape::of(instances);
        self
    }
}

/// What the answers of an environment look like, wording aside: the keys of
/// its instance data and the shapes of its reference answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    /// Top-level data keys (sorted), or the data's JSON type.
    pub data_keys: Vec<String>,
    /// Distinct answer shapes (sorted; see [`answer_shape`]).
    pub answers: Vec<String>,
}

impl Shape {
    /// The shape of some instances.
    pub fn of<'a>(instances: impl IntoIterator<Item = &'a Instance>) -> Self {
        let mut keys = BTreeSet::new();
        let mut answers = BTreeSet::new();
        for i in instances {
            match &i.data {
                serde_json::Value::Object(o) => keys.extend(o.keys().cloned()),
                other => {
                    keys.insert(format!("<{}>", json_type(other)));
                }
            }
            answers.insert(answer_shape(reference_answer(i)));
        }
        Self {
            data_keys: keys.into_iter().collect(),
            answers: answers.into_iter().collect(),
        }
    }

    /// Whether it was taken from any instance (an empty shape is unknown).
    pub fn is_known(&self) -> bool {
        !self.answers.is_empty()
    }

    /// Whether two environments may pose the same task: same data keys, or
    /// at least half of their answer shapes in common. Unknown shapes
    /// resemble nothing.
    pub fn resembles(&self, other: &Shape) -> bool {
        if !self.is_known() || !other.is_known() {
            return false;
        }
        if self.data_keys == other.data_keys {
            return true;
        }
        let a: BTreeSet<&String> = self.answers.iter().collect();
        let b: BTreeSet<&String> = other.answers.iter().collect();
        2 * a.intersection(&b).count() >= a.union(&b).count()
    }
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// An answer with every digit run written `9`, every letter run `a` and
/// every whitespace run one space: `"12 -3"` → `"9 -9"`, `"(1,2)"` →
/// `"(9,9)"`, `"yes"` → `"a"`.
pub fn answer_shape(answer: &str) -> String {
    let mut out = String::new();
    let mut last = None;
    for c in answer.trim().chars() {
        let class = if c.is_ascii_digit() {
            '9'
        } else if c.is_alphabetic() {
            'a'
        } else if c.is_whitespace() {
            ' '
        } else {
            c
        };
        if !(Some(class) == last && matches!(class, '9' | 'a' | ' ')) {
            out.push(class);
        }
        last = Some(class);
    }
    out
}

/// `data` without the top-level fields whose value is the answer itself
/// (the reference, as a string or a number): a verifier that only compares
/// with such a field proves nothing about the task.
pub fn without_answer_fields(data: &serde_json::Value, answer: &str) -> serde_json::Value {
    let answer = answer.trim();
    match data {
        serde_json::Value::Object(o) => serde_json::Value::Object(
            o.iter()
                .filter(|(_, v)| {
                    let text = match v {
                        serde_json::Value::String(s) => s.trim().to_string(),
                        other => other.to_string(),
                    };
                    text != answer
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Why an environment is a duplicate.
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicate {
    /// `near_duplicate_description`, `template_duplicate` or
    /// `behavioural_duplicate`.
    pub reason: &'static str,
    /// The environment it duplicates.
    pub of: String,
    /// Estimated similarity.
    pub similarity: f64,
}

/// The first existing environment `fp` duplicates.
pub fn find_duplicate<'a>(
    fp: &Fingerprint,
    existing: impl IntoIterator<Item = (&'a str, &'a Fingerprint)>,
    cfg: &DedupConfig,
) -> Option<Duplicate> {
    for (name, other) in existing {
        let b = fp.behaviour.similarity(&other.behaviour);
        if b >= cfg.behaviour_threshold {
            return Some(Duplicate {
                reason: "template_duplicate",
                of: name.to_string(),
                similarity: b,
            });
        }
        let d = fp.description.similarity(&other.description);
        if d >= cfg.description_threshold {
            return Some(Duplicate {
                reason: "near_duplicate_description",
                of: name.to_string(),
                similarity: d,
            });
        }
    }
    None
}

/// N-grams of benchmark texts, for decontamination.
#[derive(Debug, Clone, Default)]
pub struct Contamination {
    n: usize,
    grams: HashSet<u64>,
    /// Texts indexed.
    pub texts: usize,
}

impl Contamination {
    /// An empty index of `n`-grams.
    pub fn new(n: usize) -> Self {
        Self {
            n: n.max(1),
            ..Self::default()
        }
    }

    /// Index a benchmark file: JSON Lines (every string value of every
    /// record), a JSON array, or plain text (one item per non-empty line).
    pub fn add_file_text(&mut self, text: &str) {
        let mut strings = Vec::new();
        let trimmed = text.trim_start();
        if trimmed.starts_with('[')
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(trimmed)
        {
            collect_strings(&v, &mut strings);
        }
        if strings.is_empty() {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                match serde_json::from_str::<serde_json::Value>(line) {
                    Ok(v) if v.is_object() || v.is_array() => collect_strings(&v, &mut strings),
                    _ => strings.push(line.to_string()),
                }
            }
        }
        for s in strings {
            self.add(&s);
        }
    }

    /// Index one text.
    pub fn add(&mut self, text: &str) {
        self.texts += 1;
        for g in self.grams_of(text) {
            self.grams.insert(h64(0, &g));
        }
    }

    /// The normalized n-grams of a text that hold enough words.
    fn grams_of(&self, text: &str) -> Vec<String> {
        let n = self.n;
        words(&template(text))
            .windows(n)
            .filter(|g| 2 * g.iter().filter(|t| t.as_str() != "#").count() >= n)
            .map(|g| g.join(" "))
            .collect()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.grams.is_empty()
    }

    /// The first n-gram of `prompt` found in the index.
    pub fn find(&self, prompt: &str) -> Option<String> {
        self.grams_of(prompt)
            .into_iter()
            .find(|g| self.grams.contains(&h64(0, g)))
    }
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minhash_estimates_similarity() {
        let a = Fingerprint::new(
            "Fill a grid so every row and column holds each number once.",
            ["Solve 3 4"],
        );
        let b = Fingerprint::new(
            "Fill a grid so every row and column holds each number once!",
            ["Solve 7 9"],
        );
        let c = Fingerprint::new(
            "Find the shortest path between two cities in a weighted graph.",
            ["Path?"],
        );
        assert!(a.description.similarity(&b.description) > 0.9);
        assert!(a.behaviour.similarity(&b.behaviour) > 0.99);
        assert!(a.description.similarity(&c.description) < 0.2);
        let cfg = DedupConfig::default();
        let d = find_duplicate(&b, [("a", &a)], &cfg).unwrap();
        assert_eq!((d.reason, d.of.as_str()), ("template_duplicate", "a"));
        assert!(find_duplicate(&c, [("a", &a)], &cfg).is_none());
        assert_eq!(template("Add 12 and  7."), "Add # and #.");
    }

    #[test]
    fn answer_shapes_abstract_numbers_and_words() {
        assert_eq!(answer_shape(" 12 -3 "), "9 -9");
        assert_eq!(answer_shape("(1, 22)\n(3,4)"), "(9, 9) (9,9)");
        assert_eq!(answer_shape("Yes"), "a");
        let inst = |data: serde_json::Value, answer: &str| Instance {
            id: String::new(),
            env: "e".into(),
            env_version: 1,
            seed: 0,
            difficulty: 1,
            prompt: String::new(),
            data,
            reference: resyn_core::wrap_answer(answer),
        };
        let a = Shape::of(&[inst(serde_json::json!({"a": 1, "b": 2}), "5")]);
        let b = Shape::of(&[inst(serde_json::json!({"x": 1}), "17")]);
        let c = Shape::of(&[inst(serde_json::json!({"x": 1}), "RDLU")]);
        assert!(a.resembles(&b), "same answer shape");
        assert!(!a.resembles(&c));
        assert!(b.resembles(&c), "same data keys");
        assert!(!Shape::default().resembles(&a));
        let data = serde_json::json!({"n": 5, "answer": "120", "check": 120, "note": "x"});
        assert_eq!(
            without_answer_fields(&data, " 120\n"),
            serde_json::json!({"n": 5, "note": "x"})
        );
    }

    #[test]
    fn contamination_finds_shared_ngrams() {
        let mut idx = Contamination::new(5);
        idx.add_file_text("{\"input\": \"If you follow these instructions, do you return to the starting point?\", \"target\": \"No\"}\nplain line of text here for you\n");
        assert_eq!(idx.texts, 3);
        assert!(
            idx.find("Q: if you follow these instructions do you return home")
                .is_some()
        );
        assert!(
            idx.find("Completely unrelated prompt about sudoku grids and rows")
                .is_none()
        );
    }

    #[test]
    fn contamination_sees_through_changed_numbers_case_and_punctuation() {
        let mut idx = Contamination::new(8);
        idx.add_file_text(
            "Janet has 16 ducks; she eats 3 eggs for breakfast every morning and bakes muffins with 4.\n",
        );
        // The same template with its own numbers, case and punctuation.
        assert!(
            idx.find("JANET HAS 23 DUCKS, SHE EATS 5 EGGS FOR BREAKFAST EVERY MORNING AND BAKES MUFFINS WITH 2!")
                .is_some()
        );
        // Lists of numbers share no words: not a copy.
        let mut nums = Contamination::new(5);
        nums.add("1 2 3 4 5 6 7 8 9 10 and more");
        assert!(nums.find("Sort 9 8 7 6 5 4 3 2 1 please").is_none());
    }
}
