//! The storefront's browsing pages as a browser sees them: the home page's search,
//! categories with counts, filters and paging, the seller page, escaping, the page
//! headers, and HTML that keeps its promises (every form control labelled, no id twice).

use std::collections::HashSet;

use crate::both_backends;
use crate::support::{Listing, Response, TestApp};

/// Every `id="…"` of the page, in order.
fn ids(html: &str) -> Vec<&str> {
    html.split("id=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect()
}

/// Asserts what every storefront page owes: HTML with the strict headers, no id twice,
/// and a label for every visible form control.
fn assert_page(res: &Response) {
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
    let csp = res.header("content-security-policy").expect("CSP");
    assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("script-src 'self';"), "scripts only from this server: {csp}");
    assert!(!res.text.contains(" style=") && !res.text.contains("<style"), "an inline style");
    for script in res.text.split("<script").skip(1) {
        assert!(script.starts_with(" src=\"/static/"), "an inline script: <script{script}");
    }
    let ids = ids(&res.text);
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "an id twice in {ids:?}");
    for control in ["<input id=\"", "<select id=\""] {
        for rest in res.text.split(control).skip(1) {
            let id = rest.split('"').next().expect("id");
            assert!(res.text.contains(&format!("<label for=\"{id}\">")), "{id} has no label");
        }
    }
    assert!(!res.text.contains("<input name="), "an unlabelled input");
}

/// The titles of the listing cards, in order.
fn titles(html: &str) -> Vec<String> {
    html.split("<li class=\"card\">")
        .skip(1)
        .filter_map(|card| card.split("<h2><a href=\"").nth(1))
        .filter_map(|rest| rest.split('>').nth(1))
        .filter_map(|rest| rest.split('<').next())
        .map(str::to_owned)
        .collect()
}

async fn a_catalog(app: &TestApp) {
    let seller = app.seller("Page Makers").await;
    for (slug, title, category, kind, price_cents, downloads) in [
        ("commit-craft", "Commit Craft", "development", "skill", 0, 50),
        ("review-buddy", "Review Buddy", "development", "skill", 900, 20),
        ("test-pilot", "Test Pilot", "testing", "skill", 0, 10),
        ("deploy-agent", "Deploy Agent", "code-agents", "agent", 1500, 5),
    ] {
        let listing =
            Listing { category, kind, price_cents, downloads, ..Listing::skill(slug, title) };
        app.listing(&seller, listing).await;
    }
    app.state.market().catalog_changed().await;
}

async fn the_home_page_browses_and_searches(app: TestApp) {
    a_catalog(&app).await;
    let res = app.get("/").await;
    assert_page(&res);
    assert_eq!(
        titles(&res.text),
        ["Commit Craft", "Review Buddy", "Test Pilot", "Deploy Agent"],
        "most popular first"
    );
    assert!(res.text.contains("4 listings"));
    assert!(res.text.contains(">Development</a> <span class=\"count\">2</span>"), "counts");
    assert!(res.text.contains("<span class=\"badge agent\">agent</span>"), "the type shows");
    assert!(res.text.contains("href=\"/agents/deploy-agent\""));
    assert!(res.text.contains("href=\"/sellers/page-makers\""));
    assert!(res.text.contains("$9.00") && res.text.contains("Free"));
    // Search as you type: the one script, from this server.
    assert!(res.text.contains("<script src=\"/static/site.js\" defer></script>"));
    let script = app.get("/static/site.js").await;
    assert_eq!(script.status, 200);
    assert_eq!(script.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert!(script.text.contains("history.replaceState"), "{}", script.text);

    // Search ranks by relevance; filters narrow; a category keeps the search.
    let res = app.get("/?q=review").await;
    assert_page(&res);
    assert_eq!(titles(&res.text), ["Review Buddy"]);
    assert!(res.text.contains("value=\"review\""), "the box keeps the words");
    assert_eq!(titles(&app.get("/?q=revie").await.text), ["Review Buddy"], "being typed");
    assert_eq!(titles(&app.get("/?category=testing").await.text), ["Test Pilot"]);
    assert_eq!(titles(&app.get("/?type=agent").await.text), ["Deploy Agent"]);
    assert_eq!(titles(&app.get("/?price=free").await.text), ["Commit Craft", "Test Pilot"]);
    let res = app.get("/?sort=price_desc&price=paid").await;
    assert_eq!(titles(&res.text), ["Deploy Agent", "Review Buddy"]);
    assert!(res.text.contains("<option value=\"price_desc\" selected>"), "the choice shows");
    let res = app.get("/?category=development&q=commit").await;
    assert_eq!(titles(&res.text), ["Commit Craft"]);
    assert!(res.text.contains("<input type=\"hidden\" name=\"category\" value=\"development\">"));

    // Values the page does not know are ignored, never an error.
    for path in ["/?sort=sideways&type=plugin&price=cheap&page=-4", "/?page=99999&category=%00"] {
        let res = app.get(path).await;
        assert_page(&res);
    }
    let res = app.get("/?q=%22%3Cscript%3E%22+OR+1%3D1").await;
    assert_page(&res);
    assert!(!res.text.contains("<script>"), "the words are escaped");
    assert!(res.text.contains("Nothing matches"));
}

async fn the_home_page_pages_through_the_catalog(app: TestApp) {
    let seller = app.seller("Many Things").await;
    const SLUGS: [&str; 25] = [
        "s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08", "s09", "s10", "s11", "s12", "s13",
        "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24", "s25",
    ];
    for (i, slug) in SLUGS.iter().enumerate() {
        let listing = Listing { downloads: 100 - i as i64, ..Listing::skill(slug, slug) };
        app.listing(&seller, listing).await;
    }
    app.state.market().catalog_changed().await;
    let first = app.get("/?category=development").await;
    assert_page(&first);
    assert_eq!(titles(&first.text).len(), 20);
    assert!(first.text.contains("page 1 of 2"));
    assert!(
        first.text.contains("href=\"/?category=development&#38;page=2\" rel=\"next\""),
        "{}",
        first.text
    );
    assert!(!first.text.contains("rel=\"prev\""));
    let second = app.get("/?category=development&page=2").await;
    assert_eq!(titles(&second.text), ["s21", "s22", "s23", "s24", "s25"]);
    assert!(second.text.contains("href=\"/?category=development\" rel=\"prev\""));
    assert!(!second.text.contains("rel=\"next\""));
    // A page past the last shows the last.
    let past = app.get("/?category=development&page=9").await;
    assert_page(&past);
    assert_eq!(titles(&past.text), titles(&second.text));
    assert!(past.text.contains("page 2 of 2"));
}

async fn the_seller_page_shows_the_profile_and_listings(app: TestApp) {
    a_catalog(&app).await;
    let res = app.get("/sellers/page-makers").await;
    assert_page(&res);
    assert!(res.text.contains("<h1>Page Makers <span class=\"badge\">verified</span></h1>"));
    assert!(res.text.contains("Builds things."), "the bio");
    assert!(res.text.contains("href=\"https://example.com\""), "the website");
    assert!(res.text.contains("href=\"/skills/commit-craft\""));
    assert!(res.text.contains("4 listings"));
    let missing = app.get("/sellers/nobody-here").await;
    assert_eq!(missing.status, 404);
    assert!(missing.text.contains("There is no such seller here."));
}

async fn the_listing_page_shows_versions_report_installs_and_reviews(app: TestApp) {
    let seller = app.seller("Page Makers").await;
    let listing = Listing {
        versions: vec!["1.0.0".to_owned(), "1.1.0".to_owned()],
        ..Listing::skill("commit-craft", "Commit Craft")
    };
    app.listing(&seller, listing).await;
    app.state.market().catalog_changed().await;
    let before = app.get("/skills/commit-craft").await;
    assert_page(&before);
    assert!(before.text.contains("No reviews yet."));
    assert!(before.text.contains("not rated yet"));

    let token = app.cli_token("happy-user").await;
    let body =
        serde_json::json!({"source_slug": "commit-craft", "hostname": "laptop", "platform": "cli"});
    let res = app.json(reqwest::Method::POST, "/v1/installations", Some(&token), body).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let review = serde_json::json!({"rating": 4, "text": "Writes <em>good</em> messages."});
    let res = app
        .json(reqwest::Method::POST, "/v1/skills/commit-craft/reviews", Some(&token), review)
        .await;
    assert_eq!(res.status, 201, "{}", res.text);

    let res = app.get("/skills/commit-craft").await;
    assert_page(&res);
    let text = &res.text;
    assert!(text.contains("href=\"/sellers/page-makers\""), "the seller");
    // The version history, newest first, with its changelogs.
    let newer = text.find("<strong>1.1.0</strong>").expect("1.1.0");
    let older = text.find("<strong>1.0.0</strong>").expect("1.0.0");
    assert!(newer < older, "newest first");
    assert!(text.contains("Changes in 1.1.0"));
    // The security report as the API gives it: verdict, score, each finding.
    let api = app.get("/v1/skills/commit-craft").await.json;
    let verdict = api["security_status"].as_str().expect("verdict");
    assert!(text.contains(&format!("<span class=\"verdict {verdict}\">{verdict}</span>")));
    let score = api["security_score"].as_i64().expect("score");
    assert!(text.contains(&format!("score {score}/10")));
    let findings = api["security_findings"].as_array().expect("findings");
    for finding in findings {
        let detail = finding["detail"].as_str().expect("detail");
        assert!(text.contains(detail), "{detail}");
        if let (Some(file), Some(line)) = (finding["file"].as_str(), finding["line"].as_u64()) {
            assert!(text.contains(&format!("<code>{file}:{line}</code>")), "{file}:{line}");
        }
    }
    if findings.is_empty() {
        assert!(text.contains("found nothing to report"));
    }
    assert!(text.contains("<code>ap install commit-craft</code>"));
    assert!(text.contains("<code>ap install commit-craft --for claude-code</code>"));
    // The review, escaped, and the average.
    assert!(text.contains("role=\"img\" aria-label=\"4 out of 5\">★★★★</span>"), "the stars");
    assert!(text.contains("4.0 out of 5 (1 ratings)"), "the average");
    assert!(text.contains("Writes &#60;em&#62;good&#60;/em&#62; messages."), "escaped text");
    assert!(!text.contains("<em>good"));
}

#[actix_web::test]
async fn titles_are_escaped_on_every_page() {
    let app = TestApp::sqlite().await;
    let seller = app.seller("Escapes <b>Co</b>").await;
    let listing = Listing {
        description: "<img src=x onerror=alert(1)>",
        ..Listing::skill("sneaky", "<script>alert(1)</script>")
    };
    app.listing(&seller, listing).await;
    app.state.market().catalog_changed().await;
    let seller_page =
        format!("/sellers/{}", ap_domain::slug::display_name_slug("Escapes <b>Co</b>"));
    for path in ["/", "/?q=script", seller_page.as_str(), "/skills/sneaky"] {
        let res = app.get(path).await;
        assert_eq!(res.status, 200, "{path}: {}", res.text);
        assert!(!res.text.contains("<script>alert"), "{path}");
        assert!(!res.text.contains("<img src=x"), "{path}");
        assert!(!res.text.contains("<b>Co"), "{path}");
    }
    let home = app.get("/").await.text;
    assert!(home.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "{home}");
}

both_backends!(
    the_home_page_browses_and_searches,
    the_home_page_pages_through_the_catalog,
    the_seller_page_shows_the_profile_and_listings,
    the_listing_page_shows_versions_report_installs_and_reviews,
);
