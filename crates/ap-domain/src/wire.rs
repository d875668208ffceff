//! JSON shapes of the wire contract, shared by the server and its clients.
//!
//! Field names here are fixed by the hosted API (`docs/API.md`); existing clients read them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::code::Code;
use crate::commerce::PurchaseStatus;
use crate::listing::{ListingType, SecurityStatus};
use crate::page::Page;
use crate::platform::Platform;

/// The `source` of every listing this server hosts.
pub const NATIVE_SOURCE: &str = "agentpowers";

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` when the process answers (`/health`); `ready` when the database does too
    /// (`/ready`).
    pub status: String,
    /// Crate version of the server.
    pub version: String,
}

/// The inner object of a coded error: `{"detail": {"detail": "...", "code": "..."}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CodedError {
    /// Human-readable message.
    pub detail: String,
    /// Machine-readable code.
    pub code: Code,
    /// Security findings, for errors caused by a scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<serde_json::Value>>,
}

/// The public face of a listing's author.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Author {
    /// Display name.
    pub display_name: String,
    /// Stable slug of the display name (the seller page's address).
    pub display_name_slug: String,
    /// Avatar image URL.
    pub avatar_url: Option<String>,
    /// GitHub login.
    pub github_username: Option<String>,
    /// Whether the platform verified this seller.
    pub verified: bool,
}

/// A listing in lists, search results and seller pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListingSummary {
    /// Unique slug.
    pub slug: String,
    /// Title.
    pub title: String,
    /// One-paragraph description.
    pub description: String,
    /// Category slug.
    pub category: String,
    /// `skill` or `agent`.
    #[serde(rename = "type")]
    pub listing_type: ListingType,
    /// Price in cents; 0 = free. Never null.
    pub price_cents: i64,
    /// Currency of the price (`usd`).
    pub currency: String,
    /// The live version (null only for an owner's unpublished listing).
    pub version: Option<String>,
    /// Scan verdict of the live version. Never null.
    pub security_status: SecurityStatus,
    /// Always `agentpowers` for listings of this server.
    pub source: String,
    /// Successful download-link requests.
    pub download_count: i64,
    /// Recorded installations.
    pub install_count: i64,
    /// Mean rating, null while unrated.
    pub rating_average: Option<f64>,
    /// Number of ratings.
    pub rating_count: i64,
    /// Who sells it.
    pub author: Author,
    /// First publication.
    pub published_at: Option<DateTime<Utc>>,
    /// Last change of the listing or its versions.
    pub updated_at: DateTime<Utc>,
}

/// One published version in a listing's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VersionInfo {
    /// `X.Y.Z`.
    pub version: String,
    /// When it went live.
    pub published_at: Option<DateTime<Utc>>,
    /// Its scan verdict.
    pub security_status: SecurityStatus,
    /// What changed.
    pub changelog: Option<String>,
}

/// `GET /v1/skills/{slug}` and `GET /v1/agents/{slug}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListingDetail {
    /// Everything a summary holds.
    #[serde(flatten)]
    pub summary: ListingSummary,
    /// Long Markdown description.
    pub long_description: String,
    /// Same as `version`.
    pub current_version: Option<String>,
    /// Same as `title`.
    pub name: String,
    /// Scan score 0–10 of the live version (10 = clean).
    pub security_score: Option<i32>,
    /// Scan findings of the live version.
    pub security_findings: Vec<serde_json::Value>,
    /// Install targets this listing supports.
    pub platforms: Vec<String>,
    /// When the owner unpublished it (only the owner sees archived listings).
    pub archived_at: Option<DateTime<Utc>>,
    /// Published versions, newest first.
    pub versions: Vec<VersionInfo>,
}

/// `GET /v1/detail/{slug}`: the detail flattened with author and scan twins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnifiedDetail {
    /// Everything the listing detail holds.
    #[serde(flatten)]
    pub detail: ListingDetail,
    /// Author display name.
    pub author_display_name: String,
    /// Author display-name slug.
    pub author_slug: String,
    /// Author GitHub login.
    pub author_github: Option<String>,
    /// Author avatar URL.
    pub author_avatar_url: Option<String>,
    /// Detail views, including this one.
    pub view_count: i64,
    /// Creation of the listing.
    pub created_at: DateTime<Utc>,
    /// `verified` for verified sellers, `community` otherwise.
    pub trust_level: String,
    /// Upstream URL; null for native listings.
    pub source_url: Option<String>,
    /// Same as `security_status`.
    pub ap_security_status: SecurityStatus,
    /// Same as `security_score`.
    pub ap_security_score: Option<i32>,
    /// Content hash the verdict belongs to.
    pub ap_scan_hash: Option<String>,
    /// When the live version was scanned.
    pub ap_scanned_at: Option<DateTime<Utc>>,
}

/// `GET /v1/search`: one section per source, nothing else at the top level.
pub type SearchResponse = BTreeMap<String, Page<std::sync::Arc<ListingSummary>>>;

/// One category with its live-listing count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CategoryInfo {
    /// Category slug.
    pub category: String,
    /// Display name.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Emoji or icon name.
    pub icon: String,
    /// Words that suggest the category, as one comma-separated string
    /// (`"code, refactor, review"`), as the hosted API sends it and the plugins read it.
    pub sample_keywords: String,
    /// Live listings in it.
    pub count: i64,
}

/// `GET /v1/categories`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CategoriesResponse {
    /// Every category.
    pub categories: Vec<CategoryInfo>,
    /// Live listings across all categories.
    pub total_count: i64,
}

/// `GET /v1/platforms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlatformsResponse {
    /// Supported install targets.
    pub platforms: Vec<Platform>,
    /// How many there are.
    pub total: usize,
}

/// A seller in `GET /v1/sellers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SellerSummary {
    /// Display name.
    pub display_name: String,
    /// Display-name slug.
    pub display_name_slug: String,
    /// Avatar URL.
    pub avatar_url: Option<String>,
    /// Verified by the platform.
    pub verified: bool,
    /// Live listings.
    pub total_skills: i64,
    /// Downloads across live listings.
    pub total_downloads: i64,
    /// Account creation.
    pub joined_at: DateTime<Utc>,
}

/// A listing on a seller's profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SellerSkill {
    /// Slug.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Price in cents.
    pub price_cents: i64,
    /// Downloads.
    pub download_count: i64,
}

/// `GET /v1/sellers/{slug}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SellerProfile {
    /// The summary fields.
    #[serde(flatten)]
    pub summary: SellerSummary,
    /// Free-text bio.
    pub bio: Option<String>,
    /// Personal site.
    pub website_url: Option<String>,
    /// GitHub profile.
    pub github_url: Option<String>,
    /// LinkedIn profile.
    pub linkedin_url: Option<String>,
    /// Twitter/X profile.
    pub twitter_url: Option<String>,
    /// Live listings, most popular first (at most 100).
    pub skills: Vec<SellerSkill>,
}

/// An item of `GET /v1/sellers/{slug}/skills`: a summary plus its scan result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SellerListing {
    /// The summary fields.
    #[serde(flatten)]
    pub summary: ListingSummary,
    /// Scan findings of the live version.
    pub security_findings: Vec<serde_json::Value>,
    /// Scan score of the live version.
    pub security_score: Option<i32>,
}

/// `POST /v1/auth/cli-token` (201).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CliTokenResponse {
    /// `ap_cli_…`, shown once.
    pub token: String,
    /// End of its 90-day life.
    pub expires_at: DateTime<Utc>,
    /// Always `bearer`.
    pub token_type: String,
}

/// `POST /v1/auth/revoke-cli-token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RevokeResponse {
    /// Always `true`: the token is revoked (revoking twice is harmless).
    pub revoked: bool,
}

/// `GET /v1/auth/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Me {
    /// User id.
    pub id: String,
    /// E-mail.
    pub email: Option<String>,
    /// Name from the identity provider.
    pub name: Option<String>,
    /// Public display name (needed to publish).
    pub display_name: Option<String>,
    /// Its slug (the seller page's address).
    pub display_name_slug: Option<String>,
    /// Has a seller account or listings.
    pub is_seller: bool,
    /// End of the CLI token's life; null for sessions.
    pub token_expires_at: Option<DateTime<Utc>>,
}

/// `GET`/`PATCH /v1/users/profile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Profile {
    /// User id.
    pub id: String,
    /// E-mail.
    pub email: Option<String>,
    /// Public display name.
    pub display_name: Option<String>,
    /// Its slug.
    pub display_name_slug: Option<String>,
    /// GitHub login.
    pub github_username: Option<String>,
    /// Bio.
    pub bio: Option<String>,
    /// Personal site.
    pub website_url: Option<String>,
    /// GitHub profile.
    pub github_url: Option<String>,
    /// LinkedIn profile.
    pub linkedin_url: Option<String>,
    /// Twitter/X profile.
    pub twitter_url: Option<String>,
    /// Avatar URL.
    pub avatar_url: Option<String>,
    /// Account creation (same as `created_at`).
    pub joined_at: DateTime<Utc>,
    /// Account creation.
    pub created_at: DateTime<Utc>,
    /// `active`, `suspended` or `pending_deletion`.
    pub account_status: String,
    /// When a requested deletion happens.
    pub deletion_scheduled_at: Option<DateTime<Utc>>,
}

/// `POST /v1/skills`: the listing exists, waiting for its first upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListingCreated {
    /// Its slug.
    pub slug: String,
    /// Its id.
    pub id: String,
    /// Always `pending` (not public until a version passes the scan).
    pub status: String,
    /// What to do next.
    pub message: String,
}

/// `PATCH /v1/skills/{slug}`: a new version waits for its upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VersionCreated {
    /// The listing's slug.
    pub slug: String,
    /// The live version before this change (null when none went live yet).
    pub previous_version: Option<String>,
    /// The pending version.
    pub new_version: String,
    /// Its id.
    pub version_id: String,
    /// Always `pending`.
    pub status: String,
    /// What to do next.
    pub message: String,
}

/// `POST /v1/skills/{slug}/upload` and `POST /v1/security/scan-package`: a scanned package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UploadResult {
    /// The listing's slug.
    pub slug: String,
    /// The version the archive became.
    pub version: String,
    /// Content hash of the files (docs/API.md, Content hash).
    pub content_hash: String,
    /// SHA-256 of the archive bytes (the download's `ETag`).
    pub archive_sha256: String,
    /// Archive size.
    pub size_bytes: i64,
    /// `pass` and `warn` are live, `block` is refused.
    pub security_status: SecurityStatus,
    /// 0–10, 10 = clean.
    pub security_score: i32,
    /// Every finding.
    pub findings: Vec<serde_json::Value>,
    /// The scan layers in order.
    pub layers: Vec<serde_json::Value>,
}

/// `POST /v1/skills/{slug}/unpublish` and `…/republish`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ArchiveState {
    /// The listing's slug.
    pub slug: String,
    /// When it was unpublished; null once republished.
    pub archived_at: Option<DateTime<Utc>>,
    /// `Skill unpublished.` or `Skill republished.`
    pub message: String,
}

/// `GET /v1/skills/{slug}/download`: where to fetch the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DownloadLink {
    /// Absolute, signed, expiring URL of the ZIP.
    pub url: String,
    /// The listing's slug.
    pub slug: String,
    /// The version served.
    pub version: String,
    /// Content hash of its files.
    pub content_hash: Option<String>,
    /// SHA-256 of the archive bytes.
    pub archive_sha256: String,
    /// The buyer's license code (null for free listings and owners).
    pub license_code: Option<String>,
    /// When `url` stops working.
    pub expires_at: DateTime<Utc>,
}

/// `POST /v1/installations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InstallationRecorded {
    /// Id of the installation record.
    pub id: String,
    /// The installed listing's slug.
    pub source_slug: String,
    /// The installing host.
    pub hostname: String,
    /// `code`, `cowork`, `web`, `cli` or `mcp`.
    pub platform: String,
    /// `agentpowers` or `clawhub`.
    pub source: String,
    /// `Installation recorded`.
    pub message: String,
}

/// `GET /v1/security/check/{content_hash}`: a cached verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScanVerdict {
    /// `pass`, `warn` or `block`.
    pub security_status: SecurityStatus,
    /// 0–10.
    pub security_score: i32,
    /// Every finding.
    pub findings: Vec<serde_json::Value>,
}

/// `POST /v1/security/scan-package`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PackageScan {
    /// Content hash of the package's files.
    pub content_hash: String,
    /// `pass`, `warn` or `block`.
    pub security_status: SecurityStatus,
    /// 0–10.
    pub security_score: i32,
    /// Every finding.
    pub findings: Vec<serde_json::Value>,
    /// The scan layers in order.
    pub layers: Vec<serde_json::Value>,
}

/// `GET /v1/security/results/{slug}`: the live version's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SecurityResults {
    /// The listing's slug.
    pub slug: String,
    /// `pass` or `warn`.
    pub status: SecurityStatus,
    /// 0–10.
    pub score: Option<i32>,
    /// `verified` for verified sellers, `community` otherwise.
    pub trust_level: String,
    /// Findings of the live version.
    pub findings: Vec<serde_json::Value>,
}

/// `POST /v1/checkout` (201).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckoutStarted {
    /// Our purchase.
    pub purchase_id: String,
    /// Where the buyer pays.
    pub checkout_url: String,
    /// The payment provider's checkout session.
    pub session_id: String,
    /// `pending`.
    pub status: PurchaseStatus,
}

/// One purchase in `GET /v1/purchases`, with both plugins' field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PurchaseItem {
    /// The purchase.
    pub purchase_id: String,
    /// The listing's slug (the Codex plugin's name).
    pub skill_slug: String,
    /// The listing's title (the Codex plugin's name).
    pub skill_title: String,
    /// The listing's slug (the Claude Code plugin's name).
    pub slug: String,
    /// The listing's title (the Claude Code plugin's name).
    pub title: String,
    /// What was paid.
    pub amount_cents: i64,
    /// `usd`.
    pub currency: String,
    /// Where the purchase stands.
    pub status: PurchaseStatus,
    /// When it was paid (when it started, while not paid).
    pub purchased_at: DateTime<Utc>,
    /// The license code, once paid.
    pub license_code: Option<String>,
    /// The seller's display name.
    pub author_display_name: String,
    /// The seller's page slug.
    pub author_display_name_slug: String,
    /// Versions of the listing the marketplace withdrew after a security review
    /// (quarantined, or blocked by a later scan): do not use them.
    pub withdrawn_versions: Vec<String>,
    /// What the buyer should know, when something was withdrawn.
    pub notice: Option<String>,
}

/// `GET /v1/purchases`: the same page under `items` and `purchases`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PurchasesPage {
    /// The purchases (the Codex plugin reads this).
    pub items: Vec<PurchaseItem>,
    /// The same purchases (the Claude Code plugin reads this).
    pub purchases: Vec<PurchaseItem>,
    /// All of the caller's purchases matching the filter.
    pub total: i64,
    /// Page size.
    pub limit: i64,
    /// Page offset.
    pub offset: i64,
}

/// `GET /v1/purchases/{id}/status` and `GET /v1/purchases/confirm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PurchaseState {
    /// The purchase.
    pub purchase_id: String,
    /// The listing's slug.
    pub skill_slug: String,
    /// Where the purchase stands.
    pub status: PurchaseStatus,
    /// The license code, once paid.
    pub license_code: Option<String>,
    /// When it was paid (when it started, while not paid).
    pub purchased_at: DateTime<Utc>,
}

/// `GET /v1/purchases/download` once paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PurchaseDownload {
    /// The signed download link.
    pub url: String,
    /// The same link.
    pub download_url: String,
    /// The listing's slug.
    pub slug: String,
    /// The buyer's license code.
    pub license_code: Option<String>,
}

/// `GET /v1/purchases/download` while not paid (202).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PurchasePending {
    /// `pending` (or the purchase's status when it will not be paid).
    pub status: PurchaseStatus,
}

/// `POST /v1/purchases/redeem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Redeemed {
    /// The listing's slug.
    pub skill_slug: String,
    /// The purchase the code belongs to.
    pub purchase_id: String,
    /// What happened.
    pub message: String,
}

/// `POST /v1/webhooks/stripe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookReceived {
    /// Always true (a refused delivery answers 400).
    pub received: bool,
    /// Whether this delivery's event was handled before.
    pub duplicate: bool,
}

/// `GET /v1/sellers/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SellerStatus {
    /// Has a payment account or a listing.
    pub is_seller: bool,
    /// The account can take charges (buyers can buy).
    pub charges_enabled: bool,
    /// The account can receive payouts (paid publishing is open).
    pub payouts_enabled: bool,
    /// The onboarding form was submitted.
    pub details_submitted: bool,
    /// A payment account exists.
    pub onboarding_started: bool,
}

/// `POST /v1/sellers/connect` (201).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OnboardingStarted {
    /// Where the seller completes onboarding.
    pub url: String,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

/// `GET /v1/sellers/earnings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Earnings {
    /// `usd`.
    pub currency: String,
    /// Every sale taken.
    pub gross_cents: i64,
    /// Platform fees on the sales that stand.
    pub fee_cents: i64,
    /// The seller's share of the sales that stand (gross − refunded − fee).
    pub net_cents: i64,
    /// Sales refunded.
    pub refunded_cents: i64,
    /// Sales that stand.
    pub sales_count: i64,
    /// Net of the last 30 days.
    pub last_30_days_net_cents: i64,
    /// Net not yet available for payout.
    pub pending_cents: i64,
    /// Net available for payout.
    pub available_cents: i64,
}

/// One period of a revenue series (or its totals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RevenuePoint {
    /// The period's first day (absent in totals).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_start: Option<chrono::NaiveDate>,
    /// Sales taken.
    pub gross_cents: i64,
    /// Sales of the period refunded since (so gross − refunded − fee = net).
    pub refunded_cents: i64,
    /// Fees on the sales that stand.
    pub fee_cents: i64,
    /// The seller's share of the sales that stand.
    pub net_cents: i64,
    /// Sales that stand.
    pub sales_count: i64,
}

/// `GET /v1/sellers/revenue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Revenue {
    /// `usd`.
    pub currency: String,
    /// `day`, `week` or `month`.
    pub period: String,
    /// Every period of the range, empty ones as zeros.
    pub series: Vec<RevenuePoint>,
    /// The whole range.
    pub totals: RevenuePoint,
}

/// One listing of `GET /v1/sellers/revenue/breakdown`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListingRevenue {
    /// The listing's slug.
    pub skill_slug: String,
    /// Its title.
    pub skill_title: String,
    /// Sales that stand.
    pub sales_count: i64,
    /// Sales taken.
    pub gross_cents: i64,
    /// Fees on the sales that stand.
    pub fee_cents: i64,
    /// The seller's share of the sales that stand.
    pub net_cents: i64,
    /// Sales refunded.
    pub refunded_cents: i64,
}

/// `GET /v1/sellers/revenue/breakdown`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RevenueBreakdown {
    /// `usd`.
    pub currency: String,
    /// Per listing, most net first.
    pub items: Vec<ListingRevenue>,
    /// The whole range.
    pub totals: RevenuePoint,
}

/// One sale in `GET /v1/sellers/sales` (no buyer details).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Sale {
    /// The purchase.
    pub purchase_id: String,
    /// The listing's slug.
    pub skill_slug: String,
    /// Its title.
    pub skill_title: String,
    /// The price paid.
    pub amount_cents: i64,
    /// The platform fee.
    pub fee_cents: i64,
    /// The seller's share.
    pub net_cents: i64,
    /// `usd`.
    pub currency: String,
    /// `completed` or `refunded`.
    pub status: PurchaseStatus,
    /// When it was paid.
    pub purchased_at: DateTime<Utc>,
}

/// `GET /v1/sellers/next-payout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NextPayout {
    /// The day of the next payout.
    pub expected_date: chrono::NaiveDate,
    /// What it should pay.
    pub expected_cents: i64,
    /// `usd`.
    pub currency: String,
}

/// One listing of `GET /v1/sellers/skills` (every state).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OwnListing {
    /// The slug.
    pub slug: String,
    /// The title.
    pub title: String,
    /// `skill` or `agent`.
    #[serde(rename = "type")]
    pub listing_type: ListingType,
    /// `pending`, `live`, `blocked` or `archived`.
    pub status: String,
    /// The live version, if any.
    pub version: Option<String>,
    /// The live version's verdict (`pending` before one).
    pub security_status: SecurityStatus,
    /// The price.
    pub price_cents: i64,
    /// Download links issued.
    pub download_count: i64,
    /// Installations recorded.
    pub install_count: i64,
    /// Sales that stand.
    pub sales_count: i64,
    /// Sales taken.
    pub gross_cents: i64,
    /// The seller's share of the sales that stand.
    pub net_cents: i64,
    /// Average rating, null while unrated.
    pub rating_average: Option<f64>,
    /// Number of ratings.
    pub rating_count: i64,
}

/// One entry of `GET /v1/sellers/activity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Activity {
    /// `sale`, `refund`, `review`, `install`, `version_published` or `scan_blocked`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The listing.
    pub skill_slug: String,
    /// One line for people.
    pub summary: String,
    /// The amount of sales and refunds.
    pub amount_cents: Option<i64>,
}

/// One review, with both plugins' field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Review {
    /// The review.
    pub id: String,
    /// 1–5.
    pub rating: i32,
    /// The text, if any.
    pub text: Option<String>,
    /// The reviewer's display name (the Claude Code plugin reads this).
    pub author: String,
    /// The same (the Codex plugin reads this).
    pub author_display_name: String,
    /// The reviewer's page slug.
    pub author_display_name_slug: String,
    /// The reviewer paid for the listing (or redeemed its code).
    pub verified_purchase: bool,
    /// First written.
    pub created_at: DateTime<Utc>,
    /// Last replaced.
    pub updated_at: DateTime<Utc>,
}

/// `GET /v1/skills/{slug}/reviews`: the same page under `items` and `reviews`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReviewsPage {
    /// The reviews (the Codex plugin reads this).
    pub items: Vec<Review>,
    /// The same reviews (the Claude Code plugin reads this).
    pub reviews: Vec<Review>,
    /// All reviews of the listing.
    pub total: i64,
    /// Page size.
    pub limit: i64,
    /// Page offset.
    pub offset: i64,
    /// The listing's average rating, null while unrated.
    pub average_rating: Option<f64>,
    /// How many ratings.
    pub rating_count: i64,
}

/// One entry of the audit log (`GET /v1/admin/audit`): an administrative action and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Entry id.
    pub id: String,
    /// When the action was taken.
    pub at: DateTime<Utc>,
    /// Who took it: an administrator's user id, or `command-line` for the server's own
    /// commands (`api-server admin …`).
    pub actor: String,
    /// What was done, e.g. `role.grant`.
    pub action: String,
    /// What it was done to, e.g. `user:<id>`.
    pub target: String,
    /// The reason given (every action requires one).
    pub reason: String,
}

/// A rescan job (`POST /v1/admin/rescans`, `GET /v1/admin/rescans/{id}`): the current
/// scan rules run over every live version in the background.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rescan {
    /// Job id.
    pub id: String,
    /// `running`, `finished` or `failed`.
    pub status: String,
    /// The administrator who started it.
    pub actor: String,
    /// Why.
    pub reason: String,
    /// The scanner version (built-in rules and the operator's patterns) it applies.
    pub scanner_version: String,
    /// Live versions when it started.
    pub total: i64,
    /// Versions scanned so far.
    pub done: i64,
    /// Versions whose verdict changed so far.
    pub changed: i64,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it failed.
    pub error: Option<String>,
    /// Each verdict it changed (a version now `block` no longer serves).
    pub changes: Vec<RescanChange>,
}

/// A verdict a rescan changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RescanChange {
    /// The listing's slug.
    pub slug: String,
    /// The version.
    pub version: String,
    /// Its verdict before.
    pub before: SecurityStatus,
    /// Its verdict now.
    pub after: SecurityStatus,
    /// Its score before.
    pub before_score: Option<i32>,
    /// Its score now.
    pub after_score: i32,
}

/// An abuse report: `POST /v1/skills/{slug}/report` answers the reporter's, and
/// `GET /v1/admin/reports` lists them for administrators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AbuseReport {
    /// Report id.
    pub id: String,
    /// The reported listing.
    pub listing_slug: String,
    /// Who reported it.
    pub reporter_id: String,
    /// One of `malware`, `prompt_injection`, `credential_theft`, `copyright`, `spam`,
    /// `misleading`, `other`.
    pub reason: String,
    /// The reporter's note, if any.
    pub text: Option<String>,
    /// `open` or `closed`.
    pub status: String,
    /// When it was filed.
    pub created_at: DateTime<Utc>,
    /// When an administrator closed it.
    pub closed_at: Option<DateTime<Utc>>,
    /// The administrator's reason for closing it.
    pub resolution: Option<String>,
}
