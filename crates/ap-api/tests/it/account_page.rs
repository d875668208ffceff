//! The account page as a browser uses it: signed out it sends the browser to sign in and
//! back; signed in it shows who, the purchases with their license codes and the CLI
//! token, whose Revoke button (a CSRF-checked form) leaves the CLI with 401; a purchase's
//! Download button hands over the archive.

use serde_json::json;

use crate::both_backends;
use crate::operations::{buy, paid_shop};
use crate::support::{Response, TestApp, keys};

/// The value of a cookie the response sets.
fn set_cookie(res: &Response, name: &str) -> String {
    res.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .and_then(|rest| rest.split(';').next())
        .expect("cookie")
        .to_owned()
}

/// The hidden CSRF value of the page's form.
fn form_csrf(html: &str) -> String {
    let rest = html.split("name=\"csrf\" value=\"").nth(1).expect("csrf field");
    rest.split('"').next().expect("value").to_owned()
}

async fn the_account_shows_purchases_and_revokes_the_cli_token(app: TestApp) {
    // Signed out: to sign-in, and back here afterwards.
    let res = app.get("/account").await;
    assert_eq!(res.status, 303, "{}", res.text);
    let location = res.header("location").expect("location");
    assert!(location.starts_with(&format!("{}/sign-in?redirect_url=", app.base)), "{location}");
    assert!(location.ends_with("%2Faccount"), "{location}");

    paid_shop(&app, "wes", "paid-helper").await;
    let token = app.cli_token("buyer").await;
    buy(&app, &token, "paid-helper", "evt_account").await;
    let code = app.get_as("/v1/purchases", &token).await.json["items"][0]["license_code"]
        .as_str()
        .expect("license code")
        .to_owned();
    assert_eq!(app.get_as("/v1/auth/me", &token).await.status, 200);

    let session = app.provider_jwt(&keys().0, "buyer", json!({}));
    let cookie = format!("__session={session}");
    let page =
        app.send(app.client.get(format!("{}/account", app.base)).header("cookie", &cookie)).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("<dd>User buyer</dd>"), "the name");
    assert!(page.text.contains("<dd>buyer@example.com</dd>"), "the e-mail");
    assert!(page.text.contains("href=\"/skills/paid-helper\""), "the purchase");
    assert!(page.text.contains(&format!("<code>{code}</code>")), "its license code");
    assert!(page.text.contains("<dt>Last used</dt>"), "the token");
    assert!(page.text.contains("Revoke the CLI token"));

    // A form without the page's CSRF token changes nothing.
    let forged = app
        .send(
            app.client
                .post(format!("{}/account/token/revoke", app.base))
                .header("cookie", &cookie)
                .form(&[("csrf", "made-up")]),
        )
        .await;
    assert_eq!(forged.status, 400, "{}", forged.text);
    assert_eq!(app.get_as("/v1/auth/me", &token).await.status, 200, "still valid");

    let csrf_cookie = set_cookie(&page, "ap_csrf");
    let revoked = app
        .send(
            app.client
                .post(format!("{}/account/token/revoke", app.base))
                .header("cookie", format!("{cookie}; ap_csrf={csrf_cookie}"))
                .form(&[("csrf", form_csrf(&page.text))]),
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    assert!(revoked.text.contains("Your CLI token is revoked"));
    assert!(revoked.text.contains("No active CLI token."));
    app.get_as("/v1/auth/me", &token).await.assert_coded(401, "UNAUTHORIZED");
    // The page answered carries a fresh CSRF token its forms can use at once.
    let saved = save(&app, &cookie, &revoked, &[("display_name", "Buyer Again")]).await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert!(saved.text.contains("Profile saved."));

    // A CLI token is not a browser sign-in.
    let fresh = app.cli_token("buyer").await;
    let as_cookie = app
        .send(
            app.client
                .get(format!("{}/account", app.base))
                .header("cookie", format!("__session={fresh}")),
        )
        .await;
    assert_eq!(as_cookie.status, 303, "{}", as_cookie.text);
}

async fn a_purchase_downloads_from_the_account_page(app: TestApp) {
    paid_shop(&app, "wes", "paid-helper").await;
    paid_shop(&app, "vic", "not-bought").await;
    let token = app.cli_token("buyer").await;
    buy(&app, &token, "paid-helper", "evt_account_download").await;
    let session = app.provider_jwt(&keys().0, "buyer", json!({}));
    let cookie = format!("__session={session}");
    let page =
        app.send(app.client.get(format!("{}/account", app.base)).header("cookie", &cookie)).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("aria-label=\"Download Title of paid-helper\""), "{}", page.text);
    let csrf_cookie = set_cookie(&page, "ap_csrf");
    let download = |slug: &'static str, csrf: String| {
        app.send(
            app.client
                .post(format!("{}/account/download", app.base))
                .header("cookie", format!("{cookie}; ap_csrf={csrf_cookie}"))
                .form(&[("csrf", csrf.as_str()), ("slug", slug)]),
        )
    };

    let forged = download("paid-helper", "made-up".to_owned()).await;
    assert_eq!(forged.status, 400, "{}", forged.text);
    assert!(forged.header("location").is_none());

    let res = download("paid-helper", form_csrf(&page.text)).await;
    assert_eq!(res.status, 303, "{}", res.text);
    let link = res.header("location").expect("the signed link").to_owned();
    assert!(link.starts_with(&format!("{}/v1/files/", app.base)), "{link}");
    let file = app.send(app.client.get(&link)).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.header("content-type"), Some("application/zip"));

    // Somebody else's paid listing, or none at all: a page saying why, no link.
    let refused = download("not-bought", form_csrf(&page.text)).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert!(refused.text.contains("buy it to download it"), "{}", refused.text);
    let missing = download("no-such-listing", form_csrf(&page.text)).await;
    assert_eq!(missing.status, 404, "{}", missing.text);
    assert!(missing.header("content-type").is_some_and(|ct| ct.starts_with("text/html")));
}

/// Submits the account page's profile form with `fields`, as the browser would.
async fn save(app: &TestApp, cookie: &str, page: &Response, fields: &[(&str, &str)]) -> Response {
    let csrf = form_csrf(&page.text);
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let csrf_cookie = set_cookie(page, "ap_csrf");
    app.send(
        app.client
            .post(format!("{}/account/profile", app.base))
            .header("cookie", format!("{cookie}; ap_csrf={csrf_cookie}"))
            .form(&form),
    )
    .await
}

async fn the_profile_form_keeps_the_profile_rules(app: TestApp) {
    let token = app.cli_token("writer").await;
    let session = app.provider_jwt(&keys().0, "writer", json!({}));
    let cookie = format!("__session={session}");
    let account = || app.client.get(format!("{}/account", app.base)).header("cookie", &cookie);
    let page = app.send(account()).await;
    assert_eq!(page.status, 200, "{}", page.text);
    for field in ["display_name", "bio", "website_url", "github_url", "linkedin_url", "twitter_url"]
    {
        assert!(page.text.contains(&format!("<label for=\"{field}\">")), "{field} labelled");
    }

    let fields = [
        ("display_name", "Writer Works"),
        ("bio", "I write <b>skills</b>."),
        ("website_url", "https://writer.example"),
        ("github_url", ""),
        ("linkedin_url", ""),
        ("twitter_url", ""),
    ];
    let saved = save(&app, &cookie, &page, &fields).await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert!(saved.text.contains("Profile saved."));
    assert!(saved.text.contains("I write &#60;b&#62;skills&#60;/b&#62;."), "escaped");
    let profile = app.get_as("/v1/users/profile", &token).await.json;
    assert_eq!(profile["display_name"], "Writer Works");
    assert_eq!(profile["bio"], "I write <b>skills</b>.");
    assert_eq!(profile["website_url"], "https://writer.example");

    // A refused value changes nothing, says why, and keeps what was typed.
    let page = app.send(account()).await;
    let bad = [("display_name", "X"), ("bio", ""), ("website_url", "javascript:alert(1)")];
    let refused = save(&app, &cookie, &page, &bad).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("Not saved."), "{}", refused.text);
    assert!(refused.text.contains("value=\"javascript:alert(1)\""), "what was typed");
    assert_eq!(app.get_as("/v1/users/profile", &token).await.json, profile, "nothing changed");
}

both_backends!(
    the_account_shows_purchases_and_revokes_the_cli_token,
    a_purchase_downloads_from_the_account_page,
    the_profile_form_keeps_the_profile_rules,
);
