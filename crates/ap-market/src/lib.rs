#![doc = include_str!("../README.md")]

pub mod accounts;
pub mod admin;
pub mod blobs;
pub mod cache;
pub mod catalog;
pub mod commerce;
pub mod counters;
pub mod documents;
pub mod downloads;
pub mod indexer;
pub mod installations;
pub mod moderation;
pub mod payments;
pub mod present;
pub mod publishing;
pub mod reports;
pub mod rescans;
pub mod reviews;
pub mod scan_queue;
pub mod scans;
pub mod sellers;
pub mod signing;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ap_domain::clock::Clock;
pub use ap_scan::DenyPatterns;
use ap_search::{SearchError, SearchIndex};
use ap_store::{Db, StoreError};

use crate::accounts::Accounts;
use crate::admin::Admin;
use crate::blobs::BlobStore;
use crate::cache::CatalogCache;
use crate::catalog::Catalog;
use crate::commerce::{Commerce, Site};
use crate::counters::ListingCounts;
use crate::documents::Documents;
use crate::downloads::{Downloads, LinkSettings};
use crate::indexer::{IndexError, Indexer};
use crate::installations::Installations;
use crate::payments::PaymentGateway;
use crate::publishing::Publisher;
use crate::reports::Reports;
use crate::reviews::Reviews;
use crate::scans::Scans;
use crate::sellers::Sellers;
use crate::signing::UrlSigner;

/// Settings of the marketplace services.
#[derive(Debug, Clone)]
pub struct MarketConfig {
    /// How long catalog totals, search rankings, categories and hot listings are reused
    /// (zero: not at all).
    pub cache_ttl: Duration,
    /// Absolute base URL of this server as clients reach it (no trailing slash): the
    /// base of download links.
    pub public_url: String,
    /// How long a signed download link works.
    pub download_link_ttl: Duration,
    /// Origins besides the public URL and loopback that checkout may send buyers back to.
    pub extra_redirect_origins: Vec<String>,
    /// Folder of this instance's search index (emptied at start; rebuilt from the
    /// store), or `None` to keep it in memory.
    pub search_dir: Option<PathBuf>,
    /// User ids of administrators by configuration (`auth.admins`), besides those
    /// granted the role on the command line.
    pub admins: Vec<String>,
    /// The operator's patterns that block a package (`scan.deny_patterns`), run with the
    /// built-in rules on every scan and rescan.
    pub deny_patterns: DenyPatterns,
}

impl Default for MarketConfig {
    fn default() -> Self {
        Self {
            cache_ttl: Duration::from_secs(10),
            public_url: "http://127.0.0.1:8080".to_owned(),
            download_link_ttl: Duration::from_secs(300),
            extra_redirect_origins: Vec::new(),
            admins: Vec::new(),
            search_dir: None,
            deny_patterns: DenyPatterns::default(),
        }
    }
}

/// What the marketplace needs from the outside world, wired by the binary.
#[derive(Debug, Clone)]
pub struct Outside {
    /// Where archives live.
    pub blobs: Arc<dyn BlobStore>,
    /// Signs and checks download links (the key is shared by every instance).
    pub signer: UrlSigner,
    /// The clock of every timestamp and expiry.
    pub clock: Arc<dyn Clock>,
    /// The payment provider (Stripe, or the local sandbox).
    pub gateway: Arc<dyn PaymentGateway>,
}

/// Every marketplace service over one database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Market {
    db: Db,
    counts: Arc<ListingCounts>,
    indexer: Arc<Indexer>,
    documents: Arc<Documents>,
    catalog: Catalog,
    publisher: Publisher,
    downloads: Downloads,
    commerce: Commerce,
    installations: Installations,
    scans: Scans,
    accounts: Accounts,
    admin: Admin,
    reports: Reports,
    sellers: Sellers,
    reviews: Reviews,
}

impl Market {
    /// The services over `db` and the outside world, with an empty search index that
    /// the first [`Market::follow_catalog`] (or search) builds.
    pub fn new(db: Db, outside: Outside, config: MarketConfig) -> Result<Self, SearchError> {
        let cache = Arc::new(CatalogCache::new(config.cache_ttl));
        let index = SearchIndex::create(config.search_dir.as_deref())?;
        let indexer = Arc::new(Indexer::new(db.clone(), index, Arc::clone(&cache)));
        let Outside { blobs, signer, clock, gateway } = outside;
        let counts = Arc::new(ListingCounts::new(signer.clone(), Arc::clone(&clock)));
        let publisher = Publisher::new(
            db.clone(),
            Arc::clone(&blobs),
            Arc::clone(&clock),
            Arc::clone(&indexer),
            config.deny_patterns,
        );
        let downloads = Downloads::new(
            db.clone(),
            blobs,
            signer,
            Arc::clone(&clock),
            Arc::clone(&counts),
            Arc::clone(&cache),
            LinkSettings { public_url: config.public_url.clone(), ttl: config.download_link_ttl },
        );
        let site = Site {
            public_url: config.public_url,
            extra_redirect_origins: config.extra_redirect_origins,
        };
        Ok(Self {
            catalog: Catalog::new(
                db.clone(),
                Arc::clone(&cache),
                Arc::clone(&counts),
                Arc::clone(&indexer),
            ),
            reviews: Reviews::new(db.clone(), Arc::clone(&clock), Arc::clone(&indexer)),
            sellers: Sellers::new(
                db.clone(),
                Arc::clone(&gateway),
                Arc::clone(&clock),
                site.clone(),
            ),
            commerce: Commerce::new(
                db.clone(),
                Arc::clone(&gateway),
                downloads.clone(),
                Arc::clone(&clock),
                site,
            ),
            downloads,
            installations: Installations::new(db.clone(), Arc::clone(&clock)),
            scans: Scans::new(db.clone(), publisher.clone(), Arc::clone(&clock)),
            admin: Admin::new(
                db.clone(),
                Arc::clone(&clock),
                &config.admins,
                Arc::clone(&indexer),
                gateway,
                publisher.clone(),
            ),
            reports: Reports::new(db.clone(), Arc::clone(&clock)),
            accounts: Accounts::new(db.clone(), clock, Arc::clone(&indexer)),
            indexer,
            documents: Arc::new(Documents::new(db.clone())),
            publisher,
            counts,
            db,
        })
    }

    /// Administration: the admin role and the audit log.
    pub fn admin(&self) -> &Admin {
        &self.admin
    }

    /// Abuse reports users file (the queue is `admin`'s).
    pub fn reports(&self) -> &Reports {
        &self.reports
    }

    /// Catalog reads.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The publishing lifecycle.
    pub fn publisher(&self) -> &Publisher {
        &self.publisher
    }

    /// Download links and the archives behind them.
    pub fn downloads(&self) -> &Downloads {
        &self.downloads
    }

    /// Checkout, purchases and their fulfilment.
    pub fn commerce(&self) -> &Commerce {
        &self.commerce
    }

    /// Reviews and ratings.
    pub fn reviews(&self) -> &Reviews {
        &self.reviews
    }

    /// Seller onboarding.
    pub fn sellers(&self) -> &Sellers {
        &self.sellers
    }

    /// Installation records.
    pub fn installations(&self) -> &Installations {
        &self.installations
    }

    /// Verdicts and scans on demand.
    pub fn scans(&self) -> &Scans {
        &self.scans
    }

    /// The caller's own account.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// Where archives live (uploads stage there).
    pub fn blobs(&self) -> &Arc<dyn BlobStore> {
        self.publisher.blobs()
    }

    /// Brings this instance's search index and caches up to date at once, after a
    /// change made outside the services (by an operator in the database, or a test
    /// fixture); the periodic [`Market::follow_catalog`] would within its interval.
    pub async fn catalog_changed(&self) {
        self.indexer.after_change().await;
    }

    /// Builds the search index on the first call, then applies the catalog's change log
    /// (the server calls it at start-up and every [`indexer::FOLLOW_INTERVAL`]).
    pub async fn follow_catalog(&self) -> Result<(), IndexError> {
        self.indexer.catch_up().await
    }

    /// Builds the stored details that are due ([`documents`]): every one when `whole`
    /// (the server tries before it listens), else a few batches (the server does every
    /// [`indexer::FOLLOW_INTERVAL`], beside the follow); answers how many listings it
    /// settled.
    pub async fn build_documents(&self, whole: bool) -> Result<usize, StoreError> {
        self.documents.build(whole).await
    }

    /// How many listings this instance's search index holds.
    pub fn indexed_listings(&self) -> u64 {
        self.indexer.len()
    }

    /// The database pool now: connections in use, open, and its size.
    pub fn pool_state(&self) -> (u32, u32, u32) {
        self.db.pool_state()
    }

    /// Whether the database answers (readiness).
    pub async fn store_answers(&self) -> Result<(), StoreError> {
        self.db.ping().await
    }

    /// Writes the pending download and view counts now (the server does it every second
    /// and when it stops).
    pub async fn flush_counts(&self) -> Result<(), StoreError> {
        self.counts.flush(&self.db).await?;
        metrics::gauge!("ap_counts_flushed_timestamp_seconds").set(indexer::unix_now());
        Ok(())
    }
}
