//! One error type for every use case, with a stable code, an HTTP status and
//! a CLI exit code decided here and nowhere else.

use concord_domain::DomainError;
use concord_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    /// Stale version on an edit.
    #[error("{0}")]
    Conflict(String),
    /// Something already there (an id, a token label...).
    #[error("{0}")]
    Duplicate(String),
    /// A value that breaks a rule; names the field.
    #[error("{0}")]
    Invalid(String),
    /// A file or request that cannot be read at all; names the file, row and field.
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Refused(String),
    /// Too many attempts (sign-in throttling).
    #[error("{0}")]
    TooManyRequests(String),
    /// Not ready yet (a list still being worked out at start): try again.
    #[error("{0}")]
    NotReady(String),
    #[error("{0}")]
    Io(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// A stable, machine-readable code: clients may match on it.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "version_conflict",
            AppError::Duplicate(_) => "duplicate",
            AppError::Invalid(_) => "invalid",
            AppError::BadInput(_) => "bad_input",
            AppError::Unauthenticated(_) => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::Refused(_) => "refused",
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::NotReady(_) => "not_ready",
            AppError::Io(_) => "io_error",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn http_status(&self) -> u16 {
        match self {
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) | AppError::Duplicate(_) | AppError::Refused(_) => 409,
            AppError::Invalid(_) => 422,
            AppError::BadInput(_) => 400,
            AppError::Unauthenticated(_) => 401,
            AppError::Forbidden(_) => 403,
            AppError::TooManyRequests(_) => 429,
            AppError::NotReady(_) => 503,
            AppError::Io(_) | AppError::Internal(_) => 500,
        }
    }

    /// CONTRACT.md: 1 for a user error; internal faults also exit 1 (with
    /// a message, never a stack trace). Usage errors (2) are clap's.
    pub fn exit_code(&self) -> i32 {
        1
    }

    /// Messages safe to show to an outside caller: internal details are
    /// logged, not sent.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Internal(_) => {
                "something went wrong on our side; it has been logged".to_string()
            }
            other => other.to_string(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => AppError::NotFound(e.to_string()),
            StoreError::Conflict { .. } => AppError::Conflict(e.to_string()),
            StoreError::Duplicate(m) => AppError::Duplicate(m),
            StoreError::Invalid(d) => AppError::Invalid(d.to_string()),
            StoreError::Refused(m) => AppError::Refused(m),
            StoreError::BadBackup { .. } | StoreError::ImportRecord { .. } => {
                AppError::BadInput(e.to_string())
            }
            StoreError::Database(_) | StoreError::Corrupt(_) => AppError::Internal(e.to_string()),
        }
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        AppError::Invalid(e.to_string())
    }
}

pub type AppResult<T> = Result<T, AppError>;
