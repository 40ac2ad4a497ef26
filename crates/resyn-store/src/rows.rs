//! Reading rows into the types of [`crate::types`] by column name.
//!
//! Each row type says which columns it reads ([`FromRow::COLUMNS`], the
//! SELECT list) and reads them by name, so a query's column order cannot
//! silently shift a field. Conversions that can fail on a stored value (JSON
//! columns, statuses) fail with an error naming the column or the row.

use rusqlite::Row;
use rusqlite::types::FromSql;

use crate::types::{
    CallRecord, Candidate, Checkpoint, KeywordRow, NewEnvironment, Run, StageEvent, StatusColumn,
    StoredEnv,
};
use crate::{Error, Result};

/// A row type of the store.
pub(crate) trait FromRow: Sized {
    /// The table it is read from.
    const TABLE: &'static str;
    /// The columns [`FromRow::from_row`] reads, comma-separated.
    const COLUMNS: &'static str;
    /// Read one row (selected with [`FromRow::COLUMNS`]).
    fn from_row(r: &Cols<'_>) -> Result<Self>;
}

/// One row of a query, with the store path for errors.
pub(crate) struct Cols<'a> {
    pub(crate) row: &'a Row<'a>,
    pub(crate) path: &'a str,
}

impl Cols<'_> {
    pub(crate) fn get<T: FromSql>(&self, column: &str) -> Result<T> {
        self.row.get(column).map_err(|source| Error::Sqlite {
            path: self.path.to_string(),
            source,
        })
    }

    /// A JSON column; `qualified` is `table.column`.
    pub(crate) fn json(&self, qualified: &'static str) -> Result<serde_json::Value> {
        let column = qualified.rsplit('.').next().unwrap_or(qualified);
        let text: String = self.get(column)?;
        serde_json::from_str(&text).map_err(|source| Error::Json {
            column: qualified,
            source,
        })
    }

    /// A nullable JSON column; `qualified` is `table.column`.
    pub(crate) fn json_opt(&self, qualified: &'static str) -> Result<Option<serde_json::Value>> {
        let column = qualified.rsplit('.').next().unwrap_or(qualified);
        let text: Option<String> = self.get(column)?;
        text.map(|t| {
            serde_json::from_str(&t).map_err(|source| Error::Json {
                column: qualified,
                source,
            })
        })
        .transpose()
    }

    /// A non-negative count or duration column.
    pub(crate) fn unsigned(&self, column: &str) -> Result<u64> {
        Ok(u64::try_from(self.get::<i64>(column)?).unwrap_or(0))
    }

    /// The `status` column of a table whose row id is the `id` column.
    ///
    /// # Errors
    /// [`Error::UnknownStatus`] for a name this resyn does not know (a
    /// corrupt file, or one written by a newer resyn).
    pub(crate) fn status<S: StatusColumn>(&self, table: &'static str) -> Result<S> {
        let value: String = self.get("status")?;
        if let Some(s) = S::VALUES.iter().find(|s| s.name() == value) {
            return Ok(*s);
        }
        Err(Error::UnknownStatus {
            path: self.path.to_string(),
            table,
            row: self.get("id")?,
            value,
            known: S::VALUES
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

impl FromRow for Run {
    const TABLE: &'static str = "runs";
    const COLUMNS: &'static str = "id, status, config, created_at, wall_ms";
    fn from_row(r: &Cols<'_>) -> Result<Self> {
        Ok(Run {
            id: r.get("id")?,
            status: r.status(Self::TABLE)?,
            config: r.json("runs.config")?,
            created_at: r.get("created_at")?,
            wall_ms: r.get("wall_ms")?,
        })
    }
}

impl FromRow for KeywordRow {
    const TABLE: &'static str = "keywords";
    const COLUMNS: &'static str = "id, ord, keyword, category";
    fn from_row(r: &Cols<'_>) -> Result<Self> {
        Ok(KeywordRow {
            id: r.get("id")?,
            ord: r.get("ord")?,
            keyword: r.get("keyword")?,
            category: r.get("category")?,
        })
    }
}

impl FromRow for Candidate {
    const TABLE: &'static str = "candidates";
    const COLUMNS: &'static str = "id, run_id, keyword, title, proposal, status, stage, reason, detail, round, code, review_passed, cross_code, cross_draws, settled, env_name";
    fn from_row(r: &Cols<'_>) -> Result<Self> {
        Ok(Candidate {
            id: r.get("id")?,
            run_id: r.get("run_id")?,
            keyword: r.get("keyword")?,
            title: r.get("title")?,
            proposal: r.json("candidates.proposal")?,
            status: r.status(Self::TABLE)?,
            stage: r.get("stage")?,
            reason: r.get("reason")?,
            detail: r.get("detail")?,
            checkpoint: Checkpoint {
                round: u32::try_from(r.get::<i64>("round")?).unwrap_or(0),
                code: r.get("code")?,
                review_passed: r.get("review_passed")?,
                cross_code: r.get("cross_code")?,
                cross_draws: u32::try_from(r.get::<i64>("cross_draws")?).unwrap_or(0),
                settled: serde_json::from_value(r.json("candidates.settled")?).map_err(
                    |source| Error::Json {
                        column: "candidates.settled",
                        source,
                    },
                )?,
            },
            env_name: r.get("env_name")?,
        })
    }
}

impl FromRow for StageEvent {
    const TABLE: &'static str = "stage_events";
    const COLUMNS: &'static str = "stage, passed, reason, detail, round";
    fn from_row(r: &Cols<'_>) -> Result<Self> {
        Ok(StageEvent {
            stage: r.get("stage")?,
            passed: r.get("passed")?,
            reason: r.get("reason")?,
            detail: r.get("detail")?,
            round: r.get("round")?,
        })
    }
}

impl FromRow for StoredEnv {
    const TABLE: &'static str = "environments";
    const COLUMNS: &'static str = "id, name, version, content_hash, category, description, code, provenance, validation, calibration, fingerprint, run_id, candidate_id, created_at";
    fn from_row(r: &Cols<'_>) -> Result<Self> {
        Ok(StoredEnv {
            id: r.get("id")?,
            env: NewEnvironment {
                name: r.get("name")?,
                version: r.get("version")?,
                content_hash: r.get("content_hash")?,
                category: r.get("category")?,
                description: r.get("description")?,
                code: r.get("code")?,
                provenance: r.json("environments.provenance")?,
                validation: r.json("environments.validation")?,
                calibration: r.json_opt("environments.calibration")?,
                fingerprint: r.json("environments.fingerprint")?,
                run_id: r.get("run_id")?,
                candidate_id: r.get("candidate_id")?,
            },
            created_at: r.get("created_at")?,
        })
    }
}

impl FromRow for CallRecord {
    const TABLE: &'static str = "llm_calls";
    const COLUMNS: &'static str = "run_id, candidate_id, purpose, request_hash, request, reply, finish_reason, prompt_tokens, completion_tokens, latency_ms, status, error";
    fn from_row(r: &Cols<'_>) -> Result<Self> {
        Ok(CallRecord {
            run_id: r.get("run_id")?,
            candidate_id: r.get("candidate_id")?,
            purpose: r.get("purpose")?,
            request_hash: r.get("request_hash")?,
            request: r.json("llm_calls.request")?,
            reply: r.get("reply")?,
            finish_reason: r.get("finish_reason")?,
            prompt_tokens: r.unsigned("prompt_tokens")?,
            completion_tokens: r.unsigned("completion_tokens")?,
            latency_ms: r.unsigned("latency_ms")?,
            status: r.get("status")?,
            error: r.get("error")?,
        })
    }
}
