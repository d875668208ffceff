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

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::Method;
use actix_web::web::{self, Data};
use actix_web::{App, HttpResponse, HttpServer};
use metrics::{Counter, Histogram};
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

/// The request series of one method, route template and status.
type SeriesKey = (&'static str, String, u16);

thread_local! {
    /// Each worker's handles on the request series it has recorded, so that a request
    /// costs a map lookup and two atomic updates, not a registry lookup with its labels
    /// built anew. Bounded: methods are the standard ones or `other`, routes are the
    /// route table's templates (or `unmatched`), statuses are three digits.
    static SERIES: RefCell<HashMap<SeriesKey, (Counter, Histogram)>> =
        RefCell::new(HashMap::new());
}

/// The method as a label: a standard method's name, or `other` (a client can send any
/// token as a method, and labels must stay few).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Records one answered request under its route template (`unmatched` for none); does
/// nothing when no recorder is installed (`metrics.bind` unset).
pub fn record_request(method: &Method, route: Option<String>, status: u16, elapsed: Duration) {
    if HANDLE.get().is_none() {
        return;
    }
    let key = (method_label(method), route.unwrap_or_else(|| "unmatched".to_owned()), status);
    SERIES.with_borrow_mut(|series| {
        let (requests, duration) =
            series.entry(key).or_insert_with_key(|(method, route, status)| {
                let counter = metrics::counter!(
                    "ap_http_requests_total",
                    "method" => *method,
                    "route" => route.clone(),
                    "status" => status.to_string()
                );
                let histogram = metrics::histogram!(
                    "ap_http_request_duration_seconds",
                    "method" => *method,
                    "route" => route.clone()
                );
                (counter, histogram)
            });
        requests.increment(1);
        duration.record(elapsed.as_secs_f64());
    });
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

/// How often recorded histogram samples are folded into their buckets between scrapes
/// (so memory stays bounded however long nobody scrapes).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Serves `GET /metrics` on `listener` (one worker) for as long as the runtime lives,
/// and folds histogram samples every [`UPKEEP_EVERY`].
pub fn server(state: AppState, listener: TcpListener) -> std::io::Result<Server> {
    let handle = recorder();
    actix_web::rt::spawn(async move {
        let mut ticks = actix_web::rt::time::interval(UPKEEP_EVERY);
        loop {
            ticks.tick().await;
            handle.run_upkeep();
        }
    });
    let server = HttpServer::new(move || {
        App::new().app_data(Data::new(state.clone())).route("/metrics", web::get().to(scrape))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}
