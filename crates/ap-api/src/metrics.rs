//! Prometheus metrics (docs/OPERATIONS.md, Metrics): the process's recorder, the request
//! series the `observe` middleware records, and `GET /metrics` on its own address
//! (`metrics.bind`), never on the public one. Without `metrics.bind` no recorder is
//! installed and every series costs nothing.
//!
//! Series (all prefixed `ap_`): `http_requests_total` and `http_request_duration_seconds`
//! by method and route template; `db_pool_connections` (in use, open, max) and
//! `db_pool_wait_seconds`; `rate_limit_decisions_total` by tier and outcome and
//! `rate_limit_redis_fallbacks_total`; `scans_total` by verdict and
//! `scan_duration_seconds`; `counts_flushed_timestamp_seconds` and
//! `search_index_caught_up_timestamp_seconds` (lag = now minus these).

use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::web::{self, Data};
use actix_web::{App, HttpResponse, HttpServer};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

/// Histogram buckets of every `…_seconds` series: 100 µs to 10 s.
const BUCKETS: [f64; 14] =
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 10.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use.
pub fn recorder() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new();
        let builder =
            match builder.set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS) {
                Ok(with_buckets) => with_buckets,
                Err(_) => PrometheusBuilder::new(),
            };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was installed already; /metrics shows only its own");
        }
        describe();
        handle
    })
}

/// Describes every series (Prometheus `# HELP`), and starts the counters that may stay at
/// zero for a long time, so they are there to alert on.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!("ap_http_requests_total", "Requests answered, by method, route and status");
    describe_histogram!("ap_http_request_duration_seconds", "Time to answer a request");
    describe_gauge!("ap_db_pool_connections", "Database pool connections (in_use, open, max)");
    describe_histogram!("ap_db_pool_wait_seconds", "Wait for a database connection");
    describe_counter!("ap_rate_limit_decisions_total", "Rate limit decisions, by tier and outcome");
    describe_counter!(
        "ap_rate_limit_redis_fallbacks_total",
        "Rate limit checks answered in memory because Redis did not answer"
    );
    describe_counter!("ap_scans_total", "Package scans, by verdict");
    describe_histogram!("ap_scan_duration_seconds", "Time to scan a package");
    describe_gauge!(
        "ap_counts_flushed_timestamp_seconds",
        "When download and view counts were last written (lag: now minus this)"
    );
    describe_gauge!(
        "ap_search_index_caught_up_timestamp_seconds",
        "When the search index last caught up with the change log (lag: now minus this)"
    );
    metrics::counter!("ap_rate_limit_redis_fallbacks_total").increment(0);
}

/// Records one answered request under its route template (`unmatched` for none).
pub fn record_request(method: &str, route: Option<String>, status: u16, elapsed: Duration) {
    let route = route.unwrap_or_else(|| "unmatched".to_owned());
    let method = method.to_owned();
    metrics::counter!(
        "ap_http_requests_total",
        "method" => method.clone(),
        "route" => route.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!("ap_http_request_duration_seconds", "method" => method, "route" => route)
        .record(elapsed.as_secs_f64());
}

/// The metrics in Prometheus's text format, with the gauges read now.
pub fn render(state: &AppState) -> String {
    let (in_use, open, max) = state.market().pool_state();
    for (name, value) in [("in_use", in_use), ("open", open), ("max", max)] {
        metrics::gauge!("ap_db_pool_connections", "state" => name).set(f64::from(value));
    }
    recorder().render()
}

async fn scrape(state: Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(render(&state))
}

/// Serves `GET /metrics` on `listener` (one worker) for as long as the runtime lives.
pub fn server(state: AppState, listener: TcpListener) -> std::io::Result<Server> {
    recorder();
    let server = HttpServer::new(move || {
        App::new().app_data(Data::new(state.clone())).route("/metrics", web::get().to(scrape))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}
