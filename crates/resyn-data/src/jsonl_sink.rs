//! JSON Lines output for TRL and OpenRLHF: one file per split, one row per
//! line, fields in this order:
//!
//! ```text
//! {"prompt": [{"role": "system", "content": ...}, {"role": "user", "content": ...}],
//!  "label": "<ground truth string>",
//!  "data_source": "resyn/<env id>",
//!  "ability": "<category>",
//!  "extra_info": {"env", "env_version", "seed", "difficulty", "instance_id",
//!                 "split", "index", "data": "<instance data as a JSON string>"}}
//! ```
//!
//! - TRL (`GRPOTrainer`): `prompt` is a conversational prompt (a message
//!   list); every other column reaches reward functions as a keyword
//!   argument holding one value per completion (`label=[...]`,
//!   `extra_info=[...]`).
//! - OpenRLHF: `--data.input_key prompt --data.label_key label
//!   --data.apply_chat_template` (before the 2026 flag rename:
//!   `--input_key`, `--label_key`, `--apply_chat_template`); a message-list
//!   input goes through the tokenizer's chat template and the label reaches
//!   the remote reward function in `labels`.
//! - `label` is the same string as verl's `reward_model.ground_truth`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::hashing::HashingWriter;
use crate::row::{EnvInfo, Placed, Row, RowContext, messages};
use crate::{Error, Result};

#[derive(Serialize)]
struct Message<'a> {
    role: &'a str,
    content: &'a str,
}

#[derive(Serialize)]
struct ExtraInfo<'a> {
    env: &'a str,
    env_version: u32,
    seed: u64,
    difficulty: u8,
    instance_id: &'a str,
    split: &'a str,
    index: u64,
    data: &'a str,
}

#[derive(Serialize)]
struct Line<'a> {
    prompt: &'a [Message<'a>],
    label: &'a str,
    data_source: &'a str,
    ability: &'a str,
    extra_info: ExtraInfo<'a>,
}

/// One split's JSONL file.
pub(crate) struct JsonlSink {
    path: PathBuf,
    out: BufWriter<HashingWriter<File>>,
    rows: u64,
}

impl JsonlSink {
    /// Create `path` (truncating).
    pub(crate) fn create(path: &Path) -> Result<Self> {
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 20, HashingWriter::new(file)),
            rows: 0,
        })
    }

    /// Append one row.
    pub(crate) fn push(&mut self, ctx: &RowContext, env: &EnvInfo, p: &Placed) -> Result<()> {
        write_line(&mut self.out, ctx, env, &p.row, p.split.as_str(), p.index)
            .map_err(|e| Error::io(&self.path, e.into()))?;
        self.out
            .write_all(b"\n")
            .map_err(|e| Error::io(&self.path, e))?;
        self.rows += 1;
        Ok(())
    }

    /// Flush and fsync; returns rows, sha256 and bytes.
    pub(crate) fn finish(self) -> Result<(u64, String, u64)> {
        let path = self.path;
        let hashing = self
            .out
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        let (file, sha, bytes) = hashing.finish();
        file.sync_all().map_err(|e| Error::io(&path, e))?;
        Ok((self.rows, sha, bytes))
    }
}

/// Write one row as a JSON line (without the newline): the format above.
pub(crate) fn write_line(
    out: impl Write,
    ctx: &RowContext,
    env: &EnvInfo,
    r: &Row,
    split: &str,
    index: u64,
) -> serde_json::Result<()> {
    let (msgs, n) = messages(ctx, r);
    let msgs = msgs.map(|(role, content)| Message { role, content });
    let line = Line {
        prompt: &msgs[..n],
        label: &r.ground_truth,
        data_source: &env.data_source,
        ability: &env.ability,
        extra_info: ExtraInfo {
            env: &env.id,
            env_version: env.version,
            seed: r.seed,
            difficulty: r.difficulty,
            instance_id: &r.instance_id,
            split,
            index,
            data: &r.data,
        },
    };
    serde_json::to_writer(out, &line)
}
