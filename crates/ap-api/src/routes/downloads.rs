//! Downloads (docs/API.md, Downloads and Installations): `GET /v1/skills/{slug}/download[?version=]` (and the agents
//! twin) answers a signed, expiring link; `GET /v1/files/…` serves the ZIP for a valid
//! link without any Authorization. Who may have which version is decided by
//! [`ap_market::downloads::Downloads`].

use std::io::Read;

use actix_web::body::SizedStream;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{Bytes, Data, Json, Path};
use actix_web::{HttpRequest, HttpResponse};
use ap_domain::FieldError;
use ap_domain::version::Version;
use ap_domain::wire::DownloadLink;
use ap_market::counters::Visitor;
use ap_market::downloads::DownloadError;
use ap_market::signing::FileLink;
use futures_util::StreamExt;

use crate::auth::MaybeAuthenticated;
use crate::error::ApiError;
use crate::kind::Kind;
use crate::openapi::ErrorBody;
use crate::query::{RawQuery, param};
use crate::ratelimit::client_address;
use crate::state::AppState;

/// `GET /v1/skills/{slug}/download[?version=X.Y.Z]` (and the agents twin).
#[utoipa::path(
    get,
    path = "/v1/skills/{slug}/download",
    tag = "downloads",
    params(
        ("slug" = String, Path, description = "The listing's slug"),
        ("version" = Option<String>, Query,
            pattern = "^(0|[1-9][0-9]*)[.](0|[1-9][0-9]*)[.](0|[1-9][0-9]*)$",
            description = "A live version to download (`X.Y.Z`; an older live version may be \
                           named); default the current version"),
    ),
    responses(
        (
            status = 200,
            description = "A signed link to the archive, expiring after \
                           `storage.download_link_secs` (5 minutes by default); each successful \
                           call counts one download",
            body = DownloadLink
        ),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn download_listing(
    req: HttpRequest,
    state: Data<AppState>,
    Kind(forced): Kind,
    MaybeAuthenticated(caller): MaybeAuthenticated,
    slug: Path<String>,
    query: RawQuery,
) -> Result<Json<DownloadLink>, ApiError> {
    let requested = match param(&query, "version").map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(raw) => Some(Version::parse(raw).map_err(|e| {
            ApiError::field(FieldError::query("version", "version_format", e.to_string()))
        })?),
    };
    let visitor =
        Visitor::new(caller.as_ref().map(|c| c.user_id.as_str()), client_address(&req, &state));
    let caller = caller.map(|c| c.user_id.into());
    let downloads = state.market().downloads();
    Ok(Json(downloads.link(slug.into_inner(), forced, requested, caller, &visitor).await?))
}

/// `GET /v1/files/{version_id}/{file_name}?sha256=&expires=&signature=`: the archive of a
/// signed link (200 `application/zip`, `ETag` = the archive's SHA-256).
#[utoipa::path(
    method(get, head),
    path = "/v1/files/{version_id}/{file_name}",
    tag = "downloads",
    params(
        ("version_id" = String, Path, description = "The version's id, as the link carries it"),
        ("file_name" = String, Path, description = "The file name, `{slug}-{version}.zip`"),
        ("sha256" = String, Query, description = "The archive's SHA-256 (64 hex digits)"),
        ("expires" = i64, Query, description = "When the link expires, Unix seconds"),
        ("signature" = String, Query,
            description = "HMAC-SHA256 over the version id, file name, archive hash and expiry"),
        ("If-None-Match" = Option<String>, Header,
            description = "`\"<archive sha256>\"` (the `ETag`): answers 304 when it matches"),
    ),
    responses(
        (
            status = 200,
            description = "The ZIP bytes",
            content_type = "application/zip",
            body = String,
            headers(
                ("ETag" = String, description = "`\"<archive sha256>\"`"),
                ("Content-Disposition" = String,
                    description = "`attachment; filename=\"<file_name>\"`"),
                ("Cache-Control" = String, description = "`private, max-age=300`"),
            )
        ),
        (
            status = 304,
            description = "`If-None-Match` matches the archive's `ETag` (the link is still \
                           checked first)",
            headers(("ETag" = String, description = "`\"<archive sha256>\"`"))
        ),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
)]
pub async fn get_file(
    req: HttpRequest,
    state: Data<AppState>,
    path: Path<(String, String)>,
    query: RawQuery,
) -> Result<HttpResponse, ApiError> {
    let (version_id, file_name) = path.into_inner();
    let sha256 = param(&query, "sha256").ok_or(DownloadError::LinkInvalid)?;
    let expires = param(&query, "expires")
        .and_then(|e| e.parse::<i64>().ok())
        .ok_or(DownloadError::LinkInvalid)?;
    let signature = param(&query, "signature").ok_or(DownloadError::LinkInvalid)?;
    let link = FileLink { version_id: &version_id, file_name: &file_name, sha256, expires };
    let etag = format!("\"{sha256}\"");
    let downloads = state.market().downloads();
    if req.headers().get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == etag.as_bytes()) {
        downloads.check(&link, signature)?;
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, etag)).finish());
    }
    let blob = downloads.open(&link, signature).await?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
        .map_err(|_| DownloadError::LinkInvalid)?;
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
