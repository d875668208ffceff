//! The upserts: users by identity, installations once per installer, scan verdicts by
//! content hash (worst of the same rules stays).

use ap_store::models::User;
use ap_store::scans::{CachedScan, cached, store};
use ap_store::usage::{NewInstallation, record_installation};
use ap_store::users::{Identity, by_id, upsert};
use ap_store::{Db, StoreError, catalog, write_tx};

use crate::both_backends;
use crate::fixtures::{Spec, listings, user};

fn identity(email: &str) -> Identity {
    Identity {
        issuer: "https://issuer.example".to_owned(),
        subject: "user_1".to_owned(),
        email: Some(email.to_owned()),
        name: None,
        signed_in_at: None,
    }
}

/// The same identity is the same user; a new e-mail from the provider is kept.
fn users_are_upserted_by_identity(db: &Db) {
    let now = chrono::Utc::now().naive_utc();
    let first = db.run_blocking(|c| upsert(c, &identity("a@example.com"), now)).expect("first");
    let again = db.run_blocking(|c| upsert(c, &identity("b@example.com"), now)).expect("again");
    assert_eq!(first, again);
    let stored: User = db.run_blocking(|c| by_id(c, &first)).expect("user");
    assert_eq!(stored.email.as_deref(), Some("b@example.com"));
}

fn install(listing: &str, key: &str) -> NewInstallation {
    NewInstallation {
        id: uuid::Uuid::now_v7().to_string(),
        listing_id: Some(listing.to_owned()),
        source: "agentpowers".to_owned(),
        source_slug: "commit-tool".to_owned(),
        user_id: None,
        installer_key: key.to_owned(),
        hostname: "laptop".to_owned(),
        platform: "cli".to_owned(),
        created_at: chrono::Utc::now().naive_utc(),
    }
}

/// A repeat install answers the first record and counts once, inside a transaction that
/// stays usable afterwards (PostgreSQL aborts a transaction on any error).
fn installations_count_once_per_installer(db: &Db) {
    let owner = user(db, "Ivy Installer");
    let ids = listings(db, &owner, &[Spec::skill("commit-tool", "Commit tool", "Commits.")]);
    let listing = ids[0].clone();
    let first =
        db.run_blocking(|c| record_installation(c, &install(&listing, "host:a"))).expect("1");
    let (repeat, other) = db
        .run_blocking(|c| {
            write_tx(c, |c| {
                let repeat = record_installation(c, &install(&listing, "host:a"))?;
                let other = record_installation(c, &install(&listing, "host:b"))?;
                Ok::<_, StoreError>((repeat, other))
            })
        })
        .expect("repeat");
    assert_eq!(repeat, first);
    assert_ne!(other, first);
    let (card, _) = db
        .run_blocking(|c| catalog::listing_by_slug(c, "commit-tool", None))
        .expect("listing")
        .expect("present");
    assert_eq!(card.install_count, 2);
}

fn verdict(status: &str, rules: &str) -> CachedScan {
    verdict_of("skill", status, rules)
}

fn verdict_of(kind: &str, status: &str, rules: &str) -> CachedScan {
    CachedScan {
        content_hash: "sha256:abc".to_owned(),
        kind: kind.to_owned(),
        security_status: status.to_owned(),
        security_score: if status == "pass" { 10 } else { 0 },
        findings: "[]".to_owned(),
        layers: "[]".to_owned(),
        scanner_version: rules.to_owned(),
        created_at: chrono::Utc::now().naive_utc(),
    }
}

/// For the same rules the worst verdict stays; new rules replace it.
fn the_worst_verdict_of_the_same_rules_stays(db: &Db) {
    use ap_domain::listing::SecurityStatus::{Block, Pass};
    let status = |rules: &str| {
        db.run_blocking(|c| cached(c, "sha256:abc", rules)).expect("cached").map(|c| c.status())
    };
    for (stored, rules) in [("pass", "1"), ("block", "1"), ("pass", "1"), ("warn", "1")] {
        db.run_blocking(|c| store(c, &verdict(stored, rules))).expect("store");
    }
    assert_eq!(status("1"), Some(Block));
    db.run_blocking(|c| store(c, &verdict("pass", "2"))).expect("store");
    assert_eq!((status("1"), status("2")), (None, Some(Pass)));
}

/// The same content scanned as another kind is a verdict of its own: it neither replaces
/// nor hides behind the other, and the check (which names no kind) answers the worst.
fn verdicts_are_kept_per_kind(db: &Db) {
    use ap_domain::listing::SecurityStatus::{Block, Warn};
    let status =
        || db.run_blocking(|c| cached(c, "sha256:abc", "2")).expect("cached").map(|c| c.status());
    db.run_blocking(|c| store(c, &verdict_of("agent", "warn", "2"))).expect("store");
    assert_eq!(status(), Some(Warn));
    db.run_blocking(|c| store(c, &verdict_of("skill", "block", "2"))).expect("store");
    assert_eq!(status(), Some(Block));
    let kinds: Vec<String> = db
        .run_blocking(|c| {
            use diesel::prelude::*;
            ap_store::schema::scan_cache::table
                .select(ap_store::schema::scan_cache::kind)
                .order(ap_store::schema::scan_cache::kind.asc())
                .load(c)
                .map_err(ap_store::StoreError::from)
        })
        .expect("kinds");
    assert_eq!(kinds, ["agent", "skill"]);
}

both_backends!(
    users_are_upserted_by_identity,
    installations_count_once_per_installer,
    the_worst_verdict_of_the_same_rules_stays,
    verdicts_are_kept_per_kind,
);
