//! verl parquet output: one file per split, written in row groups.
//!
//! Schema (every field nullable, as pandas/pyarrow-written verl files are):
//!
//! ```text
//! data_source:  string                         "resyn/<env id>"
//! prompt:       list<struct<role: string, content: string>>
//! ability:      string                         the category
//! reward_model: struct<style: string, ground_truth: string>
//! extra_info:   struct<env: string, env_version: int64, seed: int64,
//!                      difficulty: int64, instance_id: string, split: string,
//!                      index: int64, data: string>
//! ```
//!
//! Memory is bounded by one row group per split: rows accumulate in column
//! builders and are encoded once `row_group_size` of them are buffered.
//! The bytes depend only on the rows and the writer settings (no clock, no
//! hash-map order), so equal rows give byte-identical files.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, ListArray, RecordBatch, StructArray};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::hashing::HashingWriter;
use crate::row::{EnvInfo, Placed, RowContext, messages};
use crate::{Error, Result};

fn message_fields() -> Fields {
    Fields::from(vec![
        Field::new("role", DataType::Utf8, true),
        Field::new("content", DataType::Utf8, true),
    ])
}

fn reward_fields() -> Fields {
    Fields::from(vec![
        Field::new("style", DataType::Utf8, true),
        Field::new("ground_truth", DataType::Utf8, true),
    ])
}

fn extra_fields() -> Fields {
    Fields::from(vec![
        Field::new("env", DataType::Utf8, true),
        Field::new("env_version", DataType::Int64, true),
        Field::new("seed", DataType::Int64, true),
        Field::new("difficulty", DataType::Int64, true),
        Field::new("instance_id", DataType::Utf8, true),
        Field::new("split", DataType::Utf8, true),
        Field::new("index", DataType::Int64, true),
        Field::new("data", DataType::Utf8, true),
    ])
}

fn item_field() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Struct(message_fields()), true))
}

/// The Arrow schema of the verl parquet files.
pub fn verl_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("data_source", DataType::Utf8, true),
        Field::new("prompt", DataType::List(item_field()), true),
        Field::new("ability", DataType::Utf8, true),
        Field::new("reward_model", DataType::Struct(reward_fields()), true),
        Field::new("extra_info", DataType::Struct(extra_fields()), true),
    ]))
}

fn properties(row_group_size: usize) -> WriterProperties {
    let path = |p: &[&str]| ColumnPath::new(p.iter().map(|s| s.to_string()).collect());
    let mut b = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(row_group_size))
        // Prompts, ground truths and data are nearly all distinct:
        // dictionaries would be built and thrown away. Only the
        // low-cardinality columns get one.
        .set_dictionary_enabled(false)
        .set_statistics_enabled(EnabledStatistics::Chunk);
    for p in [
        &["data_source"][..],
        &["ability"],
        &["prompt", "list", "item", "role"],
        &["reward_model", "style"],
        &["extra_info", "env"],
        &["extra_info", "env_version"],
        &["extra_info", "difficulty"],
        &["extra_info", "split"],
    ] {
        b = b.set_column_dictionary_enabled(path(p), true);
    }
    b.build()
}

/// Column builders for one row group.
struct Columns {
    data_source: StringBuilder,
    roles: StringBuilder,
    contents: StringBuilder,
    offsets: Vec<i32>,
    ability: StringBuilder,
    style: StringBuilder,
    ground_truth: StringBuilder,
    env: StringBuilder,
    env_version: Int64Builder,
    seed: Int64Builder,
    difficulty: Int64Builder,
    instance_id: StringBuilder,
    split: StringBuilder,
    index: Int64Builder,
    data: StringBuilder,
}

impl Columns {
    fn new() -> Self {
        Self {
            data_source: StringBuilder::new(),
            roles: StringBuilder::new(),
            contents: StringBuilder::new(),
            offsets: vec![0],
            ability: StringBuilder::new(),
            style: StringBuilder::new(),
            ground_truth: StringBuilder::new(),
            env: StringBuilder::new(),
            env_version: Int64Builder::new(),
            seed: Int64Builder::new(),
            difficulty: Int64Builder::new(),
            instance_id: StringBuilder::new(),
            split: StringBuilder::new(),
            index: Int64Builder::new(),
            data: StringBuilder::new(),
        }
    }

    fn finish(&mut self) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let messages = StructArray::try_new(
            message_fields(),
            vec![
                Arc::new(self.roles.finish()) as ArrayRef,
                Arc::new(self.contents.finish()),
            ],
            None,
        )?;
        let offsets = std::mem::replace(&mut self.offsets, vec![0]);
        let prompt = ListArray::try_new(
            item_field(),
            OffsetBuffer::new(offsets.into()),
            Arc::new(messages),
            None,
        )?;
        let reward = StructArray::try_new(
            reward_fields(),
            vec![
                Arc::new(self.style.finish()) as ArrayRef,
                Arc::new(self.ground_truth.finish()),
            ],
            None,
        )?;
        let extra = StructArray::try_new(
            extra_fields(),
            vec![
                Arc::new(self.env.finish()) as ArrayRef,
                Arc::new(self.env_version.finish()),
                Arc::new(self.seed.finish()),
                Arc::new(self.difficulty.finish()),
                Arc::new(self.instance_id.finish()),
                Arc::new(self.split.finish()),
                Arc::new(self.index.finish()),
                Arc::new(self.data.finish()),
            ],
            None,
        )?;
        RecordBatch::try_new(
            verl_schema(),
            vec![
                Arc::new(self.data_source.finish()) as ArrayRef,
                Arc::new(prompt),
                Arc::new(self.ability.finish()),
                Arc::new(reward),
                Arc::new(extra),
            ],
        )
    }
}

/// One split's parquet file.
pub(crate) struct ParquetSink {
    path: PathBuf,
    writer: ArrowWriter<HashingWriter<BufWriter<File>>>,
    cols: Columns,
    buffered: usize,
    rows: u64,
    row_group_size: usize,
}

impl ParquetSink {
    /// Create `path` (truncating).
    pub(crate) fn create(path: &Path, row_group_size: usize) -> Result<Self> {
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        let out = HashingWriter::new(BufWriter::with_capacity(1 << 20, file));
        let writer = ArrowWriter::try_new(out, verl_schema(), Some(properties(row_group_size)))
            .map_err(|e| Error::Parquet {
                path: path.to_path_buf(),
                source: e,
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            writer,
            cols: Columns::new(),
            buffered: 0,
            rows: 0,
            row_group_size,
        })
    }

    /// Append one row; encodes a row group when enough are buffered.
    pub(crate) fn push(&mut self, ctx: &RowContext, env: &EnvInfo, p: &Placed) -> Result<()> {
        let c = &mut self.cols;
        let r = &p.row;
        c.data_source.append_value(&env.data_source);
        let (msgs, n) = messages(ctx, r);
        for (role, content) in &msgs[..n] {
            c.roles.append_value(role);
            c.contents.append_value(content);
        }
        let last = c.offsets.last().copied().unwrap_or(0);
        c.offsets.push(last + n as i32);
        c.ability.append_value(&env.ability);
        c.style.append_value(ctx.style);
        c.ground_truth.append_value(&r.ground_truth);
        c.env.append_value(&env.id);
        c.env_version.append_value(i64::from(env.version));
        // Seeds are below 2^53 (see `plan::seed_base`), so they fit i64.
        c.seed.append_value(r.seed as i64);
        c.difficulty.append_value(i64::from(r.difficulty));
        c.instance_id.append_value(&r.instance_id);
        c.split.append_value(p.split.as_str());
        c.index.append_value(p.index as i64);
        c.data.append_value(&r.data);
        self.buffered += 1;
        self.rows += 1;
        if self.buffered >= self.row_group_size {
            self.flush_group()?;
        }
        Ok(())
    }

    fn flush_group(&mut self) -> Result<()> {
        if self.buffered == 0 {
            return Ok(());
        }
        let batch = self.cols.finish().map_err(|e| Error::Parquet {
            path: self.path.clone(),
            source: e.into(),
        })?;
        self.buffered = 0;
        self.writer.write(&batch).map_err(|e| Error::Parquet {
            path: self.path.clone(),
            source: e,
        })?;
        // One batch is one row group: never let two batches share one.
        self.writer.flush().map_err(|e| Error::Parquet {
            path: self.path.clone(),
            source: e,
        })
    }

    /// Finish the file (footer, fsync); returns rows, sha256 and bytes.
    pub(crate) fn finish(mut self) -> Result<(u64, String, u64)> {
        self.flush_group()?;
        let path = self.path.clone();
        let out = self.writer.into_inner().map_err(|e| Error::Parquet {
            path: path.clone(),
            source: e,
        })?;
        let (buf, sha, bytes) = out.finish();
        let file = buf
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&path, e))?;
        Ok((self.rows, sha, bytes))
    }
}
