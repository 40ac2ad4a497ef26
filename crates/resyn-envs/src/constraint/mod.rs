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
    #[test]
    #[ignore]
    /// `cargo test -p resyn-envs print_timings -- --ignored --nocapture`
    fn print_timings() {
        for env in super::all() {
            for d in 1..=10u8 {
                let t = std::time::Instant::now();
                let k = 200;
                let mut insts = Vec::new();
                for s in 0..k {
                    insts.push(env.generate(s, d).unwrap());
                }
                let g = t.elapsed() / k as u32;
                let t = std::time::Instant::now();
                for i in &insts {
                    assert!(env.verify(i, &i.reference).correct);
                }
                let v = t.elapsed() / k as u32;
                println!("{} d{d}: gen {g:?} verify {v:?}", env.meta().id);
            }
        }
    }
}
