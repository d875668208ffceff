//! Catalog reads (docs/API.md, Catalog): pages of live listings, details (the owner also sees an
//! unpublished listing), ranked search windows, categories, seller pages and the
//! security results of a live listing. Totals, search windows, categories and hot
//! summaries and details come from the [`CatalogCache`] while fresh.

use std::collections::BTreeMap;
use std::sync::Arc;

use ap_domain::listing::{CatalogFilter, ListingType, SortOrder};
use ap_domain::page::{DEFAULT_LIMIT, MAX_SEARCH_WINDOW, Page, PageRequest};
use ap_domain::slug::Slug;
use ap_domain::wire::{
    CategoriesResponse, CategoryInfo, ListingDetail, ListingSummary, NATIVE_SOURCE, SearchResponse,
    SecurityResults, SellerListing, SellerProfile, SellerSkill, SellerSummary, UnifiedDetail,
};
use ap_domain::{Code, ErrorCode, UserId, VersionId};
use ap_store::catalog::DetailParts;
use ap_store::models::User;
use ap_store::sellers::{self, SellerStats};
use ap_store::{Db, StoreError, UnitError, catalog, documents};
use bytes::Bytes;

use crate::cache::{CatalogCache, LiveDetail, SearchKey};
use crate::counters::{ListingCounts, Visitor};
use crate::indexer::{IndexError, Indexer};
use crate::present;

/// The windows a search ranks, smallest first: the first page (most searches are never
/// paged, and a smaller window lets the index skip more), the first pages, and every page
/// a search may reach. A page is served from the smallest window that holds it.
const SEARCH_WINDOWS: [i64; 3] = [DEFAULT_LIMIT, 100, MAX_SEARCH_WINDOW];

/// Most listings shown on a seller's profile; the rest page through `/skills`.
const PROFILE_SKILLS: i64 = 100;

/// Why a catalog read found nothing to show.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// No listing of that slug (and type) that the caller may see.
    #[error("Skill not found")]
    ListingNotFound,
    /// No seller with that display-name slug.
    #[error("Seller not found")]
    SellerNotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The search index failed.
    #[error(transparent)]
    Index(#[from] IndexError),
}

impl UnitError for CatalogError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            CatalogError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl ErrorCode for CatalogError {
    fn code(&self) -> Code {
        match self {
            CatalogError::ListingNotFound => Code::SkillNotFound,
            CatalogError::SellerNotFound => Code::SellerNotFound,
            CatalogError::Store(e) => e.code(),
            CatalogError::Index(e) => e.code(),
        }
    }

    fn public_message(&self) -> String {
        match self {
            CatalogError::Store(e) => e.public_message(),
            CatalogError::Index(e) => e.public_message(),
            other => other.to_string(),
        }
    }
}

/// A detail as `GET /v1/skills/{slug}` answers it.
#[derive(Debug, Clone)]
pub enum DetailAnswer {
    /// The listing's stored document: the answer's JSON itself.
    Stored(Bytes),
    /// Built from the listing's rows.
    Built(Box<ListingDetail>),
}

/// Which source sections a search answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchSource {
    /// This server's own listings (`agentpowers`, `all`, or no `source`).
    Native,
    /// A source this server does not have: its section, empty.
    Other(String),
}

/// The public catalog over the store and the caches of this instance.
#[derive(Debug, Clone)]
pub struct Catalog {
    db: Db,
    cache: Arc<CatalogCache>,
    counts: Arc<ListingCounts>,
    indexer: Arc<Indexer>,
}

impl Catalog {
    /// The catalog over `db`, caching in `cache`, counting views in `counts` and
    /// searching through `indexer`.
    pub fn new(
        db: Db,
        cache: Arc<CatalogCache>,
        counts: Arc<ListingCounts>,
        indexer: Arc<Indexer>,
    ) -> Self {
        Self { db, cache, counts, indexer }
    }

    /// One page of live listings with their total. The page's ids are cached per
    /// filter, order and page, and its summaries per listing, so a page asked for again
    /// within the TTL needs no query at all.
    pub async fn page(
        &self,
        filter: CatalogFilter,
        sort: SortOrder,
        page: PageRequest,
    ) -> Result<Page<Arc<ListingSummary>>, CatalogError> {
        let count_filter = filter.clone();
        let total = self
            .cache
            .total(
                filter.clone(),
                self.db.run(move |conn| catalog::count_live(conn, &count_filter)),
            )
            .await?;
        let page_filter = filter.clone();
        let ids = self
            .cache
            .page(
                (filter, sort, page),
                self.db.run(move |conn| {
                    catalog::page_ids(conn, &page_filter, sort, page).map(Arc::<[String]>::from)
                }),
            )
            .await?;
        let items = self.summaries(ids.to_vec()).await?;
        Ok(Page::new(items, total, page))
    }

    /// Summaries of these listings, in order: from the cache, reading the store only
    /// for those it lacks.
    async fn summaries(&self, ids: Vec<String>) -> Result<Vec<Arc<ListingSummary>>, StoreError> {
        let cached: Vec<Arc<ListingSummary>> =
            ids.iter().map_while(|id| self.cache.summary(id)).collect();
        if cached.len() == ids.len() {
            return Ok(cached);
        }
        let cache = Arc::clone(&self.cache);
        self.db.run(move |conn| present::summaries(&cache, conn, &ids)).await
    }

    /// `GET /v1/search`: the native section ranks `terms` (no terms: the default
    /// listing order); any other source answers its own section, empty.
    pub async fn search(
        &self,
        source: SearchSource,
        terms: Vec<String>,
        filter: CatalogFilter,
        page: PageRequest,
    ) -> Result<SearchResponse, CatalogError> {
        let (name, section) = match source {
            SearchSource::Other(name) => (name, Page::new(Vec::new(), 0, page)),
            SearchSource::Native if terms.is_empty() => {
                (NATIVE_SOURCE.to_owned(), self.page(filter, SortOrder::default(), page).await?)
            }
            SearchSource::Native => {
                (NATIVE_SOURCE.to_owned(), self.ranked(terms, filter, page).await?)
            }
        };
        Ok(BTreeMap::from([(name, section)]))
    }

    /// A page of a ranked window: the smallest of [`SEARCH_WINDOWS`] that holds the page
    /// is ranked once and cached, so paging within it and repeated queries cost one read
    /// of the page's rows. Pages beyond the last window are empty; `total` still counts
    /// every match.
    async fn ranked(
        &self,
        terms: Vec<String>,
        filter: CatalogFilter,
        page: PageRequest,
    ) -> Result<Page<Arc<ListingSummary>>, CatalogError> {
        let end = page.offset.saturating_add(page.limit);
        let window = SEARCH_WINDOWS.into_iter().find(|w| *w >= end).unwrap_or(MAX_SEARCH_WINDOW);
        let key = SearchKey { terms, filter, window };
        let query_key = key.clone();
        let indexer = Arc::clone(&self.indexer);
        let window = usize::try_from(window).unwrap_or(usize::MAX);
        let ranked = self
            .cache
            .search(key, async move {
                let ranked = indexer.search(&query_key.terms, &query_key.filter, window).await?;
                Ok::<_, IndexError>(Arc::new(ranked))
            })
            .await?;
        let start = usize::try_from(page.offset).unwrap_or(usize::MAX).min(ranked.ids.len());
        let end =
            start.saturating_add(usize::try_from(page.limit).unwrap_or(0)).min(ranked.ids.len());
        let items = self.summaries(ranked.ids[start..end].to_vec()).await?;
        Ok(Page::new(items, ranked.total, page))
    }

    /// The detail of a live listing (optionally of one type), cached.
    pub async fn live(
        &self,
        slug: &str,
        kind: Option<ListingType>,
    ) -> Result<Arc<LiveDetail>, CatalogError> {
        let slug = Slug::parse(slug).map_err(|_| CatalogError::ListingNotFound)?;
        if let Some(cached) = self.cache.detail(slug.as_str(), kind) {
            return Ok(cached);
        }
        let generation = self.cache.current_generation();
        let key = slug.as_str().to_owned();
        let parts = self
            .db
            .run(move |conn| catalog::detail_by_slug(conn, slug.as_str(), kind))
            .await?
            .filter(|parts| parts.card.is_live())
            .ok_or(CatalogError::ListingNotFound)?;
        let DetailParts { card, extra, author, versions } = &parts;
        let live = versions.iter().find(|v| Some(&v.id) == card.live_version_id.as_ref());
        let detail = Arc::new(LiveDetail {
            listing_id: card.id.clone().into_string(),
            detail: present::detail(card, extra, author, versions)?,
            created_at: present::utc(extra.created_at),
            scan_hash: live.and_then(|v| v.content_hash.clone()),
            scanned_at: live.and_then(|v| v.scanned_at).map(present::utc),
        });
        self.cache.store_detail(key, kind, Arc::clone(&detail), generation);
        Ok(detail)
    }

    /// `GET /v1/skills/{slug}`: the detail of a live listing (its stored document when it
    /// has one, see [`crate::documents`]), or of any listing of the viewer's own (who sees
    /// `archived_at`).
    pub async fn detail(
        &self,
        slug: &str,
        kind: Option<ListingType>,
        viewer: Option<UserId>,
    ) -> Result<DetailAnswer, CatalogError> {
        if let Ok(parsed) = Slug::parse(slug) {
            if let Some(body) = self.cache.document(parsed.as_str(), kind) {
                return Ok(DetailAnswer::Stored(body));
            }
            if self.cache.detail(parsed.as_str(), kind).is_none()
                && let Some(body) = self.stored(parsed, kind).await?
            {
                return Ok(DetailAnswer::Stored(body));
            }
        }
        match (self.live(slug, kind).await, viewer) {
            (Ok(live), _) => Ok(DetailAnswer::Built(Box::new(live.detail.clone()))),
            (Err(CatalogError::ListingNotFound), Some(viewer)) => Ok(DetailAnswer::Built(
                Box::new(self.owner_view(slug.to_owned(), kind, viewer).await?),
            )),
            (Err(e), _) => Err(e),
        }
    }

    /// The stored document of a live listing's detail, if it has one (cached).
    async fn stored(
        &self,
        slug: Slug,
        kind: Option<ListingType>,
    ) -> Result<Option<Bytes>, StoreError> {
        let generation = self.cache.current_generation();
        let key = slug.as_str().to_owned();
        let format = crate::documents::format();
        let body =
            self.db.run(move |conn| documents::body(conn, slug.as_str(), kind, format)).await?;
        let body = body.map(Bytes::from);
        if let Some(body) = &body {
            self.cache.store_document(key, kind, body.clone(), generation);
        }
        Ok(body)
    }

    async fn owner_view(
        &self,
        slug: String,
        kind: Option<ListingType>,
        viewer: UserId,
    ) -> Result<ListingDetail, CatalogError> {
        let parts = self
            .db
            .run(move |conn| catalog::detail_by_slug(conn, &slug, kind))
            .await?
            .filter(|parts| parts.card.owner_id == viewer)
            .ok_or(CatalogError::ListingNotFound)?;
        Ok(present::detail(&parts.card, &parts.extra, &parts.author, &parts.versions)?)
    }

    /// `GET /v1/detail/{slug}`: the flat unified detail of a live listing; counts a view
    /// once per visitor and day (written behind with the next batch).
    pub async fn unified(
        &self,
        slug: &str,
        visitor: &Visitor,
    ) -> Result<UnifiedDetail, CatalogError> {
        let live = self.live(slug, None).await?;
        let listing_id = live.listing_id.clone();
        let stored = self.db.run(move |conn| catalog::view_count(conn, &listing_id)).await?;
        let view_count = stored + self.counts.view(&live.listing_id, visitor);
        let detail = live.detail.clone();
        let author = &detail.summary.author;
        Ok(UnifiedDetail {
            author_display_name: author.display_name.clone(),
            author_slug: author.display_name_slug.clone(),
            author_github: author.github_username.clone(),
            author_avatar_url: author.avatar_url.clone(),
            view_count,
            created_at: live.created_at,
            trust_level: trust_level(author.verified).to_owned(),
            source_url: None,
            ap_security_status: detail.summary.security_status,
            ap_security_score: detail.security_score,
            ap_scan_hash: live.scan_hash.clone(),
            ap_scanned_at: live.scanned_at,
            detail,
        })
    }

    /// `GET /v1/security/results/{slug}`: the verdict of a live listing.
    pub async fn security_results(&self, slug: &str) -> Result<SecurityResults, CatalogError> {
        let live = self.live(slug, None).await?;
        let detail = &live.detail;
        Ok(SecurityResults {
            slug: detail.summary.slug.clone(),
            status: detail.summary.security_status,
            score: detail.security_score,
            trust_level: trust_level(detail.summary.author.verified).to_owned(),
            findings: detail.security_findings.clone(),
        })
    }

    /// `GET /v1/categories`: every category with its count of live listings, cached.
    pub async fn categories(&self) -> Result<Arc<CategoriesResponse>, CatalogError> {
        let db = self.db.clone();
        self.cache
            .categories(async move {
                let rows = db.run(catalog::categories_with_counts).await?;
                let mut categories = Vec::with_capacity(rows.len());
                for (category, count) in rows {
                    let keywords: Vec<String> = serde_json::from_str(&category.sample_keywords)
                        .map_err(StoreError::from)?;
                    categories.push(CategoryInfo {
                        category: category.slug,
                        name: category.name,
                        description: category.description,
                        icon: category.icon,
                        sample_keywords: keywords.join(", "),
                        count,
                    });
                }
                let total_count = categories.iter().map(|c| c.count).sum();
                Ok::<_, CatalogError>(Arc::new(CategoriesResponse { categories, total_count }))
            })
            .await
    }

    /// `GET /v1/sellers`: sellers, most downloaded first.
    pub async fn sellers(&self, page: PageRequest) -> Result<Page<SellerSummary>, CatalogError> {
        let (rows, total) = self.db.run(move |c| sellers::page(c, page.limit, page.offset)).await?;
        let items = rows.iter().map(|(user, stats)| seller_summary(user, *stats)).collect();
        Ok(Page::new(items, total, page))
    }

    /// `GET /v1/sellers/{slug}`: a seller's public profile with their live listings.
    pub async fn seller(&self, slug: String) -> Result<SellerProfile, CatalogError> {
        let (user, stats, listings) = self
            .db
            .run(move |c| {
                let Some((user, stats)) = sellers::by_slug(c, &slug)? else { return Ok(None) };
                let (ids, _) = sellers::listing_ids(c, user.id.as_str(), PROFILE_SKILLS, 0)?;
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                let listings = catalog::cards_with_authors(c, &ids)?;
                Ok::<_, StoreError>(Some((user, stats, listings)))
            })
            .await?
            .ok_or(CatalogError::SellerNotFound)?;
        Ok(SellerProfile {
            summary: seller_summary(&user, stats),
            bio: user.bio.clone(),
            website_url: user.website_url.clone(),
            github_url: user.github_url.clone(),
            linkedin_url: user.linkedin_url.clone(),
            twitter_url: user.twitter_url.clone(),
            skills: listings
                .into_iter()
                .map(|(l, _)| SellerSkill {
                    slug: l.slug,
                    title: l.title,
                    price_cents: l.price_cents,
                    download_count: l.download_count,
                })
                .collect(),
        })
    }

    /// `GET /v1/sellers/{slug}/skills`: a page of a seller's live listings with their
    /// scan results.
    pub async fn seller_listings(
        &self,
        slug: String,
        page: PageRequest,
    ) -> Result<Page<SellerListing>, CatalogError> {
        let (rows, versions, total) = self
            .db
            .run(move |c| {
                let Some((user, _)) = sellers::by_slug(c, &slug)? else { return Ok(None) };
                let (ids, total) =
                    sellers::listing_ids(c, user.id.as_str(), page.limit, page.offset)?;
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                let rows = catalog::cards_with_authors(c, &ids)?;
                let live: Vec<&str> = rows
                    .iter()
                    .filter_map(|(l, _)| l.live_version_id.as_ref().map(VersionId::as_str))
                    .collect();
                let versions = catalog::versions_by_ids(c, &live)?;
                Ok::<_, StoreError>(Some((rows, versions, total)))
            })
            .await?
            .ok_or(CatalogError::SellerNotFound)?;
        let items = rows
            .iter()
            .map(|(listing, owner)| {
                let live = listing.live_version_id.as_ref().and_then(|id| versions.get(id));
                Ok(SellerListing {
                    summary: present::summary(listing, owner),
                    security_findings: present::findings(live)?,
                    security_score: listing.security_score,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Page::new(items, total, page))
    }

    /// The slug of a listing by primary key: the benchmark's single-row yardstick.
    pub async fn slug_by_id(&self, id: String) -> Result<Option<String>, StoreError> {
        self.db.run(move |c| catalog::slug_by_id(c, &id)).await
    }
}

/// The trust level shown beside an author.
pub fn trust_level(verified: bool) -> &'static str {
    if verified { "verified" } else { "community" }
}

fn seller_summary(user: &User, stats: SellerStats) -> SellerSummary {
    SellerSummary {
        display_name: user.display_name.clone().unwrap_or_default(),
        display_name_slug: user.display_name_slug.clone().unwrap_or_default(),
        avatar_url: user.avatar_url.clone(),
        verified: user.verified,
        total_skills: stats.total_skills,
        total_downloads: stats.total_downloads,
        joined_at: present::utc(user.created_at),
    }
}
