//! Errors of authentication.

/// Why a request is not authenticated, or why a token operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown, malformed, expired or revoked credentials (one answer for all of them).
    #[error("not authenticated")]
    Unauthorized,
    /// A CLI token replaced by a newer login.
    #[error("token revoked by a newer login")]
    TokenRevoked,
    /// A concurrent change won a uniqueness race (retry).
    #[error("concurrent change")]
    Conflict,
    /// The identity store is unreachable.
    #[error("identity store unavailable: {0}")]
    Unavailable(String),
    /// Anything else (the store failed, a key could not be loaded).
    #[error("authentication failed internally: {0}")]
    Internal(String),
}
