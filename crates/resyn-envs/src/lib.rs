//! Native resyn environments, written in Rust: fast, exact, and the quality
//! reference for LLM-synthesized ones.
//!
//! Each environment is a [`Task`] (generation + checking only) wrapped in
//! [`Native`], which supplies ids, seeding, the answer instruction and answer
//! extraction. [`registry`] returns them all.
//!
//! ```
//! use resyn_core::Environment;
//! let reg = resyn_envs::registry();
//! let env = reg.get("tower_of_hanoi").unwrap();
//! let inst = env.generate(7, 3).unwrap();
//! assert!(env.verify(&inst, &inst.reference).correct);
//! assert!(!env.verify(&inst, "<answer>A->B</answer>").correct);
//! ```
//!
//! Difficulty 1 is trivial and 10 is hard for a strong model; each
//! environment documents its size mapping in its module docs and description.

pub mod algorithmic;
pub mod constraint;
pub mod logic;
pub mod math;
pub mod spatial;
mod task;
pub mod util;

use std::sync::Arc;

use resyn_core::{Environment, Registry};

pub use task::{ANSWER_INSTRUCTION, Generated, Native, Task, TaskInfo};

/// Every native environment.
pub fn all() -> Vec<Arc<dyn Environment>> {
    let mut v = Vec::new();
    v.extend(constraint::all());
    v.extend(algorithmic::all());
    v.extend(spatial::all());
    v.extend(logic::all());
    v.extend(math::all());
    v
}

/// A registry of every native environment.
pub fn registry() -> Registry {
    let mut reg = Registry::new();
    for env in all() {
        // Ids are unique by construction; a duplicate is a programming error
        // caught by the `ids_are_unique` test.
        reg.register(env)
            .expect("native environment ids are unique");
    }
    reg
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_unique() {
        let all = super::all();
        assert_eq!(super::registry().len(), all.len());
    }
}
