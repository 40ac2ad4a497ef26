//! Constraint satisfaction environments.

mod cnf_sat;
mod graph_coloring;
mod n_queens;
mod sudoku;
mod zebra_puzzle;

use std::sync::Arc;

use resyn_core::Environment;

use crate::Native;

/// The environments of this group.
pub fn all() -> Vec<Arc<dyn Environment>> {
    vec![
        Arc::new(Native::new(sudoku::Sudoku)),
        Arc::new(Native::new(n_queens::NQueens)),
        Arc::new(Native::new(graph_coloring::GraphColoring)),
        Arc::new(Native::new(cnf_sat::CnfSat)),
        Arc::new(Native::new(zebra_puzzle::ZebraPuzzle)),
    ]
}

#[cfg(test)]
mod timing {
    /// CPU time of this thread in nanoseconds (Linux), robust to a loaded
    /// machine; falls back to 0 elsewhere.
    fn cpu_ns() -> u64 {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// Per-instance CPU time of generation and verification:
    /// `cargo test -p resyn-envs print_timings -- --ignored --nocapture`
    /// (set `TIMING_ENV` to one id to time only that environment).
    #[test]
    #[ignore]
    fn print_timings() {
        let only = std::env::var("TIMING_ENV").ok();
        for env in super::all() {
            if only.as_ref().is_some_and(|o| *o != env.meta().id) {
                continue;
            }
            for d in 1..=10u8 {
                let k = 1000u64;
                let t = cpu_ns();
                let insts: Vec<_> = (0..k).map(|s| env.generate(s, d).unwrap()).collect();
                let g = (cpu_ns() - t) / k;
                let t = cpu_ns();
                for i in &insts {
                    assert!(env.verify(i, &i.reference).correct);
                }
                let v = (cpu_ns() - t) / k;
                println!("{} d{d}: gen {g} ns, verify {v} ns", env.meta().id);
            }
        }
    }
}
