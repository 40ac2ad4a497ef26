//! Offline validation of hand-written modules.
use resyn_synth::validate::{Check, ValidationConfig, Validator};

use crate::common::{repo_root, sandbox};

#[test]
fn seed_corpus_passes_full_offline_validation() {
    let dir = std::env::var("RESYN_SEED_DIR")
        .map_or_else(|_| repo_root().join("envs/python"), Into::into);
    let v = Validator::new(sandbox().clone(), ValidationConfig::default());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.extension().is_some_and(|e| e == "py")
                        && !p.file_name().unwrap().to_string_lossy().starts_with('_')
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    assert!(
        files.len() >= 5,
        "expected the seed corpus in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    for f in &files {
        let (report, _) = v.validate_file(f).unwrap();
        if let Some(fail) = &report.failure {
            failures.push(format!("{}: {fail}", f.display()));
        } else {
            assert!(report.passed_checks.contains(&Check::Probes));
            assert!(report.stats.probes_rejected > 0);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} seed environments fail validation:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}
