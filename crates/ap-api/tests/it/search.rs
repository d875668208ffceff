//! Search stories: the sectioned shape, ranking, typos and words being typed, filters
//! and paging, hostile queries, and several instances over one database.

use reqwest::Method;
use serde_json::json;

use crate::both_backends;
use crate::support::{Listing, TestApp, skill_package};

async fn catalog(app: &TestApp) {
    let ada = app.seller("Ada Forge").await;
    let bob = app.seller("Bob Gitter").await;
    app.listing(
        &ada,
        Listing {
            description: "Reviews code for everyday work.",
            downloads: 500,
            ..Listing::skill("code-reviewer", "Code Reviewer")
        },
    )
    .await;
    app.listing(
        &ada,
        Listing {
            description: "Writes commit messages with git.",
            downloads: 10,
            ..Listing::skill("commit-writer", "Commit Writer")
        },
    )
    .await;
    app.listing(
        &ada,
        Listing {
            description: "Everything about branches.",
            downloads: 1,
            ..Listing::skill("git-branches", "Git Branch Tidier")
        },
    )
    .await;
    app.listing(
        &ada,
        Listing {
            description: "Agent that reviews git history.",
            ..Listing::agent("history-agent", "History Agent")
        },
    )
    .await;
    app.listing(
        &bob,
        Listing { description: "Plans your day.", ..Listing::skill("day-planner", "Day Planner") },
    )
    .await;
    app.listing(
        &ada,
        Listing {
            archived: true,
            description: "Old git tool.",
            ..Listing::skill("git-old", "Git Old")
        },
    )
    .await;
}

async fn answers_one_section_per_source_and_ranks_title_first(app: TestApp) {
    catalog(&app).await;
    let res = app.get("/v1/search?q=git").await;
    assert_eq!(res.status, 200, "{}", res.text);
    let keys: Vec<&String> = res.json.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["agentpowers"], "only source sections at the top level");
    let section = &res.json["agentpowers"];
    assert_eq!(section["limit"], 20);
    assert_eq!(section["offset"], 0);
    let slugs = res.slugs();
    assert_eq!(slugs[0], "git-branches", "a title match ranks first: {slugs:?}");
    assert!(slugs.contains(&"commit-writer".to_owned()), "description matches: {slugs:?}");
    assert!(slugs.contains(&"history-agent".to_owned()));
    assert!(slugs.contains(&"day-planner".to_owned()), "author name matches: {slugs:?}");
    assert!(!slugs.contains(&"git-old".to_owned()), "archived listings are not found");
    assert!(!slugs.contains(&"code-reviewer".to_owned()));
    assert_eq!(section["total"], slugs.len());
    for item in section["items"].as_array().expect("items") {
        assert!(item["price_cents"].is_i64());
        assert!(item["security_status"].is_string());
        assert_eq!(item["source"], "agentpowers");
    }
}

async fn prefixes_filters_and_pages(app: TestApp) {
    catalog(&app).await;
    assert_eq!(
        app.get("/v1/search?q=revi").await.slugs(),
        ["code-reviewer", "history-agent"],
        "prefix match, popularity breaks ties"
    );
    assert_eq!(app.get("/v1/search?q=git&type=agent").await.slugs(), ["history-agent"]);
    assert_eq!(
        app.get("/v1/search?q=git+commit").await.slugs(),
        ["commit-writer"],
        "every term must match"
    );
    assert_eq!(app.get("/v1/search?q=git&category=code-agents").await.slugs(), ["history-agent"]);
    let page = app.get("/v1/search?q=git&limit=1&offset=1").await;
    assert_eq!(page.slugs().len(), 1);
    assert_eq!(page.json["agentpowers"]["total"], 4);
    let empty = app.get("/v1/search?q=").await;
    assert_eq!(empty.slugs(), app.get("/v1/skills").await.slugs(), "empty q lists the catalog");
    let absent = app.get("/v1/search").await;
    assert_eq!(absent.json["agentpowers"]["total"], 5);
    assert_eq!(app.get("/v1/search?q=zzzzzz").await.json["agentpowers"]["total"], 0);
}

async fn hostile_queries_are_answered(app: TestApp) {
    catalog(&app).await;
    for q in [
        "%22",
        "*",
        "NEAR(",
        "notes-web-54321",
        "git%22+OR+%22x",
        "a:b",
        "(",
        "^",
        "git*",
        "-git",
        "%27%3B+DROP+TABLE+listings%3B--",
        "%F0%9F%92%A9",
        "git+AND+NOT",
        "%E6%97%A5%E6%9C%AC%E8%AA%9E",
        "%CE%95%CE%BB%CE%BB%CE%B7%CE%BD%CE%B9%CE%BA%CE%AC",
        "%D8%B9%D8%B1%D8%A8%D9%8A",
        "git~2",
        "title:git",
        "%5C%5C%5C",
    ] {
        let res = app.get(&format!("/v1/search?q={q}")).await;
        assert_eq!(res.status, 200, "q={q}: {}", res.text);
        assert!(res.json["agentpowers"]["items"].is_array(), "q={q}");
    }
    assert_eq!(app.get("/v1/search?q=git%22").await.slugs().len(), 4, "quotes are not syntax");
    let punctuation: String =
        "!\"#$%&'()*+,-./:;<=>?@[]^_`{|}~".chars().cycle().take(200).collect();
    let res = app.client.get(format!("{}/v1/search", app.base)).query(&[("q", &punctuation)]);
    let res = app.send(res).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json["agentpowers"]["total"], 5, "no words: the whole catalog");
    let long = "a".repeat(500);
    app.get(&format!("/v1/search?q={long}")).await.assert_invalid(&["q"]);
    assert_eq!(app.get(&format!("/v1/search?q={}", "a".repeat(200))).await.status, 200);
    // A source this server does not have answers its own section, empty.
    let res = app.get("/v1/search?q=git&source=clawhub").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json, json!({"clawhub": {"items": [], "total": 0, "limit": 20, "offset": 0}}));
    app.get("/v1/search?q=git&source=no%20such%20thing").await.assert_invalid(&["source"]);
    app.get("/v1/search?q=git&type=foo&limit=0").await.assert_invalid(&["type", "limit"]);
}

async fn typos_and_words_being_typed(app: TestApp) {
    catalog(&app).await;
    assert_eq!(app.get("/v1/search?q=revie").await.slugs(), ["code-reviewer", "history-agent"]);
    assert_eq!(app.get("/v1/search?q=reveiw").await.slugs(), ["code-reviewer", "history-agent"]);
    assert_eq!(
        app.get("/v1/search?q=code+reviewr").await.slugs(),
        ["code-reviewer", "history-agent"],
        "the title match first; the agent's category says code and it reviews"
    );
    assert_eq!(
        app.get("/v1/search?q=comit+writer").await.slugs(),
        ["commit-writer"],
        "short words need no typo"
    );
    assert!(app.get("/v1/search?q=brnach").await.slugs().contains(&"git-branches".to_owned()));
    assert_eq!(
        app.get("/v1/search?q=gti").await.json["agentpowers"]["total"],
        0,
        "three letters: exact"
    );
}

/// Walking a query's pages one listing at a time meets every match once, and as many
/// as `total` says, with any filter.
async fn pages_agree_with_the_total(app: TestApp) {
    catalog(&app).await;
    for query in ["git", "git&type=skill", "revi&category=code-agents", "e"] {
        let first = app.get(&format!("/v1/search?q={query}")).await;
        let total = first.json["agentpowers"]["total"].as_u64().expect("total");
        let mut walked = Vec::new();
        for offset in 0..total + 1 {
            walked.extend(
                app.get(&format!("/v1/search?q={query}&limit=1&offset={offset}")).await.slugs(),
            );
        }
        assert_eq!(walked, first.slugs(), "q={query}");
        assert_eq!(walked.len() as u64, total, "q={query}");
    }
}

/// A search ranks only the window its page needs (the first page's 20, then 100): pages
/// served from different windows still follow one order, meeting every match once.
async fn pages_across_ranked_windows_follow_one_order(app: TestApp) {
    let ada = app.seller("Ada Forge").await;
    for i in 0..25_i64 {
        // `Listing` holds static text, as its fixtures are literals.
        let slug: &'static str = format!("zeta-tool-{i}").leak();
        let listing = Listing {
            description: "A zeta helper.",
            // Pairs of equal popularity, so ties are broken too.
            downloads: i / 2,
            ..Listing::skill(slug, "Zeta Tool")
        };
        app.listing(&ada, listing).await;
    }
    let all = app.get("/v1/search?q=zeta&limit=100").await;
    assert_eq!(all.json["agentpowers"]["total"], 25);
    let order = all.slugs();
    assert_eq!(order.len(), 25);
    assert_eq!(order[0], "zeta-tool-24", "the most popular first");
    let mut walked = Vec::new();
    for offset in 0..25 {
        walked.extend(app.get(&format!("/v1/search?q=zeta&limit=1&offset={offset}")).await.slugs());
    }
    assert_eq!(walked, order, "one listing per page, across the 20 → 100 boundary");
    let second = app.get("/v1/search?q=zeta&limit=20&offset=20").await;
    assert_eq!(second.slugs(), order[20..], "the second page of 20, from the 100 window");
    assert_eq!(second.json["agentpowers"]["total"], 25);
}

async fn archiving_removes_from_results(app: TestApp) {
    catalog(&app).await;
    assert!(app.get("/v1/search?q=branch").await.slugs().contains(&"git-branches".to_owned()));
    let id = {
        let ada = app.seller("Carol").await;
        app.listing(&ada, Listing::skill("branch-cleaner", "Branch Cleaner")).await
    };
    assert!(
        app.get("/v1/search?q=branch").await.slugs().contains(&"branch-cleaner".to_owned()),
        "new listings show at once"
    );
    app.db()
        .run(move |c| ap_store::publish::archive_listing(c, &id, chrono::Utc::now().naive_utc()))
        .await
        .expect("archive");
    app.state.market().catalog_changed().await;
    assert!(!app.get("/v1/search?q=branch").await.slugs().contains(&"branch-cleaner".to_owned()));
    assert!(!app.get("/v1/skills").await.slugs().contains(&"branch-cleaner".to_owned()));
}

/// A listing published, renamed or unpublished through one instance is found, or no
/// longer found, by another instance's search as soon as that instance follows the
/// change log, which it does every `FOLLOW_INTERVAL` (a fifth of a second); answers it
/// had cached are dropped with it.
async fn another_instance_follows_the_change_log(app: TestApp) {
    catalog(&app).await;
    let other = app.beside(None);
    assert_eq!(other.get("/v1/search?q=zebra").await.json["agentpowers"]["total"], 0);
    assert_eq!(other.get("/v1/search?q=branch").await.slugs(), ["git-branches"]);
    let token = app.publisher_token("zed", "Zed Zebra").await;
    let auth = Some(token.as_str());
    let skill = json!({
        "slug": "zebra-stripes", "title": "Zebra stripes", "category": "development",
        "description": "Draws branch diagrams.", "type": "skill", "price_cents": 0
    });
    let created = app.json(Method::POST, "/v1/skills", auth, skill).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let package = skill_package("zebra-stripes", "Draw the branches as stripes.");
    let res = app.upload("/v1/skills/zebra-stripes/upload", auth, "file", package).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(app.get("/v1/search?q=zebra").await.slugs(), ["zebra-stripes"], "at once here");
    other.state.market().follow_catalog().await.expect("follow");
    assert_eq!(other.get("/v1/search?q=zebra").await.slugs(), ["zebra-stripes"], "there too");
    assert_eq!(other.get("/v1/search?q=branch").await.slugs().len(), 2, "cached answer dropped");
    let gone = app.post_as("/v1/skills/zebra-stripes/unpublish", &token).await;
    assert_eq!(gone.status, 200, "{}", gone.text);
    other.state.market().follow_catalog().await.expect("follow");
    assert_eq!(other.get("/v1/search?q=zebra").await.json["agentpowers"]["total"], 0);
    assert_eq!(ap_market::indexer::FOLLOW_INTERVAL, std::time::Duration::from_millis(200));
}

/// An instance starting over a deleted index folder, or over one left stale by an
/// earlier run, builds its index again from the database.
async fn a_deleted_or_stale_index_is_rebuilt_on_start(app: TestApp) {
    catalog(&app).await;
    let folder = tempfile::tempdir().expect("folder");
    let (deleted, stale) = (folder.path().join("deleted"), folder.path().join("stale"));
    for dir in [&deleted, &stale] {
        let earlier = ap_search::SearchIndex::create(Some(dir)).expect("an earlier index");
        let mut update = earlier.update().expect("writer");
        update
            .upsert(&ap_search::SearchableListing {
                id: uuid::Uuid::new_v4().to_string(),
                listing_type: ap_domain::listing::ListingType::Skill,
                category: "development".to_owned(),
                price_cents: 0,
                title: "Ghost git tool".to_owned(),
                description: String::new(),
                long_description: String::new(),
                author: String::new(),
                popularity: 0,
            })
            .expect("upsert");
        update.commit().expect("commit");
    }
    std::fs::remove_dir_all(&deleted).expect("deleted while stopped");
    for dir in [deleted, stale] {
        let instance = app.beside(Some(dir.clone()));
        instance.state.market().follow_catalog().await.expect("build");
        assert_eq!(instance.state.market().indexed_listings(), 5, "{}", dir.display());
        assert!(dir.is_dir());
        let found = instance.get("/v1/search?q=git").await;
        assert_eq!(found.json["agentpowers"]["total"], 4, "{}", found.text);
    }
}

both_backends!(
    answers_one_section_per_source_and_ranks_title_first,
    prefixes_filters_and_pages,
    typos_and_words_being_typed,
    pages_agree_with_the_total,
    pages_across_ranked_windows_follow_one_order,
    hostile_queries_are_answered,
    archiving_removes_from_results,
    another_instance_follows_the_change_log,
    a_deleted_or_stale_index_is_rebuilt_on_start,
);
