//! The public catalog: lists, search, details, categories, platforms, sellers' public
//! pages, security results and the package scan.

use std::collections::BTreeMap;

use ap_domain::listing::{ListingType, PriceFilter, SortOrder};
use ap_domain::page::Page;
use ap_domain::wire::NATIVE_SOURCE;
use ap_domain::wire::{
    CategoriesResponse, ListingDetail, ListingSummary, PackageScan, PlatformsResponse, ScanVerdict,
    SecurityResults, SellerListing, SellerProfile, SellerSummary, UnifiedDetail,
};
use reqwest::Method;

use crate::{Client, Error, page_query, segment};

/// A list of the catalog (`GET /v1/skills`): filters, order and page; each `None` is the
/// server's default.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Only skills or only agents.
    pub kind: Option<ListingType>,
    /// A category slug.
    pub category: Option<String>,
    /// The order.
    pub sort: Option<SortOrder>,
    /// Only free or only paid listings.
    pub price: Option<PriceFilter>,
    /// Page size (1–100).
    pub limit: Option<i64>,
    /// Items to skip.
    pub offset: Option<i64>,
}

/// A search (`GET /v1/search`).
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// The words (the last one may be a prefix being typed).
    pub q: String,
    /// Only skills or only agents.
    pub kind: Option<ListingType>,
    /// A category slug.
    pub category: Option<String>,
    /// Page size (1–100).
    pub limit: Option<i64>,
    /// Items to skip.
    pub offset: Option<i64>,
}

impl SearchQuery {
    /// A search for `words`, first page.
    pub fn words(words: impl Into<String>) -> Self {
        SearchQuery { q: words.into(), ..SearchQuery::default() }
    }
}

impl Client {
    /// `GET /v1/skills`: a page of live listings.
    pub async fn list(&self, query: &ListQuery) -> Result<Page<ListingSummary>, Error> {
        let mut pairs = page_query(query.limit, query.offset);
        if let Some(kind) = query.kind {
            pairs.push(("type", kind.as_str().to_owned()));
        }
        if let Some(category) = &query.category {
            pairs.push(("category", category.clone()));
        }
        if let Some(sort) = query.sort {
            pairs.push(("sort", sort.as_str().to_owned()));
        }
        if let Some(price) = query.price {
            pairs.push(("price", price.as_str().to_owned()));
        }
        self.get("v1/skills", &pairs).await
    }

    /// `GET /v1/search`: this server's matches, best first.
    pub async fn search(&self, query: &SearchQuery) -> Result<Page<ListingSummary>, Error> {
        let mut pairs = page_query(query.limit, query.offset);
        pairs.push(("q", query.q.clone()));
        if let Some(kind) = query.kind {
            pairs.push(("type", kind.as_str().to_owned()));
        }
        if let Some(category) = &query.category {
            pairs.push(("category", category.clone()));
        }
        let mut sections: BTreeMap<String, Page<ListingSummary>> =
            self.get("v1/search", &pairs).await?;
        sections.remove(NATIVE_SOURCE).ok_or_else(|| Error::Unexpected {
            status: 200,
            body: format!("no `{NATIVE_SOURCE}` section in the search answer"),
        })
    }

    /// `GET /v1/skills/{slug}`: a live listing with its versions.
    pub async fn listing(&self, slug: &str) -> Result<ListingDetail, Error> {
        self.get(&format!("v1/skills/{}", segment(slug)), &[]).await
    }

    /// `GET /v1/detail/{slug}`: the detail with its author and scan, flattened.
    pub async fn detail(&self, slug: &str) -> Result<UnifiedDetail, Error> {
        self.get(&format!("v1/detail/{}", segment(slug)), &[]).await
    }

    /// `GET /v1/categories`: every category with its listing count.
    pub async fn categories(&self) -> Result<CategoriesResponse, Error> {
        self.get("v1/categories", &[]).await
    }

    /// `GET /v1/platforms`: the tools listings install into.
    pub async fn platforms(&self) -> Result<PlatformsResponse, Error> {
        self.get("v1/platforms", &[]).await
    }

    /// `GET /v1/sellers`: sellers with live listings.
    pub async fn sellers(
        &self,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<Page<SellerSummary>, Error> {
        self.get("v1/sellers", &page_query(limit, offset)).await
    }

    /// `GET /v1/sellers/{slug}`: a seller's public profile.
    pub async fn seller(&self, slug: &str) -> Result<SellerProfile, Error> {
        self.get(&format!("v1/sellers/{}", segment(slug)), &[]).await
    }

    /// `GET /v1/sellers/{slug}/skills`: a seller's live listings.
    pub async fn seller_listings(
        &self,
        slug: &str,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<Page<SellerListing>, Error> {
        let path = format!("v1/sellers/{}/skills", segment(slug));
        self.get(&path, &page_query(limit, offset)).await
    }

    /// `GET /v1/security/results/{slug}`: the scan of a listing's live version.
    pub async fn security_results(&self, slug: &str) -> Result<SecurityResults, Error> {
        self.get(&format!("v1/security/results/{}", segment(slug)), &[]).await
    }

    /// `GET /v1/security/check/{content_hash}`: what the marketplace knows of installed
    /// content with this hash (`sha256:<hex>`).
    pub async fn check_content(&self, content_hash: &str) -> Result<ScanVerdict, Error> {
        self.get(&format!("v1/security/check/{}", segment(content_hash)), &[]).await
    }

    /// `POST /v1/security/scan-package`: scans a ZIP package of `kind` without
    /// publishing it.
    pub async fn scan_package(
        &self,
        zip: Vec<u8>,
        kind: ListingType,
    ) -> Result<PackageScan, Error> {
        let form = reqwest::multipart::Form::new()
            .part("package", crate::zip_part(zip)?)
            .text("skill_type", kind.as_str());
        self.json(self.request(Method::POST, "v1/security/scan-package")?.multipart(form)).await
    }
}
