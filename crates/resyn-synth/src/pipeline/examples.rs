//! Seed environments: few-shot examples and reserved names.

use resyn_store::Candidate;

use super::Pipeline;

/// A seed environment: few-shot example and reserved name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// `NAME`.
    pub name: String,
    /// `CATEGORY`.
    pub category: String,
    /// `DESCRIPTION`.
    pub description: String,
    /// Source.
    pub code: String,
}

/// Read seed environments from a directory without running them (the
/// top-level string constants are read textually).
pub fn load_examples(dir: &std::path::Path) -> Vec<Example> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.extension().is_some_and(|e| e == "py")
                        && !p
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with('_'))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let code = std::fs::read_to_string(&p).ok()?;
            let name = const_str(&code, "NAME").unwrap_or_else(|| {
                p.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
            Some(Example {
                category: const_str(&code, "CATEGORY").unwrap_or_default(),
                description: const_str(&code, "DESCRIPTION").unwrap_or_default(),
                name,
                code,
            })
        })
        .collect()
}

/// A top-level `KEY = "..."` (or parenthesized implicit concatenation).
fn const_str(code: &str, key: &str) -> Option<String> {
    let start = code.lines().position(|l| {
        l.strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with('='))
    })?;
    let mut text = String::new();
    for l in code.lines().skip(start) {
        text.push_str(l);
        text.push('\n');
        let opened = text.matches('(').count();
        let closed = text.matches(')').count();
        if opened <= closed {
            break;
        }
    }
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find(['"', '\'']) {
        let q = &rest[i..=i];
        let body = &rest[i + 1..];
        let end = body.find(q)?;
        out.push_str(&body[..end]);
        rest = &body[end + 1..];
    }
    (!out.is_empty()).then_some(out)
}

impl Pipeline {
    pub(super) fn examples_for(&self, cand: &Candidate) -> Vec<(String, String)> {
        if self.examples.is_empty() || self.cfg.few_shot == 0 {
            return Vec::new();
        }
        let cat = cand.proposal["category"].as_str().unwrap_or("");
        let n = self.examples.len();
        let start = usize::try_from(cand.id.unsigned_abs()).unwrap_or(0) % n;
        let mut picked: Vec<&Example> = Vec::new();
        if let Some(e) = (0..n)
            .map(|k| &self.examples[(start + k) % n])
            .find(|e| e.category == cat)
        {
            picked.push(e);
        }
        for k in 0..n {
            if picked.len() >= self.cfg.few_shot {
                break;
            }
            let e = &self.examples[(start + 7 * k + 3) % n];
            if !picked.iter().any(|p| p.name == e.name)
                && picked
                    .iter()
                    .all(|p| p.category != e.category || picked.len() + 1 >= n)
            {
                picked.push(e);
            }
        }
        picked.truncate(self.cfg.few_shot);
        picked
            .into_iter()
            .map(|e| (e.name.clone(), e.code.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_constants_textually() {
        let code = "NAME = \"abc\"\nDESCRIPTION = (\n    \"one \"\n    \"two\"\n)\n";
        assert_eq!(const_str(code, "NAME").as_deref(), Some("abc"));
        assert_eq!(const_str(code, "DESCRIPTION").as_deref(), Some("one two"));
        assert_eq!(const_str(code, "CATEGORY"), None);
    }
}
