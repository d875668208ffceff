//! The upkeep after a bulk load (seeding).

use ap_store::conn::Conn;
use ap_store::{Db, StoreError, migrate};
use diesel::prelude::*;
use diesel::sql_types::{Float, Integer};

use crate::both_backends;
use crate::fixtures::{Spec, listings, user};

#[derive(QueryableByName)]
struct Planned {
    #[diesel(sql_type = Integer)]
    relallvisible: i32,
    #[diesel(sql_type = Float)]
    reltuples: f32,
}

/// After the upkeep PostgreSQL knows how many listings there are and that their pages are
/// all visible (so a count walks the index alone); SQLite needs nothing and is left as is.
fn after_a_bulk_load_the_catalog_is_analyzed_and_all_visible(db: &Db) {
    let owner = user(db, "Bulk Loader");
    listings(
        db,
        &owner,
        &[
            Spec::skill("bulk-one", "Bulk one", "Loaded in bulk."),
            Spec::skill("bulk-two", "Bulk two", "Loaded in bulk too."),
        ],
    );
    db.run_blocking(migrate::after_bulk_load).expect("upkeep");
    let planned = db
        .run_blocking(|conn| -> Result<Option<(i32, f32)>, StoreError> {
            let Conn::Pg(c) = conn else { return Ok(None) };
            let row: Planned = diesel::sql_query(
                "SELECT relallvisible, reltuples FROM pg_class WHERE oid = 'listings'::regclass",
            )
            .get_result(c)?;
            Ok(Some((row.relallvisible, row.reltuples)))
        })
        .expect("pg_class");
    if let Some((visible_pages, rows)) = planned {
        assert!(visible_pages > 0, "no page of listings is marked all-visible");
        assert_eq!(rows, 2.0, "the planner's row count of listings");
    }
}

both_backends!(after_a_bulk_load_the_catalog_is_analyzed_and_all_visible);
