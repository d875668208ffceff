//! Commerce stories: checkout through the real Stripe client against a fake Stripe,
//! signed webhooks, fulfilment, license codes, refunds and redemption; and the sandbox
//! journey a person takes in the browser, following the HTML forms.

use ap_payments::signature::sign;
use ap_payments::testing::event;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::{Listing, Response, TestApp, WEBHOOK_SECRET};

const PRICE: i64 = 1_250;

fn is_license_code(code: &Value) -> bool {
    code.as_str().is_some_and(|c| {
        let groups: Vec<&str> = c.split('-').collect();
        groups.len() == 3
            && groups.iter().all(|g| {
                g.len() == 8 && g.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
            })
    })
}

/// A seller who can take charges, with a paid live skill `pdf-wizard`.
async fn shop(app: &TestApp) -> String {
    let seller = app.seller("Paula Seller").await;
    let account = format!("acct_{}", &seller[..8]);
    let id = seller.clone();
    let now = chrono::Utc::now().naive_utc();
    app.db()
        .run(move |c| ap_store::publish::insert_seller_account(c, &id, &account, true, now))
        .await
        .expect("seller account");
    app.listing(
        &seller,
        Listing { price_cents: PRICE, ..Listing::skill("pdf-wizard", "PDF Wizard") },
    )
    .await;
    seller
}

/// A 422 naming the body field `field`.
pub fn assert_body_invalid(res: &Response, field: &str) {
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(res.json["detail"][0]["loc"], json!(["body", field]), "{}", res.text);
}

async fn checkout(app: &TestApp, token: &str) -> Response {
    app.json(Method::POST, "/v1/checkout", Some(token), json!({"skill_slug": "pdf-wizard"})).await
}

/// Delivers a signed Stripe event.
pub async fn deliver(app: &TestApp, id: &str, kind: &str, object: Value) -> Response {
    let body = event(id, kind, object);
    let now = ap_auth::Clock::now(&app.clock).timestamp();
    let signature = sign(body.as_bytes(), WEBHOOK_SECRET, now);
    app.send(
        app.client
            .post(format!("{}/v1/webhooks/stripe", app.base))
            .header("Stripe-Signature", signature)
            .header("Content-Type", "application/json")
            .body(body),
    )
    .await
}

/// Buy → webhook → download, with a license code; the purchase lists in both shapes.
async fn a_buyer_pays_and_downloads(app: TestApp) {
    shop(&app).await;
    let buyer = app.cli_token("buyer").await;
    app.get_as("/v1/skills/pdf-wizard/download", &buyer)
        .await
        .assert_coded(403, "PURCHASE_REQUIRED");
    let started = checkout(&app, &buyer).await;
    assert_eq!(started.status, 201, "{}", started.text);
    assert_eq!(started.json["status"], "pending");
    let session = started.json["session_id"].as_str().expect("session").to_owned();
    let purchase = started.json["purchase_id"].as_str().expect("purchase").to_owned();
    assert_eq!(
        started.json["checkout_url"],
        format!("https://checkout.stripe.test/c/pay/{session}")
    );
    // The destination charge: 15 % of 12.50 is 1.875, rounded half up to 1.88.
    let sent = app.fake_stripe().requests().pop().expect("a checkout call");
    assert_eq!(sent.form["payment_intent_data[application_fee_amount]"], "188");
    assert_eq!(sent.form["line_items[0][price_data][unit_amount]"], "1250");
    assert!(sent.form["payment_intent_data[transfer_data][destination]"].starts_with("acct_"));
    assert_eq!(sent.form["metadata[purchase_id]"], purchase);
    assert_eq!(sent.idempotency_key, Some(format!("checkout-{purchase}")));
    assert!(
        sent.form["success_url"].ends_with("/purchase/success?session_id={CHECKOUT_SESSION_ID}"),
        "{}",
        sent.form["success_url"]
    );

    // Not paid yet: the capability URL waits, and nothing is granted.
    let waiting = app.get(&format!("/v1/purchases/download?session_id={session}")).await;
    assert_eq!((waiting.status, waiting.json.clone()), (202, json!({"status": "pending"})));

    app.fake_stripe().pay(&session);
    let delivered =
        deliver(&app, "evt_1", "checkout.session.completed", json!({"id": session})).await;
    assert_eq!(delivered.status, 200, "{}", delivered.text);
    assert_eq!(delivered.json, json!({"received": true, "duplicate": false}));

    let link = app.get_as("/v1/skills/pdf-wizard/download", &buyer).await;
    assert_eq!(link.status, 200, "{}", link.text);
    assert!(is_license_code(&link.json["license_code"]), "{}", link.text);
    let code = link.json["license_code"].clone();

    let list = app.get_as("/v1/purchases", &buyer).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.json["total"], 1);
    assert_eq!(list.json["items"], list.json["purchases"]);
    let item = &list.json["items"][0];
    for (field, value) in [
        ("purchase_id", json!(purchase)),
        ("skill_slug", json!("pdf-wizard")),
        ("slug", json!("pdf-wizard")),
        ("skill_title", json!("PDF Wizard")),
        ("title", json!("PDF Wizard")),
        ("amount_cents", json!(PRICE)),
        ("currency", json!("usd")),
        ("status", json!("completed")),
        ("license_code", code.clone()),
        ("author_display_name", json!("Paula Seller")),
        ("author_display_name_slug", json!("paula-seller")),
    ] {
        assert_eq!(item[field], value, "{field}");
    }
    assert!(item["purchased_at"].is_string());

    let status = app.get_as(&format!("/v1/purchases/{purchase}/status"), &buyer).await;
    assert_eq!(status.json["status"], "completed", "{}", status.text);
    assert_eq!(status.json["license_code"], code);
    let confirmed =
        app.get_as(&format!("/v1/purchases/confirm?session_id={session}"), &buyer).await;
    assert_eq!(confirmed.json["status"], "completed", "{}", confirmed.text);
    let ready = app.get(&format!("/v1/purchases/download?session_id={session}")).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.json["url"], ready.json["download_url"]);
    assert_eq!(
        (ready.json["slug"].clone(), ready.json["license_code"].clone()),
        (json!("pdf-wizard"), code.clone())
    );

    // A repeated delivery changes nothing.
    let again = deliver(&app, "evt_1", "checkout.session.completed", json!({"id": session})).await;
    assert_eq!(again.json, json!({"received": true, "duplicate": true}));
    let list = app.get_as("/v1/purchases", &buyer).await;
    assert_eq!(
        (list.json["total"].clone(), list.json["items"][0]["license_code"].clone()),
        (json!(1), code)
    );

    // Buying it again is refused.
    checkout(&app, &buyer).await.assert_coded(409, "ALREADY_PURCHASED");
}

/// Duplicate and concurrent deliveries (and two event types for one checkout) grant
/// exactly one license.
async fn concurrent_deliveries_grant_once(app: TestApp) {
    shop(&app).await;
    let buyer = app.cli_token("buyer").await;
    let session = checkout(&app, &buyer).await.json["session_id"].as_str().expect("s").to_owned();
    app.fake_stripe().pay(&session);
    let object = json!({"id": session});
    let confirm = format!("/v1/purchases/confirm?session_id={session}");
    let (a, b, c, d) = tokio::join!(
        deliver(&app, "evt_a", "checkout.session.completed", object.clone()),
        deliver(&app, "evt_a", "checkout.session.completed", object.clone()),
        deliver(&app, "evt_b", "checkout.session.async_payment_succeeded", object.clone()),
        app.get_as(&confirm, &buyer),
    );
    for res in [&a, &b, &c, &d] {
        assert_eq!(res.status, 200, "{}", res.text);
    }
    // Only license_codes rows have a `redeemed_by` column.
    let codes: Vec<String> = ap_store::testing::dump_rows(app.db())
        .into_iter()
        .filter(|row| row.contains("\"redeemed_by\""))
        .collect();
    assert_eq!(codes.len(), 1, "{codes:?}");
}

/// A refund that arrives before its checkout's completion, and an expiry after it,
/// converge on the state the provider is in.
async fn out_of_order_deliveries_converge(app: TestApp) {
    shop(&app).await;
    let buyer = app.cli_token("buyer").await;
    let first = checkout(&app, &buyer).await.json["session_id"].as_str().expect("s").to_owned();
    let payment = app.fake_stripe().pay(&first);
    let refund = json!({"id": "ch_1", "payment_intent": payment, "refunded": true});
    assert_eq!(deliver(&app, "evt_r", "charge.refunded", refund).await.status, 200);
    let completed =
        deliver(&app, "evt_c", "checkout.session.completed", json!({"id": first})).await;
    assert_eq!(completed.status, 200, "{}", completed.text);
    let list = app.get_as("/v1/purchases", &buyer).await;
    assert_eq!(list.json["items"][0]["status"], "refunded", "{}", list.text);
    app.get_as("/v1/skills/pdf-wizard/download", &buyer)
        .await
        .assert_coded(403, "PURCHASE_REQUIRED");

    // A second purchase: completed, then a late "expired" leaves it completed.
    let second = checkout(&app, &buyer).await;
    assert_eq!(second.status, 201, "{}", second.text);
    let second = second.json["session_id"].as_str().expect("s").to_owned();
    app.fake_stripe().pay(&second);
    deliver(&app, "evt_c2", "checkout.session.completed", json!({"id": second})).await;
    deliver(&app, "evt_x2", "checkout.session.expired", json!({"id": second})).await;
    let list = app.get_as("/v1/purchases?status=completed", &buyer).await;
    assert_eq!(list.json["total"], 1, "{}", list.text);
}

/// Forged and stale signatures, and confirmations of unpaid or someone else's
/// checkouts, change nothing.
async fn nothing_is_granted_without_a_paid_checkout(app: TestApp) {
    shop(&app).await;
    let buyer = app.cli_token("buyer").await;
    let other = app.cli_token("other").await;
    let started = checkout(&app, &buyer).await;
    let session = started.json["session_id"].as_str().expect("s").to_owned();
    let purchase = started.json["purchase_id"].as_str().expect("p").to_owned();

    // Unpaid: confirm grants nothing.
    let confirmed =
        app.get_as(&format!("/v1/purchases/confirm?session_id={session}"), &buyer).await;
    assert_eq!(
        (confirmed.json["status"].clone(), confirmed.json["license_code"].clone()),
        (json!("pending"), Value::Null)
    );
    // Someone else's purchase and checkout are not found.
    app.get_as(&format!("/v1/purchases/confirm?session_id={session}"), &other)
        .await
        .assert_coded(404, "NOT_FOUND");
    app.get_as(&format!("/v1/purchases/{purchase}/status"), &other)
        .await
        .assert_coded(404, "NOT_FOUND");
    assert_eq!(app.get_as("/v1/purchases", &other).await.json["total"], 0);

    app.fake_stripe().pay(&session);
    let body = event("evt_f", "checkout.session.completed", json!({"id": session}));
    let now = ap_auth::Clock::now(&app.clock).timestamp();
    for signature in [
        sign(body.as_bytes(), "whsec_forged", now),
        sign(body.as_bytes(), WEBHOOK_SECRET, now - 301),
        "t=1,v1=00".to_owned(),
    ] {
        let res = app
            .send(
                app.client
                    .post(format!("{}/v1/webhooks/stripe", app.base))
                    .header("Stripe-Signature", signature)
                    .body(body.clone()),
            )
            .await;
        res.assert_coded(400, "WEBHOOK_SIGNATURE_INVALID");
    }
    let unsigned =
        app.send(app.client.post(format!("{}/v1/webhooks/stripe", app.base)).body(body)).await;
    unsigned.assert_coded(400, "WEBHOOK_SIGNATURE_INVALID");
    // The list reads the stored state (status and confirm would ask Stripe, and heal).
    let list = app.get_as("/v1/purchases", &buyer).await;
    assert_eq!(
        list.json["items"][0]["status"], "pending",
        "the refused deliveries changed nothing"
    );
    let status = app.get_as(&format!("/v1/purchases/{purchase}/status"), &buyer).await;
    assert_eq!(
        status.json["status"], "completed",
        "a poll of a paid checkout heals a lost webhook"
    );
}

/// A refund removes access; a code is redeemed by one more account only; a refunded
/// purchase's code is refused.
async fn refunds_and_redemption(app: TestApp) {
    shop(&app).await;
    let buyer = app.cli_token("buyer").await;
    let friend = app.cli_token("friend").await;
    let stranger = app.cli_token("stranger").await;
    let session = checkout(&app, &buyer).await.json["session_id"].as_str().expect("s").to_owned();
    let payment = app.fake_stripe().pay(&session);
    deliver(&app, "evt_1", "checkout.session.completed", json!({"id": session})).await;
    let code = app.get_as("/v1/skills/pdf-wizard/download", &buyer).await.json["license_code"]
        .as_str()
        .expect("code")
        .to_owned();

    let redeem = |token: String, code: String| {
        let app = &app;
        async move {
            app.json(
                Method::POST,
                "/v1/purchases/redeem",
                Some(&token),
                json!({"license_code": code}),
            )
            .await
        }
    };
    let redeemed = redeem(friend.clone(), code.to_lowercase()).await;
    assert_eq!(redeemed.status, 200, "{}", redeemed.text);
    assert_eq!(redeemed.json["skill_slug"], "pdf-wizard");
    let link = app.get_as("/v1/skills/pdf-wizard/download", &friend).await;
    assert_eq!((link.status, link.json["license_code"].clone()), (200, json!(code)));
    assert_eq!(redeem(friend.clone(), code.clone()).await.status, 200, "the redeemer again");
    redeem(stranger.clone(), code.clone()).await.assert_coded(409, "LICENSE_ALREADY_REDEEMED");
    redeem(stranger.clone(), "ABCD1234-ABCD1234-ABCD1234".to_owned())
        .await
        .assert_coded(404, "NOT_FOUND");
    assert_body_invalid(&redeem(stranger.clone(), "not a code".to_owned()).await, "license_code");

    let refund = json!({"id": "ch_1", "payment_intent": payment, "refunded": true});
    assert_eq!(deliver(&app, "evt_2", "charge.refunded", refund).await.status, 200);
    app.get_as("/v1/skills/pdf-wizard/download", &buyer)
        .await
        .assert_coded(403, "PURCHASE_REQUIRED");
    app.get_as("/v1/skills/pdf-wizard/download", &friend)
        .await
        .assert_coded(403, "PURCHASE_REQUIRED");
    let list = app.get_as("/v1/purchases", &buyer).await;
    assert_eq!(list.json["items"][0]["status"], "refunded");
    let pending = app.get(&format!("/v1/purchases/download?session_id={session}")).await;
    assert_eq!((pending.status, pending.json.clone()), (202, json!({"status": "refunded"})));
    redeem(stranger, code).await.assert_coded(409, "PURCHASE_REFUNDED");
}

/// What cannot be bought.
async fn checkout_refusals(app: TestApp) {
    let seller = shop(&app).await;
    app.listing(&seller, Listing::skill("free-tool", "Free tool")).await;
    let unready = app.seller("Nora Notready").await;
    app.listing(&unready, Listing { price_cents: 500, ..Listing::skill("not-ready", "Not ready") })
        .await;
    let buyer = app.cli_token("buyer").await;
    let buy = |slug: &'static str, extra: Value| {
        let mut body = json!({"skill_slug": slug});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        body
    };
    app.json(Method::POST, "/v1/checkout", Some(&buyer), buy("free-tool", json!({})))
        .await
        .assert_coded(400, "NOT_FOR_SALE");
    app.json(Method::POST, "/v1/checkout", Some(&buyer), buy("not-ready", json!({})))
        .await
        .assert_coded(409, "SELLER_NOT_READY");
    app.json(Method::POST, "/v1/checkout", Some(&buyer), buy("no-such-skill", json!({})))
        .await
        .assert_coded(404, "SKILL_NOT_FOUND");
    app.json(Method::POST, "/v1/checkout", None, buy("pdf-wizard", json!({})))
        .await
        .assert_coded(401, "UNAUTHORIZED");
    let evil = json!({"success_url": "https://evil.example/steal"});
    let res = app.json(Method::POST, "/v1/checkout", Some(&buyer), buy("pdf-wizard", evil)).await;
    assert_body_invalid(&res, "success_url");
    // A client's loopback page is fine, and the session placeholder is appended.
    let local = json!({"success_url": "http://127.0.0.1:9999/done", "cancel_url": "http://localhost:9999/x"});
    let res = app.json(Method::POST, "/v1/checkout", Some(&buyer), buy("pdf-wizard", local)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let sent = app.fake_stripe().requests().pop().expect("call");
    assert_eq!(
        sent.form["success_url"],
        "http://127.0.0.1:9999/done?session_id={CHECKOUT_SESSION_ID}"
    );

    // The seller's own listing.
    let owner = app.publisher_token("paula", "Paula Two").await;
    let owner_id =
        app.get_as("/v1/auth/me", &owner).await.json["id"].as_str().expect("id").to_owned();
    app.listing(&owner_id, Listing { price_cents: 900, ..Listing::skill("own-tool", "Own tool") })
        .await;
    app.json(Method::POST, "/v1/checkout", Some(&owner), buy("own-tool", json!({})))
        .await
        .assert_coded(403, "OWN_SKILL");

    // The provider declining or failing answers its code, and the purchase is not left
    // pending.
    app.fake_stripe().fail_next(500, json!({"type": "api_error", "message": "Stripe is down"}));
    let other = app.cli_token("other").await;
    app.json(Method::POST, "/v1/checkout", Some(&other), buy("pdf-wizard", json!({})))
        .await
        .assert_coded(503, "PAYMENT_PROVIDER_UNAVAILABLE");
    let list = app.get_as("/v1/purchases", &other).await;
    assert_eq!(list.json["items"][0]["status"], "failed", "{}", list.text);
}

both_backends!(
    a_buyer_pays_and_downloads,
    concurrent_deliveries_grant_once,
    out_of_order_deliveries_converge,
    nothing_is_granted_without_a_paid_checkout,
    refunds_and_redemption,
    checkout_refusals,
);

/// Cookies a browser would keep, by name.
#[derive(Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn keep(&mut self, res: &Response) {
        for value in res.headers.get_all("set-cookie") {
            let text = value.to_str().expect("cookie");
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.0.retain(|(n, _)| n != name);
                if !value.is_empty() {
                    self.0.push((name.to_owned(), value.to_owned()));
                }
            }
        }
    }

    fn header(&self) -> String {
        self.0.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
    }
}

/// A hidden form field of a page.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).map(|i| i + marker.len()).expect(name);
    page[start..].split('"').next().unwrap_or_default().replace("&amp;", "&")
}

fn location(res: &Response) -> String {
    res.header("location").expect("a redirect").to_owned()
}

/// The journey from `make run`: open the listing page, Buy, sign in, Pay, land on the
/// success page with a license code; the purchase is then downloadable.
#[actix_web::test]
async fn the_sandbox_journey_in_the_browser() {
    let app = TestApp::sandbox().await;
    shop(&app).await;
    let mut jar = Jar::default();
    let get = |path: String, jar: &Jar| {
        let url = if path.starts_with("http") { path } else { format!("{}{path}", app.base) };
        app.send(app.client.get(url).header("Cookie", jar.header()))
    };

    let page = get("/skills/pdf-wizard".to_owned(), &jar).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Buy for $12.50"), "{}", page.text);
    assert!(
        page.header("content-security-policy")
            .is_some_and(|csp| csp.contains("default-src 'none'"))
    );

    // Buy while signed out: sign in first, then back to the purchase.
    let buy = get("/skills/pdf-wizard?action=buy".to_owned(), &jar).await;
    assert_eq!(buy.status, 303);
    let sign_in = location(&buy);
    assert!(sign_in.starts_with(&format!("{}/sign-in?redirect_url=", app.base)), "{sign_in}");
    let form = get(sign_in, &jar).await;
    jar.keep(&form);
    let signed_in = app
        .send(app.client.post(format!("{}/sign-in", app.base)).header("Cookie", jar.header()).form(
            &[
                ("email", "ada@example.com"),
                ("display_name", "Ada Buyer"),
                ("csrf", hidden(&form.text, "csrf").as_str()),
                ("redirect_url", hidden(&form.text, "redirect_url").as_str()),
                ("state", ""),
            ],
        ))
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.text);
    jar.keep(&signed_in);
    assert_eq!(location(&signed_in), format!("{}/skills/pdf-wizard?action=buy", app.base));

    let buy = get(location(&signed_in), &jar).await;
    assert_eq!(buy.status, 303, "{}", buy.text);
    let pay_page_url = location(&buy);
    assert!(pay_page_url.starts_with(&format!("{}/sandbox/checkout/cs_sandbox_", app.base)));
    let pay_page = get(pay_page_url.clone(), &jar).await;
    assert_eq!(pay_page.status, 200);
    assert!(pay_page.text.contains("PDF Wizard") && pay_page.text.contains("$12.50"));
    jar.keep(&pay_page);
    let paid = app
        .send(
            app.client
                .post(format!("{pay_page_url}/pay"))
                .header("Cookie", jar.header())
                .form(&[("csrf", hidden(&pay_page.text, "csrf"))]),
        )
        .await;
    assert_eq!(paid.status, 303, "{}", paid.text);
    let success = location(&paid);
    assert!(success.starts_with(&format!("{}/purchase/success?session_id=cs_sandbox_", app.base)));

    let done = get(success.clone(), &jar).await;
    assert_eq!(done.status, 200, "{}", done.text);
    let code = done.text.split("id=\"license-code\">").nth(1).and_then(|t| t.split('<').next());
    assert!(is_license_code(&json!(code)), "{}", done.text);
    assert!(done.text.contains("ap install pdf-wizard"));

    let session = success.rsplit('=').next().expect("session id");
    let ready = app.get(&format!("/v1/purchases/download?session_id={session}")).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.json["license_code"], json!(code));

    // Without the CSRF cookie the sandbox refuses the form; webhooks are refused outright.
    let forged =
        app.send(app.client.post(format!("{pay_page_url}/pay")).form(&[("csrf", "x")])).await;
    assert_eq!(forged.status, 400);
    let webhook =
        app.send(app.client.post(format!("{}/v1/webhooks/stripe", app.base)).body("{}")).await;
    webhook.assert_coded(400, "WEBHOOK_SIGNATURE_INVALID");
}
