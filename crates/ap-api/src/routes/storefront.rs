//! The storefront's browsing pages: the home page (`/`: search, categories with counts,
//! type, sort and price filters, paging) and a seller's page (`/sellers/{slug}`). Both
//! are server-rendered from the same catalog services as the API, usable without
//! JavaScript, and forgiving: a filter value the page does not know is ignored rather
//! than refused (a person edited the address, or followed an old link).

use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use ap_domain::listing::{CatalogFilter, ListingType, PriceFilter, SortOrder, parse_category};
use ap_domain::page::{DEFAULT_LIMIT, MAX_OFFSET, PageRequest};
use ap_domain::search::terms;
use ap_domain::wire::{CategoryInfo, ListingSummary, SellerProfile};
use ap_market::catalog::{CatalogError, SearchSource};
use askama::Template;

use crate::openapi::ErrorBody;
use crate::pages::{self, html, message};
use crate::query::{RawQuery, param};
use crate::routes::site::price_label;
use crate::state::AppState;

/// Listings per page.
const PAGE_SIZE: i64 = DEFAULT_LIMIT;
/// The last page a person can reach (the catalog's deepest offset).
const LAST_PAGE: i64 = MAX_OFFSET / PAGE_SIZE + 1;

/// What the home page was asked for, each value known to the catalog (or absent).
#[derive(Debug, Default, Clone)]
struct Browse {
    q: String,
    category: Option<String>,
    kind: Option<ListingType>,
    sort: Option<SortOrder>,
    price: Option<PriceFilter>,
    page: i64,
}

impl Browse {
    fn parse(query: &RawQuery) -> Self {
        let q = param(query, "q").map(str::trim).unwrap_or("").chars().take(200).collect();
        Browse {
            q,
            category: parse_category(param(query, "category")).ok().flatten(),
            kind: param(query, "type").and_then(ListingType::parse),
            sort: param(query, "sort").and_then(SortOrder::parse),
            price: param(query, "price").and_then(PriceFilter::parse),
            page: param(query, "page")
                .and_then(|p| p.parse::<i64>().ok())
                .unwrap_or(1)
                .clamp(1, LAST_PAGE),
        }
    }

    /// This browse's address with `change` applied (the page back to 1 unless set).
    fn href(&self, change: impl FnOnce(&mut Browse)) -> String {
        let mut next = Browse { page: 1, ..self.clone() };
        change(&mut next);
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if !next.q.is_empty() {
            query.append_pair("q", &next.q);
        }
        if let Some(category) = &next.category {
            query.append_pair("category", category);
        }
        if let Some(kind) = next.kind {
            query.append_pair("type", kind.as_str());
        }
        if let Some(sort) = next.sort {
            query.append_pair("sort", sort.as_str());
        }
        if let Some(price) = next.price {
            query.append_pair("price", price.as_str());
        }
        if next.page > 1 {
            query.append_pair("page", &next.page.to_string());
        }
        let query = query.finish();
        if query.is_empty() { "/".to_owned() } else { format!("/?{query}") }
    }
}

/// One listing as a card.
struct Card {
    href: String,
    title: String,
    kind: &'static str,
    description: String,
    price: String,
    author: String,
    author_href: String,
    rating: Option<String>,
    downloads: i64,
}

impl Card {
    fn of(summary: &ListingSummary) -> Self {
        Card {
            href: format!("/{}s/{}", summary.listing_type.as_str(), summary.slug),
            title: summary.title.clone(),
            kind: summary.listing_type.as_str(),
            description: summary.description.clone(),
            price: price_label(summary.price_cents, &summary.currency),
            author: summary.author.display_name.clone(),
            author_href: format!("/sellers/{}", summary.author.display_name_slug),
            rating: summary
                .rating_average
                .map(|average| format!("{average:.1} ★ ({})", summary.rating_count)),
            downloads: summary.download_count,
        }
    }
}

/// An option of a `<select>`.
struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

fn choices(options: &[(&'static str, &'static str)], current: Option<&str>) -> Vec<Choice> {
    options
        .iter()
        .map(|&(value, label)| Choice { value, label, selected: current.unwrap_or("") == value })
        .collect()
}

/// A category link in the side list.
struct CategoryLink {
    name: String,
    count: i64,
    href: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    q: String,
    category: Option<String>,
    heading: String,
    kinds: Vec<Choice>,
    sorts: Vec<Choice>,
    prices: Vec<Choice>,
    categories: Vec<CategoryLink>,
    all_href: String,
    total: i64,
    cards: Vec<Card>,
    page: i64,
    pages: i64,
    previous: Option<String>,
    next: Option<String>,
}

/// `GET /`: browse and search the catalog.
#[utoipa::path(
    method(get, head),
    path = "/",
    tag = "pages",
    params(
        ("q" = Option<String>, Query, description = "Words to search for (ranked by relevance)"),
        ("category" = Option<String>, Query, description = "A category slug"),
        ("type" = Option<String>, Query, description = "`skill` or `agent`"),
        ("sort" = Option<String>, Query,
            description = "`popular` (default), `newest`, `rating`, `price_asc`, `price_desc` \
                (without `q`)"),
        ("price" = Option<String>, Query, description = "`free` or `paid`"),
        ("page" = Option<String>, Query, description = "Page number from 1"),
    ),
    responses(
        (status = 200, description = "The storefront: search, categories with counts, \
            filters, one page of listings and links to the others (a value it does not know is \
            ignored)", content_type = "text/html", body = String),
        (status = "default", description = "A refusal: an HTML page (503: the catalog could not \
            be read); other errors (rate limiting) in the contract's envelope",
            content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
pub async fn home(state: Data<AppState>, query: RawQuery) -> HttpResponse {
    let browse = Browse::parse(&query);
    match home_page(&state, &browse).await {
        Ok(page) => html(StatusCode::OK, &page),
        Err(error) => unavailable(&error),
    }
}

/// One page of what `browse` asks for.
async fn find(
    state: &AppState,
    browse: &Browse,
) -> Result<ap_domain::page::Page<Arc<ListingSummary>>, CatalogError> {
    let catalog = state.market().catalog();
    let filter = CatalogFilter {
        listing_type: browse.kind,
        category: browse.category.clone(),
        price: browse.price,
    };
    let request = PageRequest { limit: PAGE_SIZE, offset: (browse.page - 1) * PAGE_SIZE };
    let words = terms(&browse.q);
    if words.is_empty() {
        return catalog.page(filter, browse.sort.unwrap_or_default(), request).await;
    }
    let mut sections = catalog.search(SearchSource::Native, words, filter, request).await?;
    Ok(sections
        .pop_first()
        .map(|(_, section)| section)
        .unwrap_or_else(|| ap_domain::page::Page::new(Vec::new(), 0, request)))
}

/// The number of pages `total` listings fill.
fn pages_of(total: i64) -> i64 {
    ((total + PAGE_SIZE - 1) / PAGE_SIZE).clamp(1, LAST_PAGE)
}

async fn home_page(state: &AppState, asked: &Browse) -> Result<HomePage, CatalogError> {
    let catalog = state.market().catalog();
    let mut found = find(state, asked).await?;
    let mut browse = asked.clone();
    if browse.page > pages_of(found.total) {
        // A page past the last (an old link, an edited address) shows the last one.
        browse.page = pages_of(found.total);
        found = find(state, &browse).await?;
    }
    let browse = &browse;
    let categories: Arc<_> = catalog.categories().await?;
    let pages = pages_of(found.total);
    let heading = match (&browse.q, &browse.category) {
        (q, _) if !q.is_empty() => format!("Results for “{q}”"),
        (_, Some(slug)) => category_name(&categories.categories, slug),
        _ => "Skills and agents for your AI coding tools".to_owned(),
    };
    Ok(HomePage {
        q: browse.q.clone(),
        category: browse.category.clone(),
        heading,
        kinds: choices(
            &[("", "Skills and agents"), ("skill", "Skills"), ("agent", "Agents")],
            browse.kind.map(ListingType::as_str),
        ),
        sorts: choices(
            &[
                ("", "Most popular"),
                ("newest", "Newest"),
                ("rating", "Best rated"),
                ("price_asc", "Price: low to high"),
                ("price_desc", "Price: high to low"),
            ],
            browse.sort.filter(|s| *s != SortOrder::Popular).map(SortOrder::as_str),
        ),
        prices: choices(&[("", "Any price"), ("free", "Free"), ("paid", "Paid")], {
            browse.price.map(PriceFilter::as_str)
        }),
        categories: categories
            .categories
            .iter()
            .filter(|c| c.count > 0)
            .map(|c| CategoryLink {
                name: c.name.clone(),
                count: c.count,
                href: browse.href(|b| b.category = Some(c.category.clone())),
                current: browse.category.as_deref() == Some(c.category.as_str()),
            })
            .collect(),
        all_href: browse.href(|b| b.category = None),
        total: found.total,
        cards: found.items.iter().map(|s| Card::of(s)).collect(),
        page: browse.page,
        pages,
        previous: (browse.page > 1).then(|| browse.href(|b| b.page = browse.page - 1)),
        next: (browse.page < pages).then(|| browse.href(|b| b.page = browse.page + 1)),
    })
}

fn category_name(categories: &[CategoryInfo], slug: &str) -> String {
    categories
        .iter()
        .find(|c| c.category == slug)
        .map_or_else(|| slug.to_owned(), |c| c.name.clone())
}

fn unavailable(error: &CatalogError) -> HttpResponse {
    tracing::warn!(%error, "storefront page");
    pages::unreadable("The catalog")
}

#[derive(Template)]
#[template(path = "seller.html")]
struct SellerPage<'a> {
    seller: &'a SellerProfile,
    joined: String,
    links: Vec<(&'static str, &'a str)>,
    listings: Vec<(String, &'a str, String, i64)>,
}

/// `GET /sellers/{slug}`: a seller's public page.
#[utoipa::path(
    method(get, head),
    path = "/sellers/{slug}",
    tag = "pages",
    params(("slug" = String, Path, description = "The seller's display-name slug")),
    responses(
        (status = 200, description = "The seller's public profile and live listings",
            content_type = "text/html", body = String),
        (status = "default", description = "A refusal: an HTML page (404: no seller has that \
            slug; 503: the catalog could not be read); other errors (rate limiting) in the \
            contract's envelope",
            content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
pub async fn seller(state: Data<AppState>, slug: Path<String>) -> HttpResponse {
    let seller = match state.market().catalog().seller(slug.into_inner()).await {
        Ok(seller) => seller,
        Err(CatalogError::SellerNotFound) => {
            return message(StatusCode::NOT_FOUND, "Not found", "There is no such seller here.");
        }
        Err(error) => return unavailable(&error),
    };
    let links = [
        ("Website", seller.website_url.as_deref()),
        ("GitHub", seller.github_url.as_deref()),
        ("LinkedIn", seller.linkedin_url.as_deref()),
        ("X", seller.twitter_url.as_deref()),
    ]
    .into_iter()
    .filter_map(|(label, url)| url.filter(|u| u.starts_with("https://")).map(|u| (label, u)))
    .collect();
    let listings = seller
        .skills
        .iter()
        .map(|s| {
            (
                format!("/skills/{}", s.slug),
                s.title.as_str(),
                price_label(s.price_cents, "usd"),
                s.download_count,
            )
        })
        .collect();
    let page = SellerPage {
        seller: &seller,
        joined: seller.summary.joined_at.format("%B %Y").to_string(),
        links,
        listings,
    };
    html(StatusCode::OK, &page)
}
