//! The storefront in a real browser (headless Chromium through WebDriver, see
//! [`crate::webdriver`]), as one marketplace day on the sandbox gateway:
//!
//! 1. a seller signs in, onboards from the dashboard, signs the CLI in (the `ap login`
//!    chain through the browser) and publishes a paid skill through the API;
//! 2. a buyer browses, searches as they type, opens the listing, buys it, lands on the
//!    success page with a license code and finds the purchase and code on their account;
//! 3. the seller sees the sale on the dashboard, with a bar for today in the chart, and
//!    revokes the CLI token from the account page, after which the CLI gets 401.
//!
//! Every page on the way is checked in the browser's DOM (no id twice, every form control
//! labelled, every image with alternative text, a language and a title) and saved as a
//! screenshot (`target/screenshots`, not committed). The CLI's last call goes through
//! `ap-client`, as the `ap` tool's would.

use ap_domain::code::Code;
use reqwest::Method;
use serde_json::json;

use crate::login::loopback_listener;
use crate::support::{Listing, TestApp, skill_package};
use crate::webdriver::Browser;

const SELLER_EMAIL: &str = "paula@example.com";
const SELLER_NAME: &str = "Paula Pixel";
const SLUG: &str = "pdf-wizard";

/// Problems of the page in the browser: an id used twice, a form control without a
/// label, an image without alternative text, a page without a language or a title.
const PAGE_PROBLEMS: &str = "
    const problems = [];
    const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
    ids.filter((id, i) => ids.indexOf(id) !== i).forEach(id => problems.push('id twice: ' + id));
    document.querySelectorAll('input:not([type=hidden]), select, textarea').forEach(c => {
        if (c.labels.length === 0 && !c.getAttribute('aria-label')) problems.push('no label: ' + c.outerHTML);
    });
    document.querySelectorAll('img:not([alt])').forEach(i => problems.push('no alt: ' + i.outerHTML));
    if (!document.documentElement.lang) problems.push('no lang');
    if (!document.title.trim()) problems.push('no title');
    return problems;";

/// Checks the page the browser shows (see [`PAGE_PROBLEMS`]) and saves its screenshot.
async fn shown(browser: &Browser, name: &str) {
    let problems = browser.run(PAGE_PROBLEMS, json!([])).await;
    assert_eq!(problems, json!([]), "the {name} page");
    browser.screenshot(name).await;
}

/// Fills in and submits the sign-in form the browser is on.
async fn sign_in(browser: &Browser, email: &str, name: &str) {
    shown(browser, "sign-in").await;
    browser.find("#email").await.type_text(email).await;
    browser.find("#display_name").await.type_text(name).await;
    browser.click_through("form[action='/sign-in'] button[type=submit]").await;
}

/// A few listings of another seller, so that there is something to browse past.
async fn a_catalog(app: &TestApp) {
    let other = app.seller("Page Makers").await;
    for (slug, title, category, price_cents, downloads) in [
        ("commit-craft", "Commit Craft", "development", 0, 1200),
        ("review-buddy", "Review Buddy", "development", 900, 640),
        ("test-pilot", "Test Pilot", "testing", 0, 310),
    ] {
        let listing = Listing { category, price_cents, downloads, ..Listing::skill(slug, title) };
        app.listing(&other, listing).await;
    }
}

/// The seller's act: sign in from the dashboard, onboard in the sandbox, sign the CLI
/// in through the browser; answers the CLI token.
async fn the_seller_onboards_and_signs_the_cli_in(app: &TestApp, browser: &Browser) -> String {
    browser.goto(&format!("{}/dashboard", app.base)).await;
    sign_in(browser, SELLER_EMAIL, SELLER_NAME).await;
    assert_eq!(browser.url().await, format!("{}/dashboard", app.base), "back to the dashboard");
    assert_eq!(browser.text("h1").await, "Seller dashboard");
    shown(browser, "dashboard-before-onboarding").await;
    browser.click_through("a[href='/onboarding']").await;
    assert_eq!(browser.text("h1").await, "Seller onboarding");
    shown(browser, "sandbox-onboarding").await;
    browser.click_through("button[type=submit]").await;
    assert_eq!(browser.url().await, format!("{}/onboarding/done", app.base));

    // `ap login`: the CLI opens this address and listens on the loopback port.
    let (port, listener) = loopback_listener();
    let state = "browser-state-1";
    browser
        .goto(&format!(
            "{base}/sign-in?redirect_url={base}/auth/cli-callback?redirect_to=http://127.0.0.1:{port}/callback&state={state}",
            base = app.base
        ))
        .await;
    sign_in(browser, SELLER_EMAIL, SELLER_NAME).await;
    // The browser is on the CLI's page, so the listener has had its request.
    let callback = format!("http://127.0.0.1:{port}/callback?");
    assert!(browser.url().await.starts_with(&callback), "{}", browser.url().await);
    let target = listener.join().expect("the CLI's listener");
    let received = url::Url::parse(&format!("http://127.0.0.1{target}")).expect("callback");
    let params: std::collections::HashMap<_, _> = received.query_pairs().into_owned().collect();
    assert_eq!(params.get("state").map(String::as_str), Some(state));
    let minted = app.post_as("/v1/auth/cli-token", &params["token"]).await;
    assert_eq!(minted.status, 201, "{}", minted.text);
    minted.json["token"].as_str().expect("token").to_owned()
}

/// Publishes the paid skill through the API, in two versions.
async fn the_seller_publishes(app: &TestApp, token: &str) {
    let body = json!({
        "slug": SLUG, "title": "PDF Wizard", "category": "productivity", "price_cents": 1250,
        "description": "Fills, merges and splits PDF forms from your terminal.",
        "long_description": "## PDF Wizard\n\nFills forms from JSON, merges and splits files.",
    });
    let created = app.json(Method::POST, "/v1/skills", Some(token), body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let first = skill_package(SLUG, "Fill a form: `pdf fill form.pdf data.json`.");
    let path = format!("/v1/skills/{SLUG}/upload");
    let uploaded = app.upload(&path, Some(token), "file", first).await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text);
    let bump = json!({"bump": "MINOR", "changelog": "Merges and splits files too."});
    let bumped = app.json(Method::PATCH, &format!("/v1/skills/{SLUG}"), Some(token), bump).await;
    assert_eq!(bumped.status, 200, "{}", bumped.text);
    let second = skill_package(SLUG, "Merge: `pdf merge a.pdf b.pdf`. Split: `pdf split a.pdf`.");
    let path = format!("/v1/skills/{SLUG}/upload?version=1.1.0");
    let uploaded = app.upload(&path, Some(token), "file", second).await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text);
}

/// The buyer's act: browse, search as they type, open the listing, buy, see the code on
/// the success page and on the account page.
async fn the_buyer_finds_and_buys(app: &TestApp, browser: &Browser) {
    browser.goto(&format!("{}/", app.base)).await;
    assert_eq!(
        browser.text("#results-heading").await,
        "Skills and agents for your AI coding tools"
    );
    assert!(browser.text(".results .note").await.starts_with("4 listings"));
    shown(browser, "home").await;

    // Search as you type: no Enter, the results follow the box.
    browser.find("#q").await.type_text("pdf").await;
    browser
        .until(
            "document.getElementById('results-heading').textContent === arguments[0]",
            json!("Results for “pdf”"),
        )
        .await;
    assert!(
        browser.url().await.starts_with(&format!("{}/?q=pdf", app.base)),
        "the address follows"
    );
    let cards = browser
        .run(
            "return [...document.querySelectorAll('li.card h2')].map(h => h.textContent)",
            json!([]),
        )
        .await;
    assert_eq!(cards, json!(["PDF Wizard"]));
    let count = browser.text(".results [role=status]").await;
    assert_eq!(count, "1 listing", "the live count follows");
    shown(browser, "search").await;

    browser.click_through(&format!("li.card a[href='/skills/{SLUG}']")).await;
    assert_eq!(browser.text("h1").await, "PDF Wizard");
    let page = browser.text("main").await;
    for shown in
        [SELLER_NAME, "$12.50", "1.1.0", "Merges and splits files too.", "ap install pdf-wizard"]
    {
        assert!(page.contains(shown), "the listing page shows {shown}: {page}");
    }
    shown(browser, "listing").await;

    browser.click_through("button[type=submit]").await;
    sign_in(browser, "ada@example.com", "Ada Buyer").await;
    assert!(browser.url().await.starts_with(&format!("{}/sandbox/checkout/", app.base)));
    assert!(browser.text("main").await.contains("$12.50"));
    shown(browser, "checkout").await;
    browser.click_through("form[action$='/pay'] button").await;
    assert!(browser.url().await.starts_with(&format!("{}/purchase/success?", app.base)));
    assert_eq!(browser.text("h1").await, "Thank you");
    let code = browser.text("#license-code").await;
    assert!(!code.is_empty(), "a license code");
    shown(browser, "success").await;

    browser.goto(&format!("{}/account", app.base)).await;
    let purchases = browser.text("table").await;
    assert!(purchases.contains("PDF Wizard") && purchases.contains(&code), "{purchases}");
    shown(browser, "account-buyer").await;
}

/// The seller's evening: the sale on the dashboard, then the CLI token revoked.
async fn the_seller_sees_the_sale_and_revokes_the_cli(
    app: &TestApp,
    browser: &Browser,
    token: &str,
) {
    browser.goto(&format!("{}/dashboard", app.base)).await;
    sign_in(browser, SELLER_EMAIL, SELLER_NAME).await;
    let dashboard = browser.text("main").await;
    assert!(dashboard.contains("Your payment account is ready"), "{dashboard}");
    assert!(!dashboard.contains("No sales yet."), "{dashboard}");
    let today = ap_auth::Clock::now(&app.clock).date_naive().to_string();
    let bar = "[...document.querySelectorAll('rect.bar')].some(bar => \
               bar.querySelector('title').textContent.startsWith(arguments[0] + ':') \
               && Number(bar.getAttribute('height')) > 0)";
    assert_eq!(browser.run(&format!("return {bar};"), json!([today])).await, json!(true));
    shown(browser, "dashboard").await;

    browser.goto(&format!("{}/sellers/paula-pixel", app.base)).await;
    assert_eq!(browser.text("h1").await, SELLER_NAME);
    assert!(browser.text("main").await.contains("PDF Wizard"));
    shown(browser, "seller").await;

    assert_eq!(app.get_as("/v1/auth/me", token).await.status, 200, "the CLI is signed in");
    browser.goto(&format!("{}/account", app.base)).await;
    shown(browser, "account-seller").await;
    browser.click_through("form[action='/account/token/revoke'] button").await;
    assert!(browser.text("main").await.contains("Your CLI token is revoked"));
    // The CLI's next call is refused.
    let cli = ap_client::Client::builder(&app.base).token(token).build().expect("client");
    let refused = cli.me().await.expect_err("a revoked token");
    assert_eq!((refused.status(), refused.code()), (Some(401), Some(Code::Unauthorized)));
}

#[actix_web::test]
async fn a_marketplace_day_in_the_browser() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::sandbox().await;
    a_catalog(&app).await;
    let token = the_seller_onboards_and_signs_the_cli_in(&app, &browser).await;
    the_seller_publishes(&app, &token).await;

    browser.delete_cookies().await;
    the_buyer_finds_and_buys(&app, &browser).await;

    browser.delete_cookies().await;
    the_seller_sees_the_sale_and_revokes_the_cli(&app, &browser, &token).await;
    browser.quit().await;
}
