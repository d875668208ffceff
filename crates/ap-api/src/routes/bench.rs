//! Benchmark yardsticks, registered only when `server.bench_routes` is on: a bare JSON
//! handler, a bare single-row primary-key read through the same pool, and a bare read of
//! an archive from disk. `cargo xtask bench` compares the real endpoints against them in
//! the same run.

use actix_web::HttpResponse;
use actix_web::web::{Data, Json, Path};
use ap_domain::{Code, Refusal};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

/// `GET /_bench/bare`: JSON without any work.
pub async fn get_bare() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /_bench/pk/{id}`: one primary-key read of a listing's slug.
pub async fn get_pk(state: Data<AppState>, id: Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let slug = state.market().catalog().slug_by_id(id).await?;
    Ok(HttpResponse::Ok().json(json!({ "slug": slug })))
}

/// `GET /_bench/file/{sha256}`: the archive's bytes read from disk, nothing else.
pub async fn get_file(state: Data<AppState>, sha: Path<String>) -> Result<HttpResponse, ApiError> {
    let blobs = std::sync::Arc::clone(state.market().blobs());
    let sha = sha.into_inner();
    let missing = || Refusal::new(Code::NotFound, "No such archive");
    let bytes = tokio::task::spawn_blocking(move || blobs.get(&sha))
        .await
        .map_err(|e| Refusal::new(Code::Internal, e.to_string()))?
        .map_err(|e| Refusal::new(Code::Internal, e.to_string()))?
        .ok_or_else(missing)?;
    Ok(HttpResponse::Ok().content_type("application/zip").body(bytes))
}
