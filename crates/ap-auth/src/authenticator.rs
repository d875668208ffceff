//! Turning a bearer token into a caller, and the CLI token lifecycle.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, Utc};

use crate::cli_token::{self, CliToken};
use crate::error::AuthError;
use crate::session::SessionVerifier;
use crate::store::{
    IdentityStore, NewCliToken, REVOKED_REPLACED, Revocations, StoredCliToken, TokenInfo,
};
use ap_domain::clock::Clock;

/// `last_used_at` is written at most this often per token.
const TOUCH_INTERVAL_MINUTES: i64 = 60;

/// How the caller authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A session JWT from the identity provider.
    Session,
    /// A CLI token.
    CliToken {
        /// Its id.
        token_id: String,
        /// Its end of life.
        expires_at: DateTime<Utc>,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The user.
    pub user_id: String,
    /// How they authenticated.
    pub credential: Credential,
}

/// A freshly minted CLI token.
#[derive(Debug)]
pub struct MintedToken {
    /// The token (shown once to its owner).
    pub token: CliToken,
    /// End of life.
    pub expires_at: DateTime<Utc>,
}

/// Authentication over a store, the session verifier and a clock.
pub struct Authenticator<S> {
    store: S,
    sessions: SessionVerifier,
    clock: Arc<dyn Clock>,
    /// Recently looked-up CLI tokens by hash, with the time of the lookup; `None` for a
    /// hash the store did not know (so a repeated bad token costs no query either).
    /// Expiry and revocation are still checked on every request; the cache only spares
    /// the query. Cleared whenever this instance mints or revokes a token; another
    /// instance's revocation is seen within `token_cache_ttl`.
    tokens: quick_cache::sync::Cache<String, (Option<StoredCliToken>, DateTime<Utc>)>,
    /// Moves on at every local mint and revoke.
    token_epoch: AtomicU64,
    token_cache_ttl: Duration,
    /// The revocations [`Authenticator::follow_revocations`] saw last.
    revocations: std::sync::Mutex<Option<Revocations>>,
}

/// How far back [`Authenticator::follow_revocations`] counts revocations: longer than any
/// transaction that revokes a token can take to commit.
const REVOCATION_WINDOW_SECS: i64 = 60;

impl<S> std::fmt::Debug for Authenticator<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").field("sessions", &self.sessions).finish_non_exhaustive()
    }
}

impl<S: IdentityStore> Authenticator<S> {
    /// An authenticator; CLI token lookups are reused for `token_cache_ttl` (zero: never).
    pub fn new(
        store: S,
        sessions: SessionVerifier,
        clock: Arc<dyn Clock>,
        token_cache_ttl: Duration,
    ) -> Self {
        Self {
            store,
            sessions,
            clock,
            tokens: quick_cache::sync::Cache::new(10_000),
            token_epoch: AtomicU64::new(0),
            token_cache_ttl,
            revocations: std::sync::Mutex::new(None),
        }
    }

    /// Drops the token cache when any instance revoked a token since the last call (the
    /// server calls this every 200 ms, so another instance's revocation takes effect here
    /// within that, not within the cache's lifetime). One indexed query.
    pub async fn follow_revocations(&self) -> Result<(), AuthError> {
        if self.token_cache_ttl <= Duration::zero() {
            return Ok(());
        }
        let since = self.clock.now() - Duration::seconds(REVOCATION_WINDOW_SECS);
        let seen = self.store.revocations(since).await?;
        // The first look only learns where things stand (the server makes it within
        // 200 ms of starting); every later change drops the cache.
        let changed = {
            let mut last = self.revocations.lock().unwrap_or_else(|e| e.into_inner());
            let changed = last.is_some_and(|before| before != seen);
            *last = Some(seen);
            changed
        };
        if changed {
            self.forget_cached_tokens();
        }
        Ok(())
    }

    /// The recent lookup of `hash`, if there is one.
    fn remembered(&self, hash: &str, now: DateTime<Utc>) -> Option<Option<StoredCliToken>> {
        self.tokens.get(hash).filter(|(_, at)| now - *at < self.token_cache_ttl).map(|(s, _)| s)
    }

    async fn lookup(&self, hash: String, now: DateTime<Utc>) -> Result<StoredCliToken, AuthError> {
        if let Some(stored) = self.remembered(&hash, now) {
            return stored.ok_or(AuthError::Unauthorized);
        }
        let epoch = self.token_epoch.load(Ordering::Acquire);
        let stored = self.store.cli_token_by_hash(hash.clone()).await?;
        // A mint or revoke that finished meanwhile makes this read stale: do not keep it.
        if self.token_cache_ttl > Duration::zero()
            && self.token_epoch.load(Ordering::Acquire) == epoch
        {
            self.tokens.insert(hash, (stored.clone(), now));
        }
        stored.ok_or(AuthError::Unauthorized)
    }

    /// Whether authenticating `bearer` would query the store for a CLI token: a
    /// well-formed one this instance has not looked up recently. (A malformed token is
    /// refused without a query; sessions are verified by signature first.)
    pub fn needs_lookup(&self, bearer: &str) -> bool {
        bearer.starts_with(cli_token::PREFIX)
            && CliToken::parse(bearer)
                .is_ok_and(|token| self.remembered(&token.hash(), self.clock.now()).is_none())
    }

    /// The clock everything here compares against.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The session verifier.
    pub fn sessions(&self) -> &SessionVerifier {
        &self.sessions
    }

    /// Authenticates a bearer token: a CLI token (shape and checksum first, then one
    /// indexed lookup by hash) or a session JWT (the user is created on first sight).
    pub async fn authenticate(&self, bearer: &str) -> Result<Caller, AuthError> {
        self.authenticate_as(bearer, false).await
    }

    /// [`Authenticator::authenticate`] for a sign-in (`POST /v1/auth/cli-token`, the
    /// end of `ap login`): only there does a session issued after its owner scheduled
    /// the account's deletion count as signing in again, which cancels the deletion.
    /// (Providers refresh session tokens every minute or so; an open browser tab must
    /// not cancel a deletion by itself.)
    pub async fn authenticate_sign_in(&self, bearer: &str) -> Result<Caller, AuthError> {
        self.authenticate_as(bearer, true).await
    }

    async fn authenticate_as(&self, bearer: &str, sign_in: bool) -> Result<Caller, AuthError> {
        let now = self.clock.now();
        if bearer.starts_with(cli_token::PREFIX) {
            let token = CliToken::parse(bearer)?;
            let stored = self.lookup(token.hash(), now).await?;
            if stored.revoked_at.is_some() {
                return Err(match stored.revoked_reason.as_deref() {
                    Some(REVOKED_REPLACED) => AuthError::TokenRevoked,
                    _ => AuthError::Unauthorized,
                });
            }
            if now >= stored.expires_at {
                return Err(AuthError::Unauthorized);
            }
            let stale = stored
                .last_used_at
                .is_none_or(|at| now - at >= Duration::minutes(TOUCH_INTERVAL_MINUTES));
            if stale {
                // Bookkeeping only: a failed write must not fail the request.
                if let Err(error) = self.store.touch_cli_token(stored.id.clone(), now).await {
                    tracing::warn!(%error, "recording a CLI token's last use failed");
                }
                self.tokens.remove(&token.hash());
            }
            return Ok(Caller {
                user_id: stored.user_id,
                credential: Credential::CliToken {
                    token_id: stored.id,
                    expires_at: stored.expires_at,
                },
            });
        }
        let mut identity = self.sessions.verify(bearer, now).await?;
        if !sign_in {
            identity.issued_at = None;
        }
        let user_id = self.store.session_user(identity, now).await?;
        Ok(Caller { user_id, credential: Credential::Session })
    }

    /// Mints a CLI token for `user_id`, revoking their previous one in the same
    /// transaction. Of two concurrent mints exactly one token stays active.
    pub async fn mint_cli_token(&self, user_id: &str) -> Result<MintedToken, AuthError> {
        let mut attempts = 0;
        loop {
            let now = self.clock.now();
            let token = CliToken::generate()?;
            let expires_at = now + cli_token::lifetime();
            let record = NewCliToken {
                id: uuid_v7(),
                user_id: user_id.to_owned(),
                token_hash: token.hash(),
                created_at: now,
                expires_at,
            };
            let result = self.store.replace_cli_token(record).await;
            self.forget_cached_tokens();
            match result {
                Ok(()) => return Ok(MintedToken { token, expires_at }),
                Err(AuthError::Conflict) if attempts == 0 => {
                    tracing::info!("concurrent CLI token mint; retrying once");
                    attempts += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// The user's active CLI token now (when made, last used, end of life), if any.
    pub async fn active_token(&self, user_id: &str) -> Result<Option<TokenInfo>, AuthError> {
        self.store.active_cli_token(user_id.to_owned(), self.clock.now()).await
    }

    /// Revokes the caller's CLI token: the presented one, or for a session the user's
    /// active one. Revoking twice is harmless.
    pub async fn revoke(&self, caller: &Caller) -> Result<bool, AuthError> {
        let now = self.clock.now();
        let result = match &caller.credential {
            Credential::CliToken { token_id, .. } => {
                self.store.revoke_cli_token(token_id.clone(), now).await
            }
            Credential::Session => {
                self.store.revoke_user_cli_token(caller.user_id.clone(), now).await
            }
        };
        self.forget_cached_tokens();
        result
    }

    /// Drops every cached token lookup (after a mint or revoke here, or tokens revoked
    /// by an account's suspension or deletion); lookups that started before cannot
    /// store theirs.
    pub fn forget_cached_tokens(&self) {
        self.token_epoch.fetch_add(1, Ordering::AcqRel);
        self.tokens.clear();
    }
}

fn uuid_v7() -> String {
    uuid::Uuid::now_v7().to_string()
}
