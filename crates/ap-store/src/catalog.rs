//! Catalog reads: pages of live listings, a listing by slug, versions, categories, views.
//!
//! Pages are fetched in two steps: the ids of the page through a covering index (a deep
//! offset then walks index entries only), then those rows by primary key.

use std::collections::HashMap;

use ap_domain::listing::VersionStatus;
use ap_domain::listing::{CatalogFilter, ListingType, PriceFilter, SortOrder};
use ap_domain::page::PageRequest;
use ap_domain::{UserId, VersionId};
use diesel::backend::Backend;
use diesel::dsl::{And, Desc, IsNull, count_star, sql};
use diesel::expression::{AppearsOnTable, ValidGrouping};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::HasSqlType;
use diesel::sql_types::{Bool, Text};
use diesel::sqlite::Sqlite;

use crate::conn::{Conn, MultiBackend};
use crate::error::StoreError;
use crate::models::{
    AuthorRow, Category, ListingCard, ListingExtra, ListingVersion, User, VersionCard,
};
use crate::schema::{categories, listing_versions, listings, users};
use crate::with_backend;

/// A boxed query over `listings` selecting `ST`.
type Boxed<'a, ST> = listings::BoxedQuery<'a, MultiBackend, ST>;

/// Restricts a query to live listings (not archived, with a live version) matching `filter`.
fn live_matching<'a, ST>(
    conn: &Conn,
    mut query: Boxed<'a, ST>,
    filter: &CatalogFilter,
) -> Boxed<'a, ST> {
    query = query
        .filter(listings::archived_at.is_null())
        .filter(listings::live_version_id.is_not_null());
    if let Some(kind) = filter.listing_type {
        query = query.filter(listings::listing_type.eq(kind.as_str()));
    }
    if let Some(category) = &filter.category {
        query = query.filter(listings::category.eq(category.clone()));
    }
    // A price filter matches a large share of the catalog: pages walk their sort's index
    // and check the price inside it (see the browse-indexes migration). PostgreSQL's
    // statistics know that; SQLite's planner would seek the price index and sort what it
    // finds, so there the filter is written `+price_cents`, which it never seeks by.
    let sqlite = matches!(conn, Conn::Sqlite(_));
    match (filter.price, sqlite) {
        (Some(PriceFilter::Free), false) => query.filter(listings::price_cents.eq(0)),
        (Some(PriceFilter::Paid), false) => query.filter(listings::price_cents.gt(0)),
        (Some(PriceFilter::Free), true) => query.filter(sql::<Bool>("+listings.price_cents = 0")),
        (Some(PriceFilter::Paid), true) => query.filter(sql::<Bool>("+listings.price_cents > 0")),
        (None, _) => query,
    }
}

/// Ids of one page of live listings, in `sort` order.
pub fn page_ids(
    conn: &mut Conn,
    filter: &CatalogFilter,
    sort: SortOrder,
    page: PageRequest,
) -> Result<Vec<String>, StoreError> {
    let query = live_matching(conn, listings::table.select(listings::id).into_boxed(), filter);
    let query = match sort {
        SortOrder::Popular => query.order((listings::popularity.desc(), listings::id.desc())),
        SortOrder::Newest => query.order((listings::published_at.desc(), listings::id.desc())),
        SortOrder::Rating => query.order((
            listings::rating_average.desc(),
            listings::rating_count.desc(),
            listings::id.desc(),
        )),
        SortOrder::PriceAsc => query.order((listings::price_cents.asc(), listings::id.asc())),
        SortOrder::PriceDesc => query.order((listings::price_cents.desc(), listings::id.desc())),
    };
    Ok(query.limit(page.limit).offset(page.offset).load(conn)?)
}

/// How many live listings match `filter`.
pub fn count_live(conn: &mut Conn, filter: &CatalogFilter) -> Result<i64, StoreError> {
    let query = live_matching(conn, listings::table.select(count_star()).into_boxed(), filter);
    Ok(query.get_result(conn)?)
}

/// `<column> IN (…ids…)` with the ids bound as one JSON array: the statement text is the
/// same for any number of ids, so it is prepared once per connection and found in the
/// statement cache by its type (a plain `IN (?, ?, …)`, or a `sql` literal, is prepared
/// anew on every call).
#[derive(Debug, Clone)]
pub(crate) struct IdIn<C> {
    column: C,
    ids: String,
}

/// [`IdIn`] of `column` and `ids`.
pub(crate) fn id_in<C>(column: C, ids: &[&str]) -> IdIn<C> {
    IdIn { column, ids: serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned()) }
}

impl<C: Expression> Expression for IdIn<C> {
    type SqlType = Bool;
}

impl<C: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for IdIn<C> {}

impl<C: ValidGrouping<G>, G> ValidGrouping<G> for IdIn<C> {
    type IsAggregate = C::IsAggregate;
}

impl<C: QueryId> QueryId for IdIn<C> {
    type QueryId = IdIn<C::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = C::HAS_STATIC_QUERY_ID;
}

/// How a backend spells "the elements of a JSON array of text" as a subquery, around the
/// bound array.
trait JsonTextElements: Backend {
    const BEFORE: &'static str;
    const AFTER: &'static str;
}

impl JsonTextElements for Sqlite {
    const BEFORE: &'static str = "SELECT value FROM json_each(";
    const AFTER: &'static str = ")";
}

impl JsonTextElements for Pg {
    const BEFORE: &'static str = "SELECT json_array_elements_text(CAST(";
    const AFTER: &'static str = " AS json))";
}

impl<C, DB> QueryFragment<DB> for IdIn<C>
where
    C: QueryFragment<DB>,
    DB: JsonTextElements + HasSqlType<Text>,
    String: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (");
        out.push_sql(DB::BEFORE);
        out.push_bind_param::<Text, _>(&self.ids)?;
        out.push_sql(DB::AFTER);
        out.push_sql(")");
        Ok(())
    }
}

impl<C: QueryFragment<Sqlite> + QueryFragment<Pg>> QueryFragment<MultiBackend> for IdIn<C> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        MultiBackend::walk_variant_ast(self, pass)
    }
}

/// Listing cards with their authors, in the order of `ids` (missing ones skipped): one
/// statement, on the backend's own connection (a hot read: every page of a list or a
/// search).
pub fn cards_with_authors(
    conn: &mut Conn,
    ids: &[&str],
) -> Result<Vec<(ListingCard, AuthorRow)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(ListingCard, AuthorRow)> = with_backend!(conn, c => listings::table
        .inner_join(users::table)
        .filter(id_in(listings::id, ids))
        .select((ListingCard::as_select(), AuthorRow::as_select()))
        .load(c)?);
    let position: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut slots: Vec<Option<(ListingCard, AuthorRow)>> = ids.iter().map(|_| None).collect();
    for row in rows {
        if let Some(&i) = position.get(row.0.id.as_str()) {
            slots[i] = Some(row);
        }
    }
    Ok(slots.into_iter().flatten().collect())
}

/// The users with these ids, by id.
pub fn users_by_ids(conn: &mut Conn, ids: &[&str]) -> Result<HashMap<UserId, User>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let filter = id_in(users::id, ids);
    let rows: Vec<User> = users::table.filter(filter).select(User::as_select()).load(conn)?;
    Ok(rows.into_iter().map(|user| (user.id.clone(), user)).collect())
}

/// A listing by slug, whatever its state, optionally of one type.
pub fn listing_by_slug(
    conn: &mut Conn,
    slug: &str,
    kind: Option<ListingType>,
) -> Result<Option<(ListingCard, ListingExtra)>, StoreError> {
    let mut query = listings::table
        .filter(listings::slug.eq(slug))
        .select((ListingCard::as_select(), ListingExtra::as_select()))
        .into_boxed();
    if let Some(kind) = kind {
        query = query.filter(listings::listing_type.eq(kind.as_str()));
    }
    Ok(query.first(conn).optional()?)
}

/// The parts of a listing's detail page: the listing by slug (whatever its state,
/// optionally of one type) with its author, in one query, then its live versions.
pub fn detail_by_slug(
    conn: &mut Conn,
    slug: &str,
    kind: Option<ListingType>,
) -> Result<Option<DetailParts>, StoreError> {
    // One statement, the listing with its author and live versions (a row per version),
    // on the backend's own connection and not boxed: it is found in the statement cache
    // by its type (a boxed query is prepared anew on every call).
    let rows: Vec<DetailRow> = with_backend!(conn, c => {
        let query = listings::table
            .inner_join(users::table)
            .left_join(
                listing_versions::table
                    .on(listing_versions::listing_id.eq(listings::id).and(version_servable())),
            )
            .filter(listings::slug.eq(slug))
            .order(newest_first())
            .select((
                ListingCard::as_select(),
                ListingExtra::as_select(),
                AuthorRow::as_select(),
                Option::<VersionCard>::as_select(),
            ));
        match kind {
            Some(kind) => query.filter(listings::listing_type.eq(kind.as_str())).load(c)?,
            None => query.load(c)?,
        }
    });
    Ok(grouped(rows).into_iter().next())
}

/// The parts of the details of these listings (missing ones skipped), whatever their
/// state, in one query: what the stored documents are built from.
pub fn details_by_ids(conn: &mut Conn, ids: &[&str]) -> Result<Vec<DetailParts>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<DetailRow> = with_backend!(conn, c => listings::table
        .inner_join(users::table)
        .left_join(
            listing_versions::table
                .on(listing_versions::listing_id.eq(listings::id).and(version_servable())),
        )
        .filter(id_in(listings::id, ids))
        .order(listings::id.asc())
        .then_order_by(newest_first())
        .select((
            ListingCard::as_select(),
            ListingExtra::as_select(),
            AuthorRow::as_select(),
            Option::<VersionCard>::as_select(),
        ))
        .load(c)?);
    Ok(grouped(rows))
}

/// A listing with its author and one of its live versions (none: it has none).
type DetailRow = (ListingCard, ListingExtra, AuthorRow, Option<VersionCard>);

/// Details from rows that come a listing at a time, each listing's versions newest first.
fn grouped(rows: Vec<DetailRow>) -> Vec<DetailParts> {
    let mut details: Vec<DetailParts> = Vec::new();
    for (card, extra, author, version) in rows {
        match details.last_mut() {
            Some(last) if last.card.id == card.id => last.versions.extend(version),
            _ => details.push(DetailParts {
                card,
                extra,
                author,
                versions: version.into_iter().collect(),
            }),
        }
    }
    details
}

/// What a listing's detail is made of.
#[derive(Debug, Clone)]
pub struct DetailParts {
    /// The listing's list columns.
    pub card: ListingCard,
    /// The columns only the detail shows.
    pub extra: ListingExtra,
    /// Its author.
    pub author: AuthorRow,
    /// Its live versions, newest first.
    pub versions: Vec<VersionCard>,
}

/// The rule of a servable version: it passed its scan and is not quarantined. Written
/// once, for the detail's versions, a listing's live versions, the version a listing
/// serves and the check before an archive is served.
pub(crate) type VersionServable = And<
    diesel::dsl::Eq<listing_versions::status, &'static str>,
    IsNull<listing_versions::quarantined_at>,
>;

pub(crate) fn version_servable() -> VersionServable {
    listing_versions::status
        .eq(VersionStatus::Live.as_str())
        .and(listing_versions::quarantined_at.is_null())
}

/// Versions by number, newest first.
pub(crate) type NewestFirst =
    (Desc<listing_versions::major>, Desc<listing_versions::minor>, Desc<listing_versions::patch>);

pub(crate) fn newest_first() -> NewestFirst {
    (listing_versions::major.desc(), listing_versions::minor.desc(), listing_versions::patch.desc())
}

/// The live versions of a listing, newest first.
pub fn live_versions(conn: &mut Conn, listing_id: &str) -> Result<Vec<ListingVersion>, StoreError> {
    Ok(with_backend!(conn, c => listing_versions::table
        .filter(listing_versions::listing_id.eq(listing_id))
        .filter(version_servable())
        .order(newest_first())
        .select(ListingVersion::as_select())
        .load(c)?))
}

/// Versions by id (e.g. the live versions of a page of listings), by id.
pub fn versions_by_ids(
    conn: &mut Conn,
    ids: &[&str],
) -> Result<HashMap<VersionId, VersionCard>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let filter = id_in(listing_versions::id, ids);
    let rows: Vec<VersionCard> =
        listing_versions::table.filter(filter).select(VersionCard::as_select()).load(conn)?;
    Ok(rows.into_iter().map(|v| (v.id.clone(), v)).collect())
}

/// A listing's stored view count.
pub fn view_count(conn: &mut Conn, listing_id: &str) -> Result<i64, StoreError> {
    Ok(listings::table.find(listing_id).select(listings::view_count).first(conn)?)
}

/// Every category in display order with its live-listing count.
pub fn categories_with_counts(conn: &mut Conn) -> Result<Vec<(Category, i64)>, StoreError> {
    let all: Vec<Category> = categories::table
        .order(categories::position.asc())
        .select(Category::as_select())
        .load(conn)?;
    let counts: HashMap<String, i64> = listings::table
        .filter(listings::archived_at.is_null())
        .filter(listings::live_version_id.is_not_null())
        .group_by(listings::category)
        .select((listings::category, count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(all
        .into_iter()
        .map(|category| {
            let count = counts.get(&category.slug).copied().unwrap_or(0);
            (category, count)
        })
        .collect())
}

/// Every category slug.
pub fn category_slugs(conn: &mut Conn) -> Result<Vec<String>, StoreError> {
    Ok(categories::table.select(categories::slug).load(conn)?)
}

/// Whether any listing exists, in any state.
pub fn any_listing(conn: &mut Conn) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(listings::table.select(listings::id)))
        .get_result(conn)?)
}

/// A listing's slug by primary key (the benchmark yardstick's single-row read).
pub fn slug_by_id(conn: &mut Conn, id: &str) -> Result<Option<String>, StoreError> {
    Ok(
        with_backend!(conn, c => listings::table.find(id).select(listings::slug).first(c).optional()?),
    )
}
