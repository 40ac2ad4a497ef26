//! Logic environments.

use std::sync::Arc;

use resyn_core::Environment;

/// The environments of this group.
pub fn all() -> Vec<Arc<dyn Environment>> {
    vec![]
}
