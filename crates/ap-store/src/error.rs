//! Errors of the store.

use ap_domain::{Code, ErrorCode};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What can go wrong in a unit of work.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had in time, or the server went away.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness rule was violated (the constraint name, when known).
    #[error("unique constraint violated: {0}")]
    Conflict(String),
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(DieselError),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// Reading or writing an archive failed.
    #[error("archive storage: {0}")]
    Io(#[from] std::io::Error),
    /// Stored JSON could not be decoded.
    #[error("stored JSON is invalid: {0}")]
    Json(#[from] serde_json::Error),
    /// Signing in to an account an administrator suspended.
    #[error("account suspended")]
    AccountSuspended,
    /// A session from before its owner scheduled the account's deletion (signing in
    /// again cancels the deletion).
    #[error("account frozen for deletion")]
    AccountFrozen,
    /// An operation this backend does not offer.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// The blocking task running the unit of work panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(String),
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::Conflict(info.constraint_name().unwrap_or(info.message()).to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                StoreError::Unavailable(info.message().to_owned())
            }
            other => StoreError::Database(other),
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(error: r2d2::Error) -> Self {
        StoreError::Unavailable(error.to_string())
    }
}

impl ErrorCode for StoreError {
    fn code(&self) -> Code {
        match self {
            StoreError::Unavailable(_) => Code::ServiceUnavailable,
            StoreError::Conflict(_) => Code::Conflict,
            StoreError::NotFound => Code::NotFound,
            StoreError::AccountSuspended => Code::AccountSuspended,
            StoreError::AccountFrozen => Code::Unauthorized,
            _ => Code::Internal,
        }
    }

    fn public_message(&self) -> String {
        match self {
            // The constraint's name stays in the log.
            StoreError::Conflict(_) => "The request conflicts with existing data".to_owned(),
            StoreError::NotFound => "Not found".to_owned(),
            StoreError::AccountSuspended => "This account is suspended".to_owned(),
            StoreError::AccountFrozen => "Not authenticated".to_owned(),
            _ => "Service temporarily unavailable".to_owned(),
        }
    }
}

/// The error type of a unit of work: any error a store failure converts into, which can
/// tell whether it is one (so [`crate::Db::run`] can recognise a lost connection).
pub trait UnitError: From<StoreError> + Send + 'static {
    /// The store failure inside, if this error is one.
    fn store_error(&self) -> Option<&StoreError>;
}

impl UnitError for StoreError {
    fn store_error(&self) -> Option<&StoreError> {
        Some(self)
    }
}
