//! One error type for every use case, with a stable code, an HTTP status and
//! a CLI exit code decided here and nowhere else.

use concord_domain::{DomainError, FieldError};
use concord_store::StoreError;

/// What was wrong with the values given: each problem, naming its field
/// where it has one (an empty field: a problem of the whole request). The
/// text joins them ("field x: ...; field y: ..."); forms and the API's
/// `fields` read the parts, never the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn fields(&self) -> &[FieldError] {
        &self.0
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            if e.field.is_empty() {
                f.write_str(&e.message)?;
            } else {
                write!(f, "{e}")?;
            }
        }
        Ok(())
    }
}

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
    /// Values that break a rule, each naming its field.
    #[error("{0}")]
    Invalid(Invalid),
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
    /// Values that break a rule, with no one field to name.
    pub fn invalid(message: impl Into<String>) -> Self {
        AppError::Invalid(Invalid(vec![FieldError::new("", message)]))
    }

    /// One field's value breaks a rule.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid(Invalid(vec![FieldError::new(field, message)]))
    }

    /// Several fields' values break rules.
    pub fn invalid_fields(fields: Vec<FieldError>) -> Self {
        AppError::Invalid(Invalid(fields))
    }

    /// The fields an `Invalid` names (none for any other error).
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            AppError::Invalid(i) => i.fields(),
            _ => &[],
        }
    }

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
            StoreError::Invalid(d) => AppError::from(d),
            StoreError::Refused(m) => AppError::Refused(m),
            StoreError::BadBackup { .. }
            | StoreError::ImportRecord { .. }
            | StoreError::ImportSource(_) => AppError::BadInput(e.to_string()),
            StoreError::Database(_) | StoreError::Corrupt(_) => AppError::Internal(e.to_string()),
        }
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        AppError::Invalid(Invalid(e.fields()))
    }
}

pub type AppResult<T> = Result<T, AppError>;
