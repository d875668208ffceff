//! Two instances on one PostgreSQL database, one Redis and one S3-compatible bucket, as
//! production runs them: what one instance does, the other serves or refuses as soon as
//! the announcement reaches it. The instances follow the change log only when announced
//! to (their periodic follow is off), so every wait here ends on an announcement; Redis
//! is a private server the test stops and starts again.

use std::time::{Duration, Instant};

use ap_ratelimit::redis::PROBE_INTERVAL;
use ap_s3::{S3Blobs, S3Settings, testing};
use reqwest::Method;
use serde_json::json;

use crate::support::{Node, REDIS_ENV, TestApp, private_redis, skill_package};

/// How long a wait for an announced change may last before the test fails (the lag
/// itself is printed; it is milliseconds).
const GUARD: Duration = Duration::from_secs(15);

/// Waits on `app`'s follow rounds (never by sleeping) until `holds` answers true;
/// answers how long that took.
async fn until(app: &TestApp, what: &str, mut holds: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    let mut rounds = app.state.announcements().rounds();
    let deadline = tokio::time::Instant::now() + GUARD;
    while !holds().await {
        tokio::time::timeout_at(deadline, rounds.changed())
            .await
            .unwrap_or_else(|_| panic!("{what}: not seen within {GUARD:?}"))
            .expect("follow rounds");
    }
    let lag = started.elapsed();
    eprintln!("{what}: {lag:?}");
    lag
}

fn remaining(res: &crate::support::Response) -> u64 {
    res.headers["x-ratelimit-remaining"].to_str().expect("header").parse().expect("number")
}

/// Moves both instances' clocks on by `by` (a new rate-limit window, or a probe due).
fn advance(apps: [&TestApp; 2], by: Duration) {
    for app in apps {
        app.clock.advance(chrono::Duration::from_std(by).expect("duration"));
    }
}

/// A CLI token of `subject` minted on `a` and cached on `b` (used twice there), then
/// revoked on `a`: waits until `b` refuses it.
async fn revoke_on_first_refused_by_second(a: &TestApp, b: &TestApp, subject: &str, what: &str) {
    let token = a.cli_token(subject).await;
    for _ in 0..2 {
        assert_eq!(b.get_as("/v1/auth/me", &token).await.status, 200, "cached on B");
    }
    assert_eq!(a.post_as("/v1/auth/revoke-cli-token", &token).await.status, 200);
    until(b, what, async || b.get_as("/v1/auth/me", &token).await.status == 401).await;
}

#[actix_web::test]
async fn two_instances_share_archives_tokens_catalog_and_budgets() {
    if std::env::var(REDIS_ENV).map_or(true, |u| u.is_empty()) {
        return;
    }
    let (a_files, b_files) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let Some(settings) = testing::fresh_settings(a_files.path()).await else { return };
    let b_settings = S3Settings { staging_dir: b_files.path().to_owned(), ..settings.clone() };
    let (mut redis, port) = private_redis(None);
    let node = |settings: S3Settings| Node {
        redis_url: format!("redis://127.0.0.1:{port}"),
        prefix: format!("ap:cluster:{port}:"),
        blobs: std::sync::Arc::new(S3Blobs::new(settings).expect("S3 store")),
    };
    let Some(a) = TestApp::first_in(node(settings)).await else { return };
    let b = a.next_in(node(b_settings)).await;

    // Published through A (the archive goes to the bucket), downloaded through B, whose
    // cached (empty) list drops when A announces the upload.
    assert!(b.get("/v1/skills").await.slugs().is_empty());
    let token = a.publisher_token("roamer", "Roaming Tools").await;
    let body = json!({
        "slug": "shared-skill", "title": "Shared skill", "category": "development",
        "description": "Published on one instance, served by another."
    });
    assert_eq!(a.json(Method::POST, "/v1/skills", Some(&token), body).await.status, 201);
    let archive = skill_package("shared-skill", "Works on every instance.");
    let res =
        a.upload("/v1/skills/shared-skill/upload", Some(&token), "file", archive.clone()).await;
    assert_eq!(res.status, 201, "{}", res.text);
    until(&b, "B lists what A published", async || {
        b.get("/v1/skills").await.slugs() == ["shared-skill"]
    })
    .await;
    let res = b.get("/v1/skills/shared-skill/download").await;
    assert_eq!(res.status, 200, "{}", res.text);
    let url = res.json["url"].as_str().expect("url");
    assert!(url.starts_with(&b.base), "a link to B itself: {url}");
    let response = b.client.get(url).send().await.expect("fetch");
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.expect("body").to_vec(), archive, "byte-identical");

    // A token revoked on A is refused by B, which had it cached.
    revoke_on_first_refused_by_second(&a, &b, "traveller", "B refuses the revoked token").await;

    // Unpublished on A: B's detail, list and search (all cached on B) drop it.
    assert_eq!(b.get("/v1/search?q=shared").await.slugs(), ["shared-skill"]);
    assert_eq!(b.get("/v1/skills").await.slugs(), ["shared-skill"]);
    assert_eq!(a.post_as("/v1/skills/shared-skill/unpublish", &token).await.status, 200);
    until(&b, "B drops the unpublished listing", async || {
        b.get("/v1/skills/shared-skill").await.status == 404
            && b.get("/v1/search?q=shared").await.slugs().is_empty()
            && b.get("/v1/skills").await.slugs().is_empty()
    })
    .await;

    // One budget across both: 60 public reads a minute per address, wherever they land.
    advance([&a, &b], Duration::from_secs(61));
    for i in 0..60 {
        let app = if i % 2 == 0 { &a } else { &b };
        let res = app.get("/v1/categories").await;
        assert_eq!((res.status, remaining(&res)), (200, 59 - i), "read {i}");
    }
    a.get("/v1/categories").await.assert_coded(429, "RATE_LIMITED");
    b.get("/v1/categories").await.assert_coded(429, "RATE_LIMITED");

    // Redis stops: both keep answering, each limiting in memory meanwhile.
    redis.kill().expect("stop Redis");
    redis.wait().expect("reap Redis");
    advance([&a, &b], Duration::from_secs(61));
    for app in [&a, &b] {
        for _ in 0..3 {
            let res = app.get("/v1/categories").await;
            assert_eq!(res.status, 200, "answered without Redis: {}", res.text);
        }
        assert_eq!(app.get_as("/v1/auth/me", &token).await.status, 200);
    }

    // Redis is back: budgets are shared again once each limiter's probe finds it, and
    // announcements flow again (B listens anew and hears A's next change).
    let (mut redis, _) = private_redis(Some(port));
    advance([&a, &b], Duration::from_secs(61));
    let mut shared = false;
    for _ in 0..10 {
        advance([&a, &b], PROBE_INTERVAL);
        let first = remaining(&a.get("/v1/categories").await);
        let second = remaining(&b.get("/v1/categories").await);
        if second + 1 == first {
            shared = true;
            break;
        }
    }
    assert!(shared, "the budget is shared again");
    let heard = "B follows again after Redis returned";
    revoke_on_first_refused_by_second(&a, &b, "late-traveller", heard).await;
    // That round may have been B's own, on listening again; this one can only be A's
    // announcement (A publishing again), as B's periodic follow is off.
    let heard = "B hears A's announcements again";
    revoke_on_first_refused_by_second(&a, &b, "later-traveller", heard).await;
    redis.kill().expect("stop Redis");
    redis.wait().expect("reap Redis");
}
