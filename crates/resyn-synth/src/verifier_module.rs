//! An independently written verifier as a loadable module.

use resyn_core::EnvMeta;

/// A second verifier's source (a `verify(instance, answer)` function and its
/// imports, written from the questions alone) made into a module the
/// sandbox loads as the environment `meta` describes: the identity is
/// appended, and `generate()` refuses (a second verifier only verifies).
pub fn verifier_module(code: &str, meta: &EnvMeta) -> String {
    format!(
        "{code}\n\n# --- appended by resyn: identity of the environment cross-verified\n\
         NAME = {:?}\nCATEGORY = {:?}\nDESCRIPTION = \"independent verifier\"\nVERSION = {}\n\n\
         def generate(rng, difficulty):\n    raise RuntimeError(\"a cross-verifier only verifies\")\n",
        meta.id,
        meta.category.as_str(),
        meta.version
    )
}
