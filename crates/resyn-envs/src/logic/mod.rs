//! Logic environments.

mod knights_knaves;
mod propositional_entailment;

use std::sync::Arc;

use resyn_core::Environment;

use crate::Native;

/// The environments of this group.
pub fn all() -> Vec<Arc<dyn Environment>> {
    vec![
        Arc::new(Native::new(knights_knaves::KnightsKnaves)),
        Arc::new(Native::new(
            propositional_entailment::PropositionalEntailment,
        )),
    ]
}
