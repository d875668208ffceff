//! The seller's dashboard as a browser sees it: signed out it sends the browser to sign
//! in; a seller who has not onboarded is offered onboarding; after a sale the earnings,
//! the sales table, the per-listing figures and a bar for today in the chart show it.

use serde_json::json;

use crate::both_backends;
use crate::operations::{buy, paid_shop};
use crate::support::{Response, TestApp, keys};

async fn dashboard(app: &TestApp, subject: &str, query: &str) -> Response {
    let session = app.provider_jwt(&keys().0, subject, json!({}));
    let url = format!("{}/dashboard{query}", app.base);
    app.send(app.client.get(url).header("cookie", format!("__session={session}"))).await
}

/// The `height` of the chart's bar whose title starts with `start`.
fn bar_height(html: &str, start: &str) -> i64 {
    html.split("<rect class=\"bar\"")
        .skip(1)
        .find(|bar| bar.contains(&format!("<title>{start}:")))
        .and_then(|bar| bar.split("height=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .and_then(|h| h.parse().ok())
        .unwrap_or_else(|| panic!("no bar for {start}"))
}

async fn the_dashboard_shows_the_sale_and_a_bar_for_today(app: TestApp) {
    let res = app.get("/dashboard").await;
    assert_eq!(res.status, 303, "{}", res.text);
    assert!(res.header("location").expect("location").ends_with("%2Fdashboard"));

    // Not onboarded yet: the way to start.
    let fresh = dashboard(&app, "newcomer", "").await;
    assert_eq!(fresh.status, 200, "{}", fresh.text);
    assert!(fresh.text.contains("href=\"/onboarding\">Start onboarding</a>"));
    assert!(fresh.text.contains("No sales yet."));

    paid_shop(&app, "wes", "paid-helper").await;
    let buyer = app.cli_token("buyer").await;
    buy(&app, &buyer, "paid-helper", "evt_dashboard").await;
    let today = ap_auth::Clock::now(&app.clock).date_naive().to_string();

    let page = dashboard(&app, "wes", "").await;
    assert_eq!(page.status, 200, "{}", page.text);
    let text = &page.text;
    assert!(text.contains("Your payment account is ready"), "onboarded");
    assert!(!text.contains("Start onboarding"));
    let earnings = app.get_as("/v1/sellers/earnings", &app.cli_token("wes").await).await.json;
    let net = earnings["net_cents"].as_i64().expect("net");
    assert!(net > 0);
    let net_text = format!("${}.{:02}", net / 100, net % 100);
    assert!(text.contains(&format!("<dt>Net earnings</dt><dd>{net_text}</dd>")), "{text}");
    assert!(text.contains(&format!("<td>{today}</td>")), "the sale in the sales table");
    assert!(text.contains("href=\"/skills/paid-helper\""), "the listing");
    assert!(bar_height(text, &today) > 0, "a bar for today");
    assert!(text.contains(&format!("<title>{today}: {net_text} net from 1 sale</title>")));
    assert!(text.contains("role=\"img\""), "the chart is labelled");
    assert!(text.contains(&format!("{net_text} in all from 1 sale<")), "one sale, not \"1 sales\"");
    let row = format!("<tr><td>{today}</td><td>{net_text}</td><td>1</td></tr>");
    assert!(text.contains(&row), "the figures by period, for screen readers");

    // By week and month the sale is in the current period's bar.
    for period in ["week", "month"] {
        let by = dashboard(&app, "wes", &format!("?period={period}")).await;
        assert_eq!(by.status, 200, "{}", by.text);
        assert!(by.text.contains(&format!("data-period=\"{period}\"")));
        let heights: Vec<i64> = by
            .text
            .split("height=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next()?.parse().ok())
            .collect();
        assert!(heights.last().is_some_and(|h| *h > 0), "{period}: the last bar is the sale");
    }
    // An unknown period is the default.
    let odd = dashboard(&app, "wes", "?period=fortnight").await;
    assert!(odd.text.contains("data-period=\"day\""));
}

both_backends!(the_dashboard_shows_the_sale_and_a_bar_for_today);
