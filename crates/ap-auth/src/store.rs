//! What authentication needs from storage, implemented by `ap-store`.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::error::AuthError;
use crate::session::SessionIdentity;

/// Why a CLI token was revoked: a newer login replaced it.
pub const REVOKED_REPLACED: &str = "replaced";
/// Why a CLI token was revoked: its owner revoked it.
pub const REVOKED_BY_OWNER: &str = "revoked";

/// A stored CLI token (never its text, only facts about it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCliToken {
    /// Token id.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// End of its life.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why ([`REVOKED_REPLACED`] or [`REVOKED_BY_OWNER`]).
    pub revoked_reason: Option<String>,
    /// Last time it authenticated a request (updated at most hourly).
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A user's active CLI token, as the account page shows it (never its text or hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenInfo {
    /// When it was made (the last `ap login`).
    pub created_at: DateTime<Utc>,
    /// Last time it authenticated a request (updated at most hourly).
    pub last_used_at: Option<DateTime<Utc>>,
    /// End of its life.
    pub expires_at: DateTime<Utc>,
}

/// A CLI token to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCliToken {
    /// Token id.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// SHA-256 of the token text.
    pub token_hash: String,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// End of life.
    pub expires_at: DateTime<Utc>,
}

/// Storage of users and CLI tokens.
pub trait IdentityStore: Send + Sync + 'static {
    /// The token with this hash.
    fn cli_token_by_hash(
        &self,
        token_hash: String,
    ) -> impl Future<Output = Result<Option<StoredCliToken>, AuthError>> + Send;

    /// Records that a token was used.
    fn touch_cli_token(
        &self,
        token_id: String,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), AuthError>> + Send;

    /// The user of a session, created on first sight and updated when the claims changed;
    /// answers the user id.
    fn session_user(
        &self,
        identity: SessionIdentity,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<String, AuthError>> + Send;

    /// In one transaction: revokes the owner's active token (reason [`REVOKED_REPLACED`])
    /// and stores `token`. A unique index allows one active token per user, so of two
    /// concurrent calls one may fail with [`AuthError::Conflict`] (or succeed after the
    /// other); the caller retries once.
    fn replace_cli_token(
        &self,
        token: NewCliToken,
    ) -> impl Future<Output = Result<(), AuthError>> + Send;

    /// Revokes one token; answers whether it was active.
    fn revoke_cli_token(
        &self,
        token_id: String,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, AuthError>> + Send;

    /// Revokes a user's active token; answers whether there was one.
    fn revoke_user_cli_token(
        &self,
        user_id: String,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, AuthError>> + Send;

    /// The user's active token at `at` (not revoked, not expired), if any.
    fn active_cli_token(
        &self,
        user_id: String,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<TokenInfo>, AuthError>> + Send;

    /// What the revocations look like now, as seen by any instance: how many tokens were
    /// revoked at or after `since`, and the latest revocation. A revocation anywhere
    /// changes it (one committed late included, while it is younger than `since`).
    fn revocations(
        &self,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<Revocations, AuthError>> + Send;
}

/// See [`IdentityStore::revocations`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revocations {
    /// Tokens revoked at or after the time asked about.
    pub recent: i64,
    /// The latest revocation.
    pub latest: Option<DateTime<Utc>>,
}
