//! `GET /v1/detail/{slug}?source=`: the flat unified detail; counts a view.

use actix_web::web::{Data, Json, Path};
use ap_domain::listing::SecurityStatus;
use ap_domain::wire::{NATIVE_SOURCE, UnifiedDetail};

use crate::error::ApiError;
use crate::present;
use crate::query::{RawQuery, param};
use crate::routes::catalog::{load_live, not_found};
use crate::state::AppState;

/// The unified detail of a live listing of this server (other sources are 404 here).
pub async fn get_detail(
    state: Data<AppState>,
    slug: Path<String>,
    query: RawQuery,
) -> Result<Json<UnifiedDetail>, ApiError> {
    if !matches!(param(&query, "source").map(str::trim), None | Some("") | Some(NATIVE_SOURCE)) {
        return Err(not_found());
    }
    let (listing, owner, versions, view_count) = load_live(&state, &slug, None, true).await?;
    let detail = present::detail(&listing, &owner, &versions)?;
    let live = versions.iter().find(|v| Some(&v.id) == listing.live_version_id.as_ref());
    let author = &detail.summary.author;
    Ok(Json(UnifiedDetail {
        author_display_name: author.display_name.clone(),
        author_slug: author.display_name_slug.clone(),
        author_github: author.github_username.clone(),
        author_avatar_url: author.avatar_url.clone(),
        view_count,
        created_at: present::utc(listing.created_at),
        trust_level: if owner.verified { "verified" } else { "community" }.to_owned(),
        source_url: None,
        ap_security_status: SecurityStatus::from_db(&listing.security_status),
        ap_security_score: listing.security_score,
        ap_scan_hash: live.and_then(|v| v.content_hash.clone()),
        ap_scanned_at: live.and_then(|v| v.scanned_at).map(present::utc),
        detail,
    }))
}
