//! `/metrics` on its own address: after real traffic (reads, a rate-limited request, a
//! publish with its scan) a scrape holds every documented series, in Prometheus's text
//! format, and the public address does not serve it.

use std::net::TcpListener;

use reqwest::Method;
use serde_json::json;

use crate::support::{Limits, TestApp, skill_package};

/// The value of the first sample line that starts with `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find(|line| line.starts_with(series))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[actix_web::test]
async fn a_scrape_holds_every_series() {
    ap_api::metrics::recorder();
    let app = TestApp::with_limits(Limits::Memory, &[]).await.expect("memory limiter");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    let server = ap_api::metrics::server(app.state.clone(), listener).expect("metrics server");
    let handle = server.handle();
    actix_web::rt::spawn(server);

    assert_eq!(app.get("/v1/skills").await.status, 200);
    app.get("/v1/skills/no-such-skill").await.assert_coded(404, "SKILL_NOT_FOUND");
    let token = app.publisher_token("mia", "Mia Metrics").await;
    let body = json!({"slug": "metered", "title": "Metered", "category": "development",
                      "description": "Counts things."});
    assert_eq!(app.json(Method::POST, "/v1/skills", Some(&token), body).await.status, 201);
    let pkg = skill_package("metered", "Counts things.");
    let res = app.upload("/v1/skills/metered/upload", Some(&token), "file", pkg).await;
    assert_eq!(res.status, 201, "{}", res.text);
    app.state.market().flush_counts().await.expect("flush");

    let res = app.client.get(format!("http://{address}/metrics")).send().await.expect("scrape");
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"].to_str().expect("type").starts_with("text/plain"),
        "{:?}",
        res.headers()
    );
    let text = res.text().await.expect("body");
    let requests = r#"ap_http_requests_total{method="GET",route="/v1/skills",status="200"}"#;
    assert_eq!(sample(&text, requests), Some(1.0), "{text}");
    let missing = r#"ap_http_requests_total{method="GET",route="/v1/skills/{slug}",status="404"}"#;
    assert_eq!(sample(&text, missing), Some(1.0), "{text}");
    for series in [
        r#"ap_http_request_duration_seconds_bucket{method="GET",route="/v1/skills",le="0.01"}"#,
        r#"ap_db_pool_connections{state="max"}"#,
        r#"ap_db_pool_connections{state="in_use"}"#,
        "ap_db_pool_wait_seconds_count",
        r#"ap_rate_limit_decisions_total{tier="public",outcome="allowed"}"#,
        r#"ap_rate_limit_decisions_total{tier="write",outcome="allowed"}"#,
        "ap_rate_limit_redis_fallbacks_total",
        r#"ap_scans_total{verdict="pass"}"#,
        "ap_scan_duration_seconds_count",
        "ap_counts_flushed_timestamp_seconds",
        "ap_search_index_caught_up_timestamp_seconds",
    ] {
        assert!(sample(&text, series).is_some(), "{series} missing from:\n{text}");
    }
    assert!(sample(&text, r#"ap_db_pool_connections{state="max"}"#) >= Some(1.0));
    assert!(sample(&text, "ap_counts_flushed_timestamp_seconds") > Some(1.7e9));
    // Not on the public address.
    app.get("/metrics").await.assert_coded(404, "NOT_FOUND");
    drop(handle.stop(false));
}
