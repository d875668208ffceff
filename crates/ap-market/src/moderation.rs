//! Administrators' actions on what is published and who publishes it (docs/API.md,
//! Administration): quarantine and release of a version or a whole listing, suspension
//! and reinstatement of an account, and refunds by hand. Each takes a reason and is
//! recorded in the audit log in the transaction of the action.
//!
//! - A quarantined version is never linked again, and links issued before stop at once
//!   (the file route asks [`moderation::servable`]); the listing falls back to its newest
//!   version that is not withdrawn, or leaves the catalog and search when none is left.
//!   Buyers see it on their purchases list.
//! - A suspended account's listings leave the catalog, its CLI tokens are revoked (the
//!   caller drops its token cache), signing in is refused, and its payouts are paused
//!   with the payment provider until it is reinstated.
//! - A refund goes through the payment provider, then takes the path of its refund
//!   webhook (which, arriving later, changes nothing more): the buyer loses access and
//!   the seller's figures move.

use ap_domain::commerce::PurchaseStatus;
use ap_domain::version::Version;
use ap_domain::wire::AuditEntry;
use ap_domain::{FieldError, FieldErrors, UserId};
use ap_store::admin::{self, NewAuditEntry};
use ap_store::{Conn, moderation, purchases, write_tx};
use serde_json::{Map, Value};

use crate::admin::{Admin, AdminError, action_fields, entry};

/// What a quarantine or release applies to.
enum Scope {
    /// One version of the listing.
    Version(String),
    /// The whole listing.
    Listing,
}

fn scope(version: Option<String>) -> Scope {
    version.map_or(Scope::Listing, Scope::Version)
}

fn listing_id(conn: &mut Conn, slug: &str) -> Result<String, AdminError> {
    moderation::listing_id_by_slug(conn, slug)?.ok_or(AdminError::ListingNotFound)
}

impl Admin {
    /// `POST /v1/admin/listings/{slug}/quarantine` (`quarantine`) and `…/release`:
    /// `{"reason": …, "version"?: …}`; without a version, the whole listing.
    pub async fn set_quarantine(
        &self,
        caller: UserId,
        slug: String,
        body: &Map<String, Value>,
        quarantine: bool,
    ) -> Result<AuditEntry, AdminError> {
        self.authorize(caller.clone()).await?;
        let (reason, version) = action_fields(body, Some("version"))?;
        let version = match version {
            Some(text) => Some(
                Version::parse(&text)
                    .map_err(|_| {
                        FieldErrors::from(FieldError::body(
                            "version",
                            "string_pattern_mismatch",
                            "Version should look like 1.2.3",
                        ))
                    })?
                    .to_string(),
            ),
            None => None,
        };
        let now = self.now();
        let at = quarantine.then_some(now);
        let entry = self
            .db
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let (target, listing, changed) = match scope(version) {
                        Scope::Version(number) => {
                            let named = moderation::version_by_number(conn, &slug, &number)?
                                .ok_or(AdminError::VersionNotFound)?;
                            let changed =
                                moderation::set_version_quarantine(conn, &named.version_id, at)?;
                            (format!("version:{slug}@{number}"), named.listing_id, changed)
                        }
                        Scope::Listing => {
                            let listing = listing_id(conn, &slug)?;
                            let changed = moderation::set_listing_quarantine(conn, &listing, at)?;
                            (format!("listing:{slug}"), listing, changed)
                        }
                    };
                    if !changed {
                        return Err(AdminError::Unchanged(if quarantine {
                            "quarantined already"
                        } else {
                            "not quarantined"
                        }));
                    }
                    moderation::refresh_live(conn, &listing, now)?;
                    let action = match (target.starts_with("version:"), quarantine) {
                        (true, true) => "version.quarantine",
                        (true, false) => "version.release",
                        (false, true) => "listing.quarantine",
                        (false, false) => "listing.release",
                    };
                    let row = admin::record(
                        conn,
                        &NewAuditEntry {
                            actor: caller.as_str(),
                            action,
                            target: &target,
                            reason: &reason,
                            at: now,
                        },
                    )?;
                    Ok(entry(row))
                })
            })
            .await?;
        self.indexer.after_change().await;
        Ok(entry)
    }

    /// `POST /v1/admin/users/{id}/suspend` (`suspend`) and `…/reinstate`: `{"reason": …}`.
    /// Answers the audit entry; the caller drops its cached CLI tokens after a suspension.
    pub async fn set_suspended(
        &self,
        caller: UserId,
        user_id: String,
        body: &Map<String, Value>,
        suspend: bool,
    ) -> Result<AuditEntry, AdminError> {
        self.authorize(caller.clone()).await?;
        let (reason, _) = action_fields(body, None)?;
        if suspend && caller.as_str() == user_id {
            return Err(AdminError::SelfSuspension);
        }
        let lookup = user_id.clone();
        let (state, account) = self
            .db
            .run(move |conn| {
                let state = moderation::account_state(conn, &lookup)?;
                let account = purchases::seller_account(conn, &lookup)?;
                Ok::<_, AdminError>((state, account))
            })
            .await?;
        let (status, erased) = state.ok_or(AdminError::UserNotFound)?;
        // An account waiting out its deletion may be suspended too (the deletion is
        // then off: reinstating makes it active, and its owner may ask again).
        let suspendable = [moderation::ACTIVE, moderation::PENDING_DELETION];
        let from = match (suspend, status.as_str()) {
            (true, s) if suspendable.contains(&s) && erased.is_none() => s.to_owned(),
            (false, moderation::SUSPENDED) => status.clone(),
            (true, _) => return Err(AdminError::Unchanged("not an active account")),
            (false, _) => return Err(AdminError::Unchanged("not suspended")),
        };
        let to = if suspend { moderation::SUSPENDED } else { moderation::ACTIVE };
        // The provider first: a failure there changes nothing here. Should the
        // transaction below fail, the provider is set back.
        let account = account.map(|a| a.stripe_account_id);
        if let Some(account) = &account {
            self.gateway.set_payouts_paused(account, suspend).await?;
        }
        let now = self.now();
        let outcome = self
            .db
            .run(move |conn| {
                write_tx(conn, |conn| {
                    if !moderation::set_account_status(conn, &user_id, &from, to, None, now)? {
                        return Err(AdminError::Unchanged("changed meanwhile"));
                    }
                    if suspend {
                        moderation::revoke_tokens(conn, &user_id, "suspended", now)?;
                    }
                    moderation::refresh_owner_listings(conn, &user_id, now)?;
                    let row = admin::record(
                        conn,
                        &NewAuditEntry {
                            actor: caller.as_str(),
                            action: if suspend { "user.suspend" } else { "user.reinstate" },
                            target: &format!("user:{user_id}"),
                            reason: &reason,
                            at: now,
                        },
                    )?;
                    Ok(entry(row))
                })
            })
            .await;
        if let (Err(_), Some(account)) = (&outcome, &account)
            && let Err(error) = self.gateway.set_payouts_paused(account, !suspend).await
        {
            tracing::error!(%error, %account, "payouts left as the failed action set them");
        }
        let entry = outcome?;
        self.indexer.after_change().await;
        Ok(entry)
    }

    /// `POST /v1/admin/purchases/{id}/refund`: `{"reason": …}`. Refunds the payment in
    /// full through the provider, then applies it as its refund webhook would.
    pub async fn refund(
        &self,
        caller: UserId,
        purchase_id: String,
        body: &Map<String, Value>,
    ) -> Result<AuditEntry, AdminError> {
        self.authorize(caller.clone()).await?;
        let (reason, _) = action_fields(body, None)?;
        let lookup = purchase_id.clone();
        let purchase = self
            .db
            .run(move |conn| purchases::by_id(conn, &lookup))
            .await?
            .ok_or(AdminError::PurchaseNotFound)?;
        match purchase.status {
            PurchaseStatus::Completed => {}
            PurchaseStatus::Refunded => return Err(AdminError::Refunded),
            _ => return Err(AdminError::Unchanged("not a completed purchase")),
        }
        let payment = match (&purchase.stripe_payment_intent_id, purchase.amount_cents) {
            (Some(payment), amount) if amount > 0 => payment.clone(),
            _ => return Err(AdminError::Unchanged("nothing was paid")),
        };
        self.gateway.refund(&payment, &format!("refund-{purchase_id}")).await?;
        let now = self.now();
        self.db
            .run(move |conn| {
                write_tx(conn, |conn| {
                    purchases::refund_payment(conn, &payment, now)?;
                    let row = admin::record(
                        conn,
                        &NewAuditEntry {
                            actor: caller.as_str(),
                            action: "purchase.refund",
                            target: &format!("purchase:{purchase_id}"),
                            reason: &reason,
                            at: now,
                        },
                    )?;
                    Ok::<_, AdminError>(entry(row))
                })
            })
            .await
    }
}
