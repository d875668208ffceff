//! The account page as a browser uses it: signed out it sends the browser to sign in and
//! back; signed in it shows who, the purchases with their license codes and the CLI
//! token, whose Revoke button (a CSRF-checked form) leaves the CLI with 401.

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
}

both_backends!(the_account_shows_purchases_and_revokes_the_cli_token);
