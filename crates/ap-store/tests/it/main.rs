//! Store-level tests of the backend-specific SQL (the search arms, the upserts), run on
//! SQLite always and on PostgreSQL when `AP_TEST_DATABASE_URL` is set (unreachable =
//! failure), directly through the query functions rather than through HTTP.

mod audit;
mod documents;
mod fixtures;
mod search;
mod sessions;
mod upkeep;
mod upserts;

/// Runs each named story (a `fn(&Db)`) on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $story() {
                    let database = ap_store::testing::TestDatabase::sqlite();
                    super::$story(&database.db);
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $story() {
                    if let Some(database) = ap_store::testing::TestDatabase::postgres() {
                        super::$story(&database.db);
                    }
                }
            )*
        }
    };
}
