//! Downloads (CONTRACT §7): `GET /v1/skills/{slug}/download[?version=]` (and the agents
//! twin) answers a signed, expiring link; `GET /v1/files/…` serves the ZIP for a valid
//! link without any Authorization.
//!
//! Free live listings: anyone. Paid: the owner, or a buyer with a completed purchase
//! (buyers keep access after the listing is unpublished). Only live versions (scanned
//! `pass` or `warn`) are ever linked.

use std::io::Read;

use actix_web::body::SizedStream;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{Bytes, Data, Json, Path};
use actix_web::{HttpRequest, HttpResponse};
use ap_domain::listing::ListingType;
use ap_domain::version::Version;
use ap_domain::wire::DownloadLink;
use ap_domain::{Code, FieldError};
use ap_store::{catalog, usage};
use futures_util::StreamExt;

use crate::auth::{MaybeAuthenticated, unauthorized};
use crate::error::ApiError;
use crate::query::{RawQuery, param};
use crate::routes::catalog::not_found;
use crate::signing::{FileLink, LinkError};
use crate::state::AppState;

/// What the database says about a download request.
struct Granted {
    listing_id: String,
    slug: String,
    version_id: String,
    version: String,
    sha256: String,
    content_hash: Option<String>,
    license_code: Option<String>,
}

async fn download(
    state: Data<AppState>,
    MaybeAuthenticated(caller): MaybeAuthenticated,
    slug: Path<String>,
    query: RawQuery,
    kind: Option<ListingType>,
) -> Result<Json<DownloadLink>, ApiError> {
    let requested = match param(&query, "version").map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(raw) => Some(
            Version::parse(raw)
                .map_err(|e| FieldError::query("version", "version_format", e.to_string()))?,
        ),
    };
    let slug = slug.into_inner();
    let user = caller.map(|c| c.user_id);
    let granted = state
        .db()
        .run(move |conn| -> Result<Result<Granted, ApiError>, ap_store::StoreError> {
            let Some((card, _)) = catalog::listing_by_slug(conn, &slug, kind)? else {
                return Ok(Err(not_found()));
            };
            let is_owner = user.as_deref() == Some(card.owner_id.as_str());
            let purchase = match &user {
                Some(user) if !is_owner => usage::purchase_access(conn, user, &card.id)?,
                _ => None,
            };
            if !(card.is_live() || is_owner || purchase.is_some()) {
                return Ok(Err(not_found()));
            }
            if card.price_cents > 0 && !is_owner && purchase.is_none() {
                return Ok(Err(match user {
                    None => unauthorized(),
                    Some(_) => ApiError::coded(
                        Code::PurchaseRequired,
                        "This listing is paid; buy it to download it",
                    ),
                }));
            }
            let versions = catalog::live_versions(conn, &card.id)?;
            let chosen = match requested {
                Some(wanted) => versions.into_iter().find(|v| v.version == wanted.to_string()),
                None => versions.into_iter().find(|v| Some(&v.id) == card.live_version_id.as_ref()),
            };
            let Some(version) = chosen else {
                return Ok(Err(ApiError::coded(
                    Code::SkillNotFound,
                    "No version of this listing is available for download",
                )));
            };
            let Some(sha256) = version.archive_sha256.clone() else {
                return Ok(Err(ApiError::Internal("live version without archive".to_owned())));
            };
            Ok(Ok(Granted {
                listing_id: card.id,
                slug: card.slug,
                version_id: version.id,
                version: version.version,
                sha256,
                content_hash: version.content_hash,
                license_code: purchase.flatten(),
            }))
        })
        .await??;
    state.counts().download(&granted.listing_id);
    let ttl = state.config().download_link_ttl.as_secs() as i64;
    let expires = state.auth().clock().now().timestamp() + ttl;
    let expires_at = chrono::DateTime::from_timestamp(expires, 0)
        .ok_or_else(|| ApiError::Internal("link expiry out of range".to_owned()))?;
    let file_name = format!("{}-{}.zip", granted.slug, granted.version);
    let url = state.signer().url(
        &state.config().public_url,
        &FileLink {
            version_id: &granted.version_id,
            file_name: &file_name,
            sha256: &granted.sha256,
            expires,
        },
    );
    Ok(Json(DownloadLink {
        url,
        slug: granted.slug,
        version: granted.version,
        content_hash: granted.content_hash,
        archive_sha256: granted.sha256,
        license_code: granted.license_code,
        expires_at,
    }))
}

/// `GET /v1/skills/{slug}/download[?version=X.Y.Z]`.
pub async fn download_skill(
    state: Data<AppState>,
    caller: MaybeAuthenticated,
    slug: Path<String>,
    query: RawQuery,
) -> Result<Json<DownloadLink>, ApiError> {
    download(state, caller, slug, query, None).await
}

/// `GET /v1/agents/{slug}/download[?version=X.Y.Z]`.
pub async fn download_agent(
    state: Data<AppState>,
    caller: MaybeAuthenticated,
    slug: Path<String>,
    query: RawQuery,
) -> Result<Json<DownloadLink>, ApiError> {
    download(state, caller, slug, query, Some(ListingType::Agent)).await
}

fn link_invalid() -> ApiError {
    ApiError::coded(Code::LinkInvalid, "This download link is not valid; request a new one")
}

/// `GET /v1/files/{version_id}/{file_name}?sha256=&expires=&signature=`: the archive of a
/// signed link (200 `application/zip`, `ETag` = the archive's SHA-256).
pub async fn get_file(
    req: HttpRequest,
    state: Data<AppState>,
    path: Path<(String, String)>,
    query: RawQuery,
) -> Result<HttpResponse, ApiError> {
    let (version_id, file_name) = path.into_inner();
    let sha256 = param(&query, "sha256").ok_or_else(link_invalid)?;
    let expires =
        param(&query, "expires").and_then(|e| e.parse::<i64>().ok()).ok_or_else(link_invalid)?;
    let signature = param(&query, "signature").ok_or_else(link_invalid)?;
    let link = FileLink { version_id: &version_id, file_name: &file_name, sha256, expires };
    state.signer().verify(&link, signature, state.auth().clock().now()).map_err(|e| match e {
        LinkError::Invalid => link_invalid(),
        LinkError::Expired => {
            ApiError::coded(Code::LinkExpired, "This download link has expired; request a new one")
        }
    })?;
    let etag = format!("\"{sha256}\"");
    if req.headers().get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == etag.as_bytes()) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, etag)).finish());
    }
    let blobs = std::sync::Arc::clone(state.publisher().blobs());
    let key = sha256.to_owned();
    let blob = tokio::task::spawn_blocking(move || blobs.open(&key, HEAD_BYTES))
        .await
        .map_err(|e| ApiError::Internal(format!("read task: {e}")))??
        .ok_or_else(|| ApiError::coded(Code::NotFound, "The archive is not available"))?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
        .map_err(|_| link_invalid())?;
    let mut response = HttpResponse::Ok();
    response
        .content_type("application/zip")
        .insert_header((header::ETAG, etag))
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .insert_header((header::CACHE_CONTROL, "private, max-age=300"));
    Ok(match blob.rest {
        None => response.body(blob.head),
        Some(rest) => response.body(SizedStream::new(blob.len, stream_rest(blob.head, rest))),
    })
}

/// Archives up to this size are read in one go; longer ones are streamed.
const HEAD_BYTES: usize = 1024 * 1024;
/// Chunk size of a streamed archive.
const CHUNK_BYTES: usize = 256 * 1024;

/// The head, then the rest of an archive read chunk by chunk on the blocking pool (so a
/// large download holds one chunk in memory, not the archive).
fn stream_rest(
    head: Vec<u8>,
    rest: Box<dyn Read + Send>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    let tail = futures_util::stream::unfold(Some(rest), |reader| async move {
        let mut reader = reader?;
        let read = tokio::task::spawn_blocking(move || {
            let mut chunk = vec![0; CHUNK_BYTES];
            let n = reader.read(&mut chunk)?;
            chunk.truncate(n);
            Ok::<_, std::io::Error>((reader, chunk))
        })
        .await
        .map_err(std::io::Error::other);
        match read {
            Ok(Ok((_, chunk))) if chunk.is_empty() => None,
            Ok(Ok((reader, chunk))) => Some((Ok(Bytes::from(chunk)), Some(reader))),
            Ok(Err(e)) | Err(e) => Some((Err(e), None)),
        }
    });
    futures_util::stream::once(async move { Ok(Bytes::from(head)) }).chain(tail)
}
