#![doc = include_str!("../README.md")]

pub mod announce;
pub mod app;
pub mod auth;
pub mod error;
pub mod kind;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod pages;
pub mod query;
pub mod ratelimit;
pub mod routes;
pub mod state;
pub mod upload;

pub use app::{ServerOptions, server};
pub use error::ApiError;
pub use state::{ApiConfig, AppState, AuthSetup};
