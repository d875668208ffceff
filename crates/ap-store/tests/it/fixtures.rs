//! Rows for the stories: users, and listings with a live version.

use ap_domain::listing::ListingType;
use ap_store::models::{NewListing, NewListingVersion, NewUser};
use ap_store::{Conn, Db, StoreError, publish, write_tx};
use chrono::{NaiveDateTime, Utc};

/// A listing to write.
pub struct Spec<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub category: &'a str,
    pub kind: ListingType,
    pub downloads: i64,
    /// Without a live version (never published).
    pub draft: bool,
    pub archived: bool,
}

impl<'a> Spec<'a> {
    /// A live skill in `development`.
    pub fn skill(slug: &'a str, title: &'a str, description: &'a str) -> Self {
        Spec {
            slug,
            title,
            description,
            category: "development",
            kind: ListingType::Skill,
            downloads: 0,
            draft: false,
            archived: false,
        }
    }
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// A user with a display name; answers the id.
pub fn user(db: &Db, name: &str) -> String {
    let user = NewUser {
        display_name: Some(name.to_owned()),
        display_name_slug: Some(ap_domain::slug::display_name_slug(name)),
        ..NewUser::new("test", name, Some(format!("{name}@example.com")), None, now())
    };
    let id = user.id.clone();
    db.run_blocking(|c| publish::insert_user(c, &user)).expect("insert user");
    id
}

/// Writes the listings of `specs` for `owner`; answers their ids in order.
pub fn listings(db: &Db, owner: &str, specs: &[Spec<'_>]) -> Vec<String> {
    db.run_blocking(|c| write_tx(c, |c| specs.iter().map(|s| listing(c, owner, s)).collect()))
        .expect("insert listings")
}

fn listing(c: &mut Conn, owner: &str, spec: &Spec<'_>) -> Result<String, StoreError> {
    let at = now();
    let listing = NewListing {
        id: uuid::Uuid::now_v7().to_string(),
        slug: spec.slug.to_owned(),
        owner_id: owner.to_owned(),
        listing_type: spec.kind.as_str().to_owned(),
        title: spec.title.to_owned(),
        description: spec.description.to_owned(),
        long_description: String::new(),
        category: spec.category.to_owned(),
        price_cents: 0,
        currency: "usd".to_owned(),
        download_count: spec.downloads,
        install_count: 0,
        view_count: 0,
        rating_sum: 0,
        rating_count: 0,
        created_at: at,
        updated_at: at,
    };
    publish::insert_listing(c, &listing)?;
    if !spec.draft {
        let version = NewListingVersion::synthetic_live(&listing.id, at);
        publish::insert_live_version(c, &version, at)?;
    }
    if spec.archived {
        publish::archive_listing(c, &listing.id, at)?;
    }
    Ok(listing.id)
}
