//! Public seller stories.

use crate::both_backends;
use crate::support::{Listing, TestApp};

async fn sellers_profiles_and_listings(app: TestApp) {
    let ada = app.seller("Ada Forge").await;
    let bob = app.seller("Bob Builder").await;
    let _buyer = app.seller("Just A Buyer").await;
    app.listing(&ada, Listing { downloads: 100, ..Listing::skill("git-helper", "Git Helper") })
        .await;
    app.listing(&ada, Listing { downloads: 5, ..Listing::agent("review-bot", "Review Bot") }).await;
    app.listing(
        &ada,
        Listing { downloads: 1000, archived: true, ..Listing::skill("old-helper", "Old Helper") },
    )
    .await;
    app.listing(
        &bob,
        Listing { downloads: 7, price_cents: 500, ..Listing::skill("paid-thing", "Paid Thing") },
    )
    .await;

    let list = app.get("/v1/sellers").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.json["total"], 2, "users without live listings are not sellers");
    assert_eq!(list.json["items"][0]["display_name_slug"], "ada-forge");
    assert_eq!(list.json["items"][0]["total_skills"], 2);
    assert_eq!(list.json["items"][0]["total_downloads"], 105, "archived listings do not count");
    for key in ["display_name", "avatar_url", "verified", "joined_at"] {
        assert!(list.json["items"][0].get(key).is_some(), "{key}");
    }
    assert_eq!(
        app.get("/v1/sellers?limit=1&offset=1").await.json["items"][0]["display_name_slug"],
        "bob-builder"
    );

    let profile = app.get("/v1/sellers/ada-forge").await;
    assert_eq!(profile.status, 200);
    for key in [
        "bio",
        "website_url",
        "github_url",
        "linkedin_url",
        "twitter_url",
        "total_skills",
        "joined_at",
    ] {
        assert!(profile.json.get(key).is_some(), "{key}");
    }
    assert_eq!(profile.json["bio"], "Builds things.");
    let skills = profile.texts("/skills", "/slug");
    assert_eq!(skills, ["git-helper", "review-bot"]);
    assert_eq!(profile.json["skills"][0]["download_count"], 100);
    assert!(profile.json["skills"][0]["price_cents"].is_i64());

    let page = app.get("/v1/sellers/ada-forge/skills?limit=1").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.json["total"], 2);
    assert_eq!(page.slugs(), ["git-helper"]);
    assert_eq!(page.json["items"][0]["security_score"], 8);
    assert_eq!(page.json["items"][0]["security_findings"][0]["category"], "style");
    assert_eq!(page.json["items"][0]["author"]["display_name"], "Ada Forge");

    app.get("/v1/sellers/nobody").await.assert_coded(404, "SELLER_NOT_FOUND");
    app.get("/v1/sellers/just-a-buyer").await.assert_coded(404, "SELLER_NOT_FOUND");
    app.get("/v1/sellers/nobody/skills").await.assert_coded(404, "SELLER_NOT_FOUND");
    app.get("/v1/sellers?limit=101").await.assert_invalid(&["limit"]);
}

both_backends!(sellers_profiles_and_listings);
