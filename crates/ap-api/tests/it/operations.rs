//! Operator actions on both backends: a harmful version is quarantined (links issued a
//! second earlier stop, the listing falls back, buyers are told), a bad seller is
//! suspended (listings vanish, token 401, payouts paused), a purchase is refunded by hand
//! (access gone, the seller's figures move), a rescan after a rule change blocks exactly
//! the affected versions; non-administrators get 403 and anonymous callers 401 on every
//! admin path, and every action is in the audit log with its reason.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::commerce::{assert_body_invalid, deliver};
use crate::support::{Response, TestApp, skill_package};

both_backends!(
    a_quarantined_version_stops_serving_at_once,
    buyers_are_told_what_was_withdrawn,
    a_suspended_seller_vanishes_until_reinstated,
    an_admin_refund_takes_the_webhook_path,
    a_rescan_blocks_exactly_what_a_new_rule_matches,
    every_admin_path_needs_the_role
);

/// The id of the account behind `token`.
async fn user_id(app: &TestApp, token: &str) -> String {
    let me = app.get_as("/v1/auth/me", token).await;
    assert_eq!(me.status, 200, "{}", me.text);
    me.json["id"].as_str().expect("id").to_owned()
}

/// Publishes a free skill through the API (create, then upload each body as the next
/// version); answers the publisher's token.
async fn published(app: &TestApp, subject: &str, slug: &str, bodies: &[&str]) -> String {
    let token = app.publisher_token(subject, &format!("{subject} Publisher")).await;
    publish_with(app, &token, slug, 0, bodies).await;
    token
}

async fn publish_with(app: &TestApp, token: &str, slug: &str, price: i64, bodies: &[&str]) {
    let body = json!({"slug": slug, "title": format!("Title of {slug}"), "category": "development",
                      "description": "Helps with everyday work.", "price_cents": price});
    let created = app.json(Method::POST, "/v1/skills", Some(token), body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    for (i, text) in bodies.iter().enumerate() {
        let path = if i == 0 {
            format!("/v1/skills/{slug}/upload")
        } else {
            let bump = json!({"bump": "PATCH", "changelog": format!("Change {i}")});
            let res =
                app.json(Method::PATCH, &format!("/v1/skills/{slug}"), Some(token), bump).await;
            assert_eq!(res.status, 200, "{}", res.text);
            format!("/v1/skills/{slug}/upload?version=1.0.{i}")
        };
        let res = app.upload(&path, Some(token), "file", skill_package(slug, text)).await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
}

/// An onboarded seller (payouts enabled at the fake Stripe) with a paid skill `slug`;
/// answers the seller's token and connected account.
pub async fn paid_shop(app: &TestApp, subject: &str, slug: &str) -> (String, String) {
    let seller = app.publisher_token(subject, &format!("{subject} Seller")).await;
    let connected = app.post_as("/v1/sellers/connect", &seller).await;
    assert_eq!(connected.status, 201, "{}", connected.text);
    let account = app.newest_connected_account();
    app.fake_stripe().set_account(&account, true, true, true);
    let status = app.get_as("/v1/sellers/status", &seller).await;
    assert_eq!(status.json["payouts_enabled"], true, "{}", status.text);
    publish_with(app, &seller, slug, 1000, &["Version one.", "Version two."]).await;
    (seller, account)
}

/// Buys `slug` through checkout, the fake Stripe and its webhook; answers the purchase
/// and its payment.
pub async fn buy(app: &TestApp, token: &str, slug: &str, event: &str) -> (String, String) {
    let started =
        app.json(Method::POST, "/v1/checkout", Some(token), json!({"skill_slug": slug})).await;
    assert_eq!(started.status, 201, "{}", started.text);
    let session = started.json["session_id"].as_str().expect("session").to_owned();
    let payment = app.fake_stripe().pay(&session);
    let done = deliver(app, event, "checkout.session.completed", json!({"id": session})).await;
    assert_eq!(done.status, 200, "{}", done.text);
    (started.json["purchase_id"].as_str().expect("purchase").to_owned(), payment)
}

async fn act(app: &TestApp, token: &str, path: &str, body: Value) -> Response {
    app.json(Method::POST, path, Some(token), body).await
}

async fn fetch(app: &TestApp, url: &str) -> (u16, Value, Vec<u8>) {
    let res = app.client.get(url).send().await.expect("file request");
    let status = res.status().as_u16();
    let bytes = res.bytes().await.expect("file body").to_vec();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, json, bytes)
}

/// The newest audit entry.
async fn last_audit(app: &TestApp, admin: &str) -> Value {
    let res = app.get_as("/v1/admin/audit?limit=1", admin).await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.json["items"][0].clone()
}

async fn a_quarantined_version_stops_serving_at_once(app: TestApp) {
    published(&app, "qa", "sneaky-skill", &["First, harmless.", "Second, harmful."]).await;
    let admin = app.configured_admin().await;
    let link = app.get("/v1/skills/sneaky-skill/download").await;
    assert_eq!(link.json["version"], "1.0.1", "{}", link.text);
    let url = link.json["url"].as_str().expect("url").to_owned();
    assert_eq!(fetch(&app, &url).await.0, 200);
    app.clock.advance(chrono::Duration::seconds(1));

    let path = "/v1/admin/listings/sneaky-skill/quarantine";
    let body = json!({"reason": "Exfiltrates SSH keys", "version": "1.0.1"});
    let res = act(&app, &admin, path, body.clone()).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json["action"], "version.quarantine");
    assert_eq!(res.json["target"], "version:sneaky-skill@1.0.1");
    assert_eq!(res.json["reason"], "Exfiltrates SSH keys");
    assert_eq!(last_audit(&app, &admin).await, res.json, "the entry answered is the one recorded");
    act(&app, &admin, path, body).await.assert_coded(409, "CONFLICT");

    // The link issued a second earlier stops at once.
    let (status, json, _) = fetch(&app, &url).await;
    assert_eq!(
        (status, json["detail"]["code"].clone()),
        (410, json!("VERSION_WITHDRAWN")),
        "{json}"
    );
    // The listing serves 1.0.0 now; 1.0.1 is gone from its versions and never linked.
    let detail = app.get("/v1/skills/sneaky-skill").await;
    assert_eq!(detail.json["version"], "1.0.0", "{}", detail.text);
    assert_eq!(detail.texts("/versions", "/version"), ["1.0.0"]);
    let link = app.get("/v1/skills/sneaky-skill/download").await;
    assert_eq!(link.json["version"], "1.0.0", "{}", link.text);
    let clean_url = link.json["url"].as_str().expect("url").to_owned();
    let (status, _, bytes) = fetch(&app, &clean_url).await;
    assert_eq!((status, bytes), (200, skill_package("sneaky-skill", "First, harmless.")));
    app.get("/v1/skills/sneaky-skill/download?version=1.0.1")
        .await
        .assert_coded(410, "VERSION_WITHDRAWN");
    let token = app.cli_token("qa").await;
    app.get_as("/v1/skills/sneaky-skill/download?version=1.0.1", &token)
        .await
        .assert_coded(410, "VERSION_WITHDRAWN");

    // The whole listing: out of the catalog, search and downloads, even its owner's.
    let whole = json!({"reason": "The author's other versions are suspect too"});
    let res = act(&app, &admin, "/v1/admin/listings/sneaky-skill/quarantine", whole.clone()).await;
    assert_eq!((res.status, res.json["action"].clone()), (200, json!("listing.quarantine")));
    app.get("/v1/skills/sneaky-skill").await.assert_coded(404, "SKILL_NOT_FOUND");
    let (status, json, _) = fetch(&app, &clean_url).await;
    assert_eq!((status, json["detail"]["code"].clone()), (410, json!("VERSION_WITHDRAWN")));
    assert!(app.get("/v1/skills").await.slugs().is_empty());
    assert!(app.get("/v1/search?q=sneaky").await.slugs().is_empty());
    app.get_as("/v1/skills/sneaky-skill/download", &token)
        .await
        .assert_coded(410, "VERSION_WITHDRAWN");

    // Released: the listing first, then the version; each back where it was.
    let release = "/v1/admin/listings/sneaky-skill/release";
    let res = act(&app, &admin, release, whole).await;
    assert_eq!((res.status, res.json["action"].clone()), (200, json!("listing.release")));
    assert_eq!(app.get("/v1/skills/sneaky-skill").await.json["version"], "1.0.0");
    assert_eq!(app.get("/v1/search?q=sneaky").await.slugs(), ["sneaky-skill"]);
    let body = json!({"reason": "False alarm: it reads its own key", "version": "1.0.1"});
    let res = act(&app, &admin, release, body.clone()).await;
    assert_eq!((res.status, res.json["action"].clone()), (200, json!("version.release")));
    assert_eq!(app.get("/v1/skills/sneaky-skill").await.json["version"], "1.0.1");
    act(&app, &admin, release, body).await.assert_coded(409, "CONFLICT");

    // Unknown targets and bad bodies change nothing.
    act(&app, &admin, "/v1/admin/listings/nope/quarantine", json!({"reason": "x"}))
        .await
        .assert_coded(404, "SKILL_NOT_FOUND");
    let missing = json!({"reason": "x", "version": "9.9.9"});
    act(&app, &admin, path, missing).await.assert_coded(404, "NOT_FOUND");
    let malformed = json!({"reason": "x", "version": "latest"});
    assert_body_invalid(&act(&app, &admin, path, malformed).await, "version");
    assert_body_invalid(&act(&app, &admin, path, json!({"version": "1.0.0"})).await, "reason");
    assert_body_invalid(
        &act(&app, &admin, path, json!({"reason": "x", "force": 1})).await,
        "force",
    );
    let audit = app.get_as("/v1/admin/audit", &admin).await;
    let actions = audit.texts("/items", "/action");
    assert_eq!(
        actions,
        ["version.release", "listing.release", "listing.quarantine", "version.quarantine"]
    );
}

async fn buyers_are_told_what_was_withdrawn(app: TestApp) {
    paid_shop(&app, "wes", "paid-helper").await;
    let buyer = app.cli_token("buyer").await;
    buy(&app, &buyer, "paid-helper", "evt_buy").await;
    let list = app.get_as("/v1/purchases", &buyer).await;
    assert_eq!(list.json["items"][0]["withdrawn_versions"], json!([]), "{}", list.text);
    assert_eq!(list.json["items"][0]["notice"], Value::Null);

    let admin = app.configured_admin().await;
    let path = "/v1/admin/listings/paid-helper/quarantine";
    let body = json!({"reason": "Prompt injection in 1.0.1", "version": "1.0.1"});
    assert_eq!(act(&app, &admin, path, body).await.status, 200);
    let list = app.get_as("/v1/purchases", &buyer).await;
    let item = &list.json["items"][0];
    assert_eq!(item["withdrawn_versions"], json!(["1.0.1"]), "{}", list.text);
    let notice = item["notice"].as_str().expect("notice");
    assert!(
        notice.contains("version 1.0.1") && notice.contains("ap update paid-helper"),
        "{notice}"
    );
    // The buyer still downloads the version that is served.
    let link = app.get_as("/v1/skills/paid-helper/download", &buyer).await;
    assert_eq!((link.status, link.json["version"].clone()), (200, json!("1.0.0")));

    let body = json!({"reason": "Everything from this seller is suspect"});
    assert_eq!(act(&app, &admin, path, body).await.status, 200);
    let list = app.get_as("/v1/purchases", &buyer).await;
    let notice = list.json["items"][0]["notice"].as_str().expect("notice").to_owned();
    assert!(
        notice.contains("withdrew this listing") && notice.contains("ap uninstall"),
        "{notice}"
    );
    app.get_as("/v1/skills/paid-helper/download", &buyer)
        .await
        .assert_coded(410, "VERSION_WITHDRAWN");
}

async fn a_suspended_seller_vanishes_until_reinstated(app: TestApp) {
    let (seller, account) = paid_shop(&app, "mallory", "shady-tool").await;
    let seller_id = user_id(&app, &seller).await;
    let admin = app.configured_admin().await;
    let admin_id = user_id(&app, &admin).await;
    assert_eq!(app.get("/v1/skills").await.slugs(), ["shady-tool"]);

    let suspend = format!("/v1/admin/users/{seller_id}/suspend");
    let res = act(&app, &admin, &suspend, json!({"reason": "Sells stolen code"})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        (res.json["action"].clone(), res.json["target"].clone(), res.json["actor"].clone()),
        (json!("user.suspend"), json!(format!("user:{seller_id}")), json!(admin_id))
    );
    // Listings vanish, the token answers 401, signing in is refused, payouts are paused.
    app.get("/v1/skills/shady-tool").await.assert_coded(404, "SKILL_NOT_FOUND");
    assert!(app.get("/v1/skills").await.slugs().is_empty());
    assert!(app.get("/v1/search?q=shady").await.slugs().is_empty());
    app.get_as("/v1/auth/me", &seller).await.assert_coded(401, "UNAUTHORIZED");
    let session = app.provider_jwt(&crate::support::keys().0, "mallory", json!({}));
    app.post_as("/v1/auth/cli-token", &session).await.assert_coded(403, "ACCOUNT_SUSPENDED");
    assert_eq!(app.fake_stripe().payout_interval(&account).as_deref(), Some("manual"));
    act(&app, &admin, &suspend, json!({"reason": "again"})).await.assert_coded(409, "CONFLICT");
    let own = format!("/v1/admin/users/{admin_id}/suspend");
    act(&app, &admin, &own, json!({"reason": "oops"})).await.assert_coded(403, "FORBIDDEN");
    act(&app, &admin, "/v1/admin/users/nobody/suspend", json!({"reason": "x"}))
        .await
        .assert_coded(404, "NOT_FOUND");

    // Reinstated: the listing is back and payouts resume; the old token stays revoked.
    let reinstate = format!("/v1/admin/users/{seller_id}/reinstate");
    let res = act(&app, &admin, &reinstate, json!({"reason": "Appeal upheld"})).await;
    assert_eq!((res.status, res.json["action"].clone()), (200, json!("user.reinstate")));
    assert_eq!(app.get("/v1/skills").await.slugs(), ["shady-tool"]);
    assert_eq!(app.get("/v1/search?q=shady").await.slugs(), ["shady-tool"]);
    assert_eq!(app.fake_stripe().payout_interval(&account).as_deref(), Some("daily"));
    app.get_as("/v1/auth/me", &seller).await.assert_coded(401, "UNAUTHORIZED");
    let fresh = app.cli_token("mallory").await;
    assert_eq!(app.get_as("/v1/auth/me", &fresh).await.status, 200);

    // The provider failing changes nothing.
    app.fake_stripe().fail_next(500, json!({"error": {"type": "api_error", "message": "down"}}));
    let res = act(&app, &admin, &suspend, json!({"reason": "Second offence"})).await;
    assert!(res.status >= 502, "{}", res.text);
    assert_eq!(app.get("/v1/skills").await.slugs(), ["shady-tool"]);
    assert_eq!(app.get_as("/v1/auth/me", &fresh).await.status, 200);
    assert_eq!(last_audit(&app, &admin).await["action"], "user.reinstate");
}

async fn an_admin_refund_takes_the_webhook_path(app: TestApp) {
    let (seller, _) = paid_shop(&app, "rita", "refundable").await;
    let buyer = app.cli_token("buyer").await;
    let (purchase, payment) = buy(&app, &buyer, "refundable", "evt_buy").await;
    let admin = app.configured_admin().await;
    let before = app.get_as("/v1/sellers/earnings", &seller).await;
    assert_eq!(
        (before.json["gross_cents"].clone(), before.json["refunded_cents"].clone()),
        (json!(1000), json!(0))
    );

    let path = format!("/v1/admin/purchases/{purchase}/refund");
    let res = act(&app, &admin, &path, json!({"reason": "Buyer charged twice"})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        (res.json["action"].clone(), res.json["target"].clone()),
        (json!("purchase.refund"), json!(format!("purchase:{purchase}")))
    );
    let sent = app
        .fake_stripe()
        .requests()
        .into_iter()
        .find(|r| r.route == "POST /v1/refunds")
        .expect("refund");
    assert_eq!(sent.form["payment_intent"], payment);
    assert_eq!(sent.form["reverse_transfer"], "true");
    assert_eq!(sent.form["refund_application_fee"], "true");
    assert!(app.fake_stripe().refunded(&payment));

    app.get_as("/v1/skills/refundable/download", &buyer)
        .await
        .assert_coded(403, "PURCHASE_REQUIRED");
    let list = app.get_as("/v1/purchases", &buyer).await;
    assert_eq!(list.json["items"][0]["status"], "refunded");
    let after = app.get_as("/v1/sellers/earnings", &seller).await;
    assert_eq!(
        (
            after.json["refunded_cents"].clone(),
            after.json["sales_count"].clone(),
            after.json["net_cents"].clone()
        ),
        (json!(1000), json!(0), json!(0)),
        "{}",
        after.text
    );
    // Stripe's own refund webhook arriving later changes nothing more.
    let refund = json!({"id": "ch_1", "payment_intent": payment, "refunded": true});
    assert_eq!(deliver(&app, "evt_refund", "charge.refunded", refund).await.status, 200);
    assert_eq!(app.get_as("/v1/sellers/earnings", &seller).await.json, after.json);
    act(&app, &admin, &path, json!({"reason": "again"}))
        .await
        .assert_coded(409, "PURCHASE_REFUNDED");
    act(&app, &admin, "/v1/admin/purchases/none/refund", json!({"reason": "x"}))
        .await
        .assert_coded(404, "NOT_FOUND");
}

async fn a_rescan_blocks_exactly_what_a_new_rule_matches(app: TestApp) {
    published(&app, "ann", "beacon-skill", &["Clean.", "Calls home to exfil-beacon.example.net."])
        .await;
    published(&app, "bob", "plain-skill", &["Nothing to see."]).await;
    let admin = app.configured_admin().await;
    // The operator adds a rule: an instance with it takes over.
    let ruled = app.beside_with_rules(&[r"exfil-beacon\.example\.net"]);
    let old_link = app.get("/v1/skills/beacon-skill/download").await;
    let old_url = old_link.json["url"].as_str().expect("url").to_owned();

    let res = act(&ruled, &admin, "/v1/admin/rescans", json!({"reason": "New beacon rule"})).await;
    assert_eq!(res.status, 202, "{}", res.text);
    assert_eq!(res.json["status"], "running");
    assert_eq!(res.json["total"], 3);
    assert!(res.json["scanner_version"].as_str().expect("version").starts_with("2+"));
    let id = res.json["id"].as_str().expect("id").to_owned();
    // Its progress, asked for until it ends (each question is a request: no sleeping).
    let mut job = None;
    for _ in 0..100_000 {
        let seen = ruled.get_as(&format!("/v1/admin/rescans/{id}"), &admin).await;
        assert_eq!(seen.status, 200, "{}", seen.text);
        if seen.json["status"] != "running" {
            job = Some(seen);
            break;
        }
    }
    let job = job.expect("the rescan ends");
    assert_eq!(job.json["status"], "finished", "{}", job.text);
    assert_eq!((job.json["done"].clone(), job.json["changed"].clone()), (json!(3), json!(1)));
    assert_eq!(
        job.json["changes"],
        json!([{"slug": "beacon-skill", "version": "1.0.1", "before": "pass", "after": "block",
                "before_score": 10, "after_score": 5}]),
        "{}",
        job.text
    );
    // The blocked version stops serving; the listing falls back; the others are untouched.
    let (status, json, _) = fetch(&ruled, &old_url).await;
    assert_eq!((status, json["detail"]["code"].clone()), (410, json!("VERSION_WITHDRAWN")));
    assert_eq!(ruled.get("/v1/skills/beacon-skill").await.json["version"], "1.0.0");
    assert_eq!(ruled.get("/v1/skills/plain-skill").await.json["security_status"], "pass");
    assert_eq!(last_audit(&ruled, &admin).await["action"], "rescan.start");
    ruled.get_as("/v1/admin/rescans/none", &admin).await.assert_coded(404, "NOT_FOUND");
}

async fn every_admin_path_needs_the_role(app: TestApp) {
    let user = app.cli_token("someone").await;
    let body = json!({"reason": "because"});
    let posts = [
        "/v1/admin/reports/r1/close",
        "/v1/admin/listings/any/quarantine",
        "/v1/admin/listings/any/release",
        "/v1/admin/users/u1/suspend",
        "/v1/admin/users/u1/reinstate",
        "/v1/admin/purchases/p1/refund",
        "/v1/admin/rescans",
    ];
    for path in posts {
        app.json(Method::POST, path, None, body.clone()).await.assert_coded(401, "UNAUTHORIZED");
        act(&app, &user, path, body.clone()).await.assert_coded(403, "FORBIDDEN");
    }
    for path in ["/v1/admin/audit", "/v1/admin/reports", "/v1/admin/rescans/j1"] {
        app.get(path).await.assert_coded(401, "UNAUTHORIZED");
        app.get_as(path, &user).await.assert_coded(403, "FORBIDDEN");
    }
    let admin = app.configured_admin().await;
    assert_eq!(app.get_as("/v1/admin/audit", &admin).await.json["total"], 0, "nothing recorded");
}
