#![doc = include_str!("../README.md")]

pub mod accounts;
pub mod blobs;
pub mod cache;
pub mod catalog;
pub mod commerce;
pub mod counters;
pub mod downloads;
pub mod installations;
pub mod payments;
pub mod present;
pub mod publishing;
pub mod reviews;
pub mod scans;
pub mod sellers;
pub mod signing;

use std::sync::Arc;
use std::time::Duration;

use ap_domain::clock::Clock;
use ap_store::{Db, StoreError};

use crate::accounts::Accounts;
use crate::blobs::BlobStore;
use crate::cache::CatalogCache;
use crate::catalog::Catalog;
use crate::commerce::{Commerce, Site};
use crate::counters::ListingCounts;
use crate::downloads::Downloads;
use crate::installations::Installations;
use crate::payments::PaymentGateway;
use crate::publishing::Publisher;
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
}

impl Default for MarketConfig {
    fn default() -> Self {
        Self {
            cache_ttl: Duration::from_secs(10),
            public_url: "http://127.0.0.1:8080".to_owned(),
            download_link_ttl: Duration::from_secs(300),
            extra_redirect_origins: Vec::new(),
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
    cache: Arc<CatalogCache>,
    counts: Arc<ListingCounts>,
    catalog: Catalog,
    publisher: Publisher,
    downloads: Downloads,
    commerce: Commerce,
    installations: Installations,
    scans: Scans,
    accounts: Accounts,
    sellers: Sellers,
    reviews: Reviews,
}

impl Market {
    /// The services over `db` and the outside world.
    pub fn new(db: Db, outside: Outside, config: MarketConfig) -> Self {
        let cache = Arc::new(CatalogCache::new(config.cache_ttl));
        let counts = Arc::new(ListingCounts::default());
        let Outside { blobs, signer, clock, gateway } = outside;
        let publisher =
            Publisher::new(db.clone(), Arc::clone(&blobs), Arc::clone(&clock), Arc::clone(&cache));
        let downloads = Downloads::new(
            db.clone(),
            blobs,
            signer,
            Arc::clone(&clock),
            Arc::clone(&counts),
            config.public_url.clone(),
            config.download_link_ttl,
        );
        let site = Site {
            public_url: config.public_url,
            extra_redirect_origins: config.extra_redirect_origins,
        };
        Self {
            catalog: Catalog::new(db.clone(), Arc::clone(&cache), Arc::clone(&counts)),
            reviews: Reviews::new(db.clone(), Arc::clone(&clock), Arc::clone(&cache)),
            sellers: Sellers::new(
                db.clone(),
                Arc::clone(&gateway),
                Arc::clone(&clock),
                site.clone(),
            ),
            commerce: Commerce::new(
                db.clone(),
                gateway,
                downloads.clone(),
                Arc::clone(&clock),
                site,
            ),
            downloads,
            installations: Installations::new(db.clone(), Arc::clone(&clock)),
            scans: Scans::new(db.clone(), publisher.clone(), Arc::clone(&clock)),
            accounts: Accounts::new(db.clone(), clock, Arc::clone(&cache)),
            cache,
            publisher,
            counts,
            db,
        }
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

    /// Drops this instance's catalog caches, after a change made outside the services
    /// (by an operator in the database, or a test fixture).
    pub fn invalidate_caches(&self) {
        self.cache.invalidate();
    }

    /// Writes the pending download and view counts now (the server does it every second
    /// and when it stops).
    pub async fn flush_counts(&self) -> Result<(), StoreError> {
        self.counts.flush(&self.db).await
    }
}
