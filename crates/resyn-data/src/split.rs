//! Dataset splits and the deterministic split assignment.
//!
//! Instances are assigned in build order by largest deficit: the next one
//! goes to the split whose count lags its target fraction most (ties to
//! the earlier split). After `n` instances every split holds its fraction
//! of `n` to within one instance, and since each environment's instances
//! come in a seeded random difficulty order, every split gets a fair share
//! of every environment and level. Duplicates are dropped before
//! assignment, so no prompt is in two splits.

use serde::{Deserialize, Serialize};

/// A dataset split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Training data.
    Train,
    /// Validation data (verl's `val_files`).
    Validation,
    /// Held-out test data.
    Test,
}

impl Split {
    /// All splits, in file order.
    pub const ALL: [Split; 3] = [Self::Train, Self::Validation, Self::Test];

    /// The name used in file names and `extra_info.split`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Validation => "validation",
            Self::Test => "test",
        }
    }

    /// Position in [`Split::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Largest-deficit split assignment (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct Splitter {
    fractions: [f64; 3],
    counts: [u64; 3],
}

impl Splitter {
    pub(crate) fn new(fractions: [f64; 3]) -> Self {
        Self {
            fractions,
            counts: [0; 3],
        }
    }

    /// The split of the next instance, and its row index within that split.
    pub(crate) fn next(&mut self) -> (Split, u64) {
        let n = (self.counts.iter().sum::<u64>() + 1) as f64;
        let mut best = 0;
        let mut best_deficit = f64::NEG_INFINITY;
        for (i, (&f, &c)) in self.fractions.iter().zip(&self.counts).enumerate() {
            if f <= 0.0 {
                continue;
            }
            let deficit = f * n - c as f64;
            if deficit > best_deficit {
                best = i;
                best_deficit = deficit;
            }
        }
        let index = self.counts[best];
        self.counts[best] += 1;
        (Split::ALL[best], index)
    }

    /// Rows assigned per split.
    #[cfg(test)]
    pub(crate) fn counts(&self) -> [u64; 3] {
        self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_track_fractions_within_one() {
        let fr = [0.9, 0.07, 0.03];
        let mut s = Splitter::new(fr);
        for n in 1..=5000u64 {
            let (split, idx) = s.next();
            assert_eq!(idx + 1, s.counts()[split.index()]);
            for (f, c) in fr.iter().zip(s.counts()) {
                assert!((f * n as f64 - c as f64).abs() < 1.0 + 1e-9, "n={n}");
            }
        }
    }

    #[test]
    fn zero_fractions_get_nothing() {
        let mut s = Splitter::new([1.0, 0.0, 0.0]);
        for _ in 0..100 {
            assert_eq!(s.next().0, Split::Train);
        }
    }
}
