//! The audit log is append-only: the database itself refuses to change or remove an entry
//! (or, on PostgreSQL, to truncate the table).

use ap_store::admin::{self, NewAuditEntry};
use ap_store::schema::audit_log;
use ap_store::{Backend, Db, StoreError};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::both_backends;

both_backends!(audit_entries_cannot_be_changed_or_removed);

fn audit_entries_cannot_be_changed_or_removed(db: &Db) {
    let at = chrono::Utc::now().naive_utc();
    db.run_blocking(|conn| {
        admin::record(
            conn,
            &NewAuditEntry {
                actor: "command-line",
                action: "role.grant",
                target: "user:u1",
                reason: "on call",
                at,
            },
        )
    })
    .expect("append");
    let changed = db.run_blocking(|conn| {
        diesel::update(audit_log::table)
            .set(audit_log::reason.eq("nothing to see"))
            .execute(conn)
            .map_err(StoreError::from)
    });
    assert!(changed.is_err(), "an entry was changed");
    let removed = db.run_blocking(|conn| {
        diesel::delete(audit_log::table).execute(conn).map_err(StoreError::from)
    });
    assert!(removed.is_err(), "an entry was removed");
    if db.backend() == Backend::Postgres {
        let truncated = db.run_blocking(|conn| {
            conn.batch_execute("TRUNCATE audit_log").map_err(StoreError::from)
        });
        assert!(truncated.is_err(), "the log was truncated");
    }
    let (rows, total) =
        db.run_blocking(|conn| admin::audit_page(conn, 10, 0)).expect("read the log");
    assert_eq!(total, 1);
    assert_eq!(rows[0].reason, "on call");
}
