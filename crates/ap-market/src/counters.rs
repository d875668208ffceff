//! Download and view counts, written behind: each download link and each detail view adds
//! one to an in-memory tally, and the tally is written to the database in one transaction
//! every second (and when the server stops).
//!
//! Link requests and detail views are then reads. Writing each count inline made every
//! such request a write transaction: on SQLite, with `synchronous=FULL`, concurrent
//! requests queued behind each other's fsync (p99 over 300 ms at 2,200 req/s; see
//! `docs/PERFORMANCE.md`). Counts reach readers through the catalog cache anyway, so a
//! second of delay is invisible; a crash loses at most the last second's tally.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ap_store::usage::CountDelta;
use ap_store::{Db, StoreError, usage, write_tx};

/// How often the tally is written.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// Counts not yet written, by listing id.
#[derive(Debug, Default)]
pub struct ListingCounts {
    pending: Mutex<HashMap<String, CountDelta>>,
}

impl ListingCounts {
    fn pending(&self) -> MutexGuard<'_, HashMap<String, CountDelta>> {
        // A panic while holding the lock leaves plain counts behind: still usable.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one download.
    pub fn download(&self, listing_id: &str) {
        self.pending().entry(listing_id.to_owned()).or_default().downloads += 1;
    }

    /// Counts one view; answers the listing's views not yet written, this one included.
    pub fn view(&self, listing_id: &str) -> i64 {
        let mut pending = self.pending();
        let delta = pending.entry(listing_id.to_owned()).or_default();
        delta.views += 1;
        delta.views
    }

    /// Writes the tally in one transaction; on failure it is kept for the next attempt.
    pub async fn flush(&self, db: &Db) -> Result<(), StoreError> {
        let batch: Vec<(String, CountDelta)> = self.pending().drain().collect();
        if batch.is_empty() {
            return Ok(());
        }
        let written = batch.clone();
        match db.run(move |conn| write_tx(conn, |conn| usage::add_counts(conn, &written))).await {
            Ok(()) => Ok(()),
            Err(error) => {
                let mut pending = self.pending();
                for (listing_id, delta) in batch {
                    let kept = pending.entry(listing_id).or_default();
                    kept.downloads += delta.downloads;
                    kept.views += delta.views;
                }
                Err(error)
            }
        }
    }
}
