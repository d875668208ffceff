//! Download and view counts, written behind and counted once per visitor: each download
//! link and each detail view marks (listing, kind, visitor, day) in memory, and the marks
//! are written to the database in one transaction every second (and when the server
//! stops), where a mark already recorded (by any instance) adds nothing.
//!
//! A visitor is a signed-in user or, anonymous, a client address, kept only as a
//! pseudonym under the server key, and only until the day after. So a script reloading a
//! page or a download link counts once a day, not once per request. A view not yet
//! written shows in the answer at once, even when another instance already counted that
//! visitor today; the written count never holds a visitor twice.
//!
//! Link requests and detail views stay reads. Writing each count inline made every such
//! request a write transaction: on SQLite, with `synchronous=FULL`, concurrent requests
//! queued behind each other's fsync (p99 over 300 ms at 2,200 req/s; see
//! `docs/PERFORMANCE.md`). Counts reach readers through the catalog cache anyway, so a
//! second of delay is invisible; a crash loses at most the last second's marks.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ap_domain::clock::Clock;
use ap_store::usage::{self, CountMark};
use ap_store::{Db, StoreError, write_tx};

use crate::signing::UrlSigner;

/// How often the marks are written.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// Most marks of the day remembered as written (beyond that the database still tells
/// repeats apart; this only spares their inserts).
const WRITTEN_CAP: usize = 100_000;

/// Who a count is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor(String);

impl Visitor {
    /// A signed-in user, or else the client's address.
    pub fn new(user_id: Option<&str>, address: IpAddr) -> Self {
        match user_id {
            Some(id) => Self::user(id),
            None => Self(format!("ip:{address}")),
        }
    }

    /// A user.
    pub fn user(user_id: &str) -> Self {
        Self(format!("user:{user_id}"))
    }
}

#[derive(Debug, Default)]
struct Tally {
    /// Marks not yet written.
    pending: HashSet<CountMark>,
    /// Views among them, by listing id.
    pending_views: HashMap<String, i64>,
    /// Marks of `day` already written by this instance.
    written: HashSet<CountMark>,
    /// The day of `written`, and up to which older marks were pruned.
    day: String,
}

impl Tally {
    fn add(&mut self, mark: CountMark) -> bool {
        if self.written.contains(&mark) || self.pending.contains(&mark) {
            return false;
        }
        if mark.kind == usage::VIEW {
            *self.pending_views.entry(mark.listing_id.clone()).or_default() += 1;
        }
        self.pending.insert(mark);
        true
    }
}

/// Counts not yet written.
pub struct ListingCounts {
    signer: UrlSigner,
    clock: Arc<dyn Clock>,
    tally: Mutex<Tally>,
}

impl std::fmt::Debug for ListingCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListingCounts").finish_non_exhaustive()
    }
}

impl ListingCounts {
    /// Counts whose visitors are pseudonyms under `signer`'s key, dated by `clock`.
    pub fn new(signer: UrlSigner, clock: Arc<dyn Clock>) -> Self {
        Self { signer, clock, tally: Mutex::default() }
    }

    fn tally(&self) -> MutexGuard<'_, Tally> {
        // A panic while holding the lock leaves plain marks behind: still usable.
        self.tally.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn mark(&self, listing_id: &str, kind: &'static str, visitor: &Visitor) -> CountMark {
        CountMark {
            listing_id: listing_id.to_owned(),
            kind,
            visitor: self.signer.pseudonym(&visitor.0),
            day: self.clock.now().format("%Y-%m-%d").to_string(),
        }
    }

    /// Counts a download, unless this visitor was counted for this listing today.
    pub fn download(&self, listing_id: &str, visitor: &Visitor) {
        let mark = self.mark(listing_id, usage::DOWNLOAD, visitor);
        self.tally().add(mark);
    }

    /// Counts a view (unless this visitor was counted for this listing today); answers
    /// the listing's views not yet written, this one included.
    pub fn view(&self, listing_id: &str, visitor: &Visitor) -> i64 {
        let mark = self.mark(listing_id, usage::VIEW, visitor);
        let mut tally = self.tally();
        tally.add(mark);
        tally.pending_views.get(listing_id).copied().unwrap_or(0)
    }

    /// Writes the marks in one transaction (on a new day, first forgetting those before
    /// yesterday); on failure they are kept for the next attempt.
    pub async fn flush(&self, db: &Db) -> Result<(), StoreError> {
        let today = self.clock.now().format("%Y-%m-%d").to_string();
        let (batch, new_day) = {
            let mut tally = self.tally();
            tally.pending_views.clear();
            let batch: Vec<CountMark> = tally.pending.drain().collect();
            (batch, tally.day != today)
        };
        if batch.is_empty() && !new_day {
            return Ok(());
        }
        let yesterday = (self.clock.now() - chrono::Duration::days(1)).format("%Y-%m-%d");
        let prune_before = new_day.then(|| yesterday.to_string());
        let written = batch.clone();
        let result = db
            .run(move |conn| {
                write_tx(conn, |conn| {
                    if let Some(day) = &prune_before {
                        usage::prune_count_marks(conn, day)?;
                    }
                    usage::count_once(conn, &written)
                })
            })
            .await;
        let mut tally = self.tally();
        match result {
            Ok(()) => {
                if new_day || tally.written.len() + batch.len() > WRITTEN_CAP {
                    tally.written.clear();
                    tally.day = today;
                }
                let day = tally.day.clone();
                tally.written.extend(batch.into_iter().filter(|m| m.day == day));
                Ok(())
            }
            Err(error) => {
                for mark in batch {
                    tally.add(mark);
                }
                Err(error)
            }
        }
    }
}
