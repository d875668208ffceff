//! PostgreSQL sessions are bounded: a statement that runs past the configured limit is
//! cancelled by the server and fails (its unit of work answers 503), instead of holding
//! a connection forever.

use std::time::Duration;

use ap_store::testing::TestDatabase;
use ap_store::{Db, DbConfig, StoreError};
use diesel::connection::SimpleConnection;

#[test]
fn a_statement_past_its_limit_is_cancelled() {
    let Some(database) = TestDatabase::postgres() else { return };
    let config =
        DbConfig { statement_timeout: Duration::from_millis(300), ..DbConfig::new(&database.url) };
    let db = Db::open(&config).expect("open");
    let shown: String = db
        .run_blocking(|c| {
            use diesel::prelude::*;
            #[derive(QueryableByName)]
            struct Setting {
                #[diesel(sql_type = diesel::sql_types::Text)]
                statement_timeout: String,
            }
            let row: Setting = diesel::sql_query("SHOW statement_timeout").get_result(c)?;
            Ok::<_, StoreError>(row.statement_timeout)
        })
        .expect("shown");
    assert_eq!(shown, "300ms");
    let slow = db.run_blocking(|c| {
        c.batch_execute("SELECT pg_sleep(5)")?;
        Ok::<_, StoreError>(())
    });
    assert!(slow.is_err(), "cancelled, not waited for");
    // The pool goes on serving.
    let fine = db.run_blocking(|c| {
        c.batch_execute("SELECT 1")?;
        Ok::<_, StoreError>(())
    });
    assert!(fine.is_ok(), "{fine:?}");
}
