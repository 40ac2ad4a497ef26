//! Store errors.

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQLite failed (I/O, corruption, locking, a constraint).
    #[error("store {path}: {source}")]
    Sqlite {
        /// The store file (or `:memory:`).
        path: String,
        /// The underlying error.
        #[source]
        source: rusqlite::Error,
    },
    /// The file was written by a newer resyn with a schema this one does not know.
    #[error("store {path} has schema version {found}; this resyn knows up to {known}")]
    NewerSchema {
        /// The store file.
        path: String,
        /// Version in the file.
        found: i64,
        /// Newest version this build knows.
        known: i64,
    },
    /// The file was written by an older resyn and a read-only open
    /// ([`crate::Store::open_read_only`]) cannot migrate it.
    #[error(
        "store {path} has schema version {found} and this resyn reads versions {oldest} to \
         {known}; a read-only open does not migrate it: run a command that writes the store \
         first (e.g. `resyn synth --resume RUN --store {path}`)",
        oldest = crate::schema::READABLE_FROM
    )]
    OlderSchema {
        /// The store file.
        path: String,
        /// Version in the file.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A SQLite file without resyn's tables.
    #[error("{path} is not a resyn store (no schema_version table)")]
    NotAStore {
        /// The file.
        path: String,
    },
    /// No such run.
    #[error("no run {0} in the store")]
    UnknownRun(i64),
    /// No such environment.
    #[error("no environment `{0}` in the store")]
    UnknownEnvironment(String),
    /// A row holds a status this resyn does not know (a corrupt file, or one
    /// written by a newer resyn).
    #[error(
        "store {path}: row {row} of table `{table}` has unknown status `{value}` (this resyn knows {known})"
    )]
    UnknownStatus {
        /// The store file (or `:memory:`).
        path: String,
        /// The table (`runs`, `candidates`).
        table: &'static str,
        /// The row id.
        row: i64,
        /// The stored value.
        value: String,
        /// The statuses this resyn knows, comma-separated.
        known: String,
    },
    /// A JSON column could not be (de)serialized.
    #[error("store column {column}: {source}")]
    Json {
        /// Which column.
        column: &'static str,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
