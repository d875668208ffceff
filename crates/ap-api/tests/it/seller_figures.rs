//! Seller figures from the purchases ledger, worked out by hand: a seller onboards,
//! publishes a paid skill, two buyers buy it and one is refunded; every analytics
//! endpoint answers the figures, on both backends, and another seller sees none of it.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::commerce::deliver;
use crate::operations::buy;
use crate::support::{TestApp, skill_package};

fn minute(app: &TestApp) {
    app.clock.advance(chrono::Duration::minutes(1));
}

fn pick(value: &Value, keys: &[&str]) -> Value {
    Value::Object(keys.iter().map(|k| ((*k).to_owned(), value[*k].clone())).collect())
}

async fn every_figure_is_worked_out_from_the_ledger(app: TestApp) {
    // A new user onboards and publishes a paid skill at 10.00.
    let seller = app.publisher_token("sofia", "Sofia Seller").await;
    let connected = app.post_as("/v1/sellers/connect", &seller).await;
    assert_eq!(connected.status, 201, "{}", connected.text);
    let account = app
        .fake_stripe()
        .requests()
        .into_iter()
        .find(|r| r.route == "POST /v1/account_links")
        .and_then(|r| r.form.get("account").cloned())
        .expect("account");
    app.fake_stripe().set_account(&account, true, true, true);
    assert_eq!(app.get_as("/v1/sellers/status", &seller).await.json["payouts_enabled"], true);
    let body = json!({"slug": "figures-skill", "title": "Figures skill", "category": "development",
                      "description": "Counts things for sellers.", "price_cents": 1000});
    let created = app.json(Method::POST, "/v1/skills", Some(&seller), body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let pkg = skill_package("figures-skill", "Counts things.");
    let uploaded = app.upload("/v1/skills/figures-skill/upload", Some(&seller), "file", pkg).await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text);

    // Two buyers; the second is refunded. 15 % of 10.00 is 1.50.
    minute(&app);
    let first = app.cli_token("buyer-one").await;
    let (first_purchase, _) = buy(&app, &first, "figures-skill", "evt_one").await;
    minute(&app);
    let second = app.cli_token("buyer-two").await;
    let (second_purchase, payment) = buy(&app, &second, "figures-skill", "evt_two").await;
    minute(&app);
    let refund = json!({"id": "ch_2", "payment_intent": payment, "refunded": true});
    let refunded = deliver(&app, "evt_refund", "charge.refunded", refund).await;
    assert_eq!(refunded.status, 200, "{}", refunded.text);
    let theirs = app.get_as("/v1/purchases", &second).await;
    assert_eq!(theirs.json["items"][0]["status"], "refunded", "{} {}", theirs.text, payment);

    // With Stripe, pending and available money are the connected account's balance.
    app.fake_stripe().set_balance(&account, 120, 730, None);
    let earnings = app.get_as("/v1/sellers/earnings", &seller).await;
    assert_eq!(
        earnings.json,
        json!({"currency": "usd", "gross_cents": 2000, "fee_cents": 150, "net_cents": 850,
               "refunded_cents": 1000, "sales_count": 1, "last_30_days_net_cents": 850,
               "pending_cents": 730, "available_cents": 120}),
        "{}",
        earnings.text
    );
    assert!(
        app.fake_stripe()
            .requests()
            .iter()
            .any(|r| r.route == format!("GET /v1/balance for {account}"))
    );

    let today = ap_auth::Clock::now(&app.clock).date_naive();
    let revenue = app.get_as("/v1/sellers/revenue?period=day", &seller).await;
    assert_eq!(revenue.status, 200, "{}", revenue.text);
    let series = revenue.json["series"].as_array().expect("series");
    assert_eq!(series.len(), 30, "30 days, empty ones as zeros");
    for point in &series[..29] {
        assert_eq!(
            pick(
                point,
                &["gross_cents", "refunded_cents", "fee_cents", "net_cents", "sales_count"]
            ),
            json!({"gross_cents": 0, "refunded_cents": 0, "fee_cents": 0, "net_cents": 0, "sales_count": 0})
        );
    }
    assert_eq!(
        series[29],
        json!({"period_start": today.to_string(), "gross_cents": 2000, "refunded_cents": 1000,
               "fee_cents": 150, "net_cents": 850, "sales_count": 1})
    );
    assert_eq!(
        revenue.json["totals"],
        json!({"gross_cents": 2000, "refunded_cents": 1000, "fee_cents": 150, "net_cents": 850, "sales_count": 1})
    );
    let monthly = app.get_as("/v1/sellers/revenue?period=month", &seller).await;
    let months = monthly.json["series"].as_array().expect("series");
    assert_eq!(months.len(), 13, "{}", monthly.text);
    assert_eq!(months[12]["net_cents"], 850);
    assert_eq!(months[12]["period_start"], format!("{}", today.format("%Y-%m-01")));

    let breakdown = app.get_as("/v1/sellers/revenue/breakdown", &seller).await;
    assert_eq!(
        breakdown.json["items"],
        json!([{"skill_slug": "figures-skill", "skill_title": "Figures skill", "sales_count": 1,
                "gross_cents": 2000, "fee_cents": 150, "net_cents": 850, "refunded_cents": 1000}])
    );

    let sales = app.get_as("/v1/sellers/sales", &seller).await;
    assert_eq!(sales.json["total"], 2, "{}", sales.text);
    let keys = ["purchase_id", "skill_slug", "amount_cents", "fee_cents", "net_cents", "status"];
    assert_eq!(
        sales.json["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|s| pick(s, &keys))
            .collect::<Vec<_>>(),
        [
            json!({"purchase_id": second_purchase, "skill_slug": "figures-skill", "amount_cents": 1000,
                   "fee_cents": 0, "net_cents": 0, "status": "refunded"}),
            json!({"purchase_id": first_purchase, "skill_slug": "figures-skill", "amount_cents": 1000,
                   "fee_cents": 150, "net_cents": 850, "status": "completed"}),
        ]
    );
    assert!(!sales.text.contains("buyer-"), "no buyer details");
    let filtered = app.get_as("/v1/sellers/sales?skill=no-such-skill", &seller).await;
    assert_eq!(filtered.json["total"], 0);

    let listings = app.get_as("/v1/sellers/skills", &seller).await;
    assert_eq!(
        pick(
            &listings.json["items"][0],
            &[
                "slug",
                "status",
                "version",
                "security_status",
                "sales_count",
                "gross_cents",
                "net_cents"
            ]
        ),
        json!({"slug": "figures-skill", "status": "live", "version": "1.0.0", "security_status": "pass",
               "sales_count": 1, "gross_cents": 2000, "net_cents": 850})
    );

    let activity = app.get_as("/v1/sellers/activity", &seller).await;
    let kinds: Vec<&str> = activity.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["type"].as_str())
        .collect();
    assert_eq!(kinds, ["refund", "sale", "sale", "version_published"], "{}", activity.text);
    assert_eq!(activity.json["total"], 4);
    assert_eq!(activity.json["items"][0]["amount_cents"], 1000);

    // The next payout is the connected account's next pending payout at Stripe (the
    // sandbox's rule is in the onboarding stories).
    let arrives = today + chrono::Duration::days(3);
    let arrival = arrives.and_hms_opt(0, 0, 0).expect("time").and_utc().timestamp();
    app.fake_stripe().set_balance(&account, 120, 730, Some((arrival, 640)));
    let payout = app.get_as("/v1/sellers/next-payout", &seller).await;
    assert_eq!(
        payout.json,
        json!({"expected_date": arrives.to_string(), "expected_cents": 640, "currency": "usd"})
    );

    // Another seller sees none of it.
    let other = app.publisher_token("otto", "Otto Other").await;
    let theirs = app.get_as("/v1/sellers/earnings", &other).await;
    assert_eq!(
        (theirs.json["gross_cents"].clone(), theirs.json["sales_count"].clone()),
        (json!(0), json!(0))
    );
    for path in ["/v1/sellers/sales", "/v1/sellers/skills", "/v1/sellers/activity"] {
        assert_eq!(app.get_as(path, &other).await.json["total"], 0, "{path}");
    }
    assert_eq!(app.get_as("/v1/sellers/revenue/breakdown", &other).await.json["items"], json!([]));

    // Ranges are checked; anonymous callers get 401 on every seller path.
    let long = app.get_as("/v1/sellers/revenue?from=2020-01-01&to=2026-01-01", &seller).await;
    assert_eq!(
        (long.status, long.json["detail"][0]["loc"].clone()),
        (422, json!(["query", "from"]))
    );
    let bad = app.get_as("/v1/sellers/revenue?period=year", &seller).await;
    assert_eq!(bad.status, 422);
    for path in [
        "skills",
        "earnings",
        "sales",
        "revenue",
        "revenue/breakdown",
        "activity",
        "next-payout",
        "status",
    ] {
        app.get(&format!("/v1/sellers/{path}")).await.assert_coded(401, "UNAUTHORIZED");
    }
}

both_backends!(every_figure_is_worked_out_from_the_ledger);
