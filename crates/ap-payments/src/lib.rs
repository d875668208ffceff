#![doc = include_str!("../README.md")]

pub mod events;
pub mod sandbox;
pub mod signature;
pub mod stripe;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;

pub use sandbox::SandboxGateway;
pub use stripe::{StripeGateway, StripeSettings};
