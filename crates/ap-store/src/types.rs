//! The marketplace's vocabulary at the row boundary: listing types, version and scan
//! statuses and typed ids are read from their text columns through diesel's `FromSql`,
//! so no code past the store compares a status with a string.
//!
//! Each also implements `Queryable` for a single text column (what diesel's
//! `FromSqlRow` derive would write, if it could be applied to another crate's type).
//!
//! They are written through their one spelling (`as_str`): diesel's `AsExpression`,
//! which a typed insert or comparison would need, cannot be implemented here for types
//! of `ap-domain`, and `ap-domain` stays free of diesel.

use ap_domain::commerce::PurchaseStatus;
use ap_domain::listing::{ListingType, SecurityStatus, VersionStatus};
use ap_domain::{ListingId, UserId, VersionId};
use diesel::Queryable;
use diesel::deserialize::{self, FromSql};
use diesel::sql_types::Text;

use crate::conn::MultiBackend;

/// A stored spelling that is not part of the vocabulary.
#[derive(Debug, thiserror::Error)]
#[error("unknown stored {kind}: {value:?}")]
struct UnknownValue {
    kind: &'static str,
    value: String,
}

fn text(
    bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
) -> deserialize::Result<String> {
    bytes.from_sql::<String, Text>()
}

fn parsed<T>(
    bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
    kind: &'static str,
    parse: impl Fn(&str) -> Option<T>,
) -> deserialize::Result<T> {
    let value = text(bytes)?;
    parse(&value).ok_or_else(|| UnknownValue { kind, value }.into())
}

impl FromSql<Text, MultiBackend> for ListingType {
    fn from_sql(
        bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        parsed(bytes, "listing type", ListingType::parse)
    }
}

impl FromSql<Text, MultiBackend> for VersionStatus {
    fn from_sql(
        bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        parsed(bytes, "version status", VersionStatus::parse)
    }
}

impl FromSql<Text, MultiBackend> for SecurityStatus {
    fn from_sql(
        bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        parsed(bytes, "security status", SecurityStatus::parse)
    }
}

impl FromSql<Text, MultiBackend> for PurchaseStatus {
    fn from_sql(
        bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        parsed(bytes, "purchase status", PurchaseStatus::parse)
    }
}

impl FromSql<Text, MultiBackend> for ListingId {
    fn from_sql(
        bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        text(bytes).map(ListingId::from)
    }
}

impl FromSql<Text, MultiBackend> for UserId {
    fn from_sql(
        bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        text(bytes).map(UserId::from)
    }
}

impl FromSql<Text, MultiBackend> for VersionId {
    fn from_sql(
        bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        text(bytes).map(VersionId::from)
    }
}

impl Queryable<Text, MultiBackend> for ListingType {
    type Row = Self;

    fn build(row: Self) -> deserialize::Result<Self> {
        Ok(row)
    }
}

impl Queryable<Text, MultiBackend> for VersionStatus {
    type Row = Self;

    fn build(row: Self) -> deserialize::Result<Self> {
        Ok(row)
    }
}

impl Queryable<Text, MultiBackend> for SecurityStatus {
    type Row = Self;

    fn build(row: Self) -> deserialize::Result<Self> {
        Ok(row)
    }
}

impl Queryable<Text, MultiBackend> for ListingId {
    type Row = Self;

    fn build(row: Self) -> deserialize::Result<Self> {
        Ok(row)
    }
}

impl Queryable<Text, MultiBackend> for UserId {
    type Row = Self;

    fn build(row: Self) -> deserialize::Result<Self> {
        Ok(row)
    }
}

impl Queryable<Text, MultiBackend> for VersionId {
    type Row = Self;

    fn build(row: Self) -> deserialize::Result<Self> {
        Ok(row)
    }
}

impl Queryable<Text, MultiBackend> for PurchaseStatus {
    type Row = Self;

    fn build(row: Self) -> deserialize::Result<Self> {
        Ok(row)
    }
}
