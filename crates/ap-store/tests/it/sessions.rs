//! Sessions are bounded: a PostgreSQL statement that runs past the configured limit is
//! cancelled by the server and fails (its unit of work answers 503), instead of holding
//! a connection forever; and a write whose unit of work outlives its deadline is rolled
//! back.

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

/// A write whose unit of work outlives its deadline is rolled back, not committed: its
/// caller was already answered 503, so what it was told failed must not have happened.
fn a_write_past_its_deadline_rolls_back(database: TestDatabase) {
    use ap_store::admin::{self, NewAuditEntry};

    let config =
        DbConfig { work_timeout: Duration::from_millis(200), ..DbConfig::new(&database.url) };
    let db = Db::open(&config).expect("open");
    let (ended, end) = std::sync::mpsc::channel();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
    let answer = runtime.block_on(db.run(move |conn| {
        let at = chrono::Utc::now().naive_utc();
        let written = ap_store::write_tx(conn, |conn| {
            let entry = NewAuditEntry {
                actor: "command-line",
                action: "role.grant",
                target: "user:late",
                reason: "slow",
                at,
            };
            admin::record(conn, &entry)?;
            // The slow part of this unit of work, well past its 200 ms deadline.
            std::thread::sleep(Duration::from_millis(800));
            Ok::<_, StoreError>(())
        });
        let _ = ended.send(written.is_ok());
        written
    }));
    assert!(matches!(answer, Err(StoreError::Unavailable(_))), "{answer:?}");
    let committed = end.recv_timeout(Duration::from_secs(60)).expect("the unit of work ends");
    assert!(!committed, "the late write_tx answered an error");
    let (_, total) = database.db.run_blocking(|c| admin::audit_page(c, 10, 0)).expect("read");
    assert_eq!(total, 0, "rolled back");
}

#[test]
fn a_write_past_its_deadline_rolls_back_on_sqlite() {
    a_write_past_its_deadline_rolls_back(TestDatabase::sqlite());
}

#[test]
fn a_write_past_its_deadline_rolls_back_on_postgres() {
    if let Some(database) = TestDatabase::postgres() {
        a_write_past_its_deadline_rolls_back(database);
    }
}
