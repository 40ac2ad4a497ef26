//! Loading: precise errors for broken modules; directory scanning.

use resyn_sandbox::{Error, LoadErrorKind, PythonEnv, load_dir};

use crate::common::{CALL_TIMEOUT, assert_pool_serves, generate_error, sandbox};

const OK_TAIL: &str = r#"
def generate(rng, difficulty):
    return {"prompt": "Say ok.", "data": None, "reference": "ok"}

def verify(instance, answer):
    return answer.strip() == "ok"
"#;

fn load_src(src: &str) -> Result<PythonEnv, Error> {
    PythonEnv::from_source("broken.py", src.to_string(), sandbox())
}

fn load_kind(src: &str) -> (LoadErrorKind, String) {
    match load_src(src) {
        Err(e @ Error::Load { kind, .. }) => (kind, e.to_string()),
        Err(e) => panic!("expected a load error, got {e}"),
        Ok(_) => panic!("expected a load error"),
    }
}

#[test]
fn syntax_errors_point_at_the_line() {
    let (kind, msg) = load_kind("NAME = 'x'\ndef generate(rng, difficulty)\n    return 1\n");
    assert_eq!(kind, LoadErrorKind::Syntax);
    assert!(
        msg.contains("SyntaxError") && msg.contains("line 2") && msg.contains("broken.py"),
        "{msg}"
    );
}

#[test]
fn only_the_standard_library_is_importable() {
    let (kind, msg) = load_kind("import numpy\n");
    assert_eq!(kind, LoadErrorKind::Import);
    assert!(msg.contains("numpy"), "{msg}");
}

#[test]
fn module_exceptions_carry_the_traceback_with_source_lines() {
    let (kind, msg) = load_kind("NAME = 'x'\n\ndef helper():\n    return 1 / 0\n\nhelper()\n");
    assert_eq!(kind, LoadErrorKind::Exception);
    assert!(
        msg.contains("ZeroDivisionError") && msg.contains("return 1 / 0"),
        "{msg}"
    );
    assert!(
        !msg.contains("_load") && !msg.contains("harness"),
        "harness frames leak: {msg}"
    );
}

#[test]
fn missing_or_malformed_api_is_listed() {
    let (kind, msg) = load_kind(
        "NAME = 'x'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\ndef generate(rng, d):\n    pass\n",
    );
    assert_eq!(kind, LoadErrorKind::Api);
    assert!(msg.contains("verify()"), "{msg}");
    let (_, msg) = load_kind(&format!(
        "NAME = 'x'\nCATEGORY = 'cooking'\nDESCRIPTION = 'd'\n{OK_TAIL}"
    ));
    assert!(
        msg.contains("cooking") && msg.contains("constraint_satisfaction"),
        "{msg}"
    );
    let (_, msg) = load_kind(&format!(
        "NAME = 'Bad Name'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\n{OK_TAIL}"
    ));
    assert!(msg.contains("NAME"), "{msg}");
    let (_, msg) = load_kind(&format!(
        "NAME = 'x'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\nVERSION = 0\n{OK_TAIL}"
    ));
    assert!(msg.contains("VERSION"), "{msg}");
}

#[test]
fn looping_at_import_times_out() {
    let e = load_src("while True:\n    pass\n").expect_err("must time out");
    assert!(
        matches!(e, Error::Timeout { limit, .. } if limit == CALL_TIMEOUT),
        "{e}"
    );
    assert!(e.to_string().contains("broken.py"), "{e}");
    assert_pool_serves();
}

#[test]
fn load_dir_skips_private_files_and_reports_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let module =
        |name: &str| format!("NAME = '{name}'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\n{OK_TAIL}");
    std::fs::write(dir.path().join("a.py"), module("alpha")).unwrap();
    std::fs::write(dir.path().join("b.py"), module("alpha")).unwrap();
    std::fs::write(dir.path().join("c.py"), module("gamma")).unwrap();
    std::fs::write(dir.path().join("_helper.py"), "raise SystemExit").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not python").unwrap();
    let got = load_dir(dir.path(), sandbox());
    assert_eq!(got.len(), 3);
    use resyn_core::Environment;
    assert_eq!(got[0].as_ref().unwrap().meta().id, "alpha");
    let dup = got[1].as_ref().unwrap_err().to_string();
    assert!(
        dup.contains("already used") && dup.contains("a.py"),
        "{dup}"
    );
    assert_eq!(got[2].as_ref().unwrap().meta().id, "gamma");
    let missing = load_dir(dir.path().join("nope"), sandbox());
    assert!(missing[0].is_err());
}

#[test]
fn a_module_named_like_the_stdlib_does_not_shadow_it() {
    let src = format!(
        "import random\nNAME = 'shadow'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\nX = random.Random(1).random()\n{OK_TAIL}"
    );
    let env = PythonEnv::from_source("random.py", src, sandbox()).unwrap();
    use resyn_core::Environment;
    assert!(env.generate(0, 1).is_ok());
}

fn module(head: &str) -> String {
    format!("{head}\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\n{OK_TAIL}")
}

#[test]
fn opening_reads_metadata_without_starting_anything() {
    use resyn_core::Environment;
    use resyn_sandbox::{LazySandbox, SandboxConfig, open_dir};
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.py"), module("NAME = 'alpha'")).unwrap();
    std::fs::write(dir.path().join("b.py"), module("NAME = ('be'\n    'ta')")).unwrap();
    // No interpreter at all: opening must not need one.
    let lazy = LazySandbox::new(SandboxConfig {
        python: Some(dir.path().join("no-such-python")),
        ..crate::common::config()
    });
    let envs: Vec<PythonEnv> = open_dir(dir.path(), &lazy)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(envs[0].meta().id, "alpha");
    assert_eq!(envs[1].meta().id, "beta");
    assert!(lazy.started().is_none(), "listing started the sandbox");
    // Using one reports why the sandbox cannot start, as a typed error.
    let e = envs[0]
        .try_generate_batch(&[(1, 1)], false)
        .results
        .pop()
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, Error::Sandbox(_)), "{e}");
    // A module whose metadata is not a plain literal must be loaded to be
    // listed, which needs the sandbox.
    std::fs::write(dir.path().join("c.py"), module("NAME = 'gam' + 'ma'")).unwrap();
    let got = open_dir(dir.path(), &lazy);
    assert!(matches!(&got[2], Err(Error::Sandbox(_))), "{:?}", got[2]);
}

#[test]
fn unreadable_metadata_is_loaded_and_a_mismatch_is_an_error() {
    use resyn_core::Environment;
    use resyn_sandbox::LazySandbox;
    let lazy = LazySandbox::from(sandbox().clone());
    // Not a literal: read by loading the module.
    let env = PythonEnv::open_source("computed.py", module("NAME = 'gam' + 'ma'"), &lazy).unwrap();
    assert_eq!(env.meta().id, "gamma");
    assert!(env.generate(1, 1).is_ok());
    // Literal, but the module renames itself at load time in a way a reader
    // of the source cannot see: the environment refuses to run rather than
    // answer under another id.
    let sneaky = module(
        "import sys\nNAME = 'shown'\ndef _rename():\n    sys.modules[__name__].__setattr__('NA' + 'ME', 'hidden')\n_rename()",
    );
    let env = PythonEnv::open_source("sneaky.py", sneaky, &lazy).unwrap();
    assert_eq!(env.meta().id, "shown");
    let e = generate_error(&env);
    match &e {
        Error::Load { kind, message, .. } => {
            assert_eq!(*kind, LoadErrorKind::Api);
            assert!(
                message.contains("\"hidden\"") && message.contains("\"shown\""),
                "{message}"
            );
        }
        other => panic!("expected a load error, got {other}"),
    }
    let inst = resyn_core::Instance {
        id: "x".into(),
        env: "shown".into(),
        env_version: 1,
        seed: 1,
        difficulty: 1,
        prompt: "Say ok.".into(),
        data: serde_json::Value::Null,
        reference: String::new(),
    };
    let v = env.verify(&inst, "<answer>ok</answer>");
    assert_eq!(v.reward, 0.0, "a misdescribed module never rewards");
    // Eager loading reports the module's own metadata.
    let sneaky = module(
        "import sys\nNAME = 'shown'\ndef _rename():\n    sys.modules[__name__].__setattr__('NA' + 'ME', 'hidden')\n_rename()",
    );
    let eager = PythonEnv::from_source("sneaky.py", sneaky, sandbox()).unwrap();
    assert_eq!(eager.meta().id, "hidden");
}
