//! `search::ranked`: the FTS5/bm25 arm and the tsvector/ts_rank arm answer alike.

use ap_domain::listing::{CatalogFilter, ListingType};
use ap_domain::search::terms;
use ap_store::Db;
use ap_store::search::{Ranked, ranked};

use crate::both_backends;
use crate::fixtures::{Spec, listings, user};

fn search(db: &Db, query: &str, filter: &CatalogFilter, window: i64) -> Ranked {
    let terms = terms(query);
    db.run_blocking(|c| ranked(c, &terms, filter, window)).expect("search")
}

fn catalog(db: &Db) -> Vec<String> {
    let owner = user(db, "Rita Reviewer");
    listings(
        db,
        &owner,
        &[
            Spec::skill("commit-tool", "Commit tool", "Helps review code before a commit."),
            Spec::skill("review-helper", "Review helper", "Reads a diff and comments on it."),
            Spec {
                kind: ListingType::Agent,
                category: "testing",
                downloads: 50,
                ..Spec::skill("review-agent", "Review agent", "An agent that reviews changes.")
            },
            Spec { draft: true, ..Spec::skill("review-draft", "Review draft", "Not live yet.") },
            Spec { archived: true, ..Spec::skill("review-old", "Review old", "Unpublished.") },
        ],
    )
}

/// Title matches outrank description matches; drafts and unpublished listings never
/// match; ties go to the more popular listing.
fn titles_rank_first_and_only_live_listings_match(db: &Db) {
    let ids = catalog(db);
    let found = search(db, "review", &CatalogFilter::default(), 100);
    assert_eq!(found.total, 3, "{found:?}");
    assert_eq!(found.ids[2], ids[0], "the description match comes last");
    assert_eq!(found.ids[0], ids[2], "equal titles: the more downloaded first");
    assert_eq!(found.ids[1], ids[1]);
}

/// Every term is a prefix, and all are required.
fn terms_match_as_prefixes_and_all_are_required(db: &Db) {
    let ids = catalog(db);
    assert_eq!(search(db, "revi", &CatalogFilter::default(), 100).total, 3);
    let both = search(db, "review befo", &CatalogFilter::default(), 100);
    assert_eq!((both.ids.as_slice(), both.total), (&ids[..1], 1), "{both:?}");
    assert_eq!(search(db, "zzz", &CatalogFilter::default(), 100), Ranked { ids: vec![], total: 0 });
}

/// Type and category filters narrow the window and the total alike; a window smaller
/// than the matches still counts them all.
fn filters_and_windows_agree_with_the_total(db: &Db) {
    let ids = catalog(db);
    let agents = CatalogFilter { listing_type: Some(ListingType::Agent), ..Default::default() };
    assert_eq!(search(db, "review", &agents, 100), Ranked { ids: vec![ids[2].clone()], total: 1 });
    let testing = CatalogFilter { category: Some("testing".to_owned()), ..Default::default() };
    assert_eq!(search(db, "review", &testing, 100).total, 1);
    let skills = CatalogFilter { listing_type: Some(ListingType::Skill), ..Default::default() };
    let window = search(db, "review", &skills, 1);
    assert_eq!((window.ids.len(), window.total), (1, 2), "{window:?}");
    let window = search(db, "review", &CatalogFilter::default(), 2);
    assert_eq!((window.ids.len(), window.total), (2, 3), "{window:?}");
}

/// Changes of the listing reach the index (triggers on SQLite, the generated column on
/// PostgreSQL).
fn the_index_follows_changes(db: &Db) {
    let ids = catalog(db);
    let changes = ap_store::publish::ListingFieldChanges {
        title: Some("Zephyr formatter".to_owned()),
        ..Default::default()
    };
    let now = chrono::Utc::now().naive_utc();
    db.run_blocking(|c| ap_store::publish::update_listing(c, &ids[1], &changes, now))
        .expect("update");
    assert_eq!(search(db, "zephyr", &CatalogFilter::default(), 10).ids, [ids[1].clone()]);
    db.run_blocking(|c| ap_store::publish::archive_listing(c, &ids[1], now).map(drop))
        .expect("archive");
    assert_eq!(search(db, "zephyr", &CatalogFilter::default(), 10).total, 0);
}

both_backends!(
    titles_rank_first_and_only_live_listings_match,
    terms_match_as_prefixes_and_all_are_required,
    filters_and_windows_agree_with_the_total,
    the_index_follows_changes,
);
