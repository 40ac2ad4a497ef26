//! The code cache: a module's compiled code is kept on disk and handed to its
//! next worker (in this process or a later one) instead of its source being
//! compiled again. Each test uses a directory of its own and fresh
//! sandboxes, as separate runs of a command would.

use std::path::{Path, PathBuf};

use resyn_core::Environment;
use resyn_sandbox::{CodeCache, Error, PythonEnv, Sandbox, SandboxConfig};

use crate::common::config;

const ADD: &str = r#"
NAME = "cache_add"
CATEGORY = "math"
DESCRIPTION = "Add two integers."

def generate(rng, difficulty):
    a, b = rng.randint(0, 10 ** difficulty), rng.randint(0, 10 ** difficulty)
    return {"prompt": "What is %d + %d?" % (a, b), "data": {"a": a, "b": b},
            "reference": str(a + b)}

def verify(instance, answer):
    return answer.strip() == str(instance["data"]["a"] + instance["data"]["b"])
"#;

fn sandbox_with(dir: &Path) -> Sandbox {
    Sandbox::new(SandboxConfig {
        code_cache: CodeCache::Dir(dir.to_path_buf()),
        ..config()
    })
    .unwrap()
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// The only entry of `dir`.
fn entry(dir: &Path) -> PathBuf {
    let e = entries(dir);
    assert_eq!(e.len(), 1, "{e:?}");
    e[0].clone()
}

/// Instances of seeds 0..20 as JSON text, and whether every reference verifies.
fn run(env: &PythonEnv) -> (Vec<String>, bool) {
    let insts: Vec<_> = (0..20).map(|s| env.generate(s, 3).unwrap()).collect();
    let ok = insts.iter().all(|i| env.verify(i, &i.reference).correct);
    (
        insts
            .iter()
            .map(|i| serde_json::to_string(i).unwrap())
            .collect(),
        ok,
    )
}

/// The cache entry text of `source` compiled under `filename`: base64 of the
/// code object's marshal, made by the interpreter the sandbox runs.
fn entry_for(filename: &str, source: &str) -> String {
    let python = std::env::var_os("RESYN_PYTHON").unwrap_or_else(|| "python3".into());
    let out = std::process::Command::new(python)
        .args([
            "-S",
            "-c",
            "import binascii, marshal, sys; sys.stdout.write(binascii.b2a_base64(\
             marshal.dumps(compile(sys.argv[2], sys.argv[1], 'exec', dont_inherit=True)), \
             newline=False).decode())",
            filename,
            source,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn compiled_code_is_kept_and_a_later_run_gets_identical_instances_from_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("code");
    let first = PythonEnv::from_source("add.py", ADD.into(), &sandbox_with(&dir)).unwrap();
    let compiled = run(&first);
    assert!(compiled.1);
    let kept = entry(&dir);
    assert_eq!(kept.extension().unwrap(), "b64");
    // A new sandbox (a new zygote, as in the next command) loads the entry.
    let again = PythonEnv::from_source("add.py", ADD.into(), &sandbox_with(&dir)).unwrap();
    assert_eq!(run(&again), compiled);
    assert_eq!(entry(&dir), kept);
    // Another file name or source is another entry.
    PythonEnv::from_source("other.py", ADD.into(), &sandbox_with(&dir)).unwrap();
    assert_eq!(entries(&dir).len(), 2);
}

#[test]
fn a_hit_runs_the_cached_code_instead_of_compiling() {
    let tmp = tempfile::tempdir().unwrap();
    PythonEnv::from_source("add.py", ADD.into(), &sandbox_with(tmp.path())).unwrap();
    // Replace the entry with code compiled from another source under the
    // same file name: what runs is the entry (whoever can write the cache
    // directory chooses the code; it is the user's own cache).
    let other = ADD.replace("str(a + b)", "str(a * b)");
    std::fs::write(entry(tmp.path()), entry_for("add.py", &other)).unwrap();
    let env = PythonEnv::from_source("add.py", ADD.into(), &sandbox_with(tmp.path())).unwrap();
    let inst = env.generate(1, 3).unwrap();
    let (a, b) = (
        inst.data["a"].as_i64().unwrap(),
        inst.data["b"].as_i64().unwrap(),
    );
    assert!(inst.reference.contains(&(a * b).to_string()), "{inst:?}");
}

#[test]
fn an_unusable_entry_is_compiled_again_and_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let first = PythonEnv::from_source("add.py", ADD.into(), &sandbox_with(dir)).unwrap();
    let expected = run(&first);
    let path = entry(dir);
    let good = std::fs::read_to_string(&path).unwrap();
    let crashing = entry_for("add.py", "import os\nos._exit(3)\n");
    let elsewhere = entry_for("elsewhere.py", ADD);
    for (what, text) in [
        // Base64 that is not a marshalled object.
        ("not marshal", "AAAA".to_string()),
        // Truncated, as a torn write would leave it.
        ("truncated", good[..good.len() / 2].to_string()),
        // Not base64 at all.
        ("not base64", "{ not base64 }".to_string()),
        // Code of another file.
        ("another file's code", elsewhere.clone()),
        // Code that ends the worker before it answers: the load is retried
        // without the entry.
        ("crashing code", crashing.clone()),
    ] {
        std::fs::write(&path, &text).unwrap();
        let env = PythonEnv::from_source("add.py", ADD.into(), &sandbox_with(dir))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(run(&env), expected, "{what}");
        // Dropped (and written again by the compiling worker, when it was
        // asked to compile), never kept as it was.
        let now = std::fs::read_to_string(&path).unwrap_or_default();
        assert_ne!(now, text, "{what}: the unusable entry is still there");
        assert!(now.is_empty() || now == good, "{what}");
    }
}

/// A module that forges a code frame on the worker's socket while it loads,
/// always or only when it was given cached code (it can see the init request
/// in the harness's frames).
fn forging(only_on_hit: bool) -> String {
    let forged = entry_for("forge.py", &ADD.replace("cache_add", "forged"));
    format!(
        r#"
import json, os, struct, sys
NAME = "forger"
CATEGORY = "logic"
DESCRIPTION = "Tries to choose its own cached code."

def _init():
    f = sys._getframe(1)
    while f is not None:
        if isinstance(f.f_locals.get("init"), dict):
            return f.f_locals["init"]
        f = f.f_back
    return {{}}

if not {only_on_hit} or "code" in _init():
    body = json.dumps({{"id": 0, "end": False, "items": [], "code": {forged:?}}}).encode()
    os.write(4, struct.pack("<I", len(body)) + body)

def generate(rng, difficulty):
    return {{"prompt": "Say ok.", "data": None, "reference": "ok"}}

def verify(instance, answer):
    return answer.strip() == "ok"
"#,
        only_on_hit = if only_on_hit { "True" } else { "False" },
        forged = forged.trim(),
    )
}

#[test]
fn a_module_cannot_choose_the_code_kept_for_it() {
    // Forging on every load: the harness's own frame comes first, the
    // forged one is a protocol error, nothing is kept.
    let tmp = tempfile::tempdir().unwrap();
    let always = forging(false);
    match PythonEnv::from_source("forge.py", always, &sandbox_with(tmp.path())) {
        Err(Error::Protocol { detail, .. }) => assert!(detail.contains("init"), "{detail}"),
        other => panic!("expected a protocol error, got {other:?}"),
    }
    assert!(entries(tmp.path()).is_empty());
    // Forging only when given cached code: the first load keeps the
    // harness's code; the next one forges, fails, is retried compiling, and
    // the entry is the harness's code again.
    let tmp = tempfile::tempdir().unwrap();
    let on_hit = forging(true);
    let env =
        PythonEnv::from_source("forge.py", on_hit.clone(), &sandbox_with(tmp.path())).unwrap();
    let inst = env.generate(0, 1).unwrap();
    let kept = std::fs::read_to_string(entry(tmp.path())).unwrap();
    let env = PythonEnv::from_source("forge.py", on_hit, &sandbox_with(tmp.path())).unwrap();
    assert_eq!(env.generate(0, 1).unwrap(), inst);
    assert_eq!(std::fs::read_to_string(entry(tmp.path())).unwrap(), kept);
}

#[test]
fn off_compiles_every_time() {
    let sb = Sandbox::new(SandboxConfig {
        code_cache: CodeCache::Off,
        ..config()
    })
    .unwrap();
    let env = PythonEnv::from_source("add.py", ADD.into(), &sb).unwrap();
    assert!(run(&env).1);
    assert_eq!(CodeCache::Off.dir(), None);
}
