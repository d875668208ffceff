//! Catalog stories: lists, filters, sorts, details, agents twins, categories, platforms.

use ap_store::{documents, moderation, publish};
use serde_json::Value;

use crate::both_backends;
use crate::support::{Listing, TestApp};

const SUMMARY_KEYS: [&str; 17] = [
    "slug",
    "title",
    "description",
    "category",
    "type",
    "price_cents",
    "currency",
    "version",
    "security_status",
    "source",
    "download_count",
    "install_count",
    "rating_average",
    "rating_count",
    "author",
    "published_at",
    "updated_at",
];

fn assert_summary(item: &Value) {
    let keys: Vec<&str> = item.as_object().expect("object").keys().map(String::as_str).collect();
    for key in SUMMARY_KEYS {
        assert!(keys.contains(&key), "{key} missing in {item}");
    }
    assert!(item["price_cents"].is_i64(), "price_cents is an integer: {item}");
    assert!(item["security_status"].is_string(), "security_status is a string: {item}");
    assert_eq!(item["source"], "agentpowers");
    assert_eq!(item["currency"], "usd");
    for key in ["display_name", "display_name_slug", "avatar_url", "github_username", "verified"] {
        assert!(item["author"].get(key).is_some(), "author.{key} missing: {item}");
    }
    let published = item["published_at"].as_str().expect("published_at");
    chrono::DateTime::parse_from_rfc3339(published).expect("RFC 3339");
}

/// A small catalog: three live listings, one archived, one never published.
async fn small_catalog(app: &TestApp) -> String {
    let ada = app.seller("Ada Forge").await;
    app.listing(
        &ada,
        Listing {
            downloads: 50,
            ratings: vec![5, 4],
            ..Listing::skill("git-helper", "Git Helper")
        },
    )
    .await;
    app.listing(
        &ada,
        Listing {
            price_cents: 900,
            downloads: 10,
            category: "security",
            ..Listing::skill("secret-finder", "Secret Finder")
        },
    )
    .await;
    app.listing(
        &ada,
        Listing { downloads: 30, ratings: vec![3], ..Listing::agent("review-bot", "Review Bot") },
    )
    .await;
    app.listing(
        &ada,
        Listing { archived: true, downloads: 99, ..Listing::skill("old-helper", "Old Helper") },
    )
    .await;
    app.listing(
        &ada,
        Listing {
            versions: vec![],
            downloads: 98,
            ..Listing::skill("draft-helper", "Draft Helper")
        },
    )
    .await;
    ada
}

async fn list_shows_only_live_listings_in_contract_shape(app: TestApp) {
    small_catalog(&app).await;
    let res =
        app.client.get(format!("{}/v1/skills", app.base)).header("X-Request-Id", "client-id-1");
    let res = app.send(res).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("x-request-id"), Some("client-id-1"));
    assert_eq!(res.json["total"], 3);
    assert_eq!(res.json["limit"], 20);
    assert_eq!(res.json["offset"], 0);
    assert_eq!(res.slugs(), ["git-helper", "review-bot", "secret-finder"], "popular first");
    for item in res.json["items"].as_array().expect("items") {
        assert_summary(item);
    }
    let git = &res.json["items"][0];
    assert_eq!(git["rating_average"], 4.5);
    assert_eq!(git["rating_count"], 2);
    assert_eq!(git["version"], "1.0.0");
    assert_eq!(git["security_status"], "warn");
    assert_eq!(git["author"]["display_name_slug"], "ada-forge");
    assert_eq!(res.json["items"][2]["price_cents"], 900);
}

async fn filters_sorts_and_pages(app: TestApp) {
    small_catalog(&app).await;
    assert_eq!(app.get("/v1/skills?type=agent").await.slugs(), ["review-bot"]);
    assert_eq!(app.get("/v1/skills?type=skill").await.slugs(), ["git-helper", "secret-finder"]);
    assert_eq!(app.get("/v1/skills?category=security").await.slugs(), ["secret-finder"]);
    assert_eq!(app.get("/v1/skills?category=unknown-category").await.json["total"], 0);
    assert_eq!(app.get("/v1/skills?price=paid").await.slugs(), ["secret-finder"]);
    assert_eq!(app.get("/v1/skills?price=free").await.slugs(), ["git-helper", "review-bot"]);
    assert_eq!(
        app.get("/v1/skills?sort=price_desc").await.slugs()[0],
        "secret-finder",
        "dearest first"
    );
    assert_eq!(app.get("/v1/skills?sort=price_asc").await.slugs()[2], "secret-finder");
    assert_eq!(
        app.get("/v1/skills?sort=rating").await.slugs(),
        ["git-helper", "review-bot", "secret-finder"],
        "best rated first, unrated last"
    );
    assert_eq!(
        app.get("/v1/skills?sort=newest").await.slugs(),
        ["review-bot", "secret-finder", "git-helper"],
        "newest first"
    );
    let page = app.get("/v1/skills?limit=1&offset=1").await;
    assert_eq!(page.slugs(), ["review-bot"]);
    assert_eq!(
        (page.json["total"].as_i64(), page.json["limit"].as_i64(), page.json["offset"].as_i64()),
        (Some(3), Some(1), Some(1))
    );
    let past_end = app.get("/v1/skills?offset=1000").await;
    assert_eq!(past_end.status, 200);
    assert_eq!(past_end.json["items"], Value::Array(vec![]));
    assert_eq!(past_end.json["total"], 3);
}

async fn detail_has_versions_and_hides_unpublished(app: TestApp) {
    let ada = app.seller("Ada Forge").await;
    app.listing(
        &ada,
        Listing {
            versions: vec!["1.0.0".into(), "1.2.0".into(), "1.10.0".into()],
            ..Listing::skill("git-helper", "Git Helper")
        },
    )
    .await;
    small_catalog_extras(&app, &ada).await;
    let res = app.get("/v1/skills/git-helper").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_summary(&res.json);
    assert_eq!(res.json["name"], "Git Helper");
    assert_eq!(res.json["current_version"], "1.10.0");
    assert_eq!(res.json["version"], "1.10.0");
    assert_eq!(res.json["archived_at"], Value::Null);
    assert_eq!(res.json["long_description"], "Long text about Git Helper.");
    assert_eq!(res.json["security_score"], 8);
    assert_eq!(res.json["security_findings"][0]["severity"], "LOW");
    let versions = res.texts("/versions", "/version");
    assert_eq!(versions, ["1.10.0", "1.2.0", "1.0.0"], "numeric order, newest first");
    assert_eq!(res.json["versions"][0]["changelog"], "Changes in 1.10.0");
    assert_eq!(res.json["versions"][0]["security_status"], "warn");
    let platforms = res.json["platforms"].as_array().expect("platforms");
    assert!(platforms.contains(&Value::from("claude-code")));

    app.get("/v1/skills/old-helper").await.assert_coded(404, "SKILL_NOT_FOUND");
    app.get("/v1/skills/draft-helper").await.assert_coded(404, "SKILL_NOT_FOUND");
    app.get("/v1/skills/no-such-skill").await.assert_coded(404, "SKILL_NOT_FOUND");
    app.get("/v1/skills/Not_A_Slug").await.assert_coded(404, "SKILL_NOT_FOUND");
    app.get("/v1/detail/old-helper").await.assert_coded(404, "SKILL_NOT_FOUND");
}

async fn small_catalog_extras(app: &TestApp, owner: &str) {
    app.listing(owner, Listing { archived: true, ..Listing::skill("old-helper", "Old Helper") })
        .await;
    app.listing(
        owner,
        Listing { versions: vec![], ..Listing::skill("draft-helper", "Draft Helper") },
    )
    .await;
}

async fn agents_twins_force_the_type(app: TestApp) {
    small_catalog(&app).await;
    let agents = app.get("/v1/agents").await;
    assert_eq!(agents.status, 200);
    assert_eq!(agents.slugs(), ["review-bot"]);
    assert_eq!(app.get("/v1/agents?type=skill").await.slugs(), ["review-bot"], "type is forced");
    let agent = app.get("/v1/agents/review-bot").await;
    assert_eq!(agent.status, 200);
    assert_eq!(agent.json["type"], "agent");
    app.get("/v1/agents/git-helper").await.assert_coded(404, "SKILL_NOT_FOUND");
    let via_skills = app.get("/v1/skills/review-bot").await;
    assert_eq!(via_skills.json["type"], "agent");
    assert!(!app.get("/v1/skills?type=skill").await.slugs().contains(&"review-bot".to_owned()));
}

async fn unified_detail_counts_views(app: TestApp) {
    small_catalog(&app).await;
    let first = app.get("/v1/detail/git-helper").await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_summary(&first.json);
    for key in [
        "long_description",
        "current_version",
        "name",
        "security_score",
        "security_findings",
        "platforms",
        "archived_at",
        "versions",
        "author_display_name",
        "author_slug",
        "author_github",
        "author_avatar_url",
        "view_count",
        "created_at",
        "trust_level",
        "source_url",
        "ap_security_status",
        "ap_security_score",
        "ap_scan_hash",
        "ap_scanned_at",
    ] {
        assert!(first.json.get(key).is_some(), "{key} missing: {}", first.text);
    }
    assert_eq!(first.json["author_slug"], "ada-forge");
    assert_eq!(first.json["author_github"], "octo");
    assert_eq!(first.json["trust_level"], "verified");
    assert_eq!(first.json["source_url"], Value::Null);
    assert_eq!(first.json["ap_security_status"], "warn");
    assert_eq!(first.json["ap_scan_hash"], format!("sha256:{}", "cd".repeat(32)));
    assert_eq!(first.json["view_count"], 1);
    // A view counts once per visitor (user, or else client address) and day.
    let again = app.get("/v1/detail/git-helper?source=agentpowers").await;
    assert_eq!(again.json["view_count"], 1, "the same address again");
    let reader = app.cli_token("reader").await;
    let signed_in = app.get_as("/v1/detail/git-helper", &reader).await;
    assert_eq!(signed_in.json["view_count"], 2, "another visitor");
    // Views are written behind; a written batch and new views add up, and a visitor
    // already written is not counted again that day (by this or any instance).
    app.state.market().flush_counts().await.expect("flush");
    assert_eq!(app.get("/v1/detail/git-helper").await.json["view_count"], 2);
    assert_eq!(app.get_as("/v1/detail/git-helper", &reader).await.json["view_count"], 2);
    app.state.market().flush_counts().await.expect("flush");
    // Another instance does not know this visitor was counted (its answer may show the
    // view at once), but the written count never holds it twice.
    let beside = app.beside(None);
    assert_eq!(beside.get("/v1/detail/git-helper").await.status, 200);
    beside.state.market().flush_counts().await.expect("flush");
    assert_eq!(app.get("/v1/detail/git-helper").await.json["view_count"], 2);
    app.clock.advance(chrono::Duration::days(1));
    let third = app.get("/v1/detail/git-helper").await;
    assert_eq!(third.json["view_count"], 3, "the next day counts again");
    app.get("/v1/detail/git-helper?source=clawhub").await.assert_coded(404, "SKILL_NOT_FOUND");
}

async fn categories_count_live_listings(app: TestApp) {
    small_catalog(&app).await;
    let res = app.get("/v1/categories").await;
    assert_eq!(res.status, 200);
    let categories = res.json["categories"].as_array().expect("categories");
    let slugs: Vec<&str> =
        categories.iter().map(|c| c["category"].as_str().unwrap_or("")).collect();
    for expected in [
        "development",
        "productivity",
        "data",
        "security",
        "design",
        "marketing",
        "sales",
        "writing",
        "research",
        "devops",
        "testing",
        "code-agents",
        "automation-agents",
        "research-agents",
    ] {
        assert!(slugs.contains(&expected), "{expected} seeded");
    }
    let count =
        |slug: &str| categories.iter().find(|c| c["category"] == slug).map(|c| c["count"].clone());
    assert_eq!(count("development"), Some(Value::from(1)), "archived and drafts not counted");
    assert_eq!(count("security"), Some(Value::from(1)));
    assert_eq!(count("code-agents"), Some(Value::from(1)));
    assert_eq!(res.json["total_count"], 3);
    let first = &categories[0];
    for key in ["name", "description", "icon", "sample_keywords"] {
        assert!(first.get(key).is_some(), "{key}");
    }
    // One comma-separated string, as the hosted API sends it and the plugins read it.
    let keywords = first["sample_keywords"].as_str().expect("sample_keywords is a string");
    assert!(keywords.contains(", ") && !keywords.contains('['), "{keywords}");

    let text = app
        .send(app.client.get(format!("{}/v1/categories", app.base)).header("Accept", "text/plain"))
        .await;
    assert_eq!(text.status, 200);
    assert!(text.header("content-type").is_some_and(|ct| ct.starts_with("text/plain")));
    assert!(text.text.lines().any(|l| l.starts_with("development\t1\t")), "{}", text.text);
    assert_eq!(text.text.lines().count(), categories.len());
}

async fn platforms_and_health(app: TestApp) {
    let res = app.get("/v1/platforms").await;
    assert_eq!(res.status, 200);
    let ids = res.texts("/platforms", "/id");
    for id in ["claude-code", "claude-desktop", "codex", "gemini", "kiro", "cursor", "windsurf"] {
        assert!(ids.iter().any(|i| i == id), "{id}");
    }
    let health = app.get("/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(
        health.json,
        serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
    );
    assert!(health.header("x-request-id").is_some());
    let head = app.send(app.client.head(format!("{}/v1/skills", app.base))).await;
    assert_eq!(head.status, 200);
    assert!(head.text.is_empty());
}

/// The stored detail of `slug`, if it has one.
async fn stored(app: &TestApp, slug: &'static str) -> Option<String> {
    let format = ap_market::documents::format();
    app.db().run(move |c| documents::body(c, slug, None, format)).await.expect("document")
}

/// A detail served from its stored document is, byte for byte and header for header,
/// what the join answers; a change drops the document in its own transaction, so the
/// next answer shows it even before the document is rebuilt.
async fn stored_details_answer_what_the_join_answers(app: TestApp) {
    let ada = small_catalog(&app).await;
    let versions = vec!["1.0.0".into(), "1.2.0".into(), "1.10.0".into()];
    let id =
        app.listing(&ada, Listing { versions, ..Listing::skill("multi-helper", "Multi") }).await;
    app.state.market().build_documents(true).await.expect("build");
    assert_eq!(stored(&app, "old-helper").await, None, "only live listings have documents");
    assert_eq!(stored(&app, "draft-helper").await, None);
    let slugs = ["multi-helper", "git-helper", "secret-finder", "review-bot"];
    let paths = slugs.map(|slug| match slug {
        "review-bot" => format!("/v1/agents/{slug}"),
        _ => format!("/v1/skills/{slug}"),
    });
    let mut from_documents = Vec::new();
    for path in &paths {
        from_documents.push(app.get(path).await);
    }
    let document = stored(&app, "multi-helper").await.expect("a document");
    assert_eq!(document, from_documents[0].text, "served as stored");
    app.get("/v1/agents/git-helper").await.assert_coded(404, "SKILL_NOT_FOUND");
    ap_store::testing::rewrite_document(app.db(), "multi-helper", r#"{"marked":true}"#);
    app.state.market().catalog_changed().await;
    let marked = app.get("/v1/skills/multi-helper").await;
    assert_eq!(marked.text, r#"{"marked":true}"#, "the route serves the stored document");
    let head = app.send(app.client.head(format!("{}/v1/skills/multi-helper", app.base))).await;
    assert_eq!((head.status, head.text.as_str()), (200, ""));
    assert_eq!(head.header("content-type"), Some("application/json"));

    // Without their documents (and not due, so nothing rebuilds them), and with the
    // caches dropped, the same details come from the join.
    let ids = app
        .db()
        .run(move |c| {
            let ids: Result<Vec<_>, _> =
                slugs.into_iter().map(|slug| moderation::listing_id_by_slug(c, slug)).collect();
            ids.map(|ids| ids.into_iter().flatten().collect::<Vec<String>>())
        })
        .await
        .expect("ids");
    ap_store::testing::forget_documents(
        app.db(),
        &ids.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    app.state.market().catalog_changed().await;
    for (path, stored) in paths.iter().zip(&from_documents) {
        let joined = app.get(path).await;
        assert_eq!((joined.status, &joined.text), (200, &stored.text), "{path}");
        assert_eq!(joined.header("content-type"), stored.header("content-type"), "{path}");
        assert_eq!(stored.header("content-type"), Some("application/json"));
    }
    assert_eq!(stored(&app, "multi-helper").await, None, "answered by the join");
    assert_eq!(from_documents[0].texts("/versions", "/version"), ["1.10.0", "1.2.0", "1.0.0"]);

    // A change is shown at once, and the next follow stores its document.
    retitle(&app, &id, "Multi Wizard").await;
    app.state.market().build_documents(true).await.expect("build");
    let rebuilt = stored(&app, "multi-helper").await.expect("rebuilt");
    assert!(rebuilt.contains("Multi Wizard"), "{rebuilt}");
    assert_eq!(app.get("/v1/skills/multi-helper").await.text, rebuilt);
    retitle(&app, &id, "Multi Sage").await;
}

/// Retitles a listing in the store (as an operator would), then checks the detail shows
/// it at once: the change dropped the listing's document (the follower may have stored
/// the new one since, never the old).
async fn retitle(app: &TestApp, id: &str, title: &'static str) {
    let changes =
        publish::ListingFieldChanges { title: Some(title.to_owned()), ..Default::default() };
    let now = chrono::Utc::now().naive_utc();
    let id = id.to_owned();
    app.db().run(move |c| publish::update_listing(c, &id, &changes, now)).await.expect("retitle");
    let document = stored(app, "multi-helper").await;
    assert!(document.as_ref().is_none_or(|d| d.contains(title)), "{document:?}");
    app.state.market().catalog_changed().await;
    assert_eq!(app.get("/v1/skills/multi-helper").await.json["title"], title);
}

both_backends!(
    stored_details_answer_what_the_join_answers,
    list_shows_only_live_listings_in_contract_shape,
    filters_sorts_and_pages,
    detail_has_versions_and_hides_unpublished,
    agents_twins_force_the_type,
    unified_detail_counts_views,
    categories_count_live_listings,
    platforms_and_health,
);
