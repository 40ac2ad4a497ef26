//! An independently written verifier as a loadable module.
//!
//! Cross-verification asks the LLM for a second, independent
//! `verify(instance, answer)` only; the synthesis pipeline and `resyn audit`
//! both load it through [`verifier_module`].

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_the_identity_of_the_environment_and_a_raising_generate() {
        let meta = EnvMeta {
            id: "word_ladder".into(),
            version: 3,
            category: resyn_core::Category::Logic,
            description: "the module's own description stays out".into(),
            min_difficulty: 1,
            max_difficulty: 10,
            source: resyn_core::Source::Synth,
            calibrated: Some(true),
        };
        let code = "def verify(instance, answer):\n    return 1.0\n";
        let module = verifier_module(code, &meta);
        assert!(module.starts_with(code), "{module}");
        for line in [
            "NAME = \"word_ladder\"",
            "CATEGORY = \"logic\"",
            "VERSION = 3",
            "DESCRIPTION = \"independent verifier\"",
            "def generate(rng, difficulty):\n    raise RuntimeError(",
        ] {
            assert!(module.contains(line), "missing {line:?} in\n{module}");
        }
        assert!(!module.contains("own description"), "{module}");
    }
}
