#![doc = include_str!("../README.md")]

pub mod analytics;
pub mod clock;
pub mod code;
pub mod commerce;
pub mod content;
pub mod error;
pub mod ids;
pub mod listing;
pub mod page;
pub mod platform;
pub mod publishing;
pub mod reports;
pub mod reviews;
pub mod search;
pub mod slug;
pub mod validation;
pub mod version;
pub mod wire;

pub use code::Code;
pub use error::{ErrorCode, Refusal};
pub use ids::{ListingId, UserId, VersionId};
pub use validation::{FieldError, FieldErrors};
