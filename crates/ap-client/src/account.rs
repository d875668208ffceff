//! The signed-in account: who it is, its CLI token, its profile.

use ap_domain::wire::{CliTokenResponse, Me, Profile, RevokeResponse};
use reqwest::Method;

use crate::{Client, Error};

impl Client {
    /// `GET /v1/auth/me`: who the token belongs to.
    pub async fn me(&self) -> Result<Me, Error> {
        self.get("v1/auth/me", &[]).await
    }

    /// `POST /v1/auth/cli-token`: a new 90-day CLI token for the session this client
    /// holds (a browser session JWT; a CLI token is refused with `SESSION_REQUIRED`). The
    /// user's previous CLI token stops working.
    pub async fn mint_cli_token(&self) -> Result<CliTokenResponse, Error> {
        // An answer that does not parse still holds a token: it is never shown.
        self.post_empty("v1/auth/cli-token").await.map_err(|error| match error {
            Error::Unexpected { status, .. } => Error::Unexpected {
                status,
                body: "(a token answer that could not be read; not shown)".to_owned(),
            },
            other => other,
        })
    }

    /// `POST /v1/auth/revoke-cli-token`: revokes the CLI token this client holds.
    pub async fn revoke_cli_token(&self) -> Result<RevokeResponse, Error> {
        self.post_empty("v1/auth/revoke-cli-token").await
    }

    /// `GET /v1/users/profile`.
    pub async fn profile(&self) -> Result<Profile, Error> {
        self.get("v1/users/profile", &[]).await
    }

    /// `PATCH /v1/users/profile` with the fields to change (`display_name`, `bio`,
    /// `website_url`, `github_url`, `linkedin_url`, `twitter_url`; an empty text clears
    /// one).
    pub async fn update_profile(
        &self,
        changes: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Profile, Error> {
        self.with_body(Method::PATCH, "v1/users/profile", changes).await
    }

    /// `POST /v1/users/profile/delete`: erases the account's personal data.
    pub async fn delete_profile(&self) -> Result<Profile, Error> {
        self.post_empty("v1/users/profile/delete").await
    }
}
