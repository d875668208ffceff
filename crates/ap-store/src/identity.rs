//! `ap_auth::store::IdentityStore` over the database: CLI tokens (hashes only) and
//! session users.

use ap_auth::AuthError;
use ap_auth::session::SessionIdentity;
use ap_auth::store::{
    IdentityStore, NewCliToken, REVOKED_BY_OWNER, REVOKED_REPLACED, Revocations, StoredCliToken,
    TokenInfo,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::conn::{MultiBackend, write_tx};
use crate::db::Db;
use crate::error::StoreError;
use crate::schema::cli_tokens;
use crate::users::{self, Identity};

fn auth_error(error: StoreError) -> AuthError {
    match error {
        StoreError::AccountSuspended => AuthError::Suspended,
        StoreError::AccountFrozen => AuthError::Unauthorized,
        StoreError::Unavailable(cause) => AuthError::Unavailable(cause),
        StoreError::Conflict(_) => AuthError::Conflict,
        other => AuthError::Internal(other.to_string()),
    }
}

fn naive(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc()
}

type TokenRow =
    (String, String, NaiveDateTime, Option<NaiveDateTime>, Option<String>, Option<NaiveDateTime>);

impl IdentityStore for Db {
    async fn cli_token_by_hash(
        &self,
        token_hash: String,
    ) -> Result<Option<StoredCliToken>, AuthError> {
        let row: Option<TokenRow> = self
            .run(move |c| {
                Ok(cli_tokens::table
                    .filter(cli_tokens::token_hash.eq(token_hash))
                    .select((
                        cli_tokens::id,
                        cli_tokens::user_id,
                        cli_tokens::expires_at,
                        cli_tokens::revoked_at,
                        cli_tokens::revoked_reason,
                        cli_tokens::last_used_at,
                    ))
                    .first(c)
                    .optional()?)
            })
            .await
            .map_err(auth_error)?;
        Ok(row.map(|(id, user_id, expires_at, revoked_at, revoked_reason, last_used_at)| {
            StoredCliToken {
                id,
                user_id,
                expires_at: expires_at.and_utc(),
                revoked_at: revoked_at.map(|t| t.and_utc()),
                revoked_reason,
                last_used_at: last_used_at.map(|t| t.and_utc()),
            }
        }))
    }

    async fn touch_cli_token(&self, token_id: String, at: DateTime<Utc>) -> Result<(), AuthError> {
        self.run(move |c| {
            diesel::update(cli_tokens::table.find(token_id))
                .set(cli_tokens::last_used_at.eq(naive(at)))
                .execute(c)?;
            Ok(())
        })
        .await
        .map_err(auth_error)
    }

    async fn session_user(
        &self,
        identity: SessionIdentity,
        at: DateTime<Utc>,
    ) -> Result<String, AuthError> {
        let identity = Identity {
            issuer: identity.issuer,
            subject: identity.subject,
            email: identity.email,
            name: identity.name,
            signed_in_at: identity.issued_at.map(naive),
        };
        // In a transaction: letting in an account may cancel its deletion, which moves
        // several rows.
        self.run(move |c| write_tx(c, |c| users::upsert(c, &identity, naive(at))))
            .await
            .map_err(auth_error)
    }

    async fn replace_cli_token(&self, token: NewCliToken) -> Result<(), AuthError> {
        self.run(move |c| {
            write_tx(c, |c| {
                diesel::update(
                    cli_tokens::table
                        .filter(cli_tokens::user_id.eq(&token.user_id))
                        .filter(cli_tokens::revoked_at.is_null()),
                )
                .set((
                    cli_tokens::revoked_at.eq(naive(token.created_at)),
                    cli_tokens::revoked_reason.eq(REVOKED_REPLACED),
                ))
                .execute(c)?;
                diesel::insert_into(cli_tokens::table)
                    .values((
                        cli_tokens::id.eq(&token.id),
                        cli_tokens::user_id.eq(&token.user_id),
                        cli_tokens::token_hash.eq(&token.token_hash),
                        cli_tokens::created_at.eq(naive(token.created_at)),
                        cli_tokens::expires_at.eq(naive(token.expires_at)),
                    ))
                    .execute(c)?;
                Ok(())
            })
        })
        .await
        .map_err(auth_error)
    }

    async fn revoke_cli_token(
        &self,
        token_id: String,
        at: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        revoke_active(self, Tokens::Id(token_id), at).await
    }

    async fn revoke_user_cli_token(
        &self,
        user_id: String,
        at: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        revoke_active(self, Tokens::OfUser(user_id), at).await
    }

    async fn active_cli_token(
        &self,
        user_id: String,
        at: DateTime<Utc>,
    ) -> Result<Option<TokenInfo>, AuthError> {
        let row: Option<(NaiveDateTime, Option<NaiveDateTime>, NaiveDateTime)> = self
            .run(move |c| {
                Ok::<_, StoreError>(
                    cli_tokens::table
                        .filter(cli_tokens::user_id.eq(user_id))
                        .filter(cli_tokens::revoked_at.is_null())
                        .filter(cli_tokens::expires_at.gt(naive(at)))
                        .select((
                            cli_tokens::created_at,
                            cli_tokens::last_used_at,
                            cli_tokens::expires_at,
                        ))
                        .first(c)
                        .optional()?,
                )
            })
            .await
            .map_err(auth_error)?;
        Ok(row.map(|(created_at, last_used_at, expires_at)| TokenInfo {
            created_at: created_at.and_utc(),
            last_used_at: last_used_at.map(|at| at.and_utc()),
            expires_at: expires_at.and_utc(),
        }))
    }

    async fn revocations(&self, since: DateTime<Utc>) -> Result<Revocations, AuthError> {
        self.run(move |c| {
            let recent: i64 = cli_tokens::table
                .filter(cli_tokens::revoked_at.ge(naive(since)))
                .count()
                .get_result(c)?;
            let latest: Option<NaiveDateTime> =
                cli_tokens::table.select(diesel::dsl::max(cli_tokens::revoked_at)).first(c)?;
            Ok::<_, StoreError>(Revocations { recent, latest: latest.map(|at| at.and_utc()) })
        })
        .await
        .map_err(auth_error)
    }
}

/// Which tokens a revocation is about.
enum Tokens {
    /// One token.
    Id(String),
    /// A user's.
    OfUser(String),
}

/// Revokes the active tokens meant (reason: by their owner); answers whether any was.
async fn revoke_active(db: &Db, tokens: Tokens, at: DateTime<Utc>) -> Result<bool, AuthError> {
    db.run(move |c| {
        let which: Box<dyn BoxableExpression<cli_tokens::table, MultiBackend, SqlType = Bool>> =
            match tokens {
                Tokens::Id(id) => Box::new(cli_tokens::id.eq(id)),
                Tokens::OfUser(user_id) => Box::new(cli_tokens::user_id.eq(user_id)),
            };
        let n = diesel::update(
            cli_tokens::table.filter(which).filter(cli_tokens::revoked_at.is_null()),
        )
        .set((
            cli_tokens::revoked_at.eq(naive(at)),
            cli_tokens::revoked_reason.eq(REVOKED_BY_OWNER),
        ))
        .execute(c)?;
        Ok(n > 0)
    })
    .await
    .map_err(auth_error)
}
