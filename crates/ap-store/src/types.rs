//! The marketplace's vocabulary at the row boundary: listing types, version and scan
//! statuses and typed ids are read from their text columns through diesel's `FromSql`,
//! so no code past the store compares a status with a string.
//!
//! Each implements `FromSql` and `Queryable` for a single text column of the
//! multi-backend connection (what diesel's `FromSqlRow` derive would write, if it could
//! be applied to another crate's type). The models name them through [`Stored`] and
//! [`StoredOption`] instead (`#[diesel(deserialize_as = …)]`), which read on *any*
//! backend: the hot catalog reads run on the backend's own connection, where a
//! statement is found in the cache by its type instead of by its SQL text rebuilt on
//! every call (see `with_backend!` in `catalog`).
//!
//! They are written through their one spelling (`as_str`): diesel's `AsExpression`,
//! which a typed insert or comparison would need, cannot be implemented here for types
//! of `ap-domain`, and `ap-domain` stays free of diesel.

use ap_domain::commerce::PurchaseStatus;
use ap_domain::listing::{ListingType, SecurityStatus, VersionStatus};
use ap_domain::{ListingId, UserId, VersionId};
use diesel::Queryable;
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::sql_types::{Nullable, Text};

use crate::conn::MultiBackend;

/// A stored spelling that is not part of the vocabulary.
#[derive(Debug, thiserror::Error)]
#[error("unknown stored {kind}: {value:?}")]
struct UnknownValue {
    kind: &'static str,
    value: String,
}

/// A value of the vocabulary as its stored text.
pub trait Spelled: Sized {
    /// The value a stored text stands for.
    fn from_stored(text: String) -> deserialize::Result<Self>;
}

fn parsed<T>(
    value: String,
    kind: &'static str,
    parse: impl Fn(&str) -> Option<T>,
) -> deserialize::Result<T> {
    parse(&value).ok_or_else(|| UnknownValue { kind, value }.into())
}

/// A vocabulary value read from a text column on any backend; the models' fields of
/// these types say `#[diesel(deserialize_as = Stored<T>)]`.
#[derive(Debug)]
pub struct Stored<T>(T);

/// [`Stored`] of a nullable column.
#[derive(Debug)]
pub struct StoredOption<T>(Option<T>);

impl<T: Spelled, DB: Backend> FromSql<Text, DB> for Stored<T>
where
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        T::from_stored(String::from_sql(bytes)?).map(Stored)
    }
}

impl<T: Spelled, DB: Backend> Queryable<Text, DB> for Stored<T>
where
    String: FromSql<Text, DB>,
{
    type Row = Self;

    fn build(row: Self) -> deserialize::Result<Self> {
        Ok(row)
    }
}

impl<T: Spelled, DB: Backend> Queryable<Nullable<Text>, DB> for StoredOption<T>
where
    String: FromSql<Text, DB>,
{
    type Row = Option<Stored<T>>;

    fn build(row: Option<Stored<T>>) -> deserialize::Result<Self> {
        Ok(StoredOption(row.map(|Stored(value)| value)))
    }
}

impl<T> From<StoredOption<T>> for Option<T> {
    fn from(StoredOption(value): StoredOption<T>) -> Self {
        value
    }
}

/// The spelling of each type, and its impls for the multi-backend connection and
/// through [`Stored`].
macro_rules! vocabulary {
    ($($ty:ty => |$text:ident| $read:expr;)*) => {$(
        impl Spelled for $ty {
            fn from_stored($text: String) -> deserialize::Result<Self> {
                $read
            }
        }

        impl From<Stored<$ty>> for $ty {
            fn from(Stored(value): Stored<$ty>) -> Self {
                value
            }
        }

        impl FromSql<Text, MultiBackend> for $ty {
            fn from_sql(
                bytes: <MultiBackend as Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                Self::from_stored(bytes.from_sql::<String, Text>()?)
            }
        }

        impl Queryable<Text, MultiBackend> for $ty {
            type Row = Self;

            fn build(row: Self) -> deserialize::Result<Self> {
                Ok(row)
            }
        }
    )*};
}

vocabulary! {
    ListingType => |text| parsed(text, "listing type", ListingType::parse);
    VersionStatus => |text| parsed(text, "version status", VersionStatus::parse);
    SecurityStatus => |text| parsed(text, "security status", SecurityStatus::parse);
    PurchaseStatus => |text| parsed(text, "purchase status", PurchaseStatus::parse);
    ListingId => |text| Ok(ListingId::from(text));
    UserId => |text| Ok(UserId::from(text));
    VersionId => |text| Ok(VersionId::from(text));
}
