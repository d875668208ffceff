//! HTTP integration tests: the real server on `127.0.0.1:0`, a fresh database per test,
//! every story on SQLite and (when `AP_TEST_DATABASE_URL` is set) on PostgreSQL.

mod gate;
mod support;

mod account_page;
mod admin;
mod auth;
mod browser;
mod catalog;
mod cli;
mod client;
mod commerce;
mod dashboard;
mod deletion;
mod downloads;
mod errors;
mod interop;
mod login;
mod mcp;
mod metrics;
mod onboarding;
mod openapi;
mod operations;
mod outages;
mod publishing;
mod ratelimit;
mod reviews;
mod scaleout;
mod search;
mod seller_figures;
mod sellers;
mod storefront;
mod webdriver;
