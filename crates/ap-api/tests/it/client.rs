//! `ap-client` against the real server: the catalog as a visitor reads it; a seller who
//! onboards, publishes two versions and reads the figures of a sale; a buyer who checks
//! out, downloads with progress, reviews and reports; refusals as typed errors (coded,
//! 422 fields, 401 after revoking); and a rate limit that is not waited out past its bound.

use std::time::Duration;

use ap_client::{
    Client, Days, Error, FieldProblem, ListQuery, ListingChanges, NewInstallation, NewListing,
    NewReport, PurchaseDelivery, SearchQuery,
};
use ap_domain::code::Code;
use ap_domain::listing::{ListingType, SortOrder};
use ap_domain::version::Version;
use serde_json::json;

use crate::both_backends;
use crate::commerce::deliver;
use crate::support::{Limits, Listing, TestApp, skill_package};

fn client(app: &TestApp) -> Client {
    Client::builder(&app.base).build().expect("client")
}

async fn the_client_reads_the_catalog(app: TestApp) {
    let seller = app.seller("Page Makers").await;
    for (slug, title, downloads) in
        [("commit-craft", "Commit Craft", 50), ("review-buddy", "Review Buddy", 20)]
    {
        app.listing(&seller, Listing { downloads, ..Listing::skill(slug, title) }).await;
    }
    let visitor = client(&app);

    let page = visitor.list(&ListQuery::default()).await.expect("list");
    let slugs: Vec<&str> = page.items.iter().map(|l| l.slug.as_str()).collect();
    assert_eq!(slugs, ["commit-craft", "review-buddy"]);
    assert_eq!(page.total, 2);
    let newest =
        ListQuery { sort: Some(SortOrder::Newest), limit: Some(1), ..ListQuery::default() };
    assert_eq!(visitor.list(&newest).await.expect("newest").items.len(), 1);

    let found = visitor.search(&SearchQuery::words("revie")).await.expect("search");
    assert_eq!(found.items[0].slug, "review-buddy", "the word being typed");
    let listing = visitor.listing("commit-craft").await.expect("listing");
    assert_eq!(listing.summary.title, "Commit Craft");
    let detail = visitor.detail("commit-craft").await.expect("detail");
    assert_eq!(detail.detail.summary.slug, "commit-craft");
    assert!(!visitor.categories().await.expect("categories").categories.is_empty());
    assert!(!visitor.platforms().await.expect("platforms").platforms.is_empty());
    let sellers = visitor.sellers(None, None).await.expect("sellers");
    assert_eq!(sellers.items[0].display_name_slug, "page-makers");
    let profile = visitor.seller("page-makers").await.expect("seller");
    assert_eq!(profile.summary.display_name, "Page Makers");
    let theirs = visitor.seller_listings("page-makers", Some(1), None).await.expect("theirs");
    assert_eq!((theirs.items.len(), theirs.total), (1, 2));
    let results = visitor.security_results("commit-craft").await.expect("scan");
    assert_eq!(results.slug, "commit-craft");

    // Refusals arrive typed.
    match visitor.listing("no-such-skill").await {
        Err(Error::Api { status: 404, code: Code::SkillNotFound, .. }) => {}
        other => panic!("expected SKILL_NOT_FOUND, got {other:?}"),
    }
    let bad = ListQuery { limit: Some(0), ..ListQuery::default() };
    match visitor.list(&bad).await {
        Err(Error::Invalid { fields }) => {
            let FieldProblem { loc, .. } = &fields[0];
            assert_eq!(loc, &[json!("query"), json!("limit")]);
        }
        other => panic!("expected a 422, got {other:?}"),
    }
    match visitor.with_token("apt_not-a-real-token").me().await {
        Err(error) => {
            assert_eq!((error.status(), error.code()), (Some(401), Some(Code::Unauthorized)))
        }
        Ok(me) => panic!("a made-up token signed in as {me:?}"),
    }
    assert!(matches!(Client::builder("not a url").build(), Err(Error::Url(_))));
}

/// A paid skill to publish: `pdf-wizard` at $12.50.
pub fn pdf_wizard() -> NewListing {
    NewListing {
        slug: "pdf-wizard".to_owned(),
        title: "PDF Wizard".to_owned(),
        description: "Fills PDF forms from your terminal.".to_owned(),
        category: "productivity".to_owned(),
        price_cents: Some(1250),
        long_description: None,
    }
}

async fn a_seller_and_a_buyer_through_the_client(app: TestApp) {
    // The seller: onboarding at the fake Stripe, then two versions of a paid skill.
    let seller = client(&app).with_token(app.publisher_token("sam", "Sam Seller").await);
    let link = seller.connect_seller().await.expect("connect");
    assert!(!link.url.is_empty());
    let account = app.newest_connected_account();
    app.fake_stripe().set_account(&account, true, true, true);
    assert!(seller.seller_status().await.expect("status").payouts_enabled);

    let created = seller.create_listing(ListingType::Skill, &pdf_wizard()).await.expect("create");
    assert_eq!(created.slug, "pdf-wizard");
    let package = skill_package("pdf-wizard", "Fill a form.");
    let first = seller.upload(ListingType::Skill, "pdf-wizard", None, package).await;
    assert_eq!(first.expect("upload").version, "1.0.0");
    let bump = ListingChanges {
        bump: Some("minor".to_owned()),
        changelog: Some("Merges files too.".to_owned()),
        ..ListingChanges::default()
    };
    seller.change_listing(ListingType::Skill, "pdf-wizard", &bump).await.expect("bump");
    let next = Version { major: 1, minor: 1, patch: 0 };
    let package = skill_package("pdf-wizard", "Fill and merge.");
    seller.upload(ListingType::Skill, "pdf-wizard", Some(next), package).await.expect("1.1.0");
    let own = seller.own_listings(None, None).await.expect("own");
    assert_eq!(own.items[0].slug, "pdf-wizard");

    // The buyer: checkout, paid at the fake Stripe, then the download with progress.
    let buyer = client(&app).with_token(app.cli_token("bea").await);
    let started = buyer.checkout("pdf-wizard").await.expect("checkout");
    app.fake_stripe().pay(&started.session_id);
    let object = json!({"id": started.session_id});
    let done = deliver(&app, "evt_client", "checkout.session.completed", object).await;
    assert_eq!(done.status, 200, "{}", done.text);
    let state = buyer.purchase_status(&started.purchase_id).await.expect("state");
    assert_eq!(state.status, ap_domain::commerce::PurchaseStatus::Completed);
    let confirmed = buyer.confirm_purchase(&started.session_id).await.expect("confirm");
    assert_eq!(confirmed.status, state.status);
    let purchases = buyer.purchases(None, None, None).await.expect("purchases");
    let code = purchases.items[0].license_code.clone().expect("a license code");
    match buyer.purchase_download(&started.session_id).await.expect("delivery") {
        PurchaseDelivery::Ready(ready) => assert_eq!(ready.slug, "pdf-wizard"),
        PurchaseDelivery::NotPaid(pending) => panic!("not paid: {pending:?}"),
    }
    let link = buyer.download_link("pdf-wizard", None).await.expect("link");
    assert_eq!(link.version, "1.1.0");
    let mut heard = Vec::new();
    let archive = buyer.fetch_archive(&link, |got, total| heard.push((got, total))).await;
    let archive = archive.expect("archive");
    assert!(archive.starts_with(b"PK"), "a ZIP");
    assert_eq!(heard.last(), Some(&(archive.len() as u64, Some(archive.len() as u64))));
    let install = NewInstallation {
        source_slug: "pdf-wizard".to_owned(),
        hostname: "laptop".to_owned(),
        platform: "cli".to_owned(),
        source: None,
    };
    buyer.record_installation(&install).await.expect("install");
    // Someone else redeeming the code gets the purchase too.
    let friend = client(&app).with_token(app.cli_token("fay").await);
    friend.redeem(&code).await.expect("redeem");

    let review = buyer.write_review("pdf-wizard", 5, Some("Saved me an hour.")).await;
    assert_eq!(review.expect("review").rating, 5);
    let reviews = buyer.reviews("pdf-wizard", None, None).await.expect("reviews");
    assert_eq!(reviews.items[0].text.as_deref(), Some("Saved me an hour."));
    let report = NewReport { reason: "misleading".to_owned(), text: None };
    buyer.report("pdf-wizard", &report).await.expect("report");
    match seller.write_review("pdf-wizard", 5, None).await {
        Err(error) => assert_eq!(error.code(), Some(Code::OwnSkill)),
        Ok(review) => panic!("a seller reviewed their own listing: {review:?}"),
    }

    // The seller's figures show the sale.
    assert!(seller.earnings().await.expect("earnings").net_cents > 0);
    assert_eq!(seller.sales(Days::default(), None, None, None).await.expect("sales").total, 1);
    let revenue = seller.revenue(Some("month"), Days::default()).await.expect("revenue");
    assert_eq!(revenue.totals.sales_count, 1);
    let breakdown = seller.revenue_breakdown(Days::default()).await.expect("breakdown");
    assert_eq!(breakdown.items[0].skill_slug, "pdf-wizard");
    assert!(seller.activity(None, None).await.expect("activity").total > 0);
    seller.next_payout().await.expect("next payout");
    seller.unpublish(ListingType::Skill, "pdf-wizard").await.expect("unpublish");
    seller.republish(ListingType::Skill, "pdf-wizard").await.expect("republish");

    // The account: profile, then the token revoked.
    let mut changes = serde_json::Map::new();
    changes.insert("bio".to_owned(), json!("Buys tools."));
    assert_eq!(
        buyer.update_profile(&changes).await.expect("profile").bio.as_deref(),
        Some("Buys tools.")
    );
    assert_eq!(buyer.profile().await.expect("profile").bio.as_deref(), Some("Buys tools."));
    assert!(!buyer.me().await.expect("me").id.is_empty());
    buyer.revoke_cli_token().await.expect("revoke");
    assert_eq!(buyer.me().await.map_err(|e| e.code()).err(), Some(Some(Code::Unauthorized)));
}

both_backends!(the_client_reads_the_catalog, a_seller_and_a_buyer_through_the_client);

/// A 429 whose `Retry-After` exceeds the client's bound is answered at once, with the
/// wait the server asked for.
#[actix_web::test]
async fn a_rate_limit_past_the_bound_is_an_error() {
    let app = TestApp::with_limits(Limits::Memory, &[]).await.expect("in memory");
    let impatient =
        Client::builder(&app.base).max_rate_limit_wait(Duration::ZERO).build().expect("client");
    let mut refused = None;
    for _ in 0..200 {
        match impatient.categories().await {
            Ok(_) => continue,
            Err(error) => {
                refused = Some(error);
                break;
            }
        }
    }
    match refused {
        Some(Error::RateLimited { retry_after }) => assert!(retry_after >= Duration::from_secs(1)),
        other => panic!("expected a rate limit, got {other:?}"),
    }
}
