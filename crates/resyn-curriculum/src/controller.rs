//! The per-environment difficulty controller and the environment weights.
//!
//! Invariants:
//! - An environment's difficulty distribution depends only on its centre
//!   and bounds ([`distribution`]); the centre moves only at a decision.
//! - A decision consumes exactly the window of outcomes since the previous
//!   decision (at least `min_samples` of them) and resets it; outcomes of
//!   instances drawn before the centre last moved (stale epochs) never
//!   enter a window.
//! - Only arithmetic (no `exp`/`ln`) decides anything, so decisions are
//!   the same on every platform.

use serde::{Deserialize, Serialize};

use crate::CurriculumConfig;

/// Whether an environment is still drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// Drawn from, with its weight.
    Active,
    /// Saturated at its top level: never drawn again in this run.
    Retired,
    /// Unusable (no difficulty in its bounds, or repeated generation
    /// failures): never drawn again in this run.
    Disabled,
}

/// What a decision did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Accuracy above the band: the centre moved up.
    Up,
    /// Accuracy below the band: the centre moved down.
    Down,
    /// The centre stayed (accuracy in the band, or at a bound).
    Hold,
    /// Saturated at the top level for `retire_after` decisions in a row.
    Retire,
    /// The environment cannot be used (see `reason`).
    Disable,
}

/// One logged decision; [`crate::Generator::take_decisions`] hands them
/// out in order. As JSON Lines (one object per line, fields in this
/// order): `{"seq", "draws", "outcomes", "env", "action", "samples",
/// "accuracy", "from", "to", "weight", "reason"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// 0-based number of the decision in the run.
    pub seq: u64,
    /// Instances drawn in the run so far (generation attempts included).
    pub draws: u64,
    /// Outcomes reported in the run so far.
    pub outcomes: u64,
    /// Environment id.
    pub env: String,
    /// What was done.
    pub action: Action,
    /// Outcomes in the window the decision was made on.
    pub samples: u64,
    /// Mean reward of that window (none for `disable`).
    pub accuracy: Option<f64>,
    /// Centre of the difficulty distribution before.
    pub from: f64,
    /// Centre after.
    pub to: f64,
    /// Sampling weight of the environment after the decision.
    pub weight: f64,
    /// Why, in words.
    pub reason: String,
}

/// Counters of one environment over the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvStats {
    /// Instances drawn.
    pub drawn: u64,
    /// Outcomes reported.
    pub outcomes: u64,
    /// Sum of reported rewards.
    pub reward_sum: f64,
    /// Outcomes of instances drawn before the centre last moved (not used
    /// for decisions).
    pub stale: u64,
    /// Groups closed (`group_size` outcomes of one instance).
    pub groups: u64,
    /// Closed groups whose rewards were not all equal: the groups with a
    /// GRPO learning signal.
    pub mixed_groups: u64,
    /// Decisions made.
    pub decisions: u64,
}

/// The controller's view of one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct EnvState {
    pub id: String,
    /// Lowest level drawn.
    pub lo: u8,
    /// Highest level drawn.
    pub hi: u8,
    /// Centre of the difficulty distribution.
    pub center: f64,
    /// Number of times the centre moved; stamps draws.
    pub epoch: u32,
    pub status: Status,
    /// Outcomes in the current window and their reward sum.
    pub window_n: u64,
    pub window_sum: f64,
    /// Accuracy of the last decided window.
    pub accuracy: Option<f64>,
    /// Consecutive decisions saturated at the top level.
    pub saturated: u32,
    /// Instance seeds handed out so far (the next seed's offset).
    pub seeds: u64,
    /// Consecutive generation failures.
    pub failures: u32,
    pub stats: EnvStats,
}

impl EnvState {
    pub(crate) fn new(id: String, lo: u8, hi: u8, start: f64) -> Self {
        Self {
            id,
            lo,
            hi,
            center: start.clamp(f64::from(lo), f64::from(hi)),
            epoch: 0,
            status: Status::Active,
            window_n: 0,
            window_sum: 0.0,
            accuracy: None,
            saturated: 0,
            seeds: 0,
            failures: 0,
            stats: EnvStats::default(),
        }
    }

    /// Sampling weight: 0 unless active; 1 before the first decision;
    /// else `floor + (1 - floor) * 4a(1 - a)`, largest at accuracy 1/2,
    /// where a GRPO group most often has both right and wrong answers.
    pub(crate) fn weight(&self, config: &CurriculumConfig) -> f64 {
        if self.status != Status::Active {
            return 0.0;
        }
        match self.accuracy {
            None => 1.0,
            Some(a) => {
                let f = config.weight_floor;
                f + (1.0 - f) * 4.0 * a * (1.0 - a)
            }
        }
    }

    /// Count one outcome; `current` is false for a stale one.
    pub(crate) fn observe(&mut self, reward: f64, current: bool) {
        self.stats.outcomes += 1;
        self.stats.reward_sum += reward;
        if !current {
            self.stats.stale += 1;
            return;
        }
        if self.status == Status::Active {
            self.window_n += 1;
            self.window_sum += reward;
        }
    }

    /// Decide if the window is full: move, hold or retire.
    pub(crate) fn decide(&mut self, config: &CurriculumConfig) -> Option<Pending> {
        if self.status != Status::Active || self.window_n < config.min_samples {
            return None;
        }
        let samples = self.window_n;
        let a = self.window_sum / samples as f64;
        self.window_n = 0;
        self.window_sum = 0.0;
        self.accuracy = Some(a);
        self.stats.decisions += 1;
        let from = self.center;
        let (lo, hi) = (f64::from(self.lo), f64::from(self.hi));
        let at_top = self.center >= hi;
        if at_top && a >= config.retire_accuracy {
            self.saturated += 1;
        } else {
            self.saturated = 0;
        }
        let mid = (config.target_low + config.target_high) / 2.0;
        let step = (config.gain * (a - mid))
            .abs()
            .clamp(config.min_step, config.max_step);
        let (action, reason) = if config.retire_after > 0 && self.saturated >= config.retire_after {
            self.status = Status::Retired;
            (
                Action::Retire,
                format!(
                    "accuracy >= {} at the top level for {} decisions in a row",
                    config.retire_accuracy, self.saturated
                ),
            )
        } else if a > config.target_high && !at_top {
            self.center = (self.center + step).min(hi);
            (
                Action::Up,
                format!("above the band (> {})", config.target_high),
            )
        } else if a < config.target_low && self.center > lo {
            self.center = (self.center - step).max(lo);
            (
                Action::Down,
                format!("below the band (< {})", config.target_low),
            )
        } else if a > config.target_high {
            (Action::Hold, "above the band at the top level".to_string())
        } else if a < config.target_low {
            (
                Action::Hold,
                "below the band at the bottom level".to_string(),
            )
        } else {
            (Action::Hold, "in the band".to_string())
        };
        if self.center != from {
            self.epoch += 1;
        }
        Some(Pending {
            action,
            samples,
            accuracy: Some(a),
            from,
            reason,
        })
    }

    /// Mark the environment unusable.
    pub(crate) fn disable(&mut self, reason: String) -> Pending {
        self.status = Status::Disabled;
        Pending {
            action: Action::Disable,
            samples: 0,
            accuracy: None,
            from: self.center,
            reason,
        }
    }

    /// The difficulty distribution: `(level, probability)` in level order.
    pub(crate) fn distribution(&self, config: &CurriculumConfig) -> Vec<(u8, f64)> {
        distribution(self.center, config.spread, self.lo, self.hi)
    }
}

/// A decision before the run-wide context (sequence number, counters) is
/// attached.
#[derive(Debug)]
pub(crate) struct Pending {
    pub action: Action,
    pub samples: u64,
    pub accuracy: Option<f64>,
    pub from: f64,
    pub reason: String,
}

/// Triangular weights `spread - |d - center|` over the levels `lo..=hi`,
/// normalised, zero-weight levels left out. `spread > 0.5` and `center`
/// inside the bounds keep the nearest level's weight positive.
pub(crate) fn distribution(center: f64, spread: f64, lo: u8, hi: u8) -> Vec<(u8, f64)> {
    let mut v: Vec<(u8, f64)> = (lo..=hi)
        .map(|d| (d, spread - (f64::from(d) - center).abs()))
        .filter(|&(_, w)| w > 0.0)
        .collect();
    let total: f64 = v.iter().map(|x| x.1).sum();
    for x in &mut v {
        x.1 /= total;
    }
    v
}

/// Index of the item a uniform `u` in `[0, 1)` falls on, by weight;
/// `None` when no weight is positive. Zero weights are never chosen.
pub(crate) fn pick(weights: impl Iterator<Item = f64> + Clone, u: f64) -> Option<usize> {
    let total: f64 = weights.clone().sum();
    if total <= 0.0 {
        return None;
    }
    let x = u * total;
    let mut acc = 0.0;
    let mut last = None;
    for (i, w) in weights.enumerate() {
        if w <= 0.0 {
            continue;
        }
        acc += w;
        last = Some(i);
        if x < acc {
            return last;
        }
    }
    // Rounding left `x` at the very end: the last positive weight.
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> CurriculumConfig {
        CurriculumConfig {
            min_samples: 10,
            ..CurriculumConfig::default()
        }
    }

    fn feed(e: &mut EnvState, c: &CurriculumConfig, correct: u64, n: u64) -> Option<Pending> {
        let mut last = None;
        for i in 0..n {
            e.observe(if i < correct { 1.0 } else { 0.0 }, true);
            if let Some(p) = e.decide(c) {
                last = Some(p);
            }
        }
        last
    }

    #[test]
    fn distribution_is_triangular_and_bounded() {
        let d = distribution(3.0, 1.5, 1, 10);
        assert_eq!(d.iter().map(|x| x.0).collect::<Vec<_>>(), [2, 3, 4]);
        assert!((d[1].1 - 0.6).abs() < 1e-12 && (d[0].1 - 0.2).abs() < 1e-12);
        let d = distribution(3.5, 1.5, 1, 10);
        assert_eq!(d, vec![(3, 0.5), (4, 0.5)]);
        let d = distribution(1.0, 1.5, 1, 10);
        assert_eq!(d.iter().map(|x| x.0).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(distribution(7.0, 3.0, 7, 7), vec![(7, 1.0)]);
    }

    #[test]
    fn pick_respects_weights_and_skips_zeros() {
        let w = [0.0, 1.0, 0.0, 3.0];
        assert_eq!(pick(w.iter().copied(), 0.0), Some(1));
        assert_eq!(pick(w.iter().copied(), 0.24), Some(1));
        assert_eq!(pick(w.iter().copied(), 0.25), Some(3));
        assert_eq!(pick(w.iter().copied(), 0.999_999), Some(3));
        assert_eq!(pick([0.0, 0.0].into_iter(), 0.5), None);
    }

    #[test]
    fn moves_up_down_and_holds_by_band() {
        let c = config();
        let mut e = EnvState::new("x".into(), 1, 10, 5.0);
        // 10/10 correct: up by the capped step (gain 4 * 0.5 = 2).
        let p = feed(&mut e, &c, 10, 10).unwrap();
        assert_eq!((p.action, e.center, e.epoch), (Action::Up, 7.0, 1));
        // 5/10: in the band.
        let p = feed(&mut e, &c, 5, 10).unwrap();
        assert_eq!((p.action, e.center, e.epoch), (Action::Hold, 7.0, 1));
        // 2/10: down by 4 * 0.3 = 1.2.
        let p = feed(&mut e, &c, 2, 10).unwrap();
        assert_eq!(p.action, Action::Down);
        assert!((e.center - 5.8).abs() < 1e-12);
        // Nothing decided before min_samples.
        assert!(feed(&mut e, &c, 9, 9).is_none());
    }

    #[test]
    fn steps_are_at_least_min_step_and_stay_in_bounds() {
        let c = config();
        let mut e = EnvState::new("x".into(), 2, 4, 3.9);
        // 8/10 = 0.8: 4 * 0.3 = 1.2, capped by the top bound.
        feed(&mut e, &c, 8, 10);
        assert_eq!(e.center, 4.0);
        let mut e = EnvState::new("x".into(), 2, 4, 2.1);
        feed(&mut e, &c, 0, 10);
        assert_eq!(e.center, 2.0);
        let p = feed(&mut e, &c, 0, 10).unwrap();
        assert_eq!((p.action, e.epoch), (Action::Hold, 1));
        let mut e = EnvState::new("x".into(), 1, 10, 3.0);
        // 0.71: just above the band; 4 * 0.21 = 0.84.
        let c2 = CurriculumConfig {
            min_samples: 100,
            ..config()
        };
        feed(&mut e, &c2, 71, 100);
        assert!((e.center - 3.84).abs() < 1e-9, "{}", e.center);
    }

    #[test]
    fn retires_after_consecutive_saturated_decisions_at_the_top() {
        let c = config();
        let mut e = EnvState::new("x".into(), 1, 3, 3.0);
        assert_eq!(feed(&mut e, &c, 10, 10).unwrap().action, Action::Hold);
        // A window below retire_accuracy resets the streak.
        assert_eq!(feed(&mut e, &c, 8, 10).unwrap().action, Action::Hold);
        assert_eq!(feed(&mut e, &c, 9, 10).unwrap().action, Action::Hold);
        assert_eq!(feed(&mut e, &c, 10, 10).unwrap().action, Action::Hold);
        assert_eq!(feed(&mut e, &c, 10, 10).unwrap().action, Action::Retire);
        assert_eq!(e.status, Status::Retired);
        assert_eq!(e.weight(&c), 0.0);
        // Retired: outcomes are counted, nothing is decided.
        assert!(feed(&mut e, &c, 10, 10).is_none());
        assert_eq!(e.stats.outcomes, 60);
    }

    #[test]
    fn weights_favour_the_band_and_stale_outcomes_are_ignored() {
        let c = config();
        let mut e = EnvState::new("x".into(), 1, 10, 5.0);
        assert_eq!(e.weight(&c), 1.0);
        e.accuracy = Some(0.5);
        assert_eq!(e.weight(&c), 1.0);
        e.accuracy = Some(1.0);
        assert!((e.weight(&c) - c.weight_floor).abs() < 1e-12);
        e.accuracy = Some(0.9);
        let w9 = e.weight(&c);
        e.accuracy = Some(0.7);
        assert!(e.weight(&c) > w9);
        for _ in 0..50 {
            e.observe(1.0, false);
        }
        assert_eq!((e.window_n, e.stats.stale, e.stats.outcomes), (0, 50, 50));
        assert!(e.decide(&c).is_none());
    }
}
