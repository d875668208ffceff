//! Rate limits through HTTP: tiers, headers, refills with the injected clock, keys by
//! user or IP, trusted proxies, shared budgets across instances, and Redis going away.

use serde_json::json;

use crate::support::{Limits, Response, TestApp};

fn header_u64(res: &Response, name: &str) -> u64 {
    res.header(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing: {:?}", res.headers))
}

/// Runs each story with the in-memory limiter and with the Redis limiter (the latter
/// when `AP_TEST_REDIS_URL` is set; unreachable = failure).
macro_rules! both_limiters {
    ($($story:ident),* $(,)?) => {
        mod memory {
            $(
                #[actix_web::test]
                async fn $story() {
                    super::$story(|trusted| async move {
                        crate::support::TestApp::with_limits(crate::support::Limits::Memory, trusted).await
                    })
                    .await;
                }
            )*
        }
        mod redis {
            $(
                #[actix_web::test]
                async fn $story() {
                    if std::env::var(crate::support::REDIS_ENV).map_or(true, |u| u.is_empty()) {
                        return;
                    }
                    super::$story(|trusted| async move {
                        crate::support::TestApp::with_limits(crate::support::Limits::redis(), trusted).await
                    })
                    .await;
                }
            )*
        }
    };
}

async fn anonymous_reads_count_down_and_refill<F, Fut>(start: F)
where
    F: FnOnce(&'static [&'static str]) -> Fut,
    Fut: std::future::Future<Output = Option<TestApp>>,
{
    let app = start(&[]).await.expect("app");
    for expected in (0..60).rev() {
        let res = app.get("/v1/skills").await;
        assert_eq!(res.status, 200, "{}", res.text);
        assert_eq!(header_u64(&res, "x-ratelimit-limit"), 60);
        assert_eq!(header_u64(&res, "x-ratelimit-remaining"), expected);
        assert!(header_u64(&res, "x-ratelimit-reset") >= chrono::Utc::now().timestamp() as u64 - 5);
    }
    let refused = app.get("/v1/skills").await;
    refused.assert_coded(429, "RATE_LIMITED");
    assert_eq!(refused.json["detail"]["detail"], "Rate limit exceeded");
    assert!(header_u64(&refused, "retry-after") >= 1);
    assert_eq!(header_u64(&refused, "x-ratelimit-remaining"), 0);
    assert_eq!(header_u64(&refused, "x-ratelimit-limit"), 60);

    app.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(app.get("/v1/skills").await.status, 200, "one request refilled after a second");
    assert_eq!(app.get("/v1/skills").await.status, 429);
    app.clock.advance(chrono::Duration::seconds(60));
    let refilled = app.get("/v1/categories").await;
    assert_eq!(refilled.status, 200);
    assert_eq!(header_u64(&refilled, "x-ratelimit-remaining"), 59, "a full budget after a minute");

    for _ in 0..70 {
        let health = app.get("/health").await;
        assert_eq!(health.status, 200, "health is never limited");
        assert!(health.header("x-ratelimit-limit").is_none());
    }
}

async fn users_have_their_own_budgets<F, Fut>(start: F)
where
    F: FnOnce(&'static [&'static str]) -> Fut,
    Fut: std::future::Future<Output = Option<TestApp>>,
{
    // 127.0.0.1 (the test's own address) is a trusted proxy here, so X-Forwarded-For
    // stands for the client.
    let app = start(&["127.0.0.1", "::1"]).await.expect("app");
    let token = app.cli_token("rita").await;
    let from = |ip: &'static str, path: &str| {
        app.send(
            app.client
                .get(format!("{}{path}", app.base))
                .bearer_auth(&token)
                .header("X-Forwarded-For", ip),
        )
    };
    for i in 0..10 {
        let ip = if i % 2 == 0 { "198.51.100.1" } else { "198.51.100.2" };
        let res = from(ip, "/v1/auth/me").await;
        assert_eq!(res.status, 200, "read {i}: {}", res.text);
        assert_eq!(header_u64(&res, "x-ratelimit-limit"), 10);
    }
    from("198.51.100.3", "/v1/auth/me").await.assert_coded(429, "RATE_LIMITED");
    // The same IP's anonymous budget is untouched.
    let anonymous = app
        .send(
            app.client
                .get(format!("{}/v1/skills", app.base))
                .header("X-Forwarded-For", "198.51.100.1"),
        )
        .await;
    assert_eq!(anonymous.status, 200);
    assert_eq!(header_u64(&anonymous, "x-ratelimit-remaining"), 59);

    // Writes: 20 per minute per user; a refused write changes nothing.
    let patch = |bio: String| {
        app.send(
            app.client
                .patch(format!("{}/v1/users/profile", app.base))
                .bearer_auth(&token)
                .json(&json!({ "bio": bio })),
        )
    };
    // Minting the token above was this user's first write.
    for i in 1..20 {
        let res = patch(format!("bio {i}")).await;
        assert_eq!(res.status, 200, "write {i}: {}", res.text);
        assert_eq!(header_u64(&res, "x-ratelimit-limit"), 20);
    }
    patch("refused".to_owned()).await.assert_coded(429, "RATE_LIMITED");
    app.clock.advance(chrono::Duration::seconds(60));
    let profile = app.get_as("/v1/users/profile", &token).await;
    assert_eq!(profile.json["bio"], "bio 19", "the refused write did not happen");
}

/// The tier follows the endpoint, not the caller: an MCP plugin sends its token on every
/// call, and a signed-in user browsing the catalog keeps the public budget of 60, keyed
/// by their user; only endpoints that require a sign-in count against the 10 of the
/// authenticated tier.
async fn signing_in_never_lowers_the_catalog_budget<F, Fut>(start: F)
where
    F: FnOnce(&'static [&'static str]) -> Fut,
    Fut: std::future::Future<Output = Option<TestApp>>,
{
    let app = start(&[]).await.expect("app");
    let token = app.cli_token("mcp-user").await;
    let paths = ["/v1/skills", "/v1/search?q=git", "/v1/categories", "/v1/platforms"];
    for i in 0..40 {
        let res = app.get_as(paths[i % paths.len()], &token).await;
        assert_eq!(res.status, 200, "catalog read {i}: {}", res.text);
        assert_eq!(header_u64(&res, "x-ratelimit-limit"), 60);
        assert_eq!(header_u64(&res, "x-ratelimit-remaining"), 59 - i as u64);
    }
    for i in 0..10 {
        let res = app.get_as("/v1/auth/me", &token).await;
        assert_eq!(res.status, 200, "me {i}: {}", res.text);
        assert_eq!(header_u64(&res, "x-ratelimit-limit"), 10);
    }
    app.get_as("/v1/auth/me", &token).await.assert_coded(429, "RATE_LIMITED");
    // The catalog budget is its own: still 20 reads left.
    let res = app.get_as("/v1/skills", &token).await;
    assert_eq!((res.status, header_u64(&res, "x-ratelimit-remaining")), (200, 19));
    // And the anonymous budget of the same address is another.
    let res = app.get("/v1/skills").await;
    assert_eq!((res.status, header_u64(&res, "x-ratelimit-remaining")), (200, 59));
}

async fn spoofed_forwarded_for_is_ignored<F, Fut>(start: F)
where
    F: FnOnce(&'static [&'static str]) -> Fut,
    Fut: std::future::Future<Output = Option<TestApp>>,
{
    let app = start(&[]).await.expect("app");
    for i in 0..60 {
        let spoofed = format!("203.0.113.{i}");
        let res = app
            .send(
                app.client
                    .get(format!("{}/v1/platforms", app.base))
                    .header("X-Forwarded-For", spoofed),
            )
            .await;
        assert_eq!(res.status, 200);
    }
    let res = app
        .send(
            app.client
                .get(format!("{}/v1/platforms", app.base))
                .header("X-Forwarded-For", "203.0.113.99"),
        )
        .await;
    res.assert_coded(429, "RATE_LIMITED");
    // Anonymous writes count by IP too.
    for _ in 0..20 {
        assert_eq!(
            app.send(app.client.post(format!("{}/v1/auth/cli-token", app.base))).await.status,
            401
        );
    }
    app.send(app.client.post(format!("{}/v1/auth/cli-token", app.base)))
        .await
        .assert_coded(429, "RATE_LIMITED");
}

/// A made-up token (well formed, so it cannot be refused by its shape) that no one holds.
fn made_up_token() -> String {
    ap_auth::cli_token::CliToken::generate().expect("token").expose().to_owned()
}

async fn made_up_tokens_are_refused_before_any_lookup<F, Fut>(start: F)
where
    F: FnOnce(&'static [&'static str]) -> Fut,
    Fut: std::future::Future<Output = Option<TestApp>>,
{
    let app = start(&[]).await.expect("app");
    // A real token, minted (so not yet looked up by this instance) before the flood.
    let real = app.cli_token("vera").await;
    for i in 0..60 {
        let res = app.get_as("/v1/skills", &made_up_token()).await;
        assert_eq!(res.status, 401, "made-up token {i}: {}", res.text);
    }
    // The IP's lookups are spent: a token it would have to look up is refused before the
    // query, even a real one (whose user's own budget is untouched).
    let refused = app.get_as("/v1/auth/me", &real).await;
    refused.assert_coded(429, "RATE_LIMITED");
    assert_eq!(header_u64(&refused, "x-ratelimit-limit"), 60);
    assert!(header_u64(&refused, "retry-after") >= 1, "{:?}", refused.headers);
    app.clock.advance(chrono::Duration::seconds(2));
    let me = app.get_as("/v1/auth/me", &real).await;
    assert_eq!(me.status, 200, "one lookup refilled: {}", me.text);
    // Now known to this instance, the real token needs no lookup (and spends none).
    for _ in 0..3 {
        assert_eq!(app.get_as("/v1/auth/me", &real).await.status, 200);
    }
}

/// Signed file links count against their own, generous tier by client IP alone: neither
/// a bearer token nor the catalog budget changes that, and past it they answer 429.
async fn signed_file_links_have_their_own_tier<F, Fut>(start: F)
where
    F: FnOnce(&'static [&'static str]) -> Fut,
    Fut: std::future::Future<Output = Option<TestApp>>,
{
    let app = start(&[]).await.expect("app");
    let link = "/v1/files/v1/package.zip?sha256=00&expires=1&signature=00";
    let res = app.get(link).await;
    assert_eq!(res.status, 403, "{}", res.text);
    assert_eq!(header_u64(&res, "x-ratelimit-limit"), 600);
    assert_eq!(header_u64(&res, "x-ratelimit-remaining"), 599);
    let catalog = app.get("/v1/skills").await;
    assert_eq!(header_u64(&catalog, "x-ratelimit-limit"), 60);
    assert_eq!(header_u64(&catalog, "x-ratelimit-remaining"), 59);
    // A bearer token is not looked at: still by IP, still the same budget, no 401.
    let res = app.get_as(link, "ap_made_up_token").await;
    assert_eq!(res.status, 403, "{}", res.text);
    assert_eq!(header_u64(&res, "x-ratelimit-remaining"), 598);
    for _ in 0..598 {
        assert_eq!(app.get(link).await.status, 403);
    }
    let res = app.get(link).await;
    res.assert_coded(429, "RATE_LIMITED");
    assert!(header_u64(&res, "retry-after") >= 1);
    assert_eq!(app.get("/v1/skills").await.status, 200, "the catalog budget is its own");
}

/// `/v1/admin/…` counts against its own tier, by user, whatever the method.
async fn administration_has_its_own_tier<F, Fut>(start: F)
where
    F: FnOnce(&'static [&'static str]) -> Fut,
    Fut: std::future::Future<Output = Option<TestApp>>,
{
    let app = start(&[]).await.expect("app");
    let admin = app.configured_admin().await;
    let res = app.get_as("/v1/admin/audit", &admin).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(header_u64(&res, "x-ratelimit-limit"), 120);
    assert_eq!(header_u64(&res, "x-ratelimit-remaining"), 119);
    let user = app.cli_token("not-an-admin").await;
    let res = app.get_as("/v1/admin/audit", &user).await;
    res.assert_coded(403, "FORBIDDEN");
    assert_eq!(header_u64(&res, "x-ratelimit-remaining"), 119, "by user");
    let res = app.get_as("/v1/auth/me", &admin).await;
    assert_eq!(header_u64(&res, "x-ratelimit-limit"), 10, "the other budgets are apart");
}

both_limiters!(
    administration_has_its_own_tier,
    signed_file_links_have_their_own_tier,
    made_up_tokens_are_refused_before_any_lookup,
    anonymous_reads_count_down_and_refill,
    users_have_their_own_budgets,
    signing_in_never_lowers_the_catalog_budget,
    spoofed_forwarded_for_is_ignored
);

/// Two server instances sharing one Redis and one database share one budget.
#[actix_web::test]
async fn two_instances_share_one_budget() {
    let Ok(url) = std::env::var(crate::support::REDIS_ENV) else { return };
    if url.is_empty() {
        return;
    }
    let prefix = format!("ap:test:{}:", uuid::Uuid::new_v4().simple());
    let database = ap_store::testing::TestDatabase::sqlite();
    let shared = database.attach();
    let limits = |prefix: &str| Limits::Redis { url: Some(url.clone()), prefix: prefix.to_owned() };
    let a = TestApp::with_limits_on(database, limits(&prefix), &[]).await.expect("instance a");
    let b = TestApp::with_limits_on(shared, limits(&prefix), &[]).await.expect("instance b");
    // Both instances read the same clock time.
    b.clock.advance(ap_auth::Clock::now(&a.clock) - ap_auth::Clock::now(&b.clock));
    for i in 0..60 {
        let app = if i % 2 == 0 { &a } else { &b };
        let res = app.get("/v1/skills").await;
        assert_eq!(res.status, 200, "read {i}");
        assert_eq!(header_u64(&res, "x-ratelimit-remaining"), 59 - i);
    }
    a.get("/v1/skills").await.assert_coded(429, "RATE_LIMITED");
    b.get("/v1/skills").await.assert_coded(429, "RATE_LIMITED");
}

/// With Redis gone mid-test, requests are still answered promptly, limited per instance.
#[actix_web::test]
async fn requests_survive_redis_going_away() {
    if std::env::var(crate::support::REDIS_ENV).map_or(true, |u| u.is_empty()) {
        return;
    }
    let (mut redis, port) = crate::support::private_redis(None);
    let limits = Limits::Redis {
        url: Some(format!("redis://127.0.0.1:{port}")),
        prefix: "ap:test:".to_owned(),
    };
    let app = TestApp::with_limits(limits, &[]).await.expect("app");
    for i in 0..5 {
        assert_eq!(header_u64(&app.get("/v1/skills").await, "x-ratelimit-remaining"), 59 - i);
    }
    redis.kill().expect("stop Redis");
    redis.wait().expect("reap Redis");
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client");
    for _ in 0..3 {
        let res = app.send(client.get(format!("{}/v1/skills", app.base))).await;
        assert_eq!(res.status, 200, "answered without Redis: {}", res.text);
        assert_eq!(header_u64(&res, "x-ratelimit-limit"), 60, "limited in memory meanwhile");
    }
}

/// With Redis unreachable, only the first check pays the timeout: the circuit opens and
/// later checks are answered in memory without asking Redis, one probe a second (by the
/// injected clock) asks again, and once Redis answers the budgets are shared again.
#[actix_web::test]
async fn an_unreachable_redis_is_not_waited_for_on_every_request() {
    use ap_ratelimit::redis::{PROBE_INTERVAL, RedisLimiter};
    use ap_ratelimit::{Key, Limiter, Quotas, Tier};

    let Some(url) = std::env::var(crate::support::REDIS_ENV).ok().filter(|u| !u.is_empty()) else {
        return;
    };
    let upstream = url.trim_start_matches("redis://").trim_end_matches('/').to_owned();
    let gate = crate::gate::TcpGate::start(&upstream);
    let clock = ap_auth::ManualClock::new(chrono::Utc::now());
    let prefix = format!("ap:circuit:{}:", uuid::Uuid::now_v7());
    let limiter = RedisLimiter::connect(
        &format!("redis://{}", gate.address),
        &prefix,
        Quotas::default(),
        std::sync::Arc::new(clock.clone()),
        std::time::Duration::from_millis(200),
    )
    .await
    .expect("Redis through the gate");
    let key = Key::new(Tier::PublicRead, None, "192.0.2.7".parse().expect("ip"));

    assert!(limiter.check(&key).await.allowed);
    assert_eq!((limiter.attempts(), limiter.failures()), (1, 0));
    gate.swallow();
    assert!(limiter.check(&key).await.allowed, "answered in memory");
    assert_eq!((limiter.attempts(), limiter.failures()), (2, 1), "one wait for Redis");
    for _ in 0..5 {
        assert!(limiter.check(&key).await.allowed);
    }
    assert_eq!(limiter.attempts(), 2, "the open circuit asks Redis no more");
    clock.advance(chrono::Duration::from_std(PROBE_INTERVAL).expect("interval"));
    limiter.check(&key).await;
    assert_eq!((limiter.attempts(), limiter.failures()), (3, 2), "one probe, still away");
    limiter.check(&key).await;
    assert_eq!(limiter.attempts(), 3, "the next probe waits its interval");

    // Back: a probe (after the connection lost by the gate is replaced) closes it.
    gate.forward();
    let mut recovered = false;
    for _ in 0..5 {
        clock.advance(chrono::Duration::from_std(PROBE_INTERVAL).expect("interval"));
        let failures = limiter.failures();
        limiter.check(&key).await;
        if limiter.failures() == failures {
            recovered = true;
            break;
        }
    }
    assert!(recovered, "Redis answers again");
    let asked = limiter.attempts();
    limiter.check(&key).await;
    assert_eq!(limiter.attempts(), asked + 1, "closed: every check asks Redis again");
}
