//! A store for `resyn audit` tests: four synthesized "add two integers"
//! environments whose verifiers agree or not, in the ways an audit must
//! tell apart.
//!
//! | environment | module `verify()` | stored second verifier | stored tie-breaker | `solve()` |
//! |---|---|---|---|---|
//! | [`AGREE`] | correct | correct | none | yes |
//! | [`HACKED`] | also accepts the sum with its sign flipped | correct | correct | no |
//! | [`WRONG_SECOND`] | correct | rejects negative sums | correct | yes |
//! | [`PLAIN`] | correct | none (a store row from before it was kept) | none | no |

use std::path::Path;

use resyn_store::{Accepted, NewEnvironment, Store};

use crate::{add_module, store_event, stored_env};

/// Both verifiers correct: an audit finds nothing.
pub const AGREE: &str = "agree_add";
/// The module's verifier accepts a wrong answer family: `-(a + b)`.
pub const HACKED: &str = "hacked_add";
/// The second verifier is the wrong one: it rejects every negative sum,
/// which `solve()` proves correct.
pub const WRONG_SECOND: &str = "wrong_second_add";
/// No second verifier stored.
pub const PLAIN: &str = "plain_add";

/// A second verifier for the add environments; `negatives` false makes it
/// reject every negative answer (wrongly).
pub fn add_verifier(negatives: bool) -> String {
    let digits = if negatives {
        "text.lstrip(\"-\")"
    } else {
        "text"
    };
    format!(
        "def verify(instance, answer):\n    text = answer.strip()\n    if not text or not {digits}.isdigit():\n        return 0.0\n    d = instance[\"data\"]\n    return 1.0 if int(text) == d[\"a\"] + d[\"b\"] else 0.0\n"
    )
}

/// `solve()` for [`add_module`].
const SOLVE: &str =
    "\n\ndef solve(instance):\n    d = instance[\"data\"]\n    return str(d[\"a\"] + d[\"b\"])\n";

/// Create the store at `path` holding the four environments.
///
/// # Panics
/// When the store cannot be written (a failed setup is a failed test).
pub fn audit_store(path: &Path) {
    let hacked = add_module(HACKED).replace(
        "return 1.0 if int(text) == d[\"a\"] + d[\"b\"] else 0.0",
        "return 1.0 if abs(int(text)) == abs(d[\"a\"] + d[\"b\"]) else 0.0",
    );
    assert_ne!(
        hacked,
        add_module(HACKED),
        "the fixture must change verify()"
    );
    let rows = [
        env(
            AGREE,
            add_module(AGREE) + SOLVE,
            Some(add_verifier(true)),
            None,
        ),
        env(
            HACKED,
            hacked,
            Some(add_verifier(true)),
            Some(add_verifier(true)),
        ),
        env(
            WRONG_SECOND,
            add_module(WRONG_SECOND) + SOLVE,
            Some(add_verifier(false)),
            Some(add_verifier(true)),
        ),
        env(PLAIN, add_module(PLAIN), None, None),
    ];
    let store = Store::open(path).expect("creating the audit store");
    for row in rows {
        let outcome = store
            .accept(&row, &store_event())
            .expect("storing an environment");
        assert!(matches!(outcome, Accepted::Stored(_)), "{outcome:?}");
    }
}

fn env(name: &str, code: String, second: Option<String>, tie: Option<String>) -> NewEnvironment {
    let mut cross = serde_json::json!({"agreement": 1.0});
    if let Some(code) = second {
        cross["verifier_code"] = code.into();
    }
    if let Some(code) = tie {
        cross["tie_breaker_code"] = code.into();
    }
    NewEnvironment {
        validation: serde_json::json!({"offline": {}, "cross_verify": cross}),
        ..stored_env(name, &code)
    }
}
