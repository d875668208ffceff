//! Bad input never produces a 500 or a hang, and every error has the contract's envelope.

use crate::both_backends;
use crate::support::{Listing, TestApp};

async fn bad_input_walk(app: TestApp) {
    let ada = app.seller("Ada Forge").await;
    app.listing(&ada, Listing::skill("git-helper", "Git Helper")).await;

    // Exact envelope of a coded error.
    let missing = app.get("/v1/skills/unknown-slug").await;
    assert_eq!(
        missing.json,
        serde_json::json!({"detail": {"detail": "Skill not found", "code": "SKILL_NOT_FOUND"}})
    );

    let invalid: &[(&str, &[&str])] = &[
        ("/v1/skills?limit=0", &["limit"]),
        ("/v1/skills?limit=1000", &["limit"]),
        ("/v1/skills?limit=abc", &["limit"]),
        ("/v1/skills?offset=-1", &["offset"]),
        ("/v1/skills?offset=1001", &["offset"]),
        ("/v1/skills?offset=99999999999999999999", &["offset"]),
        ("/v1/skills?type=foo", &["type"]),
        ("/v1/skills?sort=bar", &["sort"]),
        ("/v1/skills?price=cheap", &["price"]),
        ("/v1/skills?category=Not%20A%20Slug", &["category"]),
        ("/v1/skills?type=foo&sort=bar&limit=0&offset=-1", &["type", "sort", "limit", "offset"]),
        ("/v1/agents?limit=0", &["limit"]),
        ("/v1/search?offset=1001", &["offset"]),
        ("/v1/sellers/ada-forge/skills?offset=-5", &["offset"]),
    ];
    for (path, fields) in invalid {
        let res = app.get(path).await;
        assert!(res.header("x-request-id").is_some(), "{path}");
        res.assert_invalid(fields);
    }

    for path in
        ["/v1/nothing-here", "/nothing-here", "/v1", "/v1/skills/git-helper/nope", "/v2/skills"]
    {
        app.get(path).await.assert_coded(404, "NOT_FOUND");
    }
    for (method, path) in [
        (reqwest::Method::POST, "/v1/categories"),
        (reqwest::Method::DELETE, "/v1/skills/git-helper"),
        (reqwest::Method::PUT, "/health"),
        (reqwest::Method::POST, "/v1/search"),
    ] {
        let res = app.send(app.client.request(method.clone(), format!("{}{path}", app.base))).await;
        res.assert_coded(405, "METHOD_NOT_ALLOWED");
    }

    // A malformed percent-encoding is a 422, not a 500.
    let res = app.get("/v1/skills?limit=%ZZ").await;
    assert!(res.status == 422 || res.status == 200, "{}: {}", res.status, res.text);
}

async fn request_ids_are_echoed_or_made(app: TestApp) {
    let made = app.get("/health").await;
    let id = made.header("x-request-id").expect("request id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let echoed = app
        .send(app.client.get(format!("{}/v1/nope", app.base)).header("X-Request-Id", "abc-123"))
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("abc-123"));
    let hostile = "x".repeat(300);
    let replaced = app
        .send(app.client.get(format!("{}/health", app.base)).header("X-Request-Id", &hostile))
        .await;
    assert_ne!(
        replaced.header("x-request-id"),
        Some(hostile.as_str()),
        "overlong ids are replaced"
    );
}

both_backends!(bad_input_walk, request_ids_are_echoed_or_made);

/// A database that goes away answers 503 within the pool timeout, never a hang or a 500;
/// readiness says so, liveness does not.
#[actix_web::test]
async fn a_lost_database_answers_503() {
    let Some(app) = TestApp::postgres().await else { return };
    let ready = app.get("/ready").await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.json["status"], "ready");
    assert!(app.cut_off_database());
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(15))
        .build()
        .expect("client");
    // (A search whose ranking needs no rows may still answer from the search index.)
    for path in ["/v1/skills/some-skill", "/v1/skills", "/v1/categories"] {
        let res = app.send(client.get(format!("{}{path}", app.base))).await;
        assert_eq!(
            res.json,
            serde_json::json!({"detail": {"detail": "Service temporarily unavailable", "code": "SERVICE_UNAVAILABLE"}}),
            "{path}"
        );
        assert_eq!(res.status, 503, "{path}");
    }
    assert_eq!(app.get("/health").await.status, 200, "liveness does not need the database");
    app.get("/ready").await.assert_coded(503, "SERVICE_UNAVAILABLE");
}
