//! Reviews and abuse reports.

use ap_domain::wire::{AbuseReport, Review, ReviewsPage};
use reqwest::Method;
use serde::Serialize;
use serde_json::json;

use crate::{Client, Error, page_query, segment};

/// `POST /v1/skills/{slug}/report`: why a listing should be looked at.
#[derive(Debug, Clone, Serialize)]
pub struct NewReport {
    /// `malware`, `prompt_injection`, `credential_theft`, `copyright`, `spam`,
    /// `misleading` or `other`.
    pub reason: String,
    /// A note for the administrators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Client {
    /// `GET /v1/skills/{slug}/reviews`: a page of reviews, newest first, with the
    /// listing's rating.
    pub async fn reviews(
        &self,
        slug: &str,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<ReviewsPage, Error> {
        let path = format!("v1/skills/{}/reviews", segment(slug));
        self.get(&path, &page_query(limit, offset)).await
    }

    /// `POST /v1/skills/{slug}/reviews`: the caller's review (1–5 stars, optional text);
    /// a second one replaces the first. Needs a purchase of a paid listing, or an
    /// install of a free one.
    pub async fn write_review(
        &self,
        slug: &str,
        rating: u8,
        text: Option<&str>,
    ) -> Result<Review, Error> {
        let path = format!("v1/skills/{}/reviews", segment(slug));
        self.with_body(Method::POST, &path, &json!({ "rating": rating, "text": text })).await
    }

    /// `POST /v1/skills/{slug}/report`: files a report on a live listing.
    pub async fn report(&self, slug: &str, report: &NewReport) -> Result<AbuseReport, Error> {
        let path = format!("v1/skills/{}/report", segment(slug));
        self.with_body(Method::POST, &path, report).await
    }
}
