//! Math (arithmetic and number) environments.

mod basic_arithmetic;

use std::sync::Arc;

use resyn_core::Environment;

use crate::Native;

/// The environments of this group.
pub fn all() -> Vec<Arc<dyn Environment>> {
    vec![Arc::new(Native::new(basic_arithmetic::BasicArithmetic))]
}
