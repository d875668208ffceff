//! Rescans (docs/API.md, Administration): the scan rules in force (built-in, and the
//! operator's `scan.deny_patterns`) run over every live version in the background, so an
//! improved rule reaches what is already published.
//!
//! The job is a row in the store (any instance answers its progress) run by the
//! instance that started it, one version at a time through the scan queue, so uploads
//! keep their turn. A version whose verdict becomes `block` stops serving at once (its
//! listing falls back to its newest other version, or leaves the catalog), and each
//! changed verdict is recorded in the job's report. One job runs at a time; a job whose
//! instance stopped (no progress for [`STALE_AFTER_MINUTES`]) no longer counts.

use ap_domain::UserId;
use ap_domain::listing::{ListingType, SecurityStatus};
use ap_domain::wire::{Rescan, RescanChange};
use ap_store::admin::{self, NewAuditEntry};
use ap_store::moderation::{self, RescanRow, RescanTarget};
use ap_store::{scans, write_tx};
use serde_json::{Map, Value};

use crate::admin::{Admin, AdminError, action_fields};
use crate::present::utc;
use crate::publishing::{package_kind, scanned_archive};

/// A running job without progress for this long is taken for interrupted.
pub const STALE_AFTER_MINUTES: i64 = 5;

/// Versions read from the store at a time.
const BATCH: i64 = 100;

fn status_of(text: Option<&str>) -> SecurityStatus {
    text.and_then(SecurityStatus::parse).unwrap_or(SecurityStatus::Pending)
}

fn present(row: RescanRow, changes: Vec<moderation::RescanChange>) -> Rescan {
    Rescan {
        id: row.id,
        status: row.status,
        actor: row.actor,
        reason: row.reason,
        scanner_version: row.scanner_version,
        total: row.total,
        done: row.done,
        changed: row.changed,
        started_at: utc(row.started_at),
        finished_at: row.finished_at.map(utc),
        error: row.error,
        changes: changes
            .into_iter()
            .map(|c| RescanChange {
                slug: c.slug,
                version: c.version,
                before: status_of(Some(&c.before_status)),
                after: status_of(Some(&c.after_status)),
                before_score: c.before_score,
                after_score: c.after_score,
            })
            .collect(),
    }
}

impl Admin {
    /// `POST /v1/admin/rescans` (`{"reason": …}`): starts a rescan job; answers it as it
    /// starts (202). 409 while another runs.
    pub async fn start_rescan(
        &self,
        caller: UserId,
        body: &Map<String, Value>,
    ) -> Result<Rescan, AdminError> {
        self.authorize(caller.clone()).await?;
        let (reason, _) = action_fields(body, None)?;
        let now = self.now();
        let row = RescanRow {
            id: uuid::Uuid::now_v7().to_string(),
            actor: caller.as_str().to_owned(),
            reason,
            scanner_version: self.publisher.scanner_version().to_owned(),
            status: "running".to_owned(),
            total: 0,
            done: 0,
            changed: 0,
            started_at: now,
            updated_at: now,
            finished_at: None,
            error: None,
        };
        let alive_since = now - chrono::Duration::minutes(STALE_AFTER_MINUTES);
        let row = self
            .db
            .run(move |conn| {
                write_tx(conn, |conn| {
                    moderation::lock_rescans(conn)?;
                    moderation::fail_stale_rescans(conn, alive_since, now)?;
                    if moderation::running_rescan(conn, alive_since)?.is_some() {
                        return Err(AdminError::RescanRunning);
                    }
                    let row = RescanRow { total: moderation::live_version_count(conn)?, ..row };
                    moderation::insert_rescan(conn, &row)?;
                    admin::record(
                        conn,
                        &NewAuditEntry {
                            actor: &row.actor,
                            action: "rescan.start",
                            target: &format!("rescan:{}", row.id),
                            reason: &row.reason,
                            at: now,
                        },
                    )?;
                    Ok(row)
                })
            })
            .await?;
        let job = self.clone();
        let id = row.id.clone();
        tokio::spawn(async move { job.run_rescan(id).await });
        Ok(present(row, Vec::new()))
    }

    /// `GET /v1/admin/rescans/{id}`: a job's progress and the verdicts it changed.
    pub async fn rescan(&self, caller: UserId, id: String) -> Result<Rescan, AdminError> {
        self.authorize(caller).await?;
        let (row, changes) = self
            .db
            .run(move |conn| moderation::rescan(conn, &id))
            .await?
            .ok_or(AdminError::RescanNotFound)?;
        Ok(present(row, changes))
    }

    async fn run_rescan(self, id: String) {
        let (failed, error) = match self.rescan_all(&id).await {
            Ok(0) => (false, None),
            Ok(skipped) => {
                (false, Some(format!("{skipped} versions could not be scanned (see the log)")))
            }
            Err(error) => {
                tracing::error!(%error, rescan = %id, "rescan failed");
                (true, Some(error.to_string()))
            }
        };
        let now = self.now();
        let finished = self
            .db
            .run(move |conn| moderation::finish_rescan(conn, &id, failed, error.as_deref(), now))
            .await;
        if let Err(error) = finished {
            tracing::error!(%error, "recording the end of a rescan failed");
        }
        self.indexer.after_change().await;
    }

    /// Rescans every live version; answers how many could not be scanned (each logged;
    /// the job goes on without them). Fails only when the store does.
    async fn rescan_all(&self, id: &str) -> Result<u64, AdminError> {
        let mut after: Option<String> = None;
        let mut skipped = 0;
        loop {
            let from = after.clone();
            let batch = self
                .db
                .run(move |conn| moderation::rescan_targets(conn, from.as_deref(), BATCH))
                .await?;
            let Some(last) = batch.last() else { return Ok(skipped) };
            after = Some(last.version_id.clone());
            for target in batch {
                let version = target.version_id.clone();
                let changed = match self.rescan_one(id, target).await {
                    Ok(changed) => changed,
                    Err(AdminError::Store(error)) => return Err(AdminError::Store(error)),
                    Err(error) => {
                        tracing::warn!(%error, %version, rescan = %id, "version not rescanned");
                        skipped += 1;
                        false
                    }
                };
                let (id, now) = (id.to_owned(), self.now());
                self.db
                    .run(move |conn| {
                        moderation::rescan_progress(conn, &id, 1, i64::from(changed), now)
                    })
                    .await?;
                if changed {
                    self.indexer.after_change().await;
                }
            }
        }
    }

    /// Scans one version again; records a changed verdict. Answers whether it changed.
    async fn rescan_one(&self, id: &str, target: RescanTarget) -> Result<bool, AdminError> {
        let Some(sha256) = target.archive_sha256.clone() else { return Ok(false) };
        let kind =
            package_kind(ListingType::parse(&target.listing_type).unwrap_or(ListingType::Skill));
        let scanned = self
            .publisher
            .scan_stored(sha256.clone(), kind)
            .await
            .map_err(|e| AdminError::Scan(e.to_string()))?;
        let Some((report, size)) = scanned else {
            return Err(AdminError::Scan("the archive is not stored".to_owned()));
        };
        let (scanned, _, _) = scanned_archive(&report, sha256, size)?;
        let now = self.now();
        let cached = scanned
            .content_hash
            .as_ref()
            .map(|hash| self.publisher.cached_scan(hash, kind, &scanned, now));
        let before = status_of(target.security_status.as_deref());
        let changed = scanned.security_status != before;
        let id = id.to_owned();
        self.db
            .run(move |conn| {
                write_tx(conn, |conn| {
                    if let Some(cached) = &cached {
                        scans::store(conn, cached)?;
                    }
                    if !changed {
                        return Ok(());
                    }
                    moderation::set_verdict(
                        conn,
                        &target.version_id,
                        scanned.security_status.as_str(),
                        scanned.security_score,
                        &scanned.findings,
                        &scanned.layers,
                        now,
                    )?;
                    moderation::refresh_live(conn, &target.listing_id, now)?;
                    moderation::record_rescan_change(
                        conn,
                        &moderation::RescanChange {
                            rescan_id: id,
                            version_id: target.version_id,
                            listing_id: target.listing_id,
                            slug: target.slug,
                            version: target.version,
                            before_status: before.as_str().to_owned(),
                            after_status: scanned.security_status.as_str().to_owned(),
                            before_score: target.security_score,
                            after_score: scanned.security_score,
                        },
                    )?;
                    Ok::<_, AdminError>(())
                })
            })
            .await?;
        Ok(changed)
    }
}
