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
    /// The account is suspended by an administrator.
    #[error("account suspended")]
    Suspended,
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

impl ap_domain::ErrorCode for AuthError {
    fn code(&self) -> ap_domain::Code {
        use ap_domain::Code;
        match self {
            AuthError::Unauthorized => Code::Unauthorized,
            AuthError::TokenRevoked => Code::TokenRevoked,
            AuthError::Suspended => Code::AccountSuspended,
            AuthError::Conflict => Code::Conflict,
            AuthError::Unavailable(_) => Code::ServiceUnavailable,
            AuthError::Internal(_) => Code::Internal,
        }
    }

    fn public_message(&self) -> String {
        match self {
            AuthError::Unauthorized => "Invalid or missing credentials",
            AuthError::TokenRevoked => "This token was replaced by a newer login; sign in again",
            AuthError::Suspended => "This account is suspended",
            AuthError::Conflict => "Concurrent change, try again",
            AuthError::Unavailable(_) => "Service temporarily unavailable",
            AuthError::Internal(_) => "Internal server error",
        }
        .to_owned()
    }
}
