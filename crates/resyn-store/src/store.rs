//! [`Store`]: the connection, migrations and every query.
//!
//! Invariants:
//! - one connection behind a mutex: writes are serialized in-process, WAL
//!   lets other processes (`resyn show`) read meanwhile;
//! - every public method that changes more than one row does so in one
//!   transaction;
//! - `synchronous=NORMAL` in WAL mode: a killed process loses nothing that was
//!   committed (an OS crash may lose the last transactions, never corrupt).

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::rows::{Cols, FromRow};
use crate::schema::MIGRATIONS;
use crate::types::*;
use crate::{Error, Result};

/// A resyn store (one SQLite file). Share it by reference or in an `Arc`.
pub struct Store {
    pub(crate) conn: Mutex<Connection>,
    pub(crate) path: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn to_json<T: serde::Serialize>(column: &'static str, v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|source| Error::Json { column, source })
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Store {
    /// Open (creating if needed) the store at `path` and migrate it.
    ///
    /// # Errors
    /// [`Error::Sqlite`] when the file cannot be opened or migrated;
    /// [`Error::NewerSchema`] for a file from a newer resyn.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let p = path.as_ref().display().to_string();
        let conn = Connection::open(path.as_ref()).map_err(|source| Error::Sqlite {
            path: p.clone(),
            source,
        })?;
        Self::init(conn, p)
    }

    /// A private in-memory store (tests, dry runs).
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn open_in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory().map_err(|source| Error::Sqlite {
            path: ":memory:".into(),
            source,
        })?;
        Self::init(conn, ":memory:".into())
    }

    fn init(mut conn: Connection, path: String) -> Result<Store> {
        let sq = |source| Error::Sqlite {
            path: path.clone(),
            source,
        };
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(sq)?;
        // `journal_mode` returns a row, so it is queried rather than executed.
        let _mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(sq)?;
        conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
            .map_err(sq)?;
        let tx = conn.transaction().map_err(sq)?;
        tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .map_err(sq)?;
        let found: Option<i64> = tx
            .query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))
            .map_err(sq)?;
        let found = found.unwrap_or(0);
        let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
        if found > known {
            return Err(Error::NewerSchema { path, found, known });
        }
        for (k, m) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(found).unwrap_or(0))
        {
            tx.execute_batch(m).map_err(sq)?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                params![i64::try_from(k + 1).unwrap_or(i64::MAX)],
            )
            .map_err(sq)?;
        }
        tx.commit().map_err(sq)?;
        Ok(Store {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// The file path (or `:memory:`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The schema version of the file.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn schema_version(&self) -> Result<i64> {
        self.with(|c| c.query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0)))
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (an open
        // transaction is rolled back when dropped), so keep serving.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sq(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        move |source| Error::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    pub(crate) fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let c = self.lock();
        f(&c).map_err(self.sq())
    }

    /// `SELECT T::COLUMNS FROM T::TABLE {rest}`, each row read by name.
    pub(crate) fn select<T: FromRow>(
        &self,
        rest: &str,
        p: impl rusqlite::Params,
    ) -> Result<Vec<T>> {
        let sql = format!("SELECT {} FROM {} {rest}", T::COLUMNS, T::TABLE);
        self.query(&sql, p, T::from_row)
    }

    /// Every row of `sql`, read by `f`.
    fn query<T>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
        f: impl Fn(&Cols<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let c = self.lock();
        let mut st = c.prepare(sql).map_err(self.sq())?;
        let mut rows = st.query(p).map_err(self.sq())?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(self.sq())? {
            out.push(f(&Cols {
                row,
                path: &self.path,
            })?);
        }
        Ok(out)
    }

    fn tx<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut c = self.lock();
        let tx = c.transaction().map_err(self.sq())?;
        let v = f(&tx)?;
        tx.commit().map_err(self.sq())?;
        Ok(v)
    }

    // ------------------------------------------------------------ runs

    /// Start a run with this configuration; returns its id.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn create_run(&self, config: &serde_json::Value) -> Result<i64> {
        let cfg = to_json("runs.config", config)?;
        self.with(|c| {
            c.execute(
                "INSERT INTO runs (created_at, updated_at, status, config) VALUES (?1, ?1, ?2, ?3)",
                params![now(), RunStatus::Running.as_str(), cfg],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    /// A run.
    ///
    /// # Errors
    /// [`Error::UnknownRun`], [`Error::Sqlite`], [`Error::Json`],
    /// [`Error::UnknownStatus`].
    pub fn run(&self, id: i64) -> Result<Run> {
        self.select("WHERE id = ?1", params![id])?
            .pop()
            .ok_or(Error::UnknownRun(id))
    }

    /// All runs, oldest first.
    ///
    /// # Errors
    /// [`Error::Sqlite`], [`Error::Json`], [`Error::UnknownStatus`].
    pub fn runs(&self) -> Result<Vec<Run>> {
        self.select("ORDER BY id", [])
    }

    /// Set a run's status and add wall time.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn update_run(&self, id: i64, status: RunStatus, add_wall_ms: u64) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE runs SET status = ?2, wall_ms = wall_ms + ?3, updated_at = ?4 WHERE id = ?1",
                params![id, status.as_str(), i(add_wall_ms), now()],
            )
            .map(|_| ())
        })
    }

    // ------------------------------------------------------------ keywords

    /// Append keywords `(keyword, category)` to a run; ones it already has are
    /// ignored.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn add_keywords(&self, run: i64, keywords: &[(String, String)]) -> Result<()> {
        self.tx(|tx| {
            let start: i64 = tx
                .query_row(
                    "SELECT coalesce(max(ord) + 1, 0) FROM keywords WHERE run_id = ?1",
                    params![run],
                    |r| r.get(0),
                )
                .map_err(self.sq())?;
            let mut st = tx
                .prepare(
                    "INSERT OR IGNORE INTO keywords (run_id, ord, keyword, category) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(self.sq())?;
            for (k, (kw, cat)) in keywords.iter().enumerate() {
                let ord = start + i64::try_from(k).unwrap_or(i64::MAX);
                st.execute(params![run, ord, kw, cat]).map_err(self.sq())?;
            }
            Ok(())
        })
    }

    /// Keywords of a run whose proposals are not in yet, in order.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn pending_keywords(&self, run: i64) -> Result<Vec<KeywordRow>> {
        self.select(
            "WHERE run_id = ?1 AND status = 'pending' ORDER BY ord",
            params![run],
        )
    }

    /// Record a keyword's proposals as candidates and mark it done, in one
    /// transaction; returns the candidate ids.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn finish_keyword(&self, keyword_id: i64, proposals: &[NewCandidate]) -> Result<Vec<i64>> {
        self.close_keyword(keyword_id, proposals, None)
    }

    /// Mark a keyword failed (its proposal call failed or could not be
    /// parsed), with the reason.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn fail_keyword(&self, keyword_id: i64, detail: &str) -> Result<()> {
        self.close_keyword(keyword_id, &[], Some(detail))
            .map(|_| ())
    }

    fn close_keyword(
        &self,
        keyword_id: i64,
        proposals: &[NewCandidate],
        failure: Option<&str>,
    ) -> Result<Vec<i64>> {
        self.tx(|tx| {
            let run: i64 = tx
                .query_row(
                    "SELECT run_id FROM keywords WHERE id = ?1",
                    params![keyword_id],
                    |r| r.get(0),
                )
                .map_err(self.sq())?;
            let mut ids = Vec::with_capacity(proposals.len());
            for p in proposals {
                tx.execute(
                    "INSERT INTO candidates (run_id, keyword, title, proposal, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                    params![run, p.keyword, p.title, to_json("candidates.proposal", &p.proposal)?, now()],
                )
                .map_err(self.sq())?;
                ids.push(tx.last_insert_rowid());
            }
            tx.execute(
                "UPDATE keywords SET status = ?2, detail = ?3 WHERE id = ?1",
                params![
                    keyword_id,
                    if failure.is_some() { "failed" } else { "done" },
                    failure.unwrap_or("")
                ],
            )
            .map_err(self.sq())?;
            Ok(ids)
        })
    }

    // ------------------------------------------------------------ candidates

    /// Every candidate of a run, in creation order.
    ///
    /// # Errors
    /// [`Error::Sqlite`], [`Error::Json`], [`Error::UnknownStatus`].
    pub fn candidates(&self, run: i64) -> Result<Vec<Candidate>> {
        self.select("WHERE run_id = ?1 ORDER BY id", params![run])
    }

    /// The candidates a run created for one keyword, in creation order: what
    /// its proposal stored (a keyword is proposed once per run).
    ///
    /// # Errors
    /// [`Error::Sqlite`], [`Error::Json`], [`Error::UnknownStatus`].
    pub fn keyword_candidates(&self, run: i64, keyword: &str) -> Result<Vec<Candidate>> {
        self.select(
            "WHERE run_id = ?1 AND keyword = ?2 ORDER BY id",
            params![run, keyword],
        )
    }

    /// One candidate.
    ///
    /// # Errors
    /// [`Error::Sqlite`], [`Error::Json`], [`Error::UnknownStatus`].
    pub fn candidate(&self, id: i64) -> Result<Option<Candidate>> {
        Ok(self.select("WHERE id = ?1", params![id])?.pop())
    }

    /// Titles of every candidate ever proposed (all runs), for the proposal
    /// prompt's "already exists" list.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn titles(&self) -> Result<Vec<String>> {
        self.with(|c| {
            let mut st = c.prepare("SELECT DISTINCT title FROM candidates ORDER BY id")?;
            st.query_map([], |r| r.get(0))?.collect()
        })
    }

    /// Record a stage outcome and, optionally, save the candidate's progress,
    /// in one transaction.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn record_stage(
        &self,
        candidate: i64,
        event: &StageEvent,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<()> {
        self.tx(|tx| {
            Self::insert_event(tx, candidate, event).map_err(self.sq())?;
            if let Some(cp) = checkpoint {
                tx.execute(
                    "UPDATE candidates SET code = ?2, round = ?3, review_passed = ?4, cross_code = ?5, updated_at = ?6, cross_draws = ?7, settled = ?8 WHERE id = ?1",
                    params![
                        candidate,
                        cp.code,
                        cp.round,
                        cp.review_passed,
                        cp.cross_code,
                        now(),
                        cp.cross_draws,
                        serde_json::to_string(&cp.settled).unwrap_or_else(|_| "[]".into())
                    ],
                )
                .map_err(self.sq())?;
            }
            Ok(())
        })
    }

    fn insert_event(tx: &Transaction<'_>, candidate: i64, e: &StageEvent) -> rusqlite::Result<()> {
        tx.execute(
            "INSERT INTO stage_events (candidate_id, run_id, stage, passed, reason, detail, round, at)
             SELECT ?1, run_id, ?2, ?3, ?4, ?5, ?6, ?7 FROM candidates WHERE id = ?1",
            params![candidate, e.stage, e.passed, e.reason, e.detail, e.round, now()],
        )?;
        tx.execute(
            "UPDATE candidates SET stage = ?2, reason = ?3, detail = ?4, updated_at = ?5 WHERE id = ?1",
            params![candidate, e.stage, e.reason, e.detail, now()],
        )?;
        Ok(())
    }

    /// Close a candidate (rejected or skipped) with its final stage outcome.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn finish_candidate(
        &self,
        candidate: i64,
        status: CandidateStatus,
        event: &StageEvent,
    ) -> Result<()> {
        self.tx(|tx| {
            Self::insert_event(tx, candidate, event).map_err(self.sq())?;
            tx.execute(
                "UPDATE candidates SET status = ?2 WHERE id = ?1",
                params![candidate, status.as_str()],
            )
            .map_err(self.sq())?;
            Ok(())
        })
    }

    /// The stage events of a candidate, in order.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn stage_events(&self, candidate: i64) -> Result<Vec<StageEvent>> {
        self.select("WHERE candidate_id = ?1 ORDER BY id", params![candidate])
    }

    // ------------------------------------------------------------ environments

    /// Store an accepted environment and close its candidate, in one
    /// transaction. A clash on `NAME` or content hash stores nothing and
    /// returns [`Accepted::Duplicate`].
    ///
    /// # Errors
    /// [`Error::Sqlite`], [`Error::Json`].
    pub fn accept(&self, env: &NewEnvironment, event: &StageEvent) -> Result<Accepted> {
        self.tx(|tx| {
            let clash: Option<(String, String)> = tx
                .query_row(
                    "SELECT name, content_hash FROM environments WHERE name = ?1 OR content_hash = ?2",
                    params![env.name, env.content_hash],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(self.sq())?;
            if let Some((name, hash)) = clash {
                let key = if hash == env.content_hash { "content_hash" } else { "name" };
                return Ok(Accepted::Duplicate { key, existing: name });
            }
            tx.execute(
                "INSERT INTO environments (name, version, content_hash, category, description, code, provenance, validation, calibration, fingerprint, run_id, candidate_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    env.name,
                    env.version,
                    env.content_hash,
                    env.category,
                    env.description,
                    env.code,
                    to_json("environments.provenance", &env.provenance)?,
                    to_json("environments.validation", &env.validation)?,
                    env.calibration.as_ref().map(|c| to_json("environments.calibration", c)).transpose()?,
                    to_json("environments.fingerprint", &env.fingerprint)?,
                    env.run_id,
                    env.candidate_id,
                    now(),
                ],
            )
            .map_err(self.sq())?;
            let id = tx.last_insert_rowid();
            if let Some(c) = env.candidate_id {
                Self::insert_event(tx, c, event).map_err(self.sq())?;
                tx.execute(
                    "UPDATE candidates SET status = 'accepted', env_name = ?2 WHERE id = ?1",
                    params![c, env.name],
                )
                .map_err(self.sq())?;
            }
            Ok(Accepted::Stored(id))
        })
    }

    /// Every stored environment, by name.
    ///
    /// # Errors
    /// [`Error::Sqlite`], [`Error::Json`].
    pub fn environments(&self) -> Result<Vec<StoredEnv>> {
        self.select("ORDER BY name", [])
    }

    /// The environment with this `NAME`.
    ///
    /// # Errors
    /// [`Error::UnknownEnvironment`], [`Error::Sqlite`], [`Error::Json`].
    pub fn environment(&self, name: &str) -> Result<StoredEnv> {
        self.select("WHERE name = ?1", params![name])?
            .pop()
            .ok_or_else(|| Error::UnknownEnvironment(name.to_string()))
    }

    /// Number of environments a run stored.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn accepted_count(&self, run: i64) -> Result<u64> {
        self.with(|c| {
            c.query_row(
                "SELECT count(*) FROM environments WHERE run_id = ?1",
                params![run],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|n| u64::try_from(n).unwrap_or(0))
    }

    // ------------------------------------------------------------ llm calls

    /// Record an LLM call; returns its id.
    ///
    /// # Errors
    /// [`Error::Sqlite`], [`Error::Json`].
    pub fn record_call(&self, call: &CallRecord) -> Result<i64> {
        let request = to_json("llm_calls.request", &call.request)?;
        self.with(|c| {
            c.execute(
                "INSERT INTO llm_calls (run_id, candidate_id, purpose, request_hash, request, reply, finish_reason, prompt_tokens, completion_tokens, latency_ms, status, error, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    call.run_id,
                    call.candidate_id,
                    call.purpose,
                    call.request_hash,
                    request,
                    call.reply,
                    call.finish_reason,
                    i(call.prompt_tokens),
                    i(call.completion_tokens),
                    i(call.latency_ms),
                    call.status,
                    call.error,
                    now(),
                ],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    /// A successful earlier reply to a byte-identical request of this run,
    /// among calls with id at most `up_to` (the calls of earlier sessions:
    /// replay on resume): `(reply, finish_reason)`.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn replay(
        &self,
        run: i64,
        request_hash: &str,
        up_to: i64,
    ) -> Result<Option<(String, Option<String>)>> {
        self.with(|c| {
            c.query_row(
                "SELECT reply, finish_reason FROM llm_calls WHERE run_id = ?1 AND request_hash = ?2 AND id <= ?3 AND status = 'ok' AND reply IS NOT NULL ORDER BY id LIMIT 1",
                params![run, request_hash, up_to],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
    }

    /// The id of the newest LLM call (0 when there is none).
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn last_call_id(&self) -> Result<i64> {
        self.with(|c| {
            c.query_row("SELECT coalesce(max(id), 0) FROM llm_calls", [], |r| {
                r.get(0)
            })
        })
    }

    /// The LLM calls of a run, in order.
    ///
    /// # Errors
    /// [`Error::Sqlite`], [`Error::Json`].
    pub fn calls(&self, run: i64) -> Result<Vec<CallRecord>> {
        self.select("WHERE run_id = ?1 ORDER BY id", params![run])
    }

    /// The LLM calls made for one candidate, in order.
    ///
    /// # Errors
    /// [`Error::Sqlite`], [`Error::Json`].
    pub fn candidate_calls(&self, candidate: i64) -> Result<Vec<CallRecord>> {
        self.select("WHERE candidate_id = ?1 ORDER BY id", params![candidate])
    }

    // ------------------------------------------------------------ summary

    /// Totals of a run.
    ///
    /// # Errors
    /// [`Error::UnknownRun`], [`Error::Sqlite`], [`Error::UnknownStatus`].
    pub fn summary(&self, run: i64) -> Result<Summary> {
        let r = self.run(run)?;
        let mut s = Summary {
            run_id: run,
            wall_ms: r.wall_ms,
            ..Summary::default()
        };
        // `id`: a row with that status, for the error on an unknown one.
        let by_status = self.query(
            "SELECT status, count(*) AS n, min(id) AS id FROM candidates WHERE run_id = ?1 GROUP BY status",
            params![run],
            |r| Ok((r.status::<CandidateStatus>("candidates")?, r.unsigned("n")?)),
        )?;
        for (status, n) in by_status {
            s.candidates += n;
            match status {
                CandidateStatus::Accepted => s.accepted += n,
                CandidateStatus::Rejected => s.rejected += n,
                CandidateStatus::Skipped => s.skipped += n,
                CandidateStatus::Pending => s.pending += n,
            }
        }
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT stage, reason, count(*) AS n FROM candidates WHERE run_id = ?1 AND status = 'rejected' GROUP BY stage, reason ORDER BY n DESC, stage, reason",
            )?;
            s.failures = st
                .query_map(params![run], |r| {
                    Ok((r.get(0)?, r.get(1)?, u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0)))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut st = c.prepare(
                "SELECT stage, count(*) FROM stage_events WHERE run_id = ?1 AND passed = 0 GROUP BY stage ORDER BY min(id)",
            )?;
            s.stage_failures = st
                .query_map(params![run], |r| {
                    Ok((r.get(0)?, u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0)))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut st = c.prepare(
                "SELECT stage, count(DISTINCT candidate_id) FROM stage_events WHERE run_id = ?1 AND passed = 1 GROUP BY stage ORDER BY min(id)",
            )?;
            s.passed_by_stage = st
                .query_map(params![run], |r| {
                    Ok((r.get(0)?, u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0)))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut st = c.prepare(
                "SELECT reason, count(*) FROM stage_events WHERE run_id = ?1 AND stage = 'adjudicate' GROUP BY reason ORDER BY reason",
            )?;
            s.disagreements = st
                .query_map(params![run], |r| {
                    Ok((r.get(0)?, u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0)))
                })?
                .collect::<rusqlite::Result<_>>()?;
            s.uncalibrated = c
                .query_row(
                    "SELECT count(*) FROM environments WHERE run_id = ?1 AND calibration IS NULL",
                    params![run],
                    |r| r.get::<_, i64>(0),
                )
                .map(|n| u64::try_from(n).unwrap_or(0))?;
            s.repairs = c
                .query_row(
                    "SELECT coalesce(sum(round), 0) FROM candidates WHERE run_id = ?1",
                    params![run],
                    |r| r.get::<_, i64>(0),
                )
                .map(|n| u64::try_from(n).unwrap_or(0))?;
            let (calls, errors, pt, ct): (i64, i64, i64, i64) = c.query_row(
                "SELECT count(*), coalesce(sum(status != 'ok'), 0), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0) FROM llm_calls WHERE run_id = ?1",
                params![run],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
            let u = |v: i64| u64::try_from(v).unwrap_or(0);
            s.keyword_failures = c
                .query_row(
                    "SELECT count(*) FROM keywords WHERE run_id = ?1 AND status = 'failed'",
                    params![run],
                    |r| r.get::<_, i64>(0),
                )
                .map(u)?;
            s.llm_calls = u(calls);
            s.llm_errors = u(errors);
            s.prompt_tokens = u(pt);
            s.completion_tokens = u(ct);
            Ok(s)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        let s = Store::open(&p).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        drop(s);
        let s = Store::open(&p).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        s.with(|c| c.execute("INSERT INTO schema_version VALUES (99)", []))
            .unwrap();
        drop(s);
        let e = Store::open(&p).unwrap_err();
        assert!(matches!(e, Error::NewerSchema { found: 99, .. }), "{e}");
    }

    #[test]
    fn a_file_of_an_older_schema_is_migrated_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        {
            // A store as the first release wrote it, with a row.
            let c = Connection::open(&p).unwrap();
            c.execute_batch(MIGRATIONS[0]).unwrap();
            c.execute_batch(
                "CREATE TABLE schema_version (version INTEGER NOT NULL);
                 INSERT INTO schema_version VALUES (1);
                 INSERT INTO runs (created_at, updated_at, status, config) VALUES (0, 0, 'exhausted', '{}');",
            )
            .unwrap();
        }
        let s = Store::open(&p).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        assert_eq!(s.run(1).unwrap().status, RunStatus::Exhausted);
        let indexes: Vec<String> = s
            .with(|c| {
                let mut st =
                    c.prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")?;
                st.query_map([], |r| r.get(0))?.collect()
            })
            .unwrap();
        for i in ["candidates_keyword", "llm_calls_candidate"] {
            assert!(indexes.iter().any(|n| n == i), "{indexes:?}");
        }
    }
}
