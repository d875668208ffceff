//! Stored listing details (`ap_store::documents`): each live listing's detail kept as the
//! JSON `GET /v1/skills/{slug}` answers, so a detail nobody asked for lately costs one
//! lookup by slug instead of a join.
//!
//! The store's triggers mark a listing due in the transaction of any change it shows
//! (its document is not served from then on); [`Documents::build`] rebuilds what is due with [`render`],
//! the route's own serialization, and tags each document with [`format`], a digest of
//! how this build renders sample details: a document another build wrote (a field
//! added, a platform more) is never served here, and is marked due again at start-up
//! and once every [`SWEEP_EVERY`]. The server tries every due document before it
//! listens, then builds a few batches every follow interval in a task of its own; a
//! listing whose document is not built yet is answered from the join.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ap_domain::listing::{ListingType, SecurityStatus};
use ap_store::catalog::DetailParts;
use ap_store::models::{AuthorRow, ListingCard, ListingExtra, VersionCard};
use ap_store::{Db, StoreError, documents};
use sha2::{Digest, Sha256};

use crate::present;

/// Batches (of 256 listings) a follow builds at most: a backlog never holds up the
/// follower for long.
const ROUND_BATCHES: usize = 4;

/// How often documents of another format are looked for.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The document of a listing's detail: the JSON `GET /v1/skills/{slug}` answers.
pub fn render(parts: &DetailParts) -> Result<String, StoreError> {
    let detail = present::detail(&parts.card, &parts.extra, &parts.author, &parts.versions)?;
    Ok(serde_json::to_string(&detail)?)
}

/// Raised by hand when a detail changes in a way [`format`]'s samples do not show.
const FORMAT_REVISION: u32 = 1;

/// This build's document format: a digest of [`FORMAT_REVISION`] and [`render`]'s output
/// for sample details (a skill and an agent, each with every field set and with every
/// optional one empty), so a change to what a detail shows, or how, changes it.
pub fn format() -> &'static str {
    static FORMAT: OnceLock<String> = OnceLock::new();
    FORMAT.get_or_init(|| digest(&samples()))
}

fn digest(samples: &[DetailParts]) -> String {
    let mut hash = Sha256::new();
    hash.update(FORMAT_REVISION.to_be_bytes());
    for sample in samples {
        let rendered = render(sample).unwrap_or_else(|e| format!("unrenderable: {e}"));
        hash.update(rendered.as_bytes());
    }
    hex::encode(&hash.finalize()[..12])
}

fn samples() -> Vec<DetailParts> {
    let full = sample();
    let mut agent = full.clone();
    agent.card.listing_type = ListingType::Agent;
    let mut bare = full.clone();
    bare.card.archived_at = None;
    bare.card.live_version_id = None;
    bare.card.current_version = None;
    bare.card.security_score = None;
    bare.card.published_at = None;
    bare.card.rating_count = 0;
    bare.author.display_name = None;
    bare.author.display_name_slug = None;
    bare.author.avatar_url = None;
    bare.author.github_username = None;
    bare.versions = vec![VersionCard {
        changelog: None,
        content_hash: None,
        security_status: None,
        findings: None,
        scanned_at: None,
        published_at: None,
        ..full.versions[0].clone()
    }];
    let mut bare_agent = bare.clone();
    bare_agent.card.listing_type = ListingType::Agent;
    vec![full, agent, bare, bare_agent]
}

fn sample() -> DetailParts {
    let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default().naive_utc();
    let version = |id: &str, number: &str| VersionCard {
        id: id.into(),
        version: number.to_owned(),
        changelog: Some("Changes".to_owned()),
        content_hash: Some("ab".repeat(32)),
        security_status: Some(SecurityStatus::Warn),
        findings: Some(r#"[{"severity":"LOW","message":"m"}]"#.to_owned()),
        scanned_at: Some(at),
        published_at: Some(at),
    };
    DetailParts {
        card: ListingCard {
            id: "listing".into(),
            slug: "sample".to_owned(),
            owner_id: "owner".into(),
            listing_type: ListingType::Skill,
            title: "Sample".to_owned(),
            description: "A sample.".to_owned(),
            category: "development".to_owned(),
            price_cents: 900,
            currency: "usd".to_owned(),
            live_version_id: Some("v2".into()),
            current_version: Some("1.1.0".to_owned()),
            security_status: SecurityStatus::Warn,
            security_score: Some(8),
            archived_at: Some(at),
            published_at: Some(at),
            download_count: 3,
            install_count: 2,
            rating_count: 1,
            rating_average: 4.5,
            updated_at: at,
            quarantined_at: Some(at),
        },
        extra: ListingExtra { long_description: "Long.".to_owned(), view_count: 1, created_at: at },
        author: AuthorRow {
            id: "owner".into(),
            display_name: Some("Ada".to_owned()),
            display_name_slug: Some("ada".to_owned()),
            avatar_url: Some("https://example.com/a.png".to_owned()),
            github_username: Some("ada".to_owned()),
            verified: true,
        },
        versions: vec![version("v2", "1.1.0"), version("v1", "1.0.0")],
    }
}

/// This instance's builder of stored details.
#[derive(Debug)]
pub struct Documents {
    db: Db,
    /// Held while this instance builds (one build at a time); when it last looked for
    /// documents of another format.
    swept_at: tokio::sync::Mutex<Option<Instant>>,
}

impl Documents {
    /// The builder over `db`.
    pub fn new(db: Db) -> Self {
        Self { db, swept_at: tokio::sync::Mutex::new(None) }
    }

    /// Builds due documents: every one when `whole` (start-up), else a few batches (a
    /// follow). Answers how many listings it settled.
    pub async fn build(&self, whole: bool) -> Result<usize, StoreError> {
        let mut swept_at = self.swept_at.lock().await;
        let sweep = swept_at.is_none_or(|at| at.elapsed() >= SWEEP_EVERY);
        let batches = if whole { None } else { Some(ROUND_BATCHES) };
        let settled = self
            .db
            .run_unbounded(move |conn| {
                if sweep {
                    documents::mark_stale(conn, format())?;
                }
                documents::build_due(conn, format(), render, batches)
            })
            .await?;
        if sweep {
            *swept_at = Some(Instant::now());
        }
        Ok(settled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_follows_what_a_detail_shows() {
        let samples = samples();
        assert_eq!(format(), digest(&samples));
        assert_eq!(format().len(), 24);
        for (i, _) in samples.iter().enumerate() {
            let mut changed = samples.clone();
            changed[i].card.title.push('!');
            assert_ne!(digest(&changed), format(), "sample {i}");
        }
        let rendered: Vec<String> = samples.iter().map(|s| render(s).expect("render")).collect();
        assert!(rendered.iter().all(|r| r.contains("\"platforms\"")));
        assert_ne!(rendered[0], rendered[1], "a skill and an agent");
        assert!(rendered[2].contains("\"archived_at\":null"), "{}", rendered[2]);
    }
}
