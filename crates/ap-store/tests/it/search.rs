//! What the search index is built from: live listings with their authors' names, and the
//! change log the triggers write in the transaction of every catalog change.

use ap_domain::listing::ListingType;
use ap_store::Db;
use ap_store::search::{self, Change};
use ap_store::usage::{self, CountDelta};
use ap_store::users::{self, ProfileChanges};

use crate::both_backends;
use crate::fixtures::{Spec, listings, user};

fn catalog(db: &Db) -> (String, Vec<String>) {
    let owner = user(db, "Rita Reviewer");
    let ids = listings(
        db,
        &owner,
        &[
            Spec::skill("commit-tool", "Commit tool", "Helps review code before a commit."),
            Spec {
                kind: ListingType::Agent,
                category: "testing",
                downloads: 50,
                ..Spec::skill("review-agent", "Review agent", "An agent that reviews changes.")
            },
            Spec { draft: true, ..Spec::skill("review-draft", "Review draft", "Not live yet.") },
            Spec { archived: true, ..Spec::skill("review-old", "Review old", "Unpublished.") },
        ],
    );
    (owner, ids)
}

fn changes_after(db: &Db, after: i64) -> Vec<Change> {
    db.run_blocking(|c| search::changes_after(c, after, 100)).expect("changes")
}

fn latest(db: &Db) -> i64 {
    db.run_blocking(search::latest_change).expect("latest").unwrap_or(0)
}

/// A rebuild reads live listings only, in id order and in pages, with the author's name.
fn live_rows_are_the_live_listings_with_their_authors(db: &Db) {
    let (_, ids) = catalog(db);
    let mut live: Vec<String> = ids[..2].to_vec();
    live.sort();
    let first = db.run_blocking(|c| search::live_index_rows(c, None, 1)).expect("page");
    let rest = db
        .run_blocking(|c| search::live_index_rows(c, Some(&first[0].listing.id), 10))
        .expect("page");
    let read: Vec<&str> = first.iter().chain(&rest).map(|r| r.listing.id.as_str()).collect();
    assert_eq!(read, live);
    let agent = &rest.iter().chain(&first).find(|r| r.listing.id == ids[1]).expect("agent").listing;
    assert_eq!(
        (agent.author.as_str(), agent.listing_type, agent.category.as_str(), agent.popularity),
        ("Rita Reviewer", ListingType::Agent, "testing", 50)
    );
    let rows = db.run_blocking(|c| search::index_rows(c, &[&ids[0], &ids[3], "missing"]));
    let live: Vec<(String, bool)> =
        rows.expect("rows").into_iter().map(|r| (r.listing.id, r.live)).collect();
    assert!(live.contains(&(ids[0].clone(), true)) && live.contains(&(ids[3].clone(), false)));
    assert_eq!(live.len(), 2);
}

/// Edits, unpublishing, counts and an author's new name each leave an entry; counts are
/// told apart from content.
fn every_catalog_change_is_logged(db: &Db) {
    let (owner, ids) = catalog(db);
    let before = latest(db);
    assert!(before >= ids.len() as i64, "inserts are logged");
    let now = chrono::Utc::now().naive_utc();
    let changes = ap_store::publish::ListingFieldChanges {
        title: Some("Zephyr formatter".to_owned()),
        ..Default::default()
    };
    db.run_blocking(|c| ap_store::publish::update_listing(c, &ids[0], &changes, now))
        .expect("update");
    let logged = changes_after(db, before);
    assert_eq!(
        logged.iter().map(|c| (c.listing_id.as_str(), c.is_content())).collect::<Vec<_>>(),
        [(ids[0].as_str(), true)]
    );

    let before = latest(db);
    let delta = CountDelta { downloads: 2, views: 0 };
    db.run_blocking(|c| usage::add_counts(c, &[(ids[1].clone(), delta)])).expect("counts");
    let logged = changes_after(db, before);
    assert!(!logged.is_empty() && logged.iter().all(|c| c.listing_id == ids[1] && !c.is_content()));

    let before = latest(db);
    db.run_blocking(|c| {
        users::update_profile(c, &owner, Some("Rita Renamed"), &ProfileChanges::default(), now)
    })
    .expect("rename");
    let mut renamed: Vec<String> =
        changes_after(db, before).into_iter().map(|c| c.listing_id).collect();
    renamed.sort();
    let mut all = ids.clone();
    all.sort();
    assert_eq!(renamed, all, "every listing of the author");

    let before = latest(db);
    db.run_blocking(|c| ap_store::publish::archive_listing(c, &ids[0], now).map(drop))
        .expect("archive");
    assert_eq!(changes_after(db, before).len(), 1);
}

/// Pruning keeps the newest entries; gaps are asked for by id.
fn the_log_prunes_and_answers_gaps(db: &Db) {
    catalog(db);
    let newest = latest(db);
    let removed = db.run_blocking(|c| search::prune_changes(c, newest)).expect("prune");
    assert_eq!(removed as i64, newest - 1);
    assert_eq!(db.run_blocking(search::oldest_change).expect("oldest"), Some(newest));
    let among = db.run_blocking(|c| search::changes_among(c, &[1, newest])).expect("among");
    assert_eq!(among.iter().map(|c| c.id).collect::<Vec<_>>(), [newest]);
}

both_backends!(
    live_rows_are_the_live_listings_with_their_authors,
    every_catalog_change_is_logged,
    the_log_prunes_and_answers_gaps,
);
