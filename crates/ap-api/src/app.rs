//! Building the actix application and its HTTP server.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::middleware::from_fn;
use actix_web::web::{self, Data};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use ap_domain::{Code, FieldError};

use ap_market::counters::FLUSH_INTERVAL;

use crate::error::{ApiError, coded_response};
use crate::middleware::{body_timed_out, bound_body, observe};
use crate::routes;
use crate::state::AppState;

/// Largest JSON body accepted (uploads have their own limit): the largest valid body, a
/// 20,000-character long description of four-byte characters plus the other fields, is
/// about 90 KB.
pub const MAX_JSON_BYTES: usize = 256 * 1024;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Worker threads (each runs one single-threaded event loop).
    pub workers: usize,
    /// Seconds to let in-flight requests finish on shutdown.
    pub shutdown_timeout_secs: u64,
    /// How long a request body may take to arrive in full (408 after that).
    pub body_timeout: Duration,
    /// How often the change log and revocations are followed without an announcement
    /// (normally [`ap_market::indexer::FOLLOW_INTERVAL`]).
    pub follow_interval: Duration,
}

fn json_error(error: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api_error = match &error {
        JsonPayloadError::ContentType => {
            ApiError::coded(Code::UnsupportedMediaType, "Expected Content-Type: application/json")
        }
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::coded(Code::PayloadTooLarge, "Request body too large")
        }
        JsonPayloadError::Payload(e) if body_timed_out(e) => {
            ApiError::coded(Code::RequestTimeout, "The request body did not arrive in time")
        }
        JsonPayloadError::Deserialize(e) => ApiError::field(FieldError::body(
            "",
            "json_invalid",
            e.to_string().replace(['[', ']'], ""),
        )),
        _ => ApiError::field(FieldError::body("", "json_invalid", "Body is not valid JSON")),
    };
    actix_web::error::InternalError::from_response(error, api_error_response(api_error)).into()
}

fn query_error(error: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api_error =
        ApiError::field(FieldError::query("", "url_parsing", "Query string is malformed"));
    actix_web::error::InternalError::from_response(error, api_error_response(api_error)).into()
}

fn api_error_response(error: ApiError) -> HttpResponse {
    actix_web::ResponseError::error_response(&error)
}

async fn not_found() -> HttpResponse {
    coded_response(Code::NotFound, "Not found")
}

/// Registers state, extractor settings, routes and the default 404 on an app.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        if state.config().bench_routes {
            cfg.configure(routes::configure_bench);
        }
        cfg.app_data(Data::new(state))
            .app_data(web::JsonConfig::default().limit(MAX_JSON_BYTES).error_handler(json_error))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .configure(routes::configure)
            .default_service(web::to(not_found));
    }
}

/// Writes the download and view tally every [`FLUSH_INTERVAL`] for as long as the server's runtime
/// lives.
async fn write_counts_behind(state: AppState) {
    let mut ticks = actix_web::rt::time::interval(FLUSH_INTERVAL);
    loop {
        ticks.tick().await;
        if let Err(error) = state.market().flush_counts().await {
            tracing::warn!(%error, "download and view counts not written yet; retrying");
        }
    }
}

/// Follows the catalog's change log into this instance's search index, and other
/// instances' CLI token revocations into its token cache, every `every` and whenever
/// another instance announces a change, for as long as the server's runtime lives.
async fn follow_catalog_behind(state: AppState, every: Duration) {
    let mut ticks = actix_web::rt::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let announcements = state.announcements().clone();
    loop {
        let announced = tokio::select! {
            _ = ticks.tick() => false,
            () = announcements.heard() => true,
        };
        if let Err(error) = state.market().follow_catalog().await {
            tracing::warn!(%error, "search index not caught up with the catalog; retrying");
        }
        if let Err(error) = state.auth().follow_revocations().await {
            tracing::warn!(%error, "token revocations not followed; retrying");
        }
        announcements.round_done();
        if announced {
            // Announcements arriving meanwhile are followed together after the gap, so a
            // burst of writes elsewhere costs this instance a few rounds, not one each.
            actix_web::rt::time::sleep(ANNOUNCED_GAP).await;
        }
    }
}

/// Builds the stored details that are due, a few batches every `every`, beside the
/// follow (on SQLite a build waits for the write lock, which the follow must not).
async fn build_documents_behind(state: AppState, every: Duration) {
    let mut ticks = actix_web::rt::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        // A document not built yet only means a detail read through the join.
        if let Err(error) = state.market().build_documents(false).await {
            tracing::warn!(%error, "listing documents not built; retrying");
        }
    }
}

/// Least time between two rounds prompted by announcements.
const ANNOUNCED_GAP: Duration = Duration::from_millis(50);

/// How often the server looks for accounts whose deletion grace period has ended.
const ERASE_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// Erases the accounts whose deletion is due every [`ERASE_INTERVAL`] (docs/PRIVACY.md);
/// with several instances each does it, and the erasure of one account is one
/// transaction that the others then find done.
async fn erase_accounts_behind(state: AppState) {
    let mut ticks = actix_web::rt::time::interval(ERASE_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match state.market().accounts().erase_due().await {
            Ok(0) => {}
            Ok(erased) => tracing::info!(erased, "erased accounts whose deletion was due"),
            Err(error) => tracing::warn!(%error, "erasing accounts due for deletion failed"),
        }
    }
}

/// Starts serving on an already bound listener (bind first, then spawn: no race with
/// clients in tests). The server stops gracefully on SIGINT/SIGTERM or its handle.
pub fn server(
    state: AppState,
    listener: TcpListener,
    options: &ServerOptions,
) -> std::io::Result<Server> {
    actix_web::rt::spawn(write_counts_behind(state.clone()));
    state.announcements().start();
    actix_web::rt::spawn(follow_catalog_behind(state.clone(), options.follow_interval));
    actix_web::rt::spawn(build_documents_behind(state.clone(), options.follow_interval));
    actix_web::rt::spawn(erase_accounts_behind(state.clone()));
    let body_timeout = options.body_timeout;
    let server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(move |req, next| bound_body(body_timeout, req, next)))
            .wrap(from_fn(observe))
            .configure(configure(state.clone()))
    })
    .workers(options.workers.max(1))
    .shutdown_timeout(options.shutdown_timeout_secs)
    .listen(listener)?
    .run();
    Ok(server)
}
