//! The writer thread: encodes rows into every output file while the
//! workers generate the next chunk. Batches arrive through a bounded
//! channel, so at most a few chunks of rows are in flight.

use std::path::Path;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::jsonl_sink::JsonlSink;
use crate::parquet_sink::ParquetSink;
use crate::row::{Batch, RowContext};
use crate::{Error, FileEntry, Format, Result, Split};

enum Sink {
    Parquet(Box<ParquetSink>),
    Jsonl(JsonlSink),
}

/// Handle on the writer thread.
pub(crate) struct WriterThread {
    tx: Option<SyncSender<Batch>>,
    handle: Option<JoinHandle<Result<Vec<FileEntry>>>>,
}

impl WriterThread {
    /// Create every output file in `dir` and start the thread.
    pub(crate) fn spawn(
        dir: &Path,
        formats: &[Format],
        row_group_size: usize,
        ctx: RowContext,
    ) -> Result<Self> {
        let mut formats = formats.to_vec();
        formats.sort();
        // sinks[format][split]
        let mut sinks: Vec<(String, Vec<Sink>)> = Vec::new();
        for f in formats {
            let mut per_split = Vec::new();
            for split in Split::ALL {
                let name = format!("{split}.{}", f.extension());
                let path = dir.join(&name);
                per_split.push(match f {
                    Format::Parquet => {
                        Sink::Parquet(Box::new(ParquetSink::create(&path, row_group_size)?))
                    }
                    Format::Jsonl => Sink::Jsonl(JsonlSink::create(&path)?),
                });
            }
            sinks.push((f.extension().to_string(), per_split));
        }
        let (tx, rx) = sync_channel::<Batch>(4);
        let handle = std::thread::Builder::new()
            .name("resyn-data-writer".into())
            .spawn(move || {
                for batch in rx {
                    for p in &batch.rows {
                        for (_, per_split) in &mut sinks {
                            match &mut per_split[p.split.index()] {
                                Sink::Parquet(s) => s.push(&ctx, &batch.env, p)?,
                                Sink::Jsonl(s) => s.push(&ctx, &batch.env, p)?,
                            }
                        }
                    }
                }
                let mut files = Vec::new();
                for (ext, per_split) in sinks {
                    for (split, sink) in Split::ALL.into_iter().zip(per_split) {
                        let (rows, sha256, bytes) = match sink {
                            Sink::Parquet(s) => s.finish()?,
                            Sink::Jsonl(s) => s.finish()?,
                        };
                        files.push(FileEntry {
                            path: format!("{split}.{ext}"),
                            rows,
                            bytes,
                            sha256,
                        });
                    }
                }
                Ok(files)
            })
            .map_err(|e| Error::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    /// Queue a batch (blocks while the writer is four batches behind).
    ///
    /// # Errors
    /// The writer's own error if it has stopped.
    pub(crate) fn send(&mut self, batch: Batch) -> Result<()> {
        let sent = self
            .tx
            .as_ref()
            .map(|tx| tx.send(batch).is_ok())
            .unwrap_or(false);
        if sent {
            Ok(())
        } else {
            // The writer stopped: its result says why.
            self.tx = None;
            match self.join() {
                Err(e) => Err(e),
                Ok(_) => Err(Error::Internal("the writer thread stopped early".into())),
            }
        }
    }

    /// Close every file; returns their entries (parquet then jsonl, each
    /// train, validation, test).
    pub(crate) fn finish(mut self) -> Result<Vec<FileEntry>> {
        self.tx = None;
        self.join()
    }

    fn join(&mut self) -> Result<Vec<FileEntry>> {
        match self.handle.take() {
            None => Err(Error::Internal(
                "the writer thread was already joined".into(),
            )),
            Some(h) => h
                .join()
                .unwrap_or_else(|_| Err(Error::Internal("the writer thread panicked".into()))),
        }
    }
}

impl Drop for WriterThread {
    fn drop(&mut self) {
        // Close the channel and wait, so no thread writes into a staging
        // directory that is being deleted.
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
