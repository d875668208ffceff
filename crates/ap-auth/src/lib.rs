#![doc = include_str!("../README.md")]

pub mod authenticator;
pub mod cli_token;
pub mod error;
pub mod jwks;
pub mod session;
pub mod store;

pub use ap_domain::clock::{Clock, ManualClock, SystemClock};
pub use authenticator::{Authenticator, Caller, Credential, MintedToken};
pub use error::AuthError;
