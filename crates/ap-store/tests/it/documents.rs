//! Stored listing details: what a builder reads and writes, and the triggers that mark a
//! listing due (its document out of service) in the transaction of every change it shows.

use std::sync::mpsc;

use ap_domain::listing::ListingType;
use ap_store::catalog::{self, DetailParts};
use ap_store::documents;
use ap_store::usage::{self, CountDelta};
use ap_store::users::{self, ProfileChanges};
use ap_store::{Conn, Db, StoreError, publish, write_tx};

use crate::both_backends;
use crate::fixtures::{Spec, listings, user};

fn catalog(db: &Db) -> (String, Vec<String>) {
    let owner = user(db, "Dora Documents");
    let ids = listings(
        db,
        &owner,
        &[
            Spec::skill("commit-tool", "Commit tool", "Helps before a commit."),
            Spec {
                kind: ListingType::Agent,
                ..Spec::skill("review-agent", "Review agent", "Reviews changes.")
            },
            Spec { draft: true, ..Spec::skill("draft-tool", "Draft tool", "Not live yet.") },
            Spec { archived: true, ..Spec::skill("old-tool", "Old tool", "Unpublished.") },
        ],
    );
    (owner, ids)
}

/// Settles every due listing as the server's builder does, with a document naming the
/// listing's title and its number of live versions.
fn build(db: &Db) -> usize {
    build_in(db, FORMAT)
}

/// The format the stories' builder writes.
const FORMAT: &str = "f1";

fn build_in(db: &Db, format: &str) -> usize {
    let render = |p: &DetailParts| Ok(format!("{}/{}", p.card.title, p.versions.len()));
    db.run_blocking(|c| documents::build_due(c, format, render, None)).expect("build")
}

fn stored(db: &Db, slug: &str, kind: Option<ListingType>) -> Option<String> {
    db.run_blocking(|c| documents::body(c, slug, kind, FORMAT)).expect("document")
}

fn due(db: &Db) -> Vec<String> {
    db.run_blocking(|c| documents::due(c, 100)).expect("due")
}

/// Live listings get a document, found by slug (and type); drafts and unpublished
/// listings do not; building settles everything due.
fn documents_are_built_for_live_listings(db: &Db) {
    let (_, ids) = catalog(db);
    let mut all = ids.clone();
    all.sort();
    assert_eq!(due(db), all, "a new listing is due");
    assert_eq!(build(db), 4);
    assert!(!db.run_blocking(documents::any_due).expect("any due"));
    assert_eq!(stored(db, "commit-tool", None).as_deref(), Some("Commit tool/1"));
    assert_eq!(
        stored(db, "review-agent", Some(ListingType::Agent)).as_deref(),
        Some("Review agent/1")
    );
    assert_eq!(stored(db, "commit-tool", Some(ListingType::Agent)), None, "of another type");
    assert_eq!(stored(db, "draft-tool", None), None);
    assert_eq!(stored(db, "old-tool", None), None);
    assert_eq!(build(db), 0, "nothing left to do");

    // Documents another build wrote are not served, and become due again.
    let other = db.run_blocking(|c| documents::body(c, "commit-tool", None, "f2"));
    assert_eq!(other.expect("document"), None, "not in this format");
    assert_eq!(db.run_blocking(|c| documents::mark_stale(c, FORMAT)).expect("sweep"), 0);
    assert_eq!(db.run_blocking(|c| documents::mark_stale(c, "f2")).expect("sweep"), 2);
    assert_eq!(build_in(db, "f2"), 2);
    let rebuilt = db.run_blocking(|c| documents::body(c, "commit-tool", None, "f2"));
    assert_eq!(rebuilt.expect("document").as_deref(), Some("Commit tool/1"));
    assert_eq!(stored(db, "commit-tool", None), None, "the old format is gone");

    let asked = [ids[1].as_str(), "missing", ids[0].as_str()];
    let parts = db.run_blocking(|c| catalog::details_by_ids(c, &asked)).expect("details");
    let mut expected = vec![ids[0].clone(), ids[1].clone()];
    expected.sort();
    let found: Vec<String> = parts.iter().map(|p| p.card.id.to_string()).collect();
    assert_eq!(found, expected, "by id, the missing one skipped");
    assert!(parts.iter().all(|p| p.versions.len() == 1 && p.author.display_name.is_some()));
}

/// Runs `change`, then checks it took the document of `slug` out of service (marked it
/// due), and that the next build stores it again (or not, when it is no longer live).
fn drops(db: &Db, slug: &str, change: impl FnOnce(&mut Conn) -> Result<(), StoreError>) {
    assert!(stored(db, slug, None).is_some(), "{slug} has a document before");
    db.run_blocking(change).expect("change");
    assert_eq!(
        stored(db, slug, None),
        None,
        "the change took the document of {slug} out of service"
    );
    let id = db.run_blocking(|c| ap_store::moderation::listing_id_by_slug(c, slug));
    let id = id.expect("id").expect("listing");
    assert!(due(db).contains(&id), "and marked {slug} due");
    build(db);
}

/// Every kind of change a detail shows takes the document out of service in its own
/// transaction: the listing's fields, its counts, its versions, its author, unpublishing.
fn every_change_drops_the_document(db: &Db) {
    let (owner, ids) = catalog(db);
    build(db);
    let now = chrono::Utc::now().naive_utc();

    drops(db, "commit-tool", |c| {
        let title = publish::ListingFieldChanges {
            title: Some("Commit helper".to_owned()),
            ..Default::default()
        };
        publish::update_listing(c, &ids[0], &title, now)
    });
    assert_eq!(stored(db, "commit-tool", None).as_deref(), Some("Commit helper/1"));

    drops(db, "commit-tool", |c| {
        usage::add_counts(c, &[(ids[0].clone(), CountDelta { downloads: 3, views: 0 })])
    });

    drops(db, "commit-tool", |c| {
        let version = &publish::versions(c, &ids[0])?[0];
        ap_store::moderation::set_version_quarantine(c, version.id.as_str(), Some(now)).map(drop)
    });
    assert_eq!(stored(db, "commit-tool", None).as_deref(), Some("Commit helper/0"));

    drops(db, "review-agent", |c| {
        users::update_profile(
            c,
            &owner,
            None,
            &ProfileChanges {
                bio: Some(Some("Writes docs.".to_owned())),
                ..ProfileChanges::default()
            },
            now,
        )
        .map(drop)
    });
    assert!(stored(db, "commit-tool", None).is_some(), "every listing of the author is rebuilt");
    drops(db, "commit-tool", |c| {
        let renamed = ProfileChanges::default();
        users::update_profile(c, &owner, Some("Dora Renamed"), &renamed, now).map(drop)
    });

    drops(db, "review-agent", |c| publish::archive_listing(c, &ids[1], now).map(drop));
    assert_eq!(stored(db, "review-agent", None), None, "unpublished: no document");
}

both_backends!(documents_are_built_for_live_listings, every_change_drops_the_document);

/// On PostgreSQL a builder never waits behind an open writer whose trigger dropped a
/// document (it would make every later writer wait behind itself): it leaves its round
/// and the next one builds what that writer changed.
#[test]
fn a_builder_leaves_its_round_to_an_open_writer() {
    let Some(database) = ap_store::testing::TestDatabase::postgres() else { return };
    let db = &database.db;
    let (_, ids) = catalog(db);
    build(db);
    let now = chrono::Utc::now().naive_utc();
    db.run_blocking(|c| publish::archive_listing(c, &ids[1], now).map(drop)).expect("unpublish");
    let (changed, wait_for_change) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let writer = {
        let (db, id) = (db.clone(), ids[0].clone());
        std::thread::spawn(move || {
            db.run_blocking(|c| {
                write_tx(c, |c| {
                    let title = publish::ListingFieldChanges {
                        title: Some("Commit helper".to_owned()),
                        ..Default::default()
                    };
                    publish::update_listing(c, &id, &title, chrono::Utc::now().naive_utc())?;
                    changed.send(()).expect("tell");
                    released.recv().expect("wait");
                    Ok::<_, StoreError>(())
                })
            })
        })
    };
    wait_for_change.recv().expect("the writer changed the listing");
    assert_eq!(build(db), 0, "the round ends at once, the committed change not built yet");
    assert!(due(db).contains(&ids[1]));
    assert_eq!(stored(db, "commit-tool", None).as_deref(), Some("Commit tool/1"), "uncommitted");
    release.send(()).expect("release");
    writer.join().expect("writer").expect("commit");
    assert_eq!(stored(db, "commit-tool", None), None);
    assert_eq!(build(db), 2);
    assert_eq!(stored(db, "commit-tool", None).as_deref(), Some("Commit helper/1"));
}
