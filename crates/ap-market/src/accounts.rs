//! Accounts: the caller's own profile (docs/API.md, Users) and who they are (`/v1/auth/me`).
//!
//! A profile change accepts only `display_name`, `bio`, `website_url`, `github_url`,
//! `linkedin_url` and `twitter_url`; any other field (or a bad value) is refused and
//! changes nothing.

use std::sync::Arc;

use ap_domain::clock::Clock;
use ap_domain::validation::body_text;
use ap_domain::wire::Profile;
use ap_domain::{Code, ErrorCode, FieldError, FieldErrors, UserId};
use ap_store::models::User;
pub use ap_store::users::Identity;
use ap_store::users::{self, ProfileChanges};
use ap_store::{Db, StoreError, UnitError, moderation, write_tx};
use serde_json::{Map, Value};

use crate::indexer::Indexer;
use crate::present::utc;

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Deleting an account that is not active (its deletion is scheduled already).
    #[error("The account's deletion is scheduled already")]
    NotActive,
    /// The body's fields are invalid.
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UnitError for AccountError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            AccountError::Store(e) => Some(e),
            AccountError::Invalid(_) | AccountError::NotActive => None,
        }
    }
}

impl ErrorCode for AccountError {
    fn code(&self) -> Code {
        match self {
            AccountError::NotActive => Code::Conflict,
            AccountError::Invalid(e) => e.code(),
            AccountError::Store(e) => e.code(),
        }
    }

    fn public_message(&self) -> String {
        match self {
            AccountError::NotActive => AccountError::NotActive.to_string(),
            AccountError::Invalid(e) => e.to_string(),
            AccountError::Store(e) => e.public_message(),
        }
    }

    fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            AccountError::Invalid(errors) => Some(errors),
            AccountError::Store(_) | AccountError::NotActive => None,
        }
    }
}

/// A user as `/v1/auth/me` shows them (the credential's expiry is added by the caller).
#[derive(Debug, Clone)]
pub struct Account {
    /// The stored user.
    pub user: User,
    /// Whether they have a live listing.
    pub is_seller: bool,
}

/// The caller's own account.
#[derive(Debug, Clone)]
pub struct Accounts {
    db: Db,
    clock: Arc<dyn Clock>,
    indexer: Arc<Indexer>,
}

impl Accounts {
    /// Accounts over `db`; a profile change refreshes the catalog's search index and
    /// caches (author names appear on listings).
    pub fn new(db: Db, clock: Arc<dyn Clock>, indexer: Arc<Indexer>) -> Self {
        Self { db, clock, indexer }
    }

    /// `GET /v1/auth/me`: the user and whether they sell.
    pub async fn me(&self, user_id: UserId) -> Result<Account, AccountError> {
        Ok(self
            .db
            .run(move |c| {
                Ok::<_, StoreError>(Account {
                    user: users::by_id(c, user_id.as_str())?,
                    is_seller: users::is_seller(c, user_id.as_str())?,
                })
            })
            .await?)
    }

    /// Development sign-in: the user of `identity`, created if new, given `display_name`
    /// if they have none yet. Answers the user id.
    pub async fn sign_in(
        &self,
        identity: Identity,
        display_name: String,
    ) -> Result<UserId, AccountError> {
        let now = self.clock.now().naive_utc();
        let id = self.db.run(move |c| users::sign_in(c, &identity, &display_name, now)).await?;
        // Signing in may have cancelled a scheduled deletion: the listings are back.
        self.indexer.after_change().await;
        Ok(UserId::from(id))
    }

    /// `POST /v1/users/profile/delete`: schedules the caller's account for deletion
    /// after [`moderation::DELETION_GRACE_DAYS`] days (docs/PRIVACY.md). At once: every
    /// CLI token is revoked (the caller drops its token cache), sessions from before
    /// stop working, and the listings leave the catalog. Signing in again within the
    /// grace period cancels it. Answers the profile as it stands now.
    pub async fn schedule_deletion(&self, user_id: UserId) -> Result<Profile, AccountError> {
        let now = self.clock.now().naive_utc();
        let at = now + chrono::Duration::days(moderation::DELETION_GRACE_DAYS);
        let user = self
            .db
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let id = user_id.as_str();
                    let (from, to) = (moderation::ACTIVE, moderation::PENDING_DELETION);
                    if !moderation::set_account_status(conn, id, from, to, Some(at), now)? {
                        return Err(AccountError::NotActive);
                    }
                    moderation::revoke_tokens(conn, id, "account_deleted", now)?;
                    moderation::refresh_owner_listings(conn, id, now)?;
                    Ok(users::by_id(conn, id)?)
                })
            })
            .await?;
        self.indexer.after_change().await;
        Ok(profile(user))
    }

    /// Erases the personal data of every account whose deletion grace period has ended
    /// (the server runs this periodically); answers how many were erased.
    pub async fn erase_due(&self) -> Result<usize, AccountError> {
        let now = self.clock.now().naive_utc();
        let due = self.db.run(move |conn| moderation::deletions_due(conn, now)).await?;
        let mut erased = 0;
        for id in due {
            // One transaction per account; one that signed in meanwhile (or that another
            // instance erased) is skipped, and one failure does not hold up the rest.
            let user = id.clone();
            let done = self
                .db
                .run(move |conn| {
                    write_tx(conn, |conn| match moderation::erase_account(conn, &id, now) {
                        Ok(_) => Ok(true),
                        Err(StoreError::NotFound) => Ok(false),
                        Err(other) => Err(other),
                    })
                })
                .await;
            match done {
                Ok(done) => erased += usize::from(done),
                Err(error) => tracing::error!(%error, %user, "erasing an account failed"),
            }
        }
        if erased > 0 {
            self.indexer.after_change().await;
        }
        Ok(erased)
    }

    /// `GET /v1/users/profile`.
    pub async fn profile(&self, user_id: UserId) -> Result<Profile, AccountError> {
        let user = self.db.run(move |c| users::by_id(c, user_id.as_str())).await?;
        Ok(profile(user))
    }

    /// `PATCH /v1/users/profile`.
    pub async fn update_profile(
        &self,
        user_id: UserId,
        body: &Map<String, Value>,
    ) -> Result<Profile, AccountError> {
        let patch = parse_patch(body)?;
        let now = self.clock.now().naive_utc();
        let user = self
            .db
            .run(move |c| {
                users::update_profile(
                    c,
                    user_id.as_str(),
                    patch.display_name.as_deref(),
                    &patch.changes,
                    now,
                )
            })
            .await?;
        self.indexer.after_change().await;
        Ok(profile(user))
    }
}

const URL_FIELDS: [&str; 4] = ["website_url", "github_url", "linkedin_url", "twitter_url"];

fn profile(user: User) -> Profile {
    Profile {
        id: user.id.into_string(),
        email: user.email,
        display_name: user.display_name,
        display_name_slug: user.display_name_slug,
        github_username: user.github_username,
        bio: user.bio,
        website_url: user.website_url,
        github_url: user.github_url,
        linkedin_url: user.linkedin_url,
        twitter_url: user.twitter_url,
        avatar_url: user.avatar_url,
        joined_at: utc(user.created_at),
        created_at: utc(user.created_at),
        account_status: user.account_status,
        deletion_scheduled_at: user.deletion_scheduled_at.map(utc),
    }
}

fn profile_url(name: &str, value: &Value) -> Result<Option<String>, FieldError> {
    let Some(raw) = body_text(name, value)?.filter(|s| !s.is_empty()) else { return Ok(None) };
    let invalid = || FieldError::body(name, "url_parsing", "Input should be an http or https URL");
    if raw.chars().count() > 500 {
        return Err(FieldError::body(
            name,
            "string_too_long",
            "String should have at most 500 characters",
        ));
    }
    let url = url::Url::parse(&raw).map_err(|_| invalid())?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none();
    if ok { Ok(Some(raw)) } else { Err(invalid()) }
}

/// What a PATCH body asks for.
struct Patch {
    display_name: Option<String>,
    changes: ProfileChanges,
}

fn parse_patch(body: &Map<String, Value>) -> Result<Patch, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut patch = Patch { display_name: None, changes: ProfileChanges::default() };
    for (name, value) in body {
        match name.as_str() {
            "display_name" => match body_text(name, value) {
                Ok(Some(n)) if (2..=50).contains(&n.chars().count()) => {
                    patch.display_name = Some(n)
                }
                Ok(_) => errors.push(FieldError::body(
                    name,
                    "string_length",
                    "Display name should have 2 to 50 characters",
                )),
                Err(e) => errors.push(e),
            },
            "bio" => match body_text(name, value) {
                Ok(bio) if bio.as_ref().is_none_or(|b| b.chars().count() <= 2000) => {
                    patch.changes.bio = Some(bio.filter(|b| !b.is_empty()));
                }
                Ok(_) => errors.push(FieldError::body(
                    name,
                    "string_too_long",
                    "String should have at most 2000 characters",
                )),
                Err(e) => errors.push(e),
            },
            field if URL_FIELDS.contains(&field) => {
                if let Some(url) = errors.check(profile_url(name, value)) {
                    let slot = match field {
                        "website_url" => &mut patch.changes.website_url,
                        "github_url" => &mut patch.changes.github_url,
                        "linkedin_url" => &mut patch.changes.linkedin_url,
                        _ => &mut patch.changes.twitter_url,
                    };
                    *slot = Some(url);
                }
            }
            _ => errors.push(FieldError::body(
                name,
                "extra_forbidden",
                "Extra inputs are not permitted",
            )),
        }
    }
    errors.finish(|| patch)
}
