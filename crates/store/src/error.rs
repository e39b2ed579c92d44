use concord_domain::DomainError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} {id} was not found")]
    NotFound { entity: &'static str, id: String },
    /// An edit based on a version that is no longer current.
    #[error(
        "{id} has changed since version {expected} (it is now at version {actual}); reload and try again"
    )]
    Conflict {
        id: String,
        expected: i64,
        actual: i64,
    },
    /// A unique value that is already taken (an exact id, an import key...).
    #[error("{0}")]
    Duplicate(String),
    #[error("{0}")]
    Invalid(DomainError),
    /// A request the store refuses as it stands (e.g. restore into a non-empty database).
    #[error("{0}")]
    Refused(String),
    #[error("database error: {0}")]
    Database(String),
    /// Something stored that we cannot read back: a bug or a hand-edited database.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// One record of an import cannot go in, so none of them did. `index`
    /// is the record's position in the batch, for the caller to map back to
    /// a file and row.
    #[error("record {} of the import: {message}", .index + 1)]
    ImportRecord { index: usize, message: String },
    /// The caller could not read the files of an import to the end (the
    /// message says which and why); nothing was written.
    #[error("{0}")]
    ImportSource(String),
    #[error("backup file, line {line}: {message}")]
    BadBackup { line: u64, message: String },
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}
