//! Search stories: the sectioned shape, ranking, filters, hostile queries.

use serde_json::json;

use crate::both_backends;
use crate::support::{Listing, TestApp};

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
    ] {
        let res = app.get(&format!("/v1/search?q={q}")).await;
        assert_eq!(res.status, 200, "q={q}: {}", res.text);
        assert!(res.json["agentpowers"]["items"].is_array(), "q={q}");
    }
    assert_eq!(app.get("/v1/search?q=git%22").await.slugs().len(), 4, "quotes are not syntax");
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
    app.state.market().invalidate_caches();
    assert!(!app.get("/v1/search?q=branch").await.slugs().contains(&"branch-cleaner".to_owned()));
    assert!(!app.get("/v1/skills").await.slugs().contains(&"branch-cleaner".to_owned()));
}

both_backends!(
    answers_one_section_per_source_and_ranks_title_first,
    prefixes_filters_and_pages,
    hostile_queries_are_answered,
    archiving_removes_from_results,
);
