#![doc = include_str!("../README.md")]

pub mod admin;
pub mod catalog;
pub mod conn;
pub mod db;
pub mod documents;
pub mod error;
pub mod identity;
pub mod ledger;
pub mod migrate;
pub mod models;
pub mod moderation;
pub mod publish;
pub mod purchases;
pub mod reviews;
pub mod scans;
pub mod schema;
pub mod scratch;
pub mod search;
pub mod sellers;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod types;
pub mod usage;
pub mod users;

pub use conn::{Backend, Conn, write_tx};
pub use db::{Db, DbConfig};
pub use error::{StoreError, UnitError};
