//! Account deletion (docs/PRIVACY.md), on both backends: the owner schedules it (CLI
//! tokens revoked, earlier sessions refused, listings out of the catalog), signing in
//! again within 30 days cancels it, and after 30 days (the injected clock moved) every
//! personal field is gone from every table while the listings stay archived, buyers still
//! download, purchases keep their accounting and reviews read "deleted user".

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::operations::{buy, paid_shop};
use crate::support::{TestApp, keys};

both_backends!(deletion_is_scheduled_cancelled_and_completed);

/// Every trace of the person in the test: their provider subject, e-mail, names, slug,
/// bio, links and the host name of their machine all contain it.
const MARK: &str = "zelqvist";

async fn delete(app: &TestApp, token: &str) -> crate::support::Response {
    app.post_as("/v1/users/profile/delete", token).await
}

async fn deletion_is_scheduled_cancelled_and_completed(app: TestApp) {
    // The person sells a paid skill, buys another seller's and reviews it, installs it
    // on their machine, and fills in their profile.
    let (person, _) = paid_shop(&app, MARK, "ledger-tool").await;
    paid_shop(&app, "olga", "other-tool").await;
    buy(&app, &person, "other-tool", "evt_person_buys").await;
    let review = json!({"rating": 4, "text": "Does what it says."});
    let res = app.json(Method::POST, "/v1/skills/other-tool/reviews", Some(&person), review).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let install = json!({"source_slug": "other-tool", "hostname": format!("{MARK}-laptop"),
                         "platform": "cli"});
    let res = app.json(Method::POST, "/v1/installations", Some(&person), install).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let profile = json!({"bio": format!("I am {MARK}."),
                         "website_url": format!("https://{MARK}.example/"),
                         "github_url": format!("https://github.com/{MARK}")});
    let res = app.json(Method::PATCH, "/v1/users/profile", Some(&person), profile).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let buyer = app.cli_token("buyer").await;
    buy(&app, &buyer, "ledger-tool", "evt_buyer_buys").await;

    // Scheduled: 30 days out; the token stops at once and the listing leaves the catalog.
    let res = delete(&app, &person).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json["account_status"], "pending_deletion");
    let now = ap_auth::Clock::now(&app.clock);
    let due = (now + chrono::Duration::days(30)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let scheduled = res.json["deletion_scheduled_at"].as_str().expect("date");
    assert_eq!(&scheduled[..19], &due[..19], "{}", res.text);
    app.get_as("/v1/users/profile", &person).await.assert_coded(401, "UNAUTHORIZED");
    app.get("/v1/skills/ledger-tool").await.assert_coded(404, "SKILL_NOT_FOUND");
    assert_eq!(app.get("/v1/skills").await.slugs(), ["other-tool"]);
    // A session from before the request is refused; a buyer still downloads.
    let old_session = app.provider_jwt(&keys().0, MARK, json!({"iat": now.timestamp() - 60}));
    app.post_as("/v1/auth/cli-token", &old_session).await.assert_coded(401, "UNAUTHORIZED");
    // A session refreshed by the provider, used anywhere but the sign-in, cancels nothing.
    app.clock.advance(chrono::Duration::minutes(1));
    let refreshed = app.provider_jwt(&keys().0, MARK, json!({}));
    app.get_as("/v1/users/profile", &refreshed).await.assert_coded(401, "UNAUTHORIZED");
    app.get("/v1/skills/ledger-tool").await.assert_coded(404, "SKILL_NOT_FOUND");
    assert_eq!(app.get_as("/v1/skills/ledger-tool/download", &buyer).await.status, 200);

    // Signing in again within the grace period cancels it; everything is back.
    app.clock.advance(chrono::Duration::days(10));
    let person = app.cli_token(MARK).await;
    let res = app.get_as("/v1/users/profile", &person).await;
    assert_eq!(
        (res.json["account_status"].clone(), res.json["deletion_scheduled_at"].clone()),
        (json!("active"), Value::Null),
        "{}",
        res.text
    );
    assert_eq!(app.get("/v1/skills/ledger-tool").await.status, 200);
    assert_eq!(app.state.market().accounts().erase_due().await.expect("erase"), 0);

    // Scheduled again, and this time the 30 days pass.
    assert_eq!(delete(&app, &person).await.status, 200);
    app.clock.advance(chrono::Duration::days(29));
    assert_eq!(app.state.market().accounts().erase_due().await.expect("erase"), 0, "not yet");
    app.clock.advance(chrono::Duration::days(2));
    assert_eq!(app.state.market().accounts().erase_due().await.expect("erase"), 1);
    assert_eq!(app.state.market().accounts().erase_due().await.expect("erase"), 0, "once");

    // No personal field survives anywhere.
    let dump = ap_store::testing::dump_rows(app.db());
    assert!(dump.iter().any(|row| row.contains("evt_buyer_buys")), "the dump reads every table");
    let left: Vec<&String> = dump.iter().filter(|row| row.to_lowercase().contains(MARK)).collect();
    assert!(left.is_empty(), "personal data left: {left:#?}");

    // The listing stays archived; its buyer still downloads; purchases keep their
    // accounting; the review stays under "deleted user".
    app.get("/v1/skills/ledger-tool").await.assert_coded(404, "SKILL_NOT_FOUND");
    assert_eq!(app.get_as("/v1/skills/ledger-tool/download", &buyer).await.status, 200);
    let reviews = app.get("/v1/skills/other-tool/reviews").await;
    assert_eq!(reviews.json["items"][0]["author_display_name"], "deleted user", "{}", reviews.text);
    assert_eq!(reviews.json["items"][0]["text"], "Does what it says.");
    let olga = app.cli_token("olga").await;
    let earnings = app.get_as("/v1/sellers/earnings", &olga).await;
    assert_eq!(
        (earnings.json["gross_cents"].clone(), earnings.json["sales_count"].clone()),
        (json!(1000), json!(1)),
        "{}",
        earnings.text
    );
    // Signing in with the same identity now makes a new, empty account.
    let again = app.cli_token(MARK).await;
    let res = app.get_as("/v1/users/profile", &again).await;
    assert_eq!(
        (res.json["account_status"].clone(), res.json["bio"].clone()),
        (json!("active"), Value::Null)
    );
    assert!(
        app.get_as("/v1/purchases", &again).await.json["items"]
            .as_array()
            .expect("items")
            .is_empty()
    );
}
