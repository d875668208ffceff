//! Publishing: create a listing, change it or start a version, upload a version's package,
//! unpublish and republish. Each call exists for skills (`/v1/skills`) and agents
//! (`/v1/agents`, where the type is forced).

use ap_domain::listing::ListingType;
use ap_domain::version::Version;
use ap_domain::wire::{ArchiveState, ListingCreated, UploadResult, VersionCreated};
use reqwest::Method;
use serde::Serialize;

use reqwest::multipart::Part;

use crate::{Client, Error, segment};

/// How much of a package goes in one piece of an upload (progress moves per piece).
const UPLOAD_PIECE: usize = 64 * 1024;

/// `POST /v1/skills`: a new listing.
#[derive(Debug, Clone, Serialize)]
pub struct NewListing {
    /// Unique slug (lower-case letters, digits and hyphens).
    pub slug: String,
    /// Title.
    pub title: String,
    /// One or two sentences.
    pub description: String,
    /// A category slug (`GET /v1/categories`).
    pub category: String,
    /// Price in cents (0, or 300–100,000); free when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_cents: Option<i64>,
    /// Markdown shown on the listing page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_description: Option<String>,
}

/// `PATCH /v1/skills/{slug}`: new details, and with `bump` or `version` a new version
/// waiting for its upload.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListingChanges {
    /// `major`, `minor` or `patch`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bump: Option<String>,
    /// An explicit next version `X.Y.Z`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// What the new version changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changelog: Option<String>,
    /// New title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// New price in cents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_cents: Option<i64>,
    /// New long description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_description: Option<String>,
}

/// The collection path of a listing type.
fn collection(kind: ListingType) -> &'static str {
    match kind {
        ListingType::Skill => "v1/skills",
        ListingType::Agent => "v1/agents",
    }
}

impl Client {
    /// `POST /v1/skills` (or `/v1/agents`): creates a listing, not yet live.
    pub async fn create_listing(
        &self,
        kind: ListingType,
        listing: &NewListing,
    ) -> Result<ListingCreated, Error> {
        self.with_body(Method::POST, collection(kind), listing).await
    }

    /// `PATCH /v1/skills/{slug}` (or the agents twin).
    pub async fn change_listing(
        &self,
        kind: ListingType,
        slug: &str,
        changes: &ListingChanges,
    ) -> Result<VersionCreated, Error> {
        let path = format!("{}/{}", collection(kind), segment(slug));
        self.with_body(Method::PATCH, &path, changes).await
    }

    /// `POST /v1/skills/{slug}/upload[?version=]`: the package of the first version, or
    /// of the pending `version`; scanned on the spot and live when it passes.
    pub async fn upload(
        &self,
        kind: ListingType,
        slug: &str,
        version: Option<Version>,
        zip: Vec<u8>,
    ) -> Result<UploadResult, Error> {
        self.upload_with_progress(kind, slug, version, zip, |_, _| {}).await
    }

    /// [`Client::upload`], with `progress` hearing the bytes sent so far and the total.
    pub async fn upload_with_progress(
        &self,
        kind: ListingType,
        slug: &str,
        version: Option<Version>,
        zip: Vec<u8>,
        mut progress: impl FnMut(u64, Option<u64>) + Send + 'static,
    ) -> Result<UploadResult, Error> {
        let path = format!("{}/{}/upload", collection(kind), segment(slug));
        let query: Vec<(&str, String)> =
            version.map(|v| ("version", v.to_string())).into_iter().collect();
        let total = zip.len() as u64;
        let zip = bytes::Bytes::from(zip);
        // Pieces share the one buffer.
        let pieces = (0..zip.len()).step_by(UPLOAD_PIECE).map(move |start| {
            let piece = zip.slice(start..(start + UPLOAD_PIECE).min(zip.len()));
            progress((start + piece.len()) as u64, Some(total));
            Ok::<_, std::io::Error>(piece)
        });
        let stream = futures_util::stream::iter(pieces);
        let part = Part::stream_with_length(reqwest::Body::wrap_stream(stream), total)
            .file_name("package.zip")
            .mime_str("application/zip")?;
        let form = reqwest::multipart::Form::new().part("file", part);
        self.json(self.request(Method::POST, &path)?.query(&query).multipart(form)).await
    }

    /// `POST /v1/skills/{slug}/unpublish`: hides a listing (buyers keep their access).
    pub async fn unpublish(&self, kind: ListingType, slug: &str) -> Result<ArchiveState, Error> {
        self.post_empty(&format!("{}/{}/unpublish", collection(kind), segment(slug))).await
    }

    /// `POST /v1/skills/{slug}/republish`: shows an unpublished listing again.
    pub async fn republish(&self, kind: ListingType, slug: &str) -> Result<ArchiveState, Error> {
        self.post_empty(&format!("{}/{}/republish", collection(kind), segment(slug))).await
    }
}
