//! Public benchmarks loaded from local files in their published formats.
//!
//! | benchmark | file format | item id | matcher |
//! |---|---|---|---|
//! | BBH | a `<subtask>.json` file, or a directory of them: `{"examples": [{"input", "target"}]}` | `bbh/<subtask>/<index>` | `(X)` targets: choice letter; else normalized exact |
//! | BBEH | the same shape; in the published layout `bbeh_<subtask>/task.json` | `bbeh/<subtask>/<index>` | as BBH |
//! | GSM8K | JSONL of `{"question", "answer"}`, the answer ending `#### N` | `gsm8k/<index>` | numeric |
//! | AIME | JSONL, or a JSON array, of `{"problem", "answer"}` (keys case-insensitive; `question` for `problem`; optional `id`) | `aime/<id or index>` | integer |
//!
//! Indices are 0-based positions in the file. Prompt templates are the
//! `*_TEMPLATE` constants (`{question}` is replaced by the item's text); the
//! matching rules are in [`matching`].

pub mod matching;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};
pub use matching::Matcher;

/// Template for BBH and BBEH (zero-shot, chain of thought, answer tags).
pub const BBH_TEMPLATE: &str = "{question}\n\nThink step by step, then write your final answer inside <answer> and </answer>. For a multiple-choice question, answer with the option's letter in parentheses, for example <answer>(A)</answer>.";
/// Template for GSM8K.
pub const GSM8K_TEMPLATE: &str = "{question}\n\nSolve the problem step by step, then write the final answer, a number only, inside <answer> and </answer>, for example <answer>42</answer>.";
/// Template for AIME.
pub const AIME_TEMPLATE: &str = "{question}\n\nSolve the problem step by step. The answer is an integer from 0 to 999; write it inside <answer> and </answer>, for example <answer>204</answer>.";

/// A supported benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Benchmark {
    /// BIG-Bench Hard.
    Bbh,
    /// BIG-Bench Extra Hard.
    Bbeh,
    /// Grade-school math.
    Gsm8k,
    /// American Invitational Mathematics Examination.
    Aime,
}

impl Benchmark {
    /// All benchmarks.
    pub const ALL: [Benchmark; 4] = [Self::Bbh, Self::Bbeh, Self::Gsm8k, Self::Aime];

    /// Lowercase name, used in ids and reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Bbh => "bbh",
            Self::Bbeh => "bbeh",
            Self::Gsm8k => "gsm8k",
            Self::Aime => "aime",
        }
    }

    /// The prompt template.
    pub fn template(self) -> &'static str {
        match self {
            Self::Bbh | Self::Bbeh => BBH_TEMPLATE,
            Self::Gsm8k => GSM8K_TEMPLATE,
            Self::Aime => AIME_TEMPLATE,
        }
    }

    /// Load every item from a file or directory (see the module docs).
    ///
    /// # Errors
    /// [`Error::Io`] if a file cannot be read, [`Error::Format`] (with file
    /// and line) if an item lacks a field or the file is not in the format.
    pub fn load(self, path: &Path) -> Result<Vec<BenchItem>> {
        match self {
            Self::Bbh | Self::Bbeh => load_examples(self, path),
            Self::Gsm8k => load_gsm8k(path),
            Self::Aime => load_aime(path),
        }
    }
}

impl std::fmt::Display for Benchmark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One benchmark question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchItem {
    /// Stable id, e.g. `bbh/date_understanding/3`.
    pub id: String,
    /// Which benchmark.
    pub benchmark: Benchmark,
    /// Subtask (BBH/BBEH), else the benchmark name.
    pub subtask: String,
    /// The question text as published.
    pub question: String,
    /// The reference answer, normalized to a string (`#### N` → `N`).
    pub target: String,
    /// How answers are compared.
    pub matcher: Matcher,
}

impl BenchItem {
    /// The full prompt sent to the model.
    pub fn prompt(&self) -> String {
        self.benchmark
            .template()
            .replace("{question}", self.question.trim())
    }

    /// Score a response: `(correct, extracted answer)`.
    pub fn score(&self, response: &str) -> (bool, Option<String>) {
        let extracted = matching::extract(response, self.benchmark == Benchmark::Gsm8k);
        let correct = extracted
            .as_deref()
            .is_some_and(|p| self.matcher.matches(p, &self.target, &self.question));
        (correct, extracted)
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

fn value_to_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(if *b { "True" } else { "False" }.into()),
        _ => None,
    }
}

/// `.json` files under `path` (or `path` itself), sorted.
fn json_files(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        for entry in entries {
            let p = entry.map_err(|e| Error::io(&dir, e))?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    if out.is_empty() {
        return Err(Error::format(path, None, "no .json files found"));
    }
    Ok(out)
}

/// Subtask name: the file stem, or for `.../bbeh_x/task.json` the directory (`x`).
fn subtask_name(file: &Path) -> String {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = if stem == "task" {
        file.parent()
            .and_then(Path::file_name)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or(stem)
    } else {
        stem
    };
    name.strip_prefix("bbeh_").unwrap_or(&name).to_string()
}

fn load_examples(bench: Benchmark, path: &Path) -> Result<Vec<BenchItem>> {
    let mut items = Vec::new();
    for file in json_files(path)? {
        let v: serde_json::Value = serde_json::from_str(&read(&file)?)
            .map_err(|e| Error::format(&file, Some(e.line()), e.to_string()))?;
        let examples = v
            .get("examples")
            .and_then(|e| e.as_array())
            .ok_or_else(|| Error::format(&file, None, "expected {\"examples\": [...]}"))?;
        let subtask = subtask_name(&file);
        for (i, ex) in examples.iter().enumerate() {
            let field = |k: &str| {
                ex.get(k).and_then(value_to_string).ok_or_else(|| {
                    Error::format(&file, None, format!("example {i} has no string `{k}`"))
                })
            };
            let (question, target) = (field("input")?, field("target")?);
            items.push(BenchItem {
                id: format!("{}/{subtask}/{i}", bench.name()),
                benchmark: bench,
                subtask: subtask.clone(),
                matcher: Matcher::for_text_target(&target),
                question,
                target: target.trim().to_string(),
            });
        }
    }
    Ok(items)
}

/// JSON objects from a JSONL file or a JSON array, with 1-based line numbers
/// (JSON arrays report no line).
type Object = serde_json::Map<String, serde_json::Value>;

fn records(path: &Path) -> Result<Vec<(Option<usize>, Object)>> {
    let text = read(path)?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let arr: Vec<serde_json::Value> = serde_json::from_str(trimmed)
            .map_err(|e| Error::format(path, Some(e.line()), e.to_string()))?;
        return arr
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                serde_json::Value::Object(m) => Ok((None, m)),
                _ => Err(Error::format(
                    path,
                    None,
                    format!("element {i} is not an object"),
                )),
            })
            .collect();
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| Error::format(path, Some(i + 1), e.to_string()))?;
        match v {
            serde_json::Value::Object(m) => out.push((Some(i + 1), m)),
            _ => return Err(Error::format(path, Some(i + 1), "not a JSON object")),
        }
    }
    Ok(out)
}

fn get_ci<'a>(
    m: &'a serde_json::Map<String, serde_json::Value>,
    keys: &[&str],
) -> Option<&'a serde_json::Value> {
    m.iter()
        .find(|(k, _)| keys.iter().any(|want| k.eq_ignore_ascii_case(want)))
        .map(|(_, v)| v)
}

fn load_gsm8k(path: &Path) -> Result<Vec<BenchItem>> {
    records(path)?
        .into_iter()
        .enumerate()
        .map(|(i, (line, m))| {
            let err = |msg: &str| Error::format(path, line, msg.to_string());
            let question = get_ci(&m, &["question"])
                .and_then(value_to_string)
                .ok_or_else(|| err("no string `question`"))?;
            let answer = get_ci(&m, &["answer"])
                .and_then(value_to_string)
                .ok_or_else(|| err("no string `answer`"))?;
            let target = match answer.rfind("####") {
                Some(k) => answer[k + 4..].trim().replace(',', ""),
                // Some re-publications keep only the final number.
                None if matching::parse_numeric(&answer).is_some() && !answer.contains('\n') => {
                    answer.trim().replace(',', "")
                }
                None => return Err(err("`answer` has no `#### N` final answer")),
            };
            Ok(BenchItem {
                id: format!("gsm8k/{i}"),
                benchmark: Benchmark::Gsm8k,
                subtask: "gsm8k".into(),
                question,
                target,
                matcher: Matcher::Numeric,
            })
        })
        .collect()
}

fn load_aime(path: &Path) -> Result<Vec<BenchItem>> {
    records(path)?
        .into_iter()
        .enumerate()
        .map(|(i, (line, m))| {
            let err = |msg: &str| Error::format(path, line, msg.to_string());
            let question = get_ci(&m, &["problem", "question"])
                .and_then(value_to_string)
                .ok_or_else(|| err("no string `problem`"))?;
            let answer = get_ci(&m, &["answer"])
                .and_then(value_to_string)
                .ok_or_else(|| err("no `answer`"))?;
            if matching::parse_integer(&answer).is_none() {
                return Err(err("`answer` is not an integer"));
            }
            let id = get_ci(&m, &["id"])
                .and_then(value_to_string)
                .unwrap_or_else(|| i.to_string());
            Ok(BenchItem {
                id: format!("aime/{id}"),
                benchmark: Benchmark::Aime,
                subtask: "aime".into(),
                question,
                target: answer.trim().to_string(),
                matcher: Matcher::Integer,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file `name` with `body` in a new temporary directory (removed when
    /// the returned guard drops).
    fn tmp(name: &str, body: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        (dir, p)
    }

    #[test]
    fn gsm8k_targets_and_errors() {
        let (_dir, p) = tmp(
            "gsm.jsonl",
            "{\"question\":\"q1\",\"answer\":\"a\\nb\\n#### 1,234\"}\n\n{\"question\":\"q2\",\"answer\":\"7\"}\n",
        );
        let items = Benchmark::Gsm8k.load(&p).unwrap();
        assert_eq!(items[0].target, "1234");
        assert_eq!(items[1].target, "7");
        assert_eq!(items[1].id, "gsm8k/1");
        let (_bad_dir, bad) = tmp("bad.jsonl", "{\"question\":\"q\",\"answer\":\"none\"}\n");
        let e = Benchmark::Gsm8k.load(&bad).unwrap_err().to_string();
        assert!(e.contains("bad.jsonl:1") && e.contains("####"), "{e}");
    }

    #[test]
    fn aime_accepts_json_arrays_and_case_insensitive_keys() {
        let (_dir, p) = tmp(
            "aime.json",
            r#"[{"ID":"2024-I-1","Problem":"p","Answer":204},{"problem":"q","answer":"033"}]"#,
        );
        let items = Benchmark::Aime.load(&p).unwrap();
        assert_eq!(items[0].id, "aime/2024-I-1");
        assert_eq!(items[0].target, "204");
        assert_eq!(items[1].id, "aime/1");
        assert!(items[1].score("<answer>33</answer>").0);
    }

    #[test]
    fn subtask_names() {
        assert_eq!(
            subtask_name(Path::new("x/date_understanding.json")),
            "date_understanding"
        );
        assert_eq!(
            subtask_name(Path::new("b/bbeh_boolean_expressions/task.json")),
            "boolean_expressions"
        );
    }
}
