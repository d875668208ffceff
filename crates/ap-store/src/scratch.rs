//! Scratch PostgreSQL databases: created on a server from its admin URL and dropped
//! afterwards (the test suite's throw-away databases and the PostgreSQL benchmark).

use diesel::prelude::*;

use crate::error::StoreError;

/// A database created on the server of `admin_url`; dropped (connections and all) when
/// this value is.
#[derive(Debug)]
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    /// The URL of the new database.
    pub url: String,
}

impl ScratchDatabase {
    /// Creates database `name` (letters, digits and `_` only) on the server of `admin_url`.
    pub fn create(admin_url: &str, name: &str) -> Result<Self, StoreError> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::Unavailable(format!("not a plain database name: {name}")));
        }
        let mut admin = PgConnection::establish(admin_url)
            .map_err(|e| StoreError::Unavailable(format!("PostgreSQL at the admin URL: {e}")))?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
        Ok(Self {
            admin_url: admin_url.to_owned(),
            name: name.to_owned(),
            url: database_url(admin_url, name),
        })
    }

    /// Makes the database unreachable (no new connections, existing ones terminated), as
    /// if its server went away. Returns once every backend of the database has exited:
    /// a backend only asked to stop could still answer a query or two.
    pub fn cut_off(&self) -> Result<(), StoreError> {
        let mut admin = PgConnection::establish(&self.admin_url)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        diesel::sql_query(format!("ALTER DATABASE {} ALLOW_CONNECTIONS false", self.name))
            .execute(&mut admin)?;
        diesel::sql_query(format!(
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = '{}'",
            self.name
        ))
        .execute(&mut admin)?;
        Ok(())
    }

    /// Lets connections in again after [`ScratchDatabase::cut_off`].
    pub fn restore(&self) -> Result<(), StoreError> {
        let mut admin = PgConnection::establish(&self.admin_url)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        diesel::sql_query(format!("ALTER DATABASE {} ALLOW_CONNECTIONS true", self.name))
            .execute(&mut admin)?;
        Ok(())
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ =
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
                    .execute(&mut admin);
        }
    }
}

/// The URL of database `name` on the server of `admin_url`.
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url.split_once('?').map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn database_urls() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            database_url("postgres://h/db?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
    }
}
