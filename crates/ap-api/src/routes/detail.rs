//! `GET /v1/detail/{slug}?source=`: the flat unified detail; counts a view (written
//! behind, see [`crate::counters`]).

use actix_web::web::{Data, Json, Path};
use ap_domain::wire::{NATIVE_SOURCE, UnifiedDetail};

use ap_store::catalog;

use crate::error::ApiError;
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
    let live = load_live(&state, &slug, None).await?;
    let listing_id = live.listing_id.clone();
    let stored = state.db().run(move |conn| catalog::view_count(conn, &listing_id)).await?;
    // This view is counted in memory and written with the next batch.
    let view_count = stored + state.counts().view(&live.listing_id);
    let detail = live.detail.clone();
    let author = &detail.summary.author;
    Ok(Json(UnifiedDetail {
        author_display_name: author.display_name.clone(),
        author_slug: author.display_name_slug.clone(),
        author_github: author.github_username.clone(),
        author_avatar_url: author.avatar_url.clone(),
        view_count,
        created_at: live.created_at,
        trust_level: crate::routes::security::trust_level(author.verified).to_owned(),
        source_url: None,
        ap_security_status: detail.summary.security_status,
        ap_security_score: detail.security_score,
        ap_scan_hash: live.scan_hash.clone(),
        ap_scanned_at: live.scanned_at,
        detail,
    }))
}
