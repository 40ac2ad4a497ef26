//! Algorithmic puzzle environments.

mod countdown;
mod hanoi;
mod interval_scheduling;
mod knapsack;
mod shortest_path;
mod topological_sort;

use std::sync::Arc;

use resyn_core::Environment;

use crate::Native;

/// The environments of this group.
pub fn all() -> Vec<Arc<dyn Environment>> {
    vec![
        Arc::new(Native::new(hanoi::Hanoi)),
        Arc::new(Native::new(topological_sort::TopologicalSort)),
        Arc::new(Native::new(shortest_path::ShortestPath)),
        Arc::new(Native::new(knapsack::Knapsack)),
        Arc::new(Native::new(interval_scheduling::IntervalScheduling)),
        Arc::new(Native::new(countdown::Countdown)),
    ]
}
