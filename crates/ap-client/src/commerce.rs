//! Buying and getting: checkout, purchases and their state, license codes, download links,
//! the archives behind them, and installation records.

use ap_domain::commerce::PurchaseStatus;
use ap_domain::version::Version;
use ap_domain::wire::{
    CheckoutStarted, DownloadLink, InstallationRecorded, PurchaseDownload, PurchasePending,
    PurchaseState, PurchasesPage, Redeemed,
};
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::json;

use crate::{Client, Error, page_query, segment};

/// How long one archive transfer may take.
const ARCHIVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// `POST /v1/installations`: an install to record (counted once per listing, host and
/// platform).
#[derive(Debug, Clone, Serialize)]
pub struct NewInstallation {
    /// The listing's slug.
    pub source_slug: String,
    /// A name for the machine.
    pub hostname: String,
    /// How it was installed: `code`, `cowork`, `web`, `cli` or `mcp`.
    pub platform: String,
    /// Where it came from (`agentpowers` when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// What `GET /v1/purchases/download` answered.
#[derive(Debug, Clone, PartialEq)]
pub enum PurchaseDelivery {
    /// Paid: a signed link to the live version.
    Ready(PurchaseDownload),
    /// Not paid (yet): its state.
    NotPaid(PurchasePending),
}

impl Client {
    /// `POST /v1/checkout`: starts (or answers again) the caller's checkout of a paid
    /// listing; the person pays at `checkout_url`.
    pub async fn checkout(&self, slug: &str) -> Result<CheckoutStarted, Error> {
        self.checkout_returning(slug, None, None).await
    }

    /// [`Client::checkout`], sending the payer back to `success_url` or `cancel_url`
    /// (addresses on the marketplace's own site) instead of the default pages.
    pub async fn checkout_returning(
        &self,
        slug: &str,
        success_url: Option<&str>,
        cancel_url: Option<&str>,
    ) -> Result<CheckoutStarted, Error> {
        let mut body = json!({ "skill_slug": slug });
        if let Some(url) = success_url {
            body["success_url"] = url.into();
        }
        if let Some(url) = cancel_url {
            body["cancel_url"] = url.into();
        }
        self.with_body(Method::POST, "v1/checkout", &body).await
    }

    /// `GET /v1/purchases`: the caller's purchases, newest first.
    pub async fn purchases(
        &self,
        status: Option<PurchaseStatus>,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<PurchasesPage, Error> {
        let mut query = page_query(limit, offset);
        if let Some(status) = status {
            query.push(("status", status.as_str().to_owned()));
        }
        self.get("v1/purchases", &query).await
    }

    /// `GET /v1/purchases/{id}/status`.
    pub async fn purchase_status(&self, purchase_id: &str) -> Result<PurchaseState, Error> {
        self.get(&format!("v1/purchases/{}/status", segment(purchase_id)), &[]).await
    }

    /// `GET /v1/purchases/confirm`: settles the caller's checkout from the payment
    /// provider, then answers its state.
    pub async fn confirm_purchase(&self, session_id: &str) -> Result<PurchaseState, Error> {
        self.get("v1/purchases/confirm", &[("session_id", session_id.to_owned())]).await
    }

    /// `GET /v1/purchases/download`: the download of a checkout (the session id is the
    /// capability; no token needed).
    pub async fn purchase_download(&self, session_id: &str) -> Result<PurchaseDelivery, Error> {
        let query = [("session_id", session_id.to_owned())];
        let request = self.request(Method::GET, "v1/purchases/download")?.query(&query);
        let res = self.send(request).await?;
        let status = res.status();
        let body = res.bytes().await?;
        let unexpected = |_| crate::error::unexpected(status.as_u16(), &body);
        if status == StatusCode::ACCEPTED {
            serde_json::from_slice(&body).map(PurchaseDelivery::NotPaid).map_err(unexpected)
        } else {
            serde_json::from_slice(&body).map(PurchaseDelivery::Ready).map_err(unexpected)
        }
    }

    /// `POST /v1/purchases/redeem`: claims a purchase with its license code.
    pub async fn redeem(&self, license_code: &str) -> Result<Redeemed, Error> {
        let body = json!({ "license_code": license_code });
        self.with_body(Method::POST, "v1/purchases/redeem", &body).await
    }

    /// `GET /v1/skills/{slug}/download[?version=]`: a signed, expiring link to a live
    /// version (the current one by default), counted as one download.
    pub async fn download_link(
        &self,
        slug: &str,
        version: Option<Version>,
    ) -> Result<DownloadLink, Error> {
        let query: Vec<(&str, String)> =
            version.map(|v| ("version", v.to_string())).into_iter().collect();
        self.get(&format!("v1/skills/{}/download", segment(slug)), &query).await
    }

    /// The archive behind a signed link, streamed (up to 10 minutes); `progress` hears the
    /// bytes received so far and the total when the server said it.
    pub async fn fetch_archive(
        &self,
        link: &DownloadLink,
        mut progress: impl FnMut(u64, Option<u64>),
    ) -> Result<Vec<u8>, Error> {
        let url =
            url::Url::parse(&link.url).map_err(|e| Error::Url(format!("{}: {e}", link.url)))?;
        // The signed link is a capability: errors leave it out.
        let hide = |error: Error| match error {
            Error::Transport(error) => Error::Transport(error.without_url()),
            other => other,
        };
        // A whole archive may take longer than one call's bound on a slow link.
        let res = self.send(self.http.get(url).timeout(ARCHIVE_TIMEOUT)).await.map_err(hide)?;
        let total = res.content_length();
        let mut bytes = Vec::with_capacity(total.unwrap_or(0).min(16 << 20) as usize);
        let mut stream = res.bytes_stream();
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk.map_err(|e| hide(e.into()))?);
            progress(bytes.len() as u64, total);
        }
        Ok(bytes)
    }

    /// `POST /v1/installations`: records an install.
    pub async fn record_installation(
        &self,
        install: &NewInstallation,
    ) -> Result<InstallationRecorded, Error> {
        self.with_body(Method::POST, "v1/installations", install).await
    }
}
