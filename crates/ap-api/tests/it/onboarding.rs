//! Seller onboarding: a connected account created once, onboarding links, the stored
//! state following the provider (re-fetch and `account.updated`), and paid publishing
//! opening once payouts are enabled; through the fake Stripe on both backends, and
//! through the sandbox's page.

use reqwest::Method;
use serde_json::json;

use crate::both_backends;
use crate::commerce::deliver;
use crate::support::{Response, TestApp};

fn paid_skill(slug: &str) -> serde_json::Value {
    json!({"slug": slug, "title": "Paid helper", "description": "Does paid things very well.",
           "category": "development", "price_cents": 500})
}

async fn connect(app: &TestApp, token: &str) -> Response {
    app.post_as("/v1/sellers/connect", token).await
}

/// A new seller onboards: one account however many concurrent `connect`s, fresh links,
/// the state re-fetched while incomplete, then paid publishing.
async fn a_seller_onboards_once(app: TestApp) {
    let token = app.publisher_token("sam", "Sam Seller").await;
    let status = app.get_as("/v1/sellers/status", &token).await;
    assert_eq!(
        status.json,
        json!({"is_seller": false, "charges_enabled": false, "payouts_enabled": false,
               "details_submitted": false, "onboarding_started": false})
    );
    app.json(Method::POST, "/v1/skills", Some(&token), paid_skill("paid-helper"))
        .await
        .assert_coded(403, "SELLER_ONBOARDING_REQUIRED");

    let (a, b, c) =
        tokio::join!(connect(&app, &token), connect(&app, &token), connect(&app, &token));
    for res in [&a, &b, &c] {
        assert_eq!(res.status, 201, "{}", res.text);
        assert!(
            res.json["url"].as_str().is_some_and(|u| u.starts_with("https://connect.stripe.test/"))
        );
        assert!(res.json["expires_at"].is_string());
    }
    assert_eq!(app.fake_stripe().account_count(), 1, "one connected account");
    let created: Vec<_> = app
        .fake_stripe()
        .requests()
        .into_iter()
        .filter(|r| r.route == "POST /v1/accounts")
        .collect();
    assert!(created.iter().all(|r| r.form.get("type").map(String::as_str) == Some("express")));
    assert!(
        created
            .iter()
            .all(|r| r.idempotency_key.as_deref().is_some_and(|k| k.starts_with("account-")))
    );
    let links: Vec<_> = app
        .fake_stripe()
        .requests()
        .into_iter()
        .filter(|r| r.route == "POST /v1/account_links")
        .collect();
    assert!(links.iter().all(|r| r.form["type"] == "account_onboarding"));
    assert!(
        links
            .iter()
            .all(|r| r.idempotency_key.as_deref().is_some_and(|k| k.starts_with("account-link-")))
    );
    assert!(links[0].form["refresh_url"].ends_with("/onboarding"));
    assert!(links[0].form["return_url"].ends_with("/onboarding/done"));

    // An expired link is replaced by a fresh one for the same account.
    let again = connect(&app, &token).await;
    assert_ne!(again.json["url"], a.json["url"]);
    assert_eq!(app.fake_stripe().account_count(), 1);

    let status = app.get_as("/v1/sellers/status", &token).await;
    assert_eq!(
        (status.json["onboarding_started"].clone(), status.json["payouts_enabled"].clone()),
        (json!(true), json!(false))
    );
    let account = created[0].form.get("metadata[user_id]").cloned().unwrap_or_default();
    assert!(!account.is_empty());
    let account_id = app
        .fake_stripe()
        .requests()
        .into_iter()
        .find(|r| r.route == "POST /v1/account_links")
        .and_then(|r| r.form.get("account").cloned())
        .expect("account id");
    app.fake_stripe().set_account(&account_id, true, true, true);
    let status = app.get_as("/v1/sellers/status", &token).await;
    assert_eq!(
        status.json,
        json!({"is_seller": true, "charges_enabled": true, "payouts_enabled": true,
               "details_submitted": true, "onboarding_started": true})
    );
    let created =
        app.json(Method::POST, "/v1/skills", Some(&token), paid_skill("paid-helper")).await;
    assert_eq!(created.status, 201, "{}", created.text);

    // Redirect URLs follow the allow-list; anonymous callers get 401 on every seller path.
    let evil = json!({"return_url": "https://evil.example/"});
    let res = app.json(Method::POST, "/v1/sellers/connect", Some(&token), evil).await;
    assert_eq!(
        (res.status, res.json["detail"][0]["loc"].clone()),
        (422, json!(["body", "return_url"]))
    );
    app.get("/v1/sellers/status").await.assert_coded(401, "UNAUTHORIZED");
    app.json(Method::POST, "/v1/sellers/connect", None, json!({}))
        .await
        .assert_coded(401, "UNAUTHORIZED");
}

/// `account.updated` keeps the stored state, whatever the order of calls.
async fn account_updates_flip_the_stored_flags(app: TestApp) {
    let token = app.publisher_token("tia", "Tia Seller").await;
    connect(&app, &token).await;
    let account_id = app
        .fake_stripe()
        .requests()
        .into_iter()
        .find(|r| r.route == "POST /v1/account_links")
        .and_then(|r| r.form.get("account").cloned())
        .expect("account id");
    let object = json!({"id": account_id, "object": "account", "charges_enabled": true,
                        "payouts_enabled": true, "details_submitted": true});
    let res = deliver(&app, "evt_acct_1", "account.updated", object).await;
    assert_eq!(res.status, 200, "{}", res.text);
    // Stored complete: no re-fetch needed (the fake still says incomplete).
    let status = app.get_as("/v1/sellers/status", &token).await;
    assert_eq!(status.json["payouts_enabled"], true, "{}", status.text);
    let created = app.json(Method::POST, "/v1/skills", Some(&token), paid_skill("tia-tool")).await;
    assert_eq!(created.status, 201, "{}", created.text);
    // Payouts paused by Stripe close paid publishing again.
    let object = json!({"id": account_id, "charges_enabled": true, "payouts_enabled": false,
                        "details_submitted": true});
    deliver(&app, "evt_acct_2", "account.updated", object).await;
    app.json(Method::POST, "/v1/skills", Some(&token), paid_skill("tia-tool-two"))
        .await
        .assert_coded(403, "SELLER_ONBOARDING_REQUIRED");
}

both_backends!(a_seller_onboards_once, account_updates_flip_the_stored_flags);

/// In the sandbox, the onboarding link is a page on this server whose button enables
/// charges and payouts; a sale through the sandbox then follows the payout rule. On both
/// backends.
#[actix_web::test]
async fn sandbox_onboarding_and_payout_rule_on_sqlite() {
    sandbox_onboarding_is_one_button(TestApp::sandbox().await).await;
}

#[actix_web::test]
async fn sandbox_onboarding_and_payout_rule_on_postgres() {
    if let Some(app) = TestApp::sandbox_postgres().await {
        sandbox_onboarding_is_one_button(app).await;
    }
}

async fn sandbox_onboarding_is_one_button(app: TestApp) {
    let token = app.publisher_token("uma", "Uma Seller").await;
    let started = connect(&app, &token).await;
    assert_eq!(started.status, 201, "{}", started.text);
    let url = started.json["url"].as_str().expect("url").to_owned();
    assert!(url.starts_with(&format!("{}/sandbox/onboarding/acct_sandbox_", app.base)), "{url}");
    let page = app.send(app.client.get(&url)).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Complete onboarding"));
    let cookie =
        page.header("set-cookie").expect("csrf cookie").split(';').next().expect("pair").to_owned();
    let csrf = cookie.split_once('=').map(|(_, v)| v.to_owned()).expect("value");
    let done = app
        .send(
            app.client
                .post(format!("{url}/complete"))
                .header("Cookie", cookie)
                .form(&[("csrf", csrf)]),
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.text);
    assert_eq!(done.header("location"), Some(format!("{}/onboarding/done", app.base).as_str()));
    let status = app.get_as("/v1/sellers/status", &token).await;
    assert_eq!(status.json["payouts_enabled"], true, "{}", status.text);
    let created = app.json(Method::POST, "/v1/skills", Some(&token), paid_skill("uma-tool")).await;
    assert_eq!(created.status, 201, "{}", created.text);

    // A sale through the sandbox; the sandbox keeps no balance, so the payout figures
    // follow the documented rule: a sale's net is available 7 days after it, paid daily.
    let pkg = crate::support::skill_package("uma-tool", "Does paid things.");
    let uploaded = app.upload("/v1/skills/uma-tool/upload", Some(&token), "file", pkg).await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text);
    let buyer = app.cli_token("uma-buyer").await;
    let started = app
        .json(Method::POST, "/v1/checkout", Some(&buyer), json!({"skill_slug": "uma-tool"}))
        .await;
    assert_eq!(started.status, 201, "{}", started.text);
    let pay_page = started.json["checkout_url"].as_str().expect("url").to_owned();
    let page = app.send(app.client.get(&pay_page)).await;
    let cookie =
        page.header("set-cookie").expect("csrf").split(';').next().expect("pair").to_owned();
    let csrf = cookie.split_once('=').map(|(_, v)| v.to_owned()).expect("value");
    let paid = app
        .send(
            app.client
                .post(format!("{pay_page}/pay"))
                .header("Cookie", cookie)
                .form(&[("csrf", csrf)]),
        )
        .await;
    assert_eq!(paid.status, 303, "{}", paid.text);
    let figures = |json: &serde_json::Value| json!({"net": json["net_cents"], "pending": json["pending_cents"], "available": json["available_cents"]});
    let earnings = app.get_as("/v1/sellers/earnings", &token).await;
    assert_eq!(
        figures(&earnings.json),
        json!({"net": 425, "pending": 425, "available": 0}),
        "{}",
        earnings.text
    );
    app.clock.advance(chrono::Duration::days(6));
    let tomorrow = ap_auth::Clock::now(&app.clock).date_naive() + chrono::Duration::days(1);
    let payout = app.get_as("/v1/sellers/next-payout", &token).await;
    assert_eq!(
        payout.json,
        json!({"expected_date": tomorrow.to_string(), "expected_cents": 425, "currency": "usd"})
    );
    app.clock.advance(chrono::Duration::days(1));
    let earnings = app.get_as("/v1/sellers/earnings", &token).await;
    assert_eq!(figures(&earnings.json), json!({"net": 425, "pending": 0, "available": 425}));
}
